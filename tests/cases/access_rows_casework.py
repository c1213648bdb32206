"""Access-matrix rows of the casework pages (tests/test_access_matrix.py runs them)."""

from django.urls import reverse

from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row

# Readers of township A's cases: everyone placed over 龙王坝村 who reads cases.
INSIDE_A = {"assistant_a", "caseworker_a", "approver_a", "auditor", "verifier", "superuser"}


def statuses(allowed, *, otherwise: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


ROWS = [
    Row(
        "casework: work queue",
        lambda w: reverse("cases:queue"),
        statuses({"assistant_a", "caseworker_a", "caseworker_b", "superuser"}, otherwise=403),
        url_name="cases:queue",
        must_not_contain={
            "caseworker_a": lambda w: w.cases.case_other.number,
            "caseworker_b": lambda w: w.cases.case_a.number,
        },
    ),
    Row(
        "casework: decisions",
        lambda w: reverse("cases:decisions"),
        statuses({"approver_a", "auditor", "outsider_auditor", "superuser"}, otherwise=403),
        url_name="cases:decisions",
        must_not_contain={
            "approver_a": lambda w: w.cases.case_other.number,
            "outsider_auditor": lambda w: w.cases.case_a.number,
        },
    ),
    Row(
        "casework: case page, township A",
        lambda w: reverse("cases:detail", args=[w.cases.case_a.pk]),
        statuses(INSIDE_A, otherwise=404),
        url_name="cases:detail",
    ),
    Row(
        "casework: case page, other county",
        lambda w: reverse("cases:detail", args=[w.cases.case_other.pk]),
        statuses({"outsider_auditor", "superuser"}, otherwise=404),
    ),
    # The world's case is a draft: it has no rejection notice, for anyone (the notice of a
    # rejected case is tried inside and outside in tests/cases/test_casework_pages.py).
    Row(
        "casework: rejection notice of a case not rejected",
        lambda w: reverse("cases:rejection-notice", args=[w.cases.case_a.pk]),
        statuses(set(), otherwise=404),
        url_name="cases:rejection-notice",
    ),
    Row(
        "casework: county policies",
        lambda w: reverse("cases:policies"),
        statuses(set(PEOPLE) - {"nobody", "finance"}, otherwise=403),
        url_name="cases:policies",
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "caseworker_a": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
]

POST_ONLY = {"cases:act"}
