"""Scheduled work of the cases app."""

from celery import shared_task

from cases import services


@shared_task(name="cases.payments_start", acks_late=True)
def payments_start() -> int:
    """Approved cases whose first payment month has come go into payment (idempotent)."""
    return services.payments_start()
