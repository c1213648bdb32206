"""Scheduled work of reviews: open the reviews that fell due, create the county's
monthly checks. Task names are explicit and stay ``cases.*`` (schedules name them)."""

from celery import shared_task

from cases.reviews import services as review_services


@shared_task(name="cases.reviews_open_due", acks_late=True)
def reviews_open_due() -> int:
    """Open the periodic reviews that fell due, in each township's queue (idempotent: one
    open review per case)."""
    return review_services.reviews_open_due()


@shared_task(name="cases.monthly_checks_create", acks_late=True)
def monthly_checks_create() -> list[int]:
    """On the 1st: the county's check of last month's new dibao files (idempotent per
    county and month)."""
    return review_services.monthly_checks_create()
