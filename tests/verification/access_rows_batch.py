"""Access-matrix rows of the batch comparison pages (tests/test_access_matrix.py).

A run of each county is made here with the ORM, with one finding on the world's case_a
(township A), so that the run pages and the caseworkers' queue are tried with data:
the county's auditor, verification officer and feed admin read their county's runs;
township A's caseworker sees the finding, township B's does not.
"""

import datetime

from django.urls import reverse

from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row
from verification.batch.models import BatchFinding, BatchRun

RUN_READERS = {"auditor", "verifier", "feedadmin", "superuser"}


def statuses(allowed, *, otherwise: int, **others: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: PAGE_LOGIN}


def runs(w) -> tuple[int, int]:
    """A finished run of the county (with a finding on case_a) and one of the other county."""
    if "batch_runs" not in w.__dict__:
        day = datetime.date(2026, 6, 30)
        made = []
        for county in (w.places.county, w.places.other_county):
            made.append(
                BatchRun.objects.create(
                    county=county,
                    kind=BatchRun.Kind.HALF_YEARLY_ALL,
                    period_start=day.replace(month=1, day=1),
                    period_end=day,
                    status=BatchRun.Status.FINISHED,
                    counts={BatchFinding.Kind.VEHICLE: 1 if county == w.places.county else 0},
                )
            )
        BatchFinding.objects.create(
            run=made[0],
            kind=BatchFinding.Kind.VEHICLE,
            application=w.cases.case_a,
            detail={"records": [{"department": "public_security", "item": "vehicle"}]},
        )
        w.__dict__["batch_runs"] = (made[0].pk, made[1].pk)
    return w.__dict__["batch_runs"]


ROWS = [
    Row(
        "verification: batch runs",
        lambda w: (runs(w), reverse("verification:batch-runs"))[1],
        statuses(RUN_READERS | {"outsider_auditor"}, otherwise=403),
        url_name="verification:batch-runs",
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "search: batch runs",
        lambda w: (runs(w), reverse("verification:batch-runs") + "?q=户主&finding=vehicle")[1],
        statuses(RUN_READERS | {"outsider_auditor"}, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "export: batch runs, CSV",
        lambda w: (runs(w), reverse("verification:batch-runs") + "?export=csv")[1],
        statuses(RUN_READERS | {"outsider_auditor"}, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "export: batch runs, XLSX",
        lambda w: (runs(w), reverse("verification:batch-runs") + "?export=xlsx")[1],
        statuses(RUN_READERS | {"outsider_auditor"}, otherwise=403),
    ),
    Row(
        "verification: batch run, the county",
        lambda w: reverse("verification:batch-run", args=[runs(w)[0]]),
        statuses(RUN_READERS, otherwise=403, outsider_auditor=404),
        url_name="verification:batch-run",
    ),
    Row(
        "verification: batch run, other county",
        lambda w: reverse("verification:batch-run", args=[runs(w)[1]]),
        statuses(
            {"outsider_auditor", "superuser"},
            otherwise=403,
            auditor=404,
            verifier=404,
            feedadmin=404,
        ),
    ),
    Row(
        "verification: batch run XLSX, the county",
        lambda w: reverse("verification:batch-run-xlsx", args=[runs(w)[0]]),
        statuses(RUN_READERS, otherwise=403, outsider_auditor=404),
        url_name="verification:batch-run-xlsx",
    ),
    Row(
        "verification: batch findings queue",
        lambda w: (runs(w), reverse("verification:findings"))[1],
        statuses({"caseworker_a", "caseworker_b", "superuser"}, otherwise=403),
        url_name="verification:findings",
        must_not_contain={"caseworker_b": lambda w: w.cases.case_a.number},
    ),
]

POST_ONLY = {"verification:finding-resolve"}
