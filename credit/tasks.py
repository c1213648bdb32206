"""Celery looks for each app's tasks in ``<app>.tasks``: the features' tasks, gathered."""

from credit.findings.tasks import *  # noqa: F403
from credit.trust.tasks import *  # noqa: F403
