"""Celery on a real worker process and the real broker."""

import pytest
from django.conf import settings

from aid_portal.models import HealthPing
from aid_portal.tasks import health

pytestmark = pytest.mark.worker


def test_settings_are_what_operations_rely_on():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    # A task that outlives the visibility timeout would be handed to a second worker.
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        > settings.CELERY_TASK_TIME_LIMIT
    )
    assert settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "redis+socket://"))


def test_health_task_runs_on_a_real_worker(celery_worker_process):
    result = health.delay()
    value = result.get(timeout=60)
    ping = HealthPing.objects.get(pk=value["ping_id"])
    assert ping.worker == value["worker"]


def test_tasks_enqueued_in_a_rolled_back_transaction_never_run(celery_worker_process):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(health.delay)
        raise RuntimeError
    # A committed one runs; the rolled-back one left nothing behind.
    with transaction.atomic():
        transaction.on_commit(health.delay)
    from tests.conftest import wait_for

    wait_for(lambda: HealthPing.objects.count() == 1)
    assert HealthPing.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "broker",
    [
        "redis://127.0.0.1:1/0",  # nothing listens: the socket's own error
        "redis://no-such-host.invalid:6379/0",  # no such name: kombu wraps the error
    ],
)
def test_the_health_probe_answers_503_when_the_broker_is_away(client, monkeypatch, broker):
    from aid_portal.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "broker_write_url", broker)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down"}
