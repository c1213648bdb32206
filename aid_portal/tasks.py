"""Tasks of the shared core."""

import socket

from celery import shared_task

from aid_portal.models import HealthPing


@shared_task(name="aid_portal.health", acks_late=True, time_limit=30, soft_time_limit=20)
def health() -> dict:
    """Prove a worker is alive and reaches both the broker and the database."""
    ping = HealthPing.objects.create(worker=socket.gethostname())
    return {"ping_id": ping.id, "worker": ping.worker}
