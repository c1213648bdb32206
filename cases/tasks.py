"""Scheduled work of the cases app."""

from celery import shared_task

from cases import services


@shared_task(name="cases.payments_start", acks_late=True)
def payments_start() -> int:
    """Approved cases whose first payment month has come go into payment (idempotent)."""
    return services.payments_start()


@shared_task(name="cases.feedback_windows_close", acks_late=True)
def feedback_windows_close() -> int:
    """Objection windows that ended with no objection: the case goes on to the home visit
    with the material at hand (domain.md §3.6). Safe to run twice: a closed case is no
    longer in the feedback state."""
    closed = 0
    for application_id in services.feedback_windows_due():
        services.feedback_close(actor=None, application_id=application_id)
        closed += 1
    return closed
