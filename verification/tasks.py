"""Celery finds tasks in each app's ``tasks`` module; the verification app keeps them
beside the part they belong to."""

from verification.tasks_batch import *  # noqa: F403
from verification.tasks_feeds import *  # noqa: F403
from verification.tasks_requests import *  # noqa: F403
from verification.tasks_spotcheck import *  # noqa: F403
