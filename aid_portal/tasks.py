"""Tasks of the shared core."""

import socket
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from aid_portal import audit_chain
from aid_portal.celery import dispatch_send
from aid_portal.listing import export_build
from aid_portal.models import HealthPing, TaskDispatch

# export_build is defined in aid_portal.listing; importing it here registers it.
__all__ = ["audit_seal", "audit_verify", "dispatch_relay", "export_build", "health"]


@shared_task(name="aid_portal.health", acks_late=True, time_limit=30, soft_time_limit=20)
def health() -> dict:
    """Prove a worker is alive and reaches both the broker and the database.

    Keeps a week of pings, enough to see when the workers last ran.
    """
    HealthPing.objects.filter(at__lt=timezone.now() - timedelta(days=7)).delete()
    ping = HealthPing.objects.create(worker=socket.gethostname())
    return {"ping_id": ping.id, "worker": ping.worker}


@shared_task(name="aid_portal.audit_seal", acks_late=True, time_limit=1800)
def audit_seal() -> int:
    """Seal the audit events written since the last run (safe to run twice: a second
    run finds them sealed, and two at once are kept apart by a lock)."""
    return audit_chain.audit_seal()


@shared_task(name="aid_portal.audit_verify", acks_late=True, time_limit=3600)
def audit_verify() -> dict:
    """Walk the audit chain; a broken link shows on the county auditors' pages."""
    audit_chain.audit_seal()
    check = audit_chain.audit_verify()
    return {"ok": check.ok, "events_checked": check.events_checked, "broken_at": check.broken_at}


# Unsent dispatches younger than this are left to the send their commit started.
RELAY_AFTER = timedelta(seconds=30)
# Sent dispatches are kept this long, to see what was queued when.
DISPATCH_KEPT = timedelta(days=7)


@shared_task(name="aid_portal.dispatch_relay", acks_late=True, time_limit=300)
def dispatch_relay(*, older_than_seconds: float | None = None) -> int:
    """Send the tasks whose send at commit failed (the broker was away). Safe to run
    twice: rows are claimed with SKIP LOCKED, and a task sent twice is safe to run twice."""
    age = RELAY_AFTER if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                TaskDispatch.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, created_at__lte=timezone.now() - age)
                .order_by("created_at")[:500]
            )
            if not batch:
                break
            results = [dispatch_send(dispatch) for dispatch in batch]
            sent += sum(results)
            if not all(results):  # the broker is still away: try again next run
                break
    TaskDispatch.objects.filter(sent_at__lt=timezone.now() - DISPATCH_KEPT).delete()
    return sent
