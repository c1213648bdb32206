"""Scheduled work of intake: drafts left unfinished. Task names stay ``cases.*``."""

from celery import shared_task

from cases.intake import services


@shared_task(name="cases.drafts_follow_up", acks_late=True)
def drafts_follow_up() -> dict[str, int]:
    """Remind the township of drafts left unfinished, then withdraw them after the county's
    days (idempotent: each draft is locked and looked at again)."""
    reminded, withdrawn = services.drafts_follow_up()
    return {"reminded": reminded, "withdrawn": withdrawn}
