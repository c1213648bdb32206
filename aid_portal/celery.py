"""The Celery application. Configuration lives in settings (CELERY_* names)."""

import os

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

app = Celery("aid_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Send a task by its name once the caller's transaction commits (at once outside one).

    Services enqueue through this, by name, rather than by importing their tasks module:
    the tasks import the services, so the services importing the tasks would be a cycle.
    Routing (CELERY_TASK_ROUTES) and the tasks' own options apply as with ``delay``.
    """
    transaction.on_commit(lambda: app.send_task(task_name, args=args, kwargs=kwargs))
