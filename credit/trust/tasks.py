"""The yearly credit results task (credit.trust.services), on the default queue.

Scheduled by django-celery-beat in January (credit.yearly_results_all with no argument:
the year just ended, every county with a policy; editable by an admin in the staff
pages), and on demand by the county auditor from the dashboard.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from aid_portal.models import Region
from cases.models import Policy
from credit.trust.services import yearly_results_compute

__all__ = ["yearly_results_all_task", "yearly_results_task"]


@shared_task(name="credit.yearly_results", acks_late=True)
def yearly_results_task(county_id: int, year: int) -> dict[str, int]:
    """Store the county's results of the year; safe to run twice (INSERT ... ON CONFLICT)."""
    county = Region.objects.get(pk=county_id)
    return yearly_results_compute(county=county, year=year)


@shared_task(name="credit.yearly_results_all", acks_late=True)
def yearly_results_all_task(year: int | None = None) -> list[int]:
    """One task per county with a policy, for ``year`` (default: the year just ended)."""
    year = year or timezone.localdate().year - 1
    county_ids = sorted(set(Policy.objects.values_list("county_id", flat=True)))
    for county_id in county_ids:
        yearly_results_task.delay(county_id, year)
    return county_ids
