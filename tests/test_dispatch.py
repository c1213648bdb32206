"""Work a committed change queues is never lost to a Redis outage (issue 17, item 5).

The broker is really unreachable here: the change is committed by a process whose
REDIS_URL points at a port nothing listens on, so its send fails as when Redis is down."""

import contextlib
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import transaction

from aid_portal.celery import enqueue_on_commit
from aid_portal.models import HealthPing, TaskDispatch
from aid_portal.tasks import dispatch_relay
from tests.conftest import _test_database_url, wait_for

NOWHERE = "redis://127.0.0.1:1/0"  # port 1: connection refused


def enqueue_with_redis_away(task_name: str) -> None:
    """Commit a change that queues ``task_name`` in a process of its own whose Redis
    is unreachable (as when the server is down), on this test's database."""
    code = (
        "from django.db import transaction\n"
        "from aid_portal.celery import enqueue_on_commit\n"
        "with transaction.atomic():\n"
        f"    enqueue_on_commit({task_name!r})\n"
    )
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": NOWHERE}
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,  # the change commits: no error reaches the caller
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_while_redis_is_away_is_sent_when_it_is_back(celery_worker_process):
    with transaction.atomic():
        enqueue_on_commit("aid_portal.health")
    wait_for(lambda: HealthPing.objects.count() == 1)
    assert TaskDispatch.objects.get().sent_at is not None

    enqueue_with_redis_away("aid_portal.health")
    missed = TaskDispatch.objects.get(sent_at__isnull=True)
    assert missed.attempts == 1 and missed.last_error

    assert dispatch_relay(older_than_seconds=0) == 1  # back
    wait_for(lambda: HealthPing.objects.count() == 2)
    assert not TaskDispatch.objects.filter(sent_at__isnull=True).exists()
    assert dispatch_relay(older_than_seconds=0) == 0  # run twice: nothing more


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_nothing():
    with contextlib.suppress(RuntimeError), transaction.atomic():
        enqueue_on_commit("aid_portal.health")
        raise RuntimeError("the change fails")
    assert not TaskDispatch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_relay_leaves_a_fresh_dispatch_to_its_own_send():
    enqueue_with_redis_away("aid_portal.health")
    assert dispatch_relay() == 0  # younger than RELAY_AFTER
    assert TaskDispatch.objects.filter(sent_at__isnull=True).count() == 1
