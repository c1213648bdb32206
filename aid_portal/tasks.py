"""Tasks of the shared core."""

import socket
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from aid_portal.models import HealthPing


@shared_task(name="aid_portal.health", acks_late=True, time_limit=30, soft_time_limit=20)
def health() -> dict:
    """Prove a worker is alive and reaches both the broker and the database.

    Keeps a week of pings, enough to see when the workers last ran.
    """
    HealthPing.objects.filter(at__lt=timezone.now() - timedelta(days=7)).delete()
    ping = HealthPing.objects.create(worker=socket.gethostname())
    return {"ping_id": ping.id, "worker": ping.worker}
