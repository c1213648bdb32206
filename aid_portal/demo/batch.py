"""The demo's batch comparison: one finished half-yearly run of the demo county."""

from __future__ import annotations

from aid_portal.models import Region
from verification.batch.models import BatchRun
from verification.batch.services import batch_run

DEMO_COUNTY = "640422000000"


def load_batch_demo() -> BatchRun | None:
    """Run one half-yearly comparison of the demo county unless one exists (idempotent).

    Call it after the feeds demo has loaded its snapshots; with none, the run still
    finishes, with nothing found.
    """
    county = Region.objects.filter(code=DEMO_COUNTY).first()
    if county is None:
        return None
    existing = BatchRun.objects.filter(
        county=county, kind=BatchRun.Kind.HALF_YEARLY_ALL, status=BatchRun.Status.FINISHED
    ).first()
    if existing is not None:
        return existing
    return batch_run(county=county, kind=BatchRun.Kind.HALF_YEARLY_ALL)
