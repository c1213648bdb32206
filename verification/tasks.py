"""Celery looks for each app's tasks in ``<app>.tasks``: the features' tasks, gathered."""

from verification.batch.tasks import *  # noqa: F403
from verification.feeds.tasks import *  # noqa: F403
from verification.requests.tasks import *  # noqa: F403
from verification.spotcheck.tasks import *  # noqa: F403
