"""Extreme poverty's self-care assessment and care allowance (domain.md §7, §8): the level
from the six daily abilities, the approval refused while a member is not assessed, the
amount as basic living allowance plus each member's care allowance under the dated
policy, the page and API inputs, and the roster paying the decided amount."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from rest_framework.test import APIClient

from aid_portal.errors import DomainError
from aid_portal.models import AuditEvent
from cases import eligibility
from cases.casework import services as casework_services
from cases.models import (
    Application,
    Award,
    DailyAbility,
    Member,
    Policy,
    SelfCareLevel,
    self_care_level,
)
from cases.payments import services as payments
from tests.cases.conftest import identity, to_decision
from tests.cases.test_extreme_poverty import set_age

S = Application.State
pytestmark = pytest.mark.django_db
THIS_MONTH = timezone.localdate().replace(day=1)


def zh(message: str, **values) -> str:
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    return escape(text % values if values else text)


def assess(member: Member, failed: list[str] | None) -> None:
    Member.objects.filter(pk=member.pk).update(self_care_failed=failed)


@pytest.fixture
def needy(make_family, policy):
    """An elderly couple meeting the three conditions, under a policy paying care
    allowances of 50 / 200 / 600 (self-sufficient / partly / fully dependent)."""
    Policy.objects.filter(pk=policy.pk).update(
        care_allowance_self_sufficient=Decimal("50"),
        care_allowance_partly_dependent=Decimal("200"),
        care_allowance_fully_dependent=Decimal("600"),
    )

    def make():
        family = make_family(kind="extreme_poverty", income="0")
        set_age(family.applicant, 72)
        set_age(family.spouse, 68)
        return family

    return make


PARTLY = [DailyAbility.EATING, DailyAbility.BATHING]  # two failed
FULLY = [
    DailyAbility.DRESSING,
    DailyAbility.BED,
    DailyAbility.TOILET,
    DailyAbility.WALKING,
    DailyAbility.BATHING,
]  # five failed


# --- the level ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed", "level"),
    [
        (None, SelfCareLevel.NOT_ASSESSED),
        (0, SelfCareLevel.SELF_SUFFICIENT),
        (1, SelfCareLevel.PARTLY_DEPENDENT),
        (3, SelfCareLevel.PARTLY_DEPENDENT),
        (4, SelfCareLevel.FULLY_DEPENDENT),
        (6, SelfCareLevel.FULLY_DEPENDENT),
    ],
)
def test_the_level_at_its_edges(failed, level):
    assert self_care_level(failed) == level
    member = Member(self_care_failed=None if failed is None else DailyAbility.values[:failed])
    assert member.self_care_level == level


def test_the_six_abilities_carry_their_chinese_names():
    with translation.override("zh-hans"):
        names = [str(label) for label in DailyAbility.labels]
    assert names == ["自主吃饭", "穿衣", "上下床", "如厕", "室内行走", "洗澡"]


# --- the approval -------------------------------------------------------------------------


def test_an_unassessed_member_stops_the_approval_by_name(needy, people):
    family = needy()
    assess(family.applicant, [])
    app_id = to_decision(people, family)
    with pytest.raises(DomainError) as refused:
        casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert refused.value.field == "self_care"
    assert family.spouse.person.name in refused.value.message
    assert family.applicant.person.name not in refused.value.message
    assert family.refresh().state == S.AWAITING_DECISION
    assert not Award.objects.filter(application_id=app_id).exists()

    # The page says so in Chinese; the API under the field self_care.
    client = Client()
    client.force_login(people.approver_a)
    page = client.post(reverse("cases:act", args=[app_id, "approve"]), {"start_month": ""})
    assert page.status_code == 400
    assert "自理" in page.content.decode() and family.spouse.person.name in page.content.decode()
    api = APIClient()
    api.force_login(people.approver_a)
    response = api.post(reverse("api-cases-approve", args=[app_id]), {}, format="json")
    assert response.status_code == 400 and "self_care" in response.json()

    assess(family.spouse, PARTLY)
    app = casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert app.state == S.APPROVED


def test_a_dibao_case_needs_no_assessment(make_family, people):
    app_id = to_decision(people, make_family())
    app = casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    assert app.state == S.APPROVED


# --- the amount ---------------------------------------------------------------------------


def test_the_amount_adds_each_members_care_under_the_policy_of_the_day(needy, places):
    family = needy()
    assess(family.applicant, PARTLY)
    assess(family.spouse, FULLY)
    later = datetime.date(2026, 10, 1)
    Policy.objects.create(
        county=places.county,
        effective_from=later,
        dibao_standard_urban=Decimal("900"),
        dibao_standard_rural=Decimal("700"),
        care_allowance_self_sufficient=Decimal("0"),
        care_allowance_partly_dependent=Decimal("300"),
        care_allowance_fully_dependent=Decimal("900"),
    )
    app = Application.objects.get(pk=family.application.pk)

    before = eligibility.amount_compute(application=app, on=datetime.date(2026, 6, 1))
    # 600 × 1.3 × 2 = 1560, + 200 (partly) + 600 (fully).
    assert before.monthly_amount == Decimal("2360.00")
    assert before.care_amount == Decimal("800.00")
    assert [(c.name, c.level, c.failed, c.allowance) for c in before.care] == [
        (family.applicant.person.name, SelfCareLevel.PARTLY_DEPENDENT, 2, Decimal("200.00")),
        (family.spouse.person.name, SelfCareLevel.FULLY_DEPENDENT, 5, Decimal("600.00")),
    ]

    after = eligibility.amount_compute(application=app, on=later)
    # 700 × 1.3 × 2 = 1820, + 300 + 900.
    assert after.monthly_amount == Decimal("3020.00")
    assert [c.allowance for c in after.care] == [Decimal("300.00"), Decimal("900.00")]

    # As a decision stores it and a printed notice reads it back.
    assert eligibility.AmountBasis.from_dict(after.as_dict()) == after


def test_a_basis_stored_before_the_care_allowance_still_reads(needy):
    basis = eligibility.amount_compute(application=needy().application)
    old = basis.as_dict()
    del old["care"], old["care_amount"]
    assert eligibility.AmountBasis.from_dict(old).care == ()


def test_the_case_page_and_the_api_show_the_care_part(needy, people):
    family = needy()
    assess(family.applicant, [])
    assess(family.spouse, FULLY)
    app_id = to_decision(people, family)
    client = Client()
    client.force_login(people.approver_a)
    page = client.get(reverse("cases:detail", args=[app_id])).content.decode()
    assert 'class="care-shares"' in page
    assert zh("fully dependent") in page and zh("self-sufficient") in page
    # 1560 + 50 + 600, and the arithmetic spells out each member's share.
    assert "600.00 × 1.30 × 2 + (50.00 + 600.00) = 2210.00" in page
    assert "、".join(zh(str(DailyAbility(c).label)) for c in FULLY) in page

    api = APIClient()
    api.force_login(people.approver_a)
    body = api.get(reverse("api-cases-amount", args=[app_id])).json()
    assert body["monthly_amount"] == "2210.00" and body["care_amount"] == "650.00"
    assert [(c["level"], c["allowance"]) for c in body["care"]] == [
        ("self_sufficient", "50.00"),
        ("fully_dependent", "600.00"),
    ]


# --- the roster ---------------------------------------------------------------------------


def test_the_roster_line_pays_the_amount_with_its_care(needy, paying, people, places):
    family = needy()
    assess(family.applicant, PARTLY)
    assess(family.spouse, FULLY)
    family = paying(family=family)
    assert family.application.monthly_amount == Decimal("2360.00")
    roster = payments.roster_prepare(
        actor=people.caseworker_a, township_id=places.township_a.pk, month=THIS_MONTH
    )
    line = roster.lines.get(application=family.application)
    assert line.kind == "monthly" and line.amount == Decimal("2360.00")


# --- the member forms ---------------------------------------------------------------------


def url(name: str, *args) -> str:
    return reverse(f"cases:{name}", args=args)


def member_data(number: str, **extra) -> dict:
    data = {
        "identity_number": number,
        "name": "马老三",
        "relation": "sibling",
        "work_ability": "none",
        "health": "healthy",
        "disability": "",
    } | extra
    return {f"members-{k}": v for k, v in data.items()}


def test_the_assessment_is_entered_on_the_member_pages(needy, people):
    family = needy()
    app, spouse = family.application, family.spouse
    cw = Client()
    cw.force_login(people.caseworker_a)
    number = identity("642222", "19500303", 41)

    refused = cw.post(
        url("intake-member-add", app.pk),
        member_data(number, self_care_failed=["eating"]),
        headers={"HX-Request": "true"},
    )
    assert zh("Tick “self-care assessed” to record the abilities the person cannot manage.") in (
        refused.content.decode()
    )
    refused = cw.post(
        url("intake-member-add", app.pk),
        member_data(number, self_care_assessed="on", self_care_failed=["flying"]),
        headers={"HX-Request": "true"},
    )
    assert 'class="error"' in refused.content.decode()
    assert app.household.members.count() == 2

    cw.post(
        url("intake-member-add", app.pk),
        member_data(number, self_care_assessed="on", self_care_failed=["bathing", "eating"]),
    )
    added = app.household.members.get(person__name="马老三")
    assert added.self_care_failed == ["eating", "bathing"]
    assert added.self_care_level == SelfCareLevel.PARTLY_DEPENDENT
    audit = AuditEvent.objects.get(action="member.add", object_id=str(added.pk))
    assert audit.new_values["self_care_failed"] == ["eating", "bathing"]

    edit = url("intake-member-edit", app.pk, spouse.pk)
    data = {"name": spouse.person.name, "relation": "spouse", "health": "healthy"}
    assert cw.post(edit, data | {"self_care_assessed": "on"}).status_code == 302
    spouse.refresh_from_db()
    assert spouse.self_care_failed == [] and spouse.self_care_level == "self_sufficient"
    audit = AuditEvent.objects.get(action="member.update", object_id=str(spouse.pk))
    assert (audit.old_values["self_care_failed"], audit.new_values["self_care_failed"]) == (
        None,
        [],
    )
    # The edit page shows the assessment as recorded; the members list its level.
    assert re.search(r'name="self_care_assessed"[^>]*checked', cw.get(edit).content.decode())
    assert zh("self-sufficient") in cw.get(url("intake-members", app.pk)).content.decode()


def test_the_assessment_through_the_api(needy, people):
    family = needy()
    api = APIClient()
    api.force_login(people.caseworker_a)
    add = reverse("api-households-member-add", args=[family.application.household_id])
    base = {"identity_number": identity("642222", "19500303", 41), "name": "马老三"}
    bad = api.post(
        add, base | {"relation": "sibling", "self_care_failed": ["eating", "x"]}, format="json"
    )
    assert bad.status_code == 400 and list(bad.json()) == ["self_care_failed"]
    assert family.application.household.members.count() == 2
    done = api.post(
        add, base | {"relation": "sibling", "self_care_failed": FULLY[:4]}, format="json"
    )
    assert done.status_code == 201
    assert done.json()["self_care_level"] == "fully_dependent"

    patch = reverse("api-households-member-remove", args=[family.spouse.pk])
    response = api.patch(patch, {"self_care_failed": ["dressing"]}, format="json")
    assert response.status_code == 200
    assert response.json()["self_care_failed"] == ["dressing"]
    assert response.json()["self_care_level"] == "partly_dependent"
    kept = api.patch(patch, {"health": "chronic"}, format="json").json()
    assert kept["self_care_failed"] == ["dressing"]  # left out: stays
    response = api.patch(patch, {"self_care_failed": None}, format="json")
    assert response.json()["self_care_level"] == "not_assessed"
    assert (
        AuditEvent.objects.filter(action="member.update", object_id=str(family.spouse.pk)).count()
        == 3
    )
