"""Access-matrix rows of the verification request pages (tests/test_access_matrix.py).

The world's case (case_a, a draft in township A) gets a verification request made here
with the ORM, with its report built, so that the report pages are tried for real: the
readers of township A's reports see it, everyone else gets 404.
"""

from django.urls import reverse

from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row
from verification.requests import services
from verification.requests.models import VerificationRequest

# Who reads township A's reports: its caseworker and approver, the county's
# verification officer and auditor (village assistants do not).
REPORT_READERS_A = {"caseworker_a", "approver_a", "auditor", "verifier", "superuser"}


def statuses(allowed, *, otherwise: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def request_a(w) -> int:
    """A verification request of case_a with its (consistent) report, made once."""
    if "verification_request_a" not in w.__dict__:
        request = VerificationRequest.objects.create(
            application=w.cases.case_a,
            requested_by=w.people.caseworker_a,
            status=VerificationRequest.Status.ANSWERED,
        )
        services.report_build(verification_id=request.pk)
        w.__dict__["verification_request_a"] = request.pk
    return w.__dict__["verification_request_a"]


# Who reads township A's cases (the stage of its verification is part of the case page).
CASE_READERS_A = {"assistant_a", "caseworker_a", "approver_a", "auditor", "verifier", "superuser"}

ROWS = [
    Row(
        "verification: where case A's verification stands (polled by the case page)",
        lambda w: reverse("verification:case-stage", args=[w.cases.case_a.pk]),
        statuses(CASE_READERS_A, otherwise=404),
        url_name="verification:case-stage",
    ),
    Row(
        "verification: open requests",
        lambda w: reverse("verification:requests"),
        statuses({"verifier", "superuser"}, otherwise=403),
        url_name="verification:requests",
        must_not_contain={"verifier": lambda w: w.cases.case_other.number},
    ),
    Row(
        "verification: report, township A",
        lambda w: reverse("verification:report", args=[request_a(w)]),
        statuses(REPORT_READERS_A, otherwise=404),
        url_name="verification:report",
    ),
    Row(
        "verification: printable report, township A",
        lambda w: reverse("verification:report-print", args=[request_a(w)]),
        statuses(REPORT_READERS_A, otherwise=404),
        url_name="verification:report-print",
    ),
    # A consistent report has no feedback letter, for anyone (the letter of a gap is
    # tried inside and outside in tests/verification/test_requests.py).
    Row(
        "verification: feedback letter of a consistent report",
        lambda w: reverse("verification:feedback-letter", args=[request_a(w)]),
        statuses(set(), otherwise=404),
        url_name="verification:feedback-letter",
    ),
]

POST_ONLY = {"verification:report-issue", "verification:query-reask"}
