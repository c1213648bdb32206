"""Extreme-poverty support (domain.md §8): unable to work, no income source, no supporter
able to support them; checked by the approval, shown on the case page and in the API,
and passed by only through the county's recorded exception."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases import eligibility
from cases.casework import documents
from cases.casework import services as casework_services
from cases.eligibility import Condition
from cases.intake import services as intake_services
from cases.models import (
    Application,
    Authorisation,
    Award,
    ExtremePovertyException,
    Member,
    Person,
    Policy,
)
from tests.cases.conftest import identity, scan, to_decision
from verification.requests import services as verification_services

S = Application.State
pytestmark = pytest.mark.django_db


def years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February: the 28th keeps the age whole today
        return today.replace(year=today.year - years, day=28)


def set_age(member: Member, years: int, *, days_short: int = 0) -> None:
    """Make ``member`` ``years`` old today (``days_short`` days before that birthday)."""
    born = years_ago(years) + datetime.timedelta(days=days_short)
    Person.objects.filter(pk=member.person_id).update(birth_date=born)


@pytest.fixture
def needy(make_family):
    """An elderly couple without counted income or supporters: every condition met."""

    def make(**kwargs):
        family = make_family(kind="extreme_poverty", income="0", **kwargs)
        set_age(family.applicant, 72)
        set_age(family.spouse, 68)
        # Both assessed (self-sufficient): the approval needs every member's self-care.
        Member.objects.filter(pk__in=[family.applicant.pk, family.spouse.pk]).update(
            self_care_failed=[]
        )
        return family

    return make


def checks(family) -> dict:
    app = Application.objects.get(pk=family.application.pk)
    return {c.code: c for c in eligibility.extreme_poverty_conditions(application=app)}


def add_supporter(people, family, *, age: int, income: str | None = None) -> Member:
    supporter = intake_services.member_add(
        actor=people.caseworker_a,
        household=family.application.household,
        identity_number=identity("642222", "19800808", 77),
        name="马大哥",
        relation=Member.Relation.CHILD,
        is_supporter=True,
    )
    Authorisation.objects.create(member=supporter, signed_on=timezone.localdate())
    set_age(supporter, age)
    if income is not None:
        intake_services.income_add(
            actor=people.caseworker_a, member=supporter, source="wages", monthly_average=income
        )
    return supporter


# --- the conditions, at their edges ----------------------------------------------------------


def test_an_elderly_couple_without_income_or_supporters_meets_every_condition(needy):
    assert all(check.met for check in checks(needy()).values())


@pytest.mark.parametrize(
    ("years", "days_short", "met"),
    [
        (60, 0, True),  # 60 today
        (60, 1, False),  # 60 tomorrow
        (16, 1, True),  # still 15
        (16, 0, False),  # 16 today
    ],
)
def test_unable_to_work_by_age(needy, years, days_short, met):
    family = needy()
    set_age(family.applicant, years, days_short=days_short)
    check = checks(family)[Condition.UNABLE_TO_WORK]
    assert check.met is met
    assert check.failing == (() if met else (family.applicant.person.name,))


@pytest.mark.parametrize(
    ("disability", "grade", "met"),
    [
        ("physical", 2, True),
        ("physical", 3, False),
        ("visual", 1, True),
        ("visual", 2, False),
        ("intellectual", 3, True),
        ("mental", 4, False),
        ("hearing", 1, False),  # not on the list
        ("physical", None, False),  # no grade recorded
    ],
)
def test_unable_to_work_by_a_listed_disability(needy, disability, grade, met):
    family = needy()
    set_age(family.applicant, 45)
    Member.objects.filter(pk=family.applicant.pk).update(
        disability=disability, disability_grade=grade
    )
    assert checks(family)[Condition.UNABLE_TO_WORK].met is met


@pytest.mark.parametrize(("income", "met"), [("599.99", True), ("600", False)])
def test_no_income_source_is_own_counted_income_below_the_standard(needy, people, income, met):
    family = needy()
    intake_services.income_add(
        actor=people.caseworker_a, member=family.spouse, source="pension", monthly_average=income
    )
    check = checks(family)[Condition.NO_INCOME]
    assert check.met is met
    assert check.failing == (() if met else (family.spouse.person.name,))


def test_income_never_counted_does_not_count(needy, people):
    family = needy()
    intake_services.income_add(
        actor=people.caseworker_a,
        member=family.spouse,
        source="basic_pension",
        monthly_average="5000",
    )
    assert checks(family)[Condition.NO_INCOME].met


@pytest.mark.parametrize(
    ("age", "income", "met"),
    [
        (45, None, False),  # of working age: able to support, whatever they earn
        (75, "100", True),  # old and poor: not able
        (75, "600", False),  # old, with income at the standard: able
    ],
)
def test_a_supporter_is_able_unless_unable_to_work_and_poor(needy, people, age, income, met):
    family = needy()
    add_supporter(people, family, age=age, income=income)
    check = checks(family)[Condition.NO_ABLE_SUPPORTER]
    assert check.met is met
    assert check.failing == (() if met else ("马大哥",))


# --- the approval ---------------------------------------------------------------------------


def test_the_approval_of_someone_meeting_every_condition_goes_through(needy, people):
    app_id = to_decision(people, needy())
    app = casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert app.state == S.APPROVED


def test_the_approval_names_each_failing_condition_and_saves_nothing(needy, people):
    family = needy()
    set_age(family.applicant, 50)
    add_supporter(people, family, age=45)
    app_id = to_decision(people, family)
    with pytest.raises(DomainError) as refused:
        casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert refused.value.field == "conditions"
    assert len(refused.value.errors) == 2
    assert family.applicant.person.name in refused.value.errors[0]
    assert "马大哥" in refused.value.errors[1]
    assert family.refresh().state == S.AWAITING_DECISION
    assert not Award.objects.filter(application_id=app_id).exists()
    assert not family.application.events.filter(action="approve").exists()


def test_other_kinds_of_assistance_are_not_held_to_these_conditions(make_family, people):
    app_id = to_decision(people, make_family())  # two of working age, wages
    app = casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert app.state == S.APPROVED


# --- the county's exception -----------------------------------------------------------------

REASONS = "县级入户核查：申请人长期患病，实际无劳动能力，经研究同意例外认定。"


def test_the_countys_exception_is_the_one_way_round(needy, people):
    family = needy()
    set_age(family.applicant, 50)
    app_id = to_decision(people, family)
    exception = casework_services.extreme_poverty_exception_record(
        actor=people.auditor, application_id=app_id, reasons=REASONS
    )
    assert exception.conditions == [Condition.UNABLE_TO_WORK]
    event = family.application.events.get(action="extreme_poverty_exception")
    assert (event.actor, event.reason, event.data["conditions"]) == (
        people.auditor,
        REASONS,
        [Condition.UNABLE_TO_WORK],
    )
    assert AuditEvent.objects.filter(
        action="application.extreme_poverty_exception", actor=people.auditor, reason=REASONS
    ).exists()
    check = checks(family)[Condition.UNABLE_TO_WORK]
    assert (check.met, check.excepted, check.passes) == (False, True, True)
    app = casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert app.state == S.APPROVED


def test_the_exception_covers_only_the_conditions_failing_when_it_was_made(needy, people, places):
    family = needy()
    set_age(family.applicant, 50)
    intake_services.income_add(
        actor=people.caseworker_a, member=family.spouse, source="pension", monthly_average="300"
    )
    app_id = to_decision(people, family)
    casework_services.extreme_poverty_exception_record(
        actor=people.auditor, application_id=app_id, reasons=REASONS
    )
    # The county lowers its standard from today: the spouse's 300 is now an income source.
    Policy.objects.create(
        county=places.county,
        effective_from=timezone.localdate(),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("250"),
    )
    with pytest.raises(DomainError) as refused:
        casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    (only,) = refused.value.errors
    assert str(eligibility.CONDITION_LABELS[Condition.NO_INCOME]) in only
    assert family.spouse.person.name in only


def test_only_the_county_records_an_exception(needy, people):
    family = needy()
    set_age(family.applicant, 50)
    app_id = to_decision(people, family)
    for person in (people.approver_a, people.caseworker_a, people.outsider_auditor):
        with pytest.raises((PermissionDenied, DomainError)):
            casework_services.extreme_poverty_exception_record(
                actor=person, application_id=app_id, reasons=REASONS
            )
    assert not ExtremePovertyException.objects.exists()


@pytest.mark.parametrize("reasons", ["", "   ", "太短"])
def test_an_exception_needs_its_reasons_and_leaves_nothing_without_them(needy, people, reasons):
    family = needy()
    set_age(family.applicant, 50)
    app_id = to_decision(people, family)
    with pytest.raises(DomainError) as refused:
        casework_services.extreme_poverty_exception_record(
            actor=people.auditor, application_id=app_id, reasons=reasons
        )
    assert refused.value.field == "reasons"
    assert not ExtremePovertyException.objects.exists()
    assert not family.application.events.filter(action="extreme_poverty_exception").exists()
    assert not AuditEvent.objects.filter(action="application.extreme_poverty_exception").exists()


def test_an_exception_is_refused_twice_where_nothing_fails_and_for_other_kinds(
    needy, make_family, people
):
    met = to_decision(people, needy())
    with pytest.raises(DomainError):
        casework_services.extreme_poverty_exception_record(
            actor=people.auditor, application_id=met, reasons=REASONS
        )
    dibao = to_decision(people, make_family())
    with pytest.raises(DomainError):
        casework_services.extreme_poverty_exception_record(
            actor=people.auditor, application_id=dibao, reasons=REASONS
        )
    family = needy()
    set_age(family.applicant, 50)
    failing = to_decision(people, family)
    casework_services.extreme_poverty_exception_record(
        actor=people.auditor, application_id=failing, reasons=REASONS
    )
    with pytest.raises(Conflict):
        casework_services.extreme_poverty_exception_record(
            actor=people.auditor, application_id=failing, reasons=REASONS
        )
    assert ExtremePovertyException.objects.count() == 1


# --- the API --------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_api_refuses_the_approval_under_the_field_conditions(needy, people):
    family = needy()
    set_age(family.applicant, 50)
    app_id = to_decision(people, family)
    response = api(people.approver_a).post(
        reverse("api-cases-approve", args=[app_id]), {}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["conditions", "errors"]
    assert family.applicant.person.name in body["errors"][0]


def test_the_api_records_the_exception_for_the_county_only(needy, people):
    family = needy()
    set_age(family.applicant, 50)
    app_id = to_decision(people, family)
    url = reverse("api-cases-extreme-poverty-exception", args=[app_id])
    assert api(people.approver_a).post(url, {"reasons": REASONS}, format="json").status_code == 403
    assert (
        api(people.caseworker_b).post(url, {"reasons": REASONS}, format="json").status_code == 404
    )
    short = api(people.auditor).post(url, {"reasons": "太短"}, format="json")
    assert short.status_code == 400 and list(short.json()) == ["reasons"]
    missing = api(people.auditor).post(url, {}, format="json")
    assert missing.status_code == 400 and "reasons" in missing.json()
    done = api(people.auditor).post(url, {"reasons": REASONS}, format="json")
    assert done.status_code == 200
    (exception,) = done.json()["extreme_poverty_exceptions"]
    assert (exception["conditions"], exception["confirmed_by"]) == (
        [Condition.UNABLE_TO_WORK],
        people.auditor.username,
    )
    approved = api(people.approver_a).post(
        reverse("api-cases-approve", args=[app_id]), {}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["state"] == S.APPROVED


# --- the pages ------------------------------------------------------------------------------


def page(user, app_id) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("cases:detail", args=[app_id])).content.decode()


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def test_the_case_page_shows_which_condition_fails_and_offers_the_county_its_exception(
    needy, people
):
    family = needy()
    set_age(family.applicant, 50)
    app_id = to_decision(people, family)
    approver_page = page(people.approver_a, app_id)
    assert 'id="extreme-poverty-conditions"' in approver_page
    assert zh("not met by %(names)s") % {"names": family.applicant.person.name} in approver_page
    assert 'id="action-extreme_poverty_exception"' not in approver_page
    assert 'id="action-extreme_poverty_exception"' in page(people.auditor, app_id)

    client = Client()
    client.force_login(people.approver_a)
    refused = client.post(reverse("cases:act", args=[app_id, "approve"]), {"start_month": ""})
    assert refused.status_code == 400
    assert family.refresh().state == S.AWAITING_DECISION

    client.force_login(people.auditor)
    short = client.post(
        reverse("cases:act", args=[app_id, "extreme_poverty_exception"]), {"reasons": "太短"}
    )
    assert short.status_code == 400
    assert zh("Write the reasons for the exception in full.") in short.content.decode()
    done = client.post(
        reverse("cases:act", args=[app_id, "extreme_poverty_exception"]), {"reasons": REASONS}
    )
    assert done.status_code == 302
    after = page(people.approver_a, app_id)
    assert REASONS in after
    assert 'id="action-extreme_poverty_exception"' not in page(people.auditor, app_id)


def test_a_dibao_case_page_shows_no_extreme_poverty_conditions(make_family, people):
    app_id = to_decision(people, make_family())
    assert 'id="extreme-poverty-conditions"' not in page(people.approver_a, app_id)


# --- the approve form's warning of a clear gap -----------------------------------------------


def gap_to_decision(people, family) -> int:
    """A clear gap, the family's objection with evidence, the visit, the review, the
    notice: the case awaits its decision with a gap on record."""
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw,
        application_id=app_id,
        outcome="gap",
        reason="银行存款不一致",
        gap_items=[{"item": "银行存款", "declared": "0", "verified": "85000"}],
    )
    casework_services.feedback_objection_record(
        actor=cw, application_id=app_id, text="存款为借款，附借条", has_evidence=True
    )
    household = family.application.household
    signatures = [
        documents.document_upload(actor=cw, household=household, kind="home_visit", upload=scan())
        for _ in range(2)
    ]
    casework_services.home_visit_record(
        actor=cw,
        application_id=app_id,
        visited_on=timezone.localdate(),
        investigators=[cw, people.assistant_a],
        family_member_present="马1",
        findings="借条属实",
        investigators_signature=signatures[0],
        family_signature=signatures[1],
    )
    casework_services.democratic_review_record(
        actor=cw,
        application_id=app_id,
        held_on=timezone.localdate(),
        participants=5,
        opinion="同意",
    )
    casework_services.notice_post(
        actor=cw,
        application_id=app_id,
        starts_on=timezone.localdate() - datetime.timedelta(days=8),
        place="村务公开栏",
    )
    casework_services.notice_close(actor=cw, application_id=app_id)
    return app_id


def test_the_approve_form_warns_of_a_clear_gap_with_its_items(make_family, people):
    app_id = gap_to_decision(people, make_family())
    text = page(people.approver_a, app_id)
    assert 'id="approve-gap-warning"' in text
    assert zh("The verification report shows a clear gap.") in text
    assert "银行存款" in text and "85000" in text
    consistent = to_decision(people, make_family())
    assert 'id="approve-gap-warning"' not in page(people.approver_a, consistent)
