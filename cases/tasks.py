"""Celery looks for each app's tasks in ``<app>.tasks``: the features' tasks, gathered."""

from cases.casework.tasks import *  # noqa: F403
from cases.intake.tasks import *  # noqa: F403
from cases.reviews.tasks import *  # noqa: F403
