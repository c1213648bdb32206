"""The Celery application, and the one way the portal queues work from a change.

Configuration lives in settings (CELERY_* names).
"""

import logging
import os

from celery import Celery
from django.db import connection, transaction
from django.utils import timezone

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

logger = logging.getLogger(__name__)

app = Celery("aid_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Send a task by its name once the caller's transaction commits (at once outside one).

    The task is first written as a TaskDispatch row in the caller's transaction: it
    exists exactly when the change does, and a broker that cannot be reached at commit
    loses nothing (the relay sends it later; see TaskDispatch). Services enqueue through
    this, by name, rather than by importing their tasks module: the tasks import the
    services, so the services importing the tasks would be a cycle. Routing
    (CELERY_TASK_ROUTES) and the tasks' own options apply as with ``delay``.
    """
    # Imported here, not for a cycle: Celery loads this module before Django's apps.
    from aid_portal.models import TaskDispatch

    dispatch = TaskDispatch.objects.create(task_name=task_name, args=list(args), kwargs=kwargs)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: dispatch_send(dispatch))
    else:
        dispatch_send(dispatch)


def dispatch_send(dispatch) -> bool:
    """Send one dispatch and mark it sent; on a broker error, note it and leave it for
    the relay (never raise: the change that called for it has committed)."""
    # Imported here, not for a cycle: Celery loads this module before Django's apps.
    from aid_portal.models import TaskDispatch

    try:
        app.send_task(dispatch.task_name, args=dispatch.args, kwargs=dispatch.kwargs)
    except Exception as exc:  # kombu and redis raise many kinds when the broker is away
        logger.warning("task %s not sent, the relay will: %r", dispatch.task_name, exc)
        TaskDispatch.objects.filter(pk=dispatch.pk).update(
            attempts=dispatch.attempts + 1, last_error=repr(exc)[:300]
        )
        return False
    TaskDispatch.objects.filter(pk=dispatch.pk).update(
        sent_at=timezone.now(), attempts=dispatch.attempts + 1
    )
    return True
