"""Access-matrix rows of search and export (aid_portal.listing, cases.search): every role,
on each list's search, its exports (masked and unmasked), the global search and the
large export's own pages (its user alone)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from aid_portal.models import ExportJob
from tests.cases.access_rows_reviews import made
from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row

READ_CASES = {"assistant_a", "caseworker_a", "approver_a", "caseworker_b", "auditor"}
READ_CASES |= {"verifier", "outsider_auditor", "superuser"}
WORK_QUEUE = {"assistant_a", "caseworker_a", "caseworker_b", "superuser"}
DECISIONS = {"approver_a", "auditor", "outsider_auditor", "superuser"}
REVIEWS = {"caseworker_a", "approver_a", "caseworker_b", "auditor", "outsider_auditor"}
REVIEWS |= {"superuser"}
AUDIT = {"auditor", "outsider_auditor", "superuser"}
UNMASK = {"caseworker_a", "approver_a", "caseworker_b", "auditor", "outsider_auditor"}
UNMASK |= {"superuser"}


def statuses(allowed, *, otherwise: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def no_other_county(allowed):
    """Nobody sees the other county's case but its own auditor, nor that auditor ours."""
    hide = {p: (lambda w: w.cases.case_other.number) for p in allowed - {"outsider_auditor"}}
    hide.pop("superuser", None)
    if "outsider_auditor" in allowed:
        hide["outsider_auditor"] = lambda w: w.cases.case_a.number
    return hide


def job_of_caseworker_a(w) -> ExportJob:
    job, _created = ExportJob.objects.get_or_create(
        user=w.people.caseworker_a,
        list_name="work-queue",
        defaults={
            "format": "csv",
            "state": ExportJob.State.DONE,
            "content": b"\xef\xbb\xbfnumber\r\n",
            "filename": "work-queue.csv",
            "expires_at": timezone.now() + datetime.timedelta(days=1),
        },
    )
    return job


UNMASKED = {"unmask": "1", "purpose": "核对户籍"}


def url(name: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse(name)}?{query}"


ROWS = [
    Row(
        "search: global search",
        lambda w: url("cases:search", q="户主"),
        statuses(READ_CASES, otherwise=403),
        url_name="cases:search",
        must_not_contain=no_other_county(READ_CASES),
    ),
    Row(
        "search: work queue",
        lambda w: url("cases:queue", q="户主"),
        statuses(WORK_QUEUE, otherwise=403),
        must_not_contain=no_other_county(WORK_QUEUE),
    ),
    Row(
        "search: decisions",
        lambda w: url("cases:decisions", q="户主"),
        statuses(DECISIONS, otherwise=403),
    ),
    Row(
        "search: reviews",
        lambda w: url("cases:reviews", q="户主"),
        statuses(REVIEWS, otherwise=403),
    ),
    Row(
        "search: audit log",
        lambda w: url("audit-list", q="test"),
        statuses(AUDIT, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.event_other.object_label,
            "outsider_auditor": lambda w: w.event_a.object_label,
        },
    ),
    Row(
        "export: work queue, CSV",
        lambda w: url("cases:queue", export="csv"),
        statuses(WORK_QUEUE, otherwise=403),
        must_not_contain=no_other_county(WORK_QUEUE),
    ),
    Row(
        "export: work queue, XLSX",
        lambda w: url("cases:queue", export="xlsx"),
        statuses(WORK_QUEUE, otherwise=403),
    ),
    Row(
        "export: work queue, unmasked",
        lambda w: url("cases:queue", export="csv", **UNMASKED),
        statuses(WORK_QUEUE & UNMASK, otherwise=403),
    ),
    Row(
        "export: decisions, unmasked",
        lambda w: url("cases:decisions", export="csv", **UNMASKED),
        statuses(DECISIONS & UNMASK, otherwise=403),
    ),
    Row(
        "export: reviews, CSV",
        lambda w: url("cases:reviews", export="csv"),
        statuses(REVIEWS, otherwise=403),
    ),
    Row(
        "search: adjustments",
        lambda w: (made(w), url("cases:adjustments", q="户主", source="spot_check"))[1],
        statuses(REVIEWS, otherwise=403),
    ),
    Row(
        "export: adjustments, CSV",
        lambda w: (made(w), url("cases:adjustments", export="csv"))[1],
        statuses(REVIEWS, otherwise=403),
        must_not_contain=no_other_county(REVIEWS),
    ),
    Row(
        "export: adjustments, XLSX",
        lambda w: (made(w), url("cases:adjustments", export="xlsx"))[1],
        statuses(REVIEWS, otherwise=403),
    ),
    Row(
        "export: adjustments, unmasked",
        lambda w: (made(w), url("cases:adjustments", export="csv", **UNMASKED))[1],
        statuses(REVIEWS & UNMASK, otherwise=403),
    ),
    Row(
        "export: audit log, CSV",
        lambda w: url("audit-list", export="csv"),
        statuses(AUDIT, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.event_other.object_label,
            "outsider_auditor": lambda w: w.event_a.object_label,
        },
    ),
    Row(
        "export: a large export's page, its user alone",
        lambda w: reverse("export-job", args=[job_of_caseworker_a(w).pk]),
        statuses({"caseworker_a"}, otherwise=404),
        url_name="export-job",
    ),
    Row(
        "export: a large export's file, its user alone",
        lambda w: reverse("export-job-download", args=[job_of_caseworker_a(w).pk]),
        statuses({"caseworker_a"}, otherwise=404),
        url_name="export-job-download",
    ),
]
