"""Access-matrix rows of search and export on the verification lists (aid_portal.listing):
the open requests, the batch findings and a spot-check campaign's sampled cases, for
every role: searched, exported (CSV, XLSX) and exported unmasked with a purpose."""

from django.urls import reverse

from tests.cases.access_rows_lists import UNMASK, UNMASKED
from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row
from tests.verification.access_rows_batch import runs
from tests.verification.access_rows_requests import request_a
from tests.verification.access_rows_spotcheck import campaigns

WATCHERS = {"verifier", "superuser"}
FINDING_WORKERS = {"caseworker_a", "caseworker_b", "superuser"}
COUNTY_AUDITORS = {"auditor", "superuser"}


def statuses(allowed, *, otherwise: int, **others: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: PAGE_LOGIN}


def query(**params) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def requests_url(w, **params) -> str:
    request_a(w)
    return reverse("verification:requests") + query(**params)


def findings_url(w, **params) -> str:
    runs(w)
    return reverse("verification:findings") + query(**params)


def campaign_url(w, **params) -> str:
    campaign = campaigns(w)[0]
    return reverse("verification:spotcheck-campaign", args=[campaign.pk]) + query(**params)


NOT_CASE_A = {"caseworker_b": lambda w: w.cases.case_a.number}
NOT_OTHER = {"verifier": lambda w: w.cases.case_other.number}

ROWS = [
    Row(
        "search: verification requests",
        lambda w: requests_url(w, q="户主", status="open"),
        statuses(WATCHERS, otherwise=403),
        must_not_contain=NOT_OTHER,
    ),
    Row(
        "export: verification requests, CSV",
        lambda w: requests_url(w, export="csv"),
        statuses(WATCHERS, otherwise=403),
        must_not_contain=NOT_OTHER,
    ),
    Row(
        "export: verification requests, XLSX",
        lambda w: requests_url(w, export="xlsx"),
        statuses(WATCHERS, otherwise=403),
    ),
    Row(
        "export: verification requests, unmasked",
        lambda w: requests_url(w, export="csv", **UNMASKED),
        statuses(WATCHERS & UNMASK, otherwise=403),
    ),
    Row(
        "search: batch findings",
        lambda w: findings_url(w, q="户主", kind="vehicle"),
        statuses(FINDING_WORKERS, otherwise=403),
        must_not_contain=NOT_CASE_A,
    ),
    Row(
        "export: batch findings, CSV",
        lambda w: findings_url(w, export="csv"),
        statuses(FINDING_WORKERS, otherwise=403),
        must_not_contain=NOT_CASE_A,
    ),
    Row(
        "export: batch findings, XLSX",
        lambda w: findings_url(w, export="xlsx"),
        statuses(FINDING_WORKERS, otherwise=403),
    ),
    Row(
        "export: batch findings, unmasked",
        lambda w: findings_url(w, export="csv", **UNMASKED),
        statuses(FINDING_WORKERS & UNMASK, otherwise=403),
    ),
    Row(
        "search: spot-check cases",
        lambda w: campaign_url(w, q="户主", mine="1"),
        statuses(COUNTY_AUDITORS, otherwise=403, outsider_auditor=404),
    ),
    Row(
        "export: spot-check cases, CSV",
        lambda w: campaign_url(w, export="csv"),
        statuses(COUNTY_AUDITORS, otherwise=403, outsider_auditor=404),
        must_not_contain={"auditor": lambda w: w.cases.case_other.number},
    ),
    Row(
        "export: spot-check cases, XLSX",
        lambda w: campaign_url(w, export="xlsx"),
        statuses(COUNTY_AUDITORS, otherwise=403, outsider_auditor=404),
    ),
    Row(
        "export: spot-check cases, unmasked",
        lambda w: campaign_url(w, export="csv", **UNMASKED),
        statuses(COUNTY_AUDITORS & UNMASK, otherwise=403, outsider_auditor=404),
    ),
]
