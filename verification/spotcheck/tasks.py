"""The spot-check schedule's tasks (django-celery-beat, declared in
aid_portal/schedules.py): on the 2nd of every month a new-case campaign per county
over last month's confirmations; on 2 January the year's annual home-visit campaign.

Tasks take ids and are idempotent: a campaign already drawn for the county, rule and
window is returned, never drawn twice.
"""

from __future__ import annotations

import datetime

from celery import shared_task

from aid_portal.models import Region
from cases.models import Policy
from verification.spotcheck.services import campaign_draw_scheduled

__all__ = ["spotcheck_draw_all_task", "spotcheck_draw_task"]


@shared_task(name="verification.spotcheck_draw", acks_late=True)
def spotcheck_draw_task(county_id: int, rule: str, today: str | None = None) -> int | None:
    """Draw the scheduled campaign of ``rule`` for one county (``today`` as YYYY-MM-DD,
    for a catch-up run). Returns the campaign's id, or None when nothing is to be drawn."""
    county = Region.objects.get(pk=county_id)
    day = datetime.date.fromisoformat(today) if today else None
    campaign = campaign_draw_scheduled(county=county, rule=rule, today=day)
    return campaign.pk if campaign is not None else None


@shared_task(name="verification.spotcheck_draw_all", acks_late=True)
def spotcheck_draw_all_task(rule: str, today: str | None = None) -> list[int]:
    """The scheduled entry point: one draw task per county with a policy, so that a new
    county is included without a new schedule."""
    county_ids = sorted(set(Policy.objects.values_list("county_id", flat=True)))
    for county_id in county_ids:
        spotcheck_draw_task.delay(county_id, rule, today)
    return county_ids
