"""Celery tasks of credit discipline: deliver the outbox to the credit-information
sharing platform. They take ids and are safe to run twice (a delivered message is left
alone, and the platform recognises a key it has seen)."""

from __future__ import annotations

from celery import shared_task

from credit.findings import services
from credit.findings.models import OutboxMessage

# Seconds before each retry of a platform that failed: 30 s, 2 min, 10 min, 1 h. After
# that the message waits for the sweep (outbox_relay, every 10 minutes on beat).
RETRY_COUNTDOWNS = (30, 120, 600, 3600)


@shared_task(name="credit.outbox_deliver", bind=True, acks_late=True, max_retries=4)
def outbox_deliver(self, message_id: int) -> str:
    state = services.outbox_deliver(message_id=message_id)
    if state == OutboxMessage.State.PENDING and self.request.retries < len(RETRY_COUNTDOWNS):
        raise self.retry(countdown=RETRY_COUNTDOWNS[self.request.retries])
    return state


@shared_task(name="credit.outbox_relay", acks_late=True)
def outbox_relay() -> int:
    """Deliver every message still waiting (after a worker died mid-delivery, or the
    platform was away longer than the retries): one at a time, in order."""
    delivered = 0
    for message_id in services.outbox_pending_ids():
        if services.outbox_deliver(message_id=message_id) == OutboxMessage.State.DELIVERED:
            delivered += 1
    return delivered


@shared_task(name="credit.recoveries_credit", acks_late=True)
def recoveries_credit() -> int:
    """Count as repaid every recovery whose roster line the bank return shows paid."""
    return sum(
        services.recovery_credit(recovery_id=recovery_id)
        for recovery_id in services.recoveries_pending_ids()
    )
