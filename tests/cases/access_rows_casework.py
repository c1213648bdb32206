"""Access-matrix rows of the casework pages (tests/test_access_matrix.py runs them)."""

import datetime
from decimal import Decimal

from django.urls import reverse

from cases.models import Policy
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
    # Changing a policy not yet in force: the data-feed admin of its county; readers of
    # the county's policies are refused (403), everyone else never learns of it (404).
    Row(
        "casework: edit a policy not yet in force",
        lambda w: reverse("cases:policy-edit", args=[_future_policy(w.places.county).pk]),
        statuses({"feedadmin", "superuser"}, otherwise=403) | {"outsider_auditor": 404},
        url_name="cases:policy-edit",
    ),
    Row(
        "casework: edit a policy of the other county",
        lambda w: reverse("cases:policy-edit", args=[_future_policy(w.places.other_county).pk]),
        statuses({"superuser"}, otherwise=404)
        | {"nobody": 403, "finance": 403, "outsider_auditor": 403},
    ),
]

POST_ONLY = {"cases:act", "cases:policy-withdraw"}


def _future_policy(county):
    """A policy of ``county`` not yet in force (made once, on the first look-up)."""
    policy, _created = Policy.objects.get_or_create(
        county=county,
        effective_from=datetime.date.today() + datetime.timedelta(days=60),
        defaults={"dibao_standard_urban": Decimal("900"), "dibao_standard_rural": Decimal("700")},
    )
    return policy
