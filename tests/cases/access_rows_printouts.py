"""Access-matrix rows of the case's printed documents (tests/test_access_matrix.py).

The world's case (case_a, a draft in township A) is made approved here with the ORM,
with the arithmetic its decision would have stored, and given a home visit, so that
each print page is tried for real: the readers of township A's cases print it, everyone
else gets 404; a full identity number only for the township office (403 for the other
readers).
"""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from cases.casework.models import HomeVisit
from cases.eligibility import AmountBasis
from cases.models import Application
from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row

# Readers of township A's cases: everyone placed over 龙王坝村 who reads cases.
INSIDE_A = {"assistant_a", "caseworker_a", "approver_a", "auditor", "verifier", "superuser"}
# Who may print a full identity number there (permissions.PRINT_FULL_IDENTITY_NUMBERS).
UNMASK_A = {"caseworker_a", "approver_a", "superuser"}


def statuses(allowed, *, otherwise: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def approved_a(w) -> int:
    """case_a as approved: 900 yuan a month from next month, reviewed in a year."""
    if "approved_a" not in w.__dict__:
        today = timezone.localdate()
        basis = AmountBasis(
            assistance_type="dibao_rural",
            members=2,
            monthly_income=Decimal("300.00"),
            monthly_rigid_expenditure=Decimal("0.00"),
            per_capita_income=Decimal("150.00"),
            standard=Decimal("600.00"),
            threshold=Decimal("600.00"),
            eligible=True,
            monthly_amount=Decimal("900.00"),
            rule="(standard - per_capita) * members",
            policy_from=datetime.date(2026, 1, 1),
        )
        Application.objects.filter(pk=w.cases.case_a.pk).update(
            state=Application.State.APPROVED,
            decided_at=timezone.now(),
            decided_by=w.people.approver_a,
            monthly_amount=basis.monthly_amount,
            amount_basis=basis.as_dict(),
            start_month=(today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1),
            next_review_on=today + datetime.timedelta(days=365),
        )
        w.__dict__["approved_a"] = w.cases.case_a.pk
    return w.__dict__["approved_a"]


def visit_a(w) -> tuple[int, int]:
    if "visit_a" not in w.__dict__:
        visit = HomeVisit.objects.create(
            application=w.cases.case_a,
            visited_on=timezone.localdate(),
            family_member_present="户主901",
            findings="家中陈设简陋",
            recorded_by=w.people.caseworker_a,
        )
        visit.investigators.set([w.people.caseworker_a, w.people.assistant_a])
        w.__dict__["visit_a"] = (w.cases.case_a.pk, visit.pk)
    return w.__dict__["visit_a"]


ROWS = [
    Row(
        "printouts: approval notice, township A",
        lambda w: reverse("cases:print-approval-notice", args=[approved_a(w)]),
        statuses(INSIDE_A, otherwise=404),
        url_name="cases:print-approval-notice",
    ),
    Row(
        "printouts: approval notice as PDF, township A",
        lambda w: reverse("cases:print-approval-notice", args=[approved_a(w)]) + "?format=pdf",
        statuses(INSIDE_A, otherwise=404),
    ),
    Row(
        "printouts: approval notice with the full identity number, township A",
        lambda w: (
            reverse("cases:print-approval-notice", args=[approved_a(w)])
            + "?identity=full&purpose=%E9%80%81%E8%BE%BE%E6%9C%AC%E4%BA%BA"
        ),
        statuses(UNMASK_A, otherwise=404) | {p: 403 for p in INSIDE_A - UNMASK_A},
    ),
    Row(
        "printouts: home-visit record, township A",
        lambda w: reverse("cases:print-home-visit", args=visit_a(w)),
        statuses(INSIDE_A, otherwise=404),
        url_name="cases:print-home-visit",
    ),
    Row(
        "printouts: application form, township A",
        lambda w: reverse("cases:print-application-form", args=[w.cases.case_a.pk]),
        statuses(INSIDE_A, otherwise=404),
        url_name="cases:print-application-form",
    ),
    Row(
        "printouts: application form, other county",
        lambda w: reverse("cases:print-application-form", args=[w.cases.case_other.pk]),
        statuses({"outsider_auditor", "superuser"}, otherwise=404),
    ),
]
