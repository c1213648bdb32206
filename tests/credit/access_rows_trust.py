"""Access-matrix rows of trust (tests/test_access_matrix.py): recording trustworthy
behaviour, the trust records, the rewards list and its XLSX, the county dashboard, and
their API.

A trust record is made on each of the world's cases (township A, and the other county),
and a stored yearly result of last year for each, so that the lists and the dashboard are
tried with data from both sides of every boundary.
"""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from aid_portal.models import User
from credit.trust import services as trust
from credit.trust.models import YearlyResult
from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row

TRUST_READERS = {"caseworker_a", "approver_a", "caseworker_b", "auditor", "outsider_auditor"}
DASHBOARD_READERS = {"auditor", "outsider_auditor"}
CASE_READERS_A = {"assistant_a", "caseworker_a", "approver_a", "auditor", "verifier"}
FACTS_A = "甲乡如实申报家庭收入"
FACTS_OTHER = "外县如实申报家庭收入"


def statuses(allowed, *, otherwise: int, anon: int = PAGE_LOGIN, **others: int) -> dict:
    allowed = set(allowed) | {"superuser"}
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: anon}


def trust_data(w) -> None:
    """One trust record and one stored result on each side, made once per world."""
    if "trust_data" in w.__dict__:
        return
    today = timezone.localdate()
    for case, actor, facts in (
        (w.cases.case_a, w.people.caseworker_a, FACTS_A),
        (w.cases.case_other, User.objects.get(username="caseworker_other"), FACTS_OTHER),
    ):
        trust.trust_record(
            actor=actor,
            household_id=case.household_id,
            application_id=case.pk,
            kind="truthful_declaration",
            facts=facts,
        )
        YearlyResult.objects.create(
            household_id=case.household_id,
            year=today.year - 1,
            village=case.village,
            result=YearlyResult.Result.UNTRUSTWORTHY,
            computed_at=timezone.now() - datetime.timedelta(days=1),
        )
    w.__dict__["trust_data"] = True


def with_data(name: str, *args):
    def url(w):
        trust_data(w)
        return reverse(name, args=[arg(w) for arg in args])

    return url


def case_a(w) -> int:
    return w.cases.case_a.pk


NOT_OTHER = {  # people of county A must not see the other county's record, and back
    "caseworker_a": lambda w: FACTS_OTHER,
    "caseworker_b": lambda w: FACTS_A,
    "auditor": lambda w: FACTS_OTHER,
    "outsider_auditor": lambda w: FACTS_A,
}
NOT_OTHER_APPLICANT = {
    "caseworker_b": lambda w: w.cases.case_a.household.members.get().person.name,
    "auditor": lambda w: w.cases.case_other.household.members.get().person.name,
    "outsider_auditor": lambda w: w.cases.case_a.household.members.get().person.name,
}
NOT_OTHER_TOWNSHIP = {
    "auditor": lambda w: w.places.other_township.name,
    "outsider_auditor": lambda w: w.places.township_a.name,
}

ROWS = [
    Row(
        "credit: record trustworthy behaviour, case A",
        with_data("credit:trust-record", case_a),
        statuses(
            {"caseworker_a"},
            otherwise=403,
            caseworker_b=404,
            feedadmin=404,
            outsider_auditor=404,
            nobody=404,
            finance=404,
        ),
        url_name="credit:trust-record",
    ),
    Row(
        "credit: trust records",
        with_data("credit:trust-records"),
        statuses(TRUST_READERS, otherwise=403),
        url_name="credit:trust-records",
        must_not_contain=NOT_OTHER,
    ),
    Row(
        "credit: rewards list",
        with_data("credit:rewards"),
        statuses(TRUST_READERS, otherwise=403),
        url_name="credit:rewards",
        must_not_contain=NOT_OTHER_APPLICANT,
    ),
    Row(
        "credit: rewards XLSX",
        with_data("credit:rewards-xlsx"),
        statuses(TRUST_READERS, otherwise=403),
        url_name="credit:rewards-xlsx",
    ),
    Row(
        "credit: dashboard",
        with_data("credit:dashboard"),
        statuses(DASHBOARD_READERS, otherwise=403),
        url_name="credit:dashboard",
        must_not_contain=NOT_OTHER_TOWNSHIP,
    ),
    Row(
        "api credit: honest declarant, case A",
        with_data("api-credit-honest-declarant", case_a),
        statuses(CASE_READERS_A, otherwise=404, anon=API_ANON),
        api=True,
        url_name="api-credit-honest-declarant",
    ),
    Row(
        "api credit: trust records",
        with_data("api-credit-trust-records"),
        statuses(TRUST_READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-trust-records",
        must_not_contain=NOT_OTHER,
    ),
    Row(
        "api credit: rewards",
        with_data("api-credit-rewards"),
        statuses(TRUST_READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-rewards",
        must_not_contain=NOT_OTHER_APPLICANT,
    ),
    Row(
        "api credit: untrustworthy rates",
        with_data("api-credit-untrustworthy-rates"),
        statuses(DASHBOARD_READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-untrustworthy-rates",
        must_not_contain=NOT_OTHER_TOWNSHIP,
    ),
]

POST_ONLY = {
    "credit:reward-grant",
    "credit:yearly-compute",
    "api-credit-reward-grant",
    "api-credit-yearly-compute",
}
