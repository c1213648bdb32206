"""The income rule of "basically consistent" (cases.eligibility.income_compare) at its
edges, and the report it gives: a family that declared more than the departments see is
consistent; more found than declared beyond the tolerance, or a crossing of the
eligibility line, is a clear gap (domain.md §8)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases import eligibility
from cases.intake import services as intake_services
from cases.models import Application, Policy
from tests.verification.test_requests import (  # noqa: F401 (fixtures)
    answer_all,
    catalogue,
    make_family,
    policy,
    proof_items,
    request_for,
    rows_of,
)
from verification.requests import services
from verification.requests.models import VerificationRequest

D = Decimal
FOUND_MORE = Policy.IncomeGapDirection.FOUND_MORE
EITHER = Policy.IncomeGapDirection.EITHER


def county_rules(**values) -> Policy:
    """An unsaved policy: the rule reads its figures, nothing else."""
    return Policy(dibao_standard_urban=D("800"), dibao_standard_rural=D("640"), **values)


def compare(rules: Policy, declared: str, verified: str, *, members=1, rigid="0"):
    return eligibility.income_compare(
        policy=rules,
        assistance_type="dibao_rural",
        members=members,
        declared_income=D(declared),
        verified_income=D(verified),
        monthly_rigid_expenditure=D(rigid),
    )


@pytest.mark.parametrize(
    ("declared", "verified", "gap"),
    [
        ("254.17", "0", False),  # the issue: declared more, both below 640
        ("0", "0", False),
        ("450", "500", False),  # found 50 more: exactly 10 % of 500
        ("449.99", "500", True),  # a cent beyond
        ("600", "500", False),  # declared 100 more: never a gap on its own
        ("0", "0.01", True),  # something where nothing was declared
        ("630", "650", True),  # within 10 %, but found above the line of 640
        ("650", "630", True),  # declared above the line, found below: the line decides
        ("639.99", "640", True),  # the line itself is not below it
    ],
)
def test_income_gap_found_more_by_default(declared, verified, gap):
    rules = county_rules()
    assert rules.income_gap_direction == FOUND_MORE
    assert rules.income_tolerance == D("0.10")
    result = compare(rules, declared, verified)
    assert result.clear_gap is gap
    assert result.declared_more is (D(declared) > D(verified))


def test_a_county_may_count_a_gap_either_way():
    rules = county_rules(income_gap_direction=EITHER)
    assert compare(rules, "254.17", "0").clear_gap is True
    assert compare(rules, "550", "500").clear_gap is False  # 10 % of 500, the other way
    assert compare(rules, "550.01", "500").clear_gap is True


def test_the_tolerance_is_the_countys():
    rules = county_rules(income_tolerance=D("0.20"))
    assert compare(rules, "400", "500").clear_gap is False
    assert compare(rules, "399.99", "500").clear_gap is True


def test_the_line_is_judged_per_head_net_of_rigid_expenditure():
    rules = county_rules()
    # Two members, 200 of rigid expenditure: 1460 → 630 a head, 1500 → 650.
    assert compare(rules, "1460", "1460", members=2, rigid="200").clear_gap is False
    result = compare(rules, "1460", "1500", members=2, rigid="200")
    assert (result.beyond_tolerance, result.same_side, result.clear_gap) == (False, False, True)


# --- the report -----------------------------------------------------------------------------


def _family_of_the_issue(make_family, people, catalogue, deposit="3000"):  # noqa: F811
    """Declared 254.17 a head (two members), 3000 of deposits; the departments find
    nothing. The county's line is 640."""
    Policy.objects.update(dibao_standard_rural=D("640"))
    family = make_family(income="508.34")
    intake_services.asset_add(
        actor=people.caseworker_a,
        household=family.application.household,
        kind="deposit",
        description="活期",
        value=deposit,
    )
    catalogue.record(family.applicant, "wages", value="0")
    return family, answer_all(request_for(family, people.caseworker_a))


@pytest.mark.django_db
def test_declaring_more_than_the_departments_see_is_consistent(
    make_family,  # noqa: F811
    people,
    catalogue,  # noqa: F811
):
    family, request = _family_of_the_issue(make_family, people, catalogue)
    assert request.verdict == VerificationRequest.Verdict.CONSISTENT
    (per_capita,) = rows_of(request, "per_capita")
    assert (per_capita["declared"], per_capita["verified"], per_capita["verdict"]) == (
        "254.17",
        "0.00",
        "consistent",
    )
    assert rows_of(request, "deposit")[0]["verdict"] == "consistent"
    assert request.report["income"]["declared_more"] is True
    assert request.report["income"]["direction"] == "found_more"
    # Issued, it sends the family to public notice, not into the objection window.
    services.report_issue(actor=people.caseworker_a, verification_id=request.pk)
    family.application.refresh_from_db()
    assert family.application.state == Application.State.PUBLIC_NOTICE
    assert family.application.path == Application.Path.SIMPLIFIED


@pytest.mark.django_db
def test_the_report_page_says_why_declaring_more_is_consistent(
    make_family,  # noqa: F811
    people,
    catalogue,  # noqa: F811
):
    _family, request = _family_of_the_issue(make_family, people, catalogue)
    client = Client()
    client.force_login(people.caseworker_a)
    page = client.get(reverse("verification:report", args=[request.pk])).content.decode()
    with translation.override("zh-hans"):
        consistent = translation.gettext("basically consistent")
        gap = translation.gettext("clear gap")
    assert 'id="declared-more"' in page
    assert consistent in page and gap not in page


@pytest.mark.django_db
def test_where_the_county_counts_either_way_the_same_family_has_a_gap(
    make_family,  # noqa: F811
    people,
    catalogue,  # noqa: F811
):
    Policy.objects.update(income_gap_direction=EITHER)
    _family, request = _family_of_the_issue(make_family, people, catalogue)
    assert request.verdict == VerificationRequest.Verdict.GAP
    assert request.report["income"]["declared_more"] is False
    (income, _spouse) = rows_of(request, "income")
    assert income["verdict"] == "differs"


@pytest.mark.django_db
def test_more_found_than_declared_beyond_the_tolerance_is_a_gap(
    make_family,  # noqa: F811
    people,
    catalogue,  # noqa: F811
):
    family = make_family(income="300")
    catalogue.record(family.applicant, "wages", value="340")  # 40 more: 11.8 % of 340
    request = answer_all(request_for(family, people.caseworker_a))
    assert request.verdict == VerificationRequest.Verdict.GAP
    assert request.report["income"]["declared_more"] is False
    assert [row["item"] for row in services.gap_items(request.report)] == [
        rows_of(request, "per_capita")[0]["item"]
    ]
