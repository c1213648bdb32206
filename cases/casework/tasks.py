"""Scheduled work of casework: payments starting, gradual exits ending, objection
windows closing. Task names are explicit and stay ``cases.*`` (schedules name them)."""

from celery import shared_task

from cases.casework import services


@shared_task(name="cases.payments_start", acks_late=True)
def payments_start() -> int:
    """Approved cases whose first payment month has come go into payment (idempotent)."""
    return services.payments_start()


@shared_task(name="cases.gradual_exits_finish", acks_late=True)
def gradual_exits_finish() -> int:
    """Cases whose gradual exit has run its course stop (idempotent)."""
    return services.gradual_exits_finish()


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
