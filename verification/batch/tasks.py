"""The batch comparison task, on the "batch" queue (CELERY_TASK_ROUTES: verification.batch_*).

Scheduled by django-celery-beat: monthly_new on the 1st of every month, half_yearly_all
on 1 January and 1 July, each with the county's id; on demand from the batch-runs page.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from aid_portal.models import Region
from cases.models import Policy
from verification.batch.models import BatchRun
from verification.batch.services import batch_run

__all__ = ["batch_run_all_task", "batch_run_task"]


@shared_task(name="verification.batch_run", acks_late=True)
def batch_run_task(county_id: int, kind: str, run_id: int | None = None) -> int:
    """Compare the county's enrolled people with the current snapshots; safe to run twice
    (a scheduled kind reuses its period's run, and findings are inserted ON CONFLICT DO
    NOTHING). Returns the run's id."""
    county = Region.objects.get(pk=county_id)
    try:
        run = batch_run(county=county, kind=kind, run_id=run_id)
    except Exception as exc:
        if run_id is not None:
            BatchRun.objects.filter(pk=run_id, status=BatchRun.Status.RUNNING).update(
                status=BatchRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
            )
        raise
    return run.pk


@shared_task(name="verification.batch_run_all", acks_late=True)
def batch_run_all_task(kind: str) -> list[int]:
    """The scheduled entry point: one batch_run task per county with a policy, so that a
    schedule needs no county id and a new county is included without a new schedule."""
    county_ids = sorted(set(Policy.objects.values_list("county_id", flat=True)))
    for county_id in county_ids:
        batch_run_task.delay(county_id, kind)
    return county_ids
