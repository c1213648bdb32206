"""The refusals, races, arithmetic and dates of the cases services, beyond the main paths
that test_workflow.py drives end to end.

Messages are compared in English (the source strings); the pages show them in Chinese.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent, CalendarYear, Region, Role, User
from cases import eligibility
from cases import policy as case_policy
from cases.casework import documents
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import (
    Application,
    ApplicationEvent,
    Household,
    Member,
    NoticeObjection,
    Policy,
    PublicNotice,
)
from tests.cases.conftest import PNG, identity, scan
from tests.conftest import make_user
from verification.requests import services as verification_services

S = Application.State
pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english_and_2027():
    # 2027 is past what chinese-calendar knows; the demo enters it the same way, so
    # that deadlines counted late in 2026 can run into the new year.
    CalendarYear.objects.get_or_create(year=2027, defaults={"source": "测试"})
    with translation.override("en"):
        yield


def freeze(monkeypatch, day: datetime.date) -> None:
    """Today is ``day`` for the services (and everything reading timezone.localdate)."""
    monkeypatch.setattr("cases.casework.services.timezone.localdate", lambda *a, **k: day)


def today() -> datetime.date:
    return timezone.localdate()


# --- driving an application to a state -------------------------------------------------


@dataclass
class Case:
    """One family's application and the people who act on it."""

    family: object
    people: object

    @property
    def id(self) -> int:
        return self.family.application.pk

    @property
    def cw(self) -> User:
        return self.people.caseworker_a

    def app(self) -> Application:
        return Application.objects.get(pk=self.id)

    def signatures(self):
        household = self.family.application.household
        return [
            documents.document_upload(
                actor=self.cw, household=household, kind="home_visit", upload=scan()
            )
            for _ in range(2)
        ]

    def submit(self):
        return intake_services.application_submit(actor=self.cw, application_id=self.id)

    def accept(self):
        self.submit()
        return casework_services.application_accept(actor=self.cw, application_id=self.id)

    def verify(self):
        self.accept()
        return verification_services.verification_request(actor=self.cw, application_id=self.id)

    def consistent(self):
        self.verify()
        return casework_services.verification_outcome_record(
            actor=self.cw, application_id=self.id, outcome="consistent", reason="手工录入核对结果"
        )

    def gap(self):
        self.verify()
        return casework_services.verification_outcome_record(
            actor=self.cw,
            application_id=self.id,
            outcome="gap",
            reason="存款不一致",
            gap_items=[{"item": "存款", "declared": "0", "verified": "85000"}],
        )

    def objected(self):
        self.gap()
        return casework_services.feedback_objection_record(
            actor=self.cw, application_id=self.id, text="存款为借款，附借条", has_evidence=True
        )

    def home_visit(self, **overrides):
        sig1, sig2 = self.signatures()
        values = {
            "actor": self.cw,
            "application_id": self.id,
            "visited_on": today(),
            "investigators": [self.cw, self.people.assistant_a],
            "family_member_present": "马1",
            "findings": "家中陈设简陋，无车辆",
            "investigators_signature": sig1,
            "family_signature": sig2,
        }
        return casework_services.home_visit_record(**{**values, **overrides})

    def reviewed(self):
        self.objected()
        return self.home_visit()

    def post_notice(self, *, ended: bool = True) -> PublicNotice:
        starts = today() - datetime.timedelta(days=8) if ended else today()
        return casework_services.notice_post(
            actor=self.cw, application_id=self.id, starts_on=starts, place="龙王坝村村务公开栏"
        )

    def awaiting(self):
        self.consistent()
        self.post_notice()
        return casework_services.notice_close(actor=self.cw, application_id=self.id)

    def approved(self, **kwargs):
        self.awaiting()
        return casework_services.application_approve(
            actor=self.people.approver_a, application_id=self.id, **kwargs
        )

    def rejected(self):
        self.awaiting()
        return casework_services.application_reject(
            actor=self.people.approver_a, application_id=self.id, reasons=REASONS
        )

    def withdrawn(self):
        return casework_services.application_withdraw(
            actor=self.cw, application_id=self.id, reason="家庭外出务工，主动撤回"
        )

    def to(self, state: str) -> Application:
        step = {
            S.DRAFT: lambda: None,
            S.SUBMITTED: self.submit,
            S.ACCEPTED: self.accept,
            S.UNDER_VERIFICATION: self.verify,
            S.FEEDBACK: self.gap,
            S.HOME_VISIT: self.objected,
            S.DEMOCRATIC_REVIEW: self.reviewed,
            S.PUBLIC_NOTICE: self.consistent,
            S.AWAITING_DECISION: self.awaiting,
            S.APPROVED: self.approved,
            S.REJECTED: self.rejected,
            S.WITHDRAWN: self.withdrawn,
        }[state]
        step()
        app = self.app()
        assert app.state == state
        return app


REASONS = "家庭人均收入高于当地低保标准，不符合条件。"


@pytest.fixture
def case(make_family, people):
    def make(**kwargs) -> Case:
        return Case(family=make_family(**kwargs), people=people)

    return make


# --- who, where and when: the same refusals for every transition ---------------------

CALLS = {
    "submit": lambda c, a: intake_services.application_submit(actor=a, application_id=c.id),
    "accept": lambda c, a: casework_services.application_accept(actor=a, application_id=c.id),
    "extend": lambda c, a: casework_services.application_extend(
        actor=a, application_id=c.id, reason="申请人长期在外务工"
    ),
    "verification_request": lambda c, a: verification_services.verification_request(
        actor=a, application_id=c.id
    ),
    "verification_outcome_record": lambda c, a: casework_services.verification_outcome_record(
        actor=a, application_id=c.id, outcome="consistent", reason="手工录入"
    ),
    "feedback_objection_record": lambda c, a: casework_services.feedback_objection_record(
        actor=a, application_id=c.id, text="有借条", has_evidence=True
    ),
    "feedback_close": lambda c, a: casework_services.feedback_close(actor=a, application_id=c.id),
    "home_visit_record": lambda c, a: c.home_visit(actor=a),
    "democratic_review_record": lambda c, a: casework_services.democratic_review_record(
        actor=a, application_id=c.id, held_on=today(), participants=5, opinion="同意"
    ),
    "notice_post": lambda c, a: casework_services.notice_post(
        actor=a, application_id=c.id, starts_on=today(), place="村务公开栏"
    ),
    "notice_close": lambda c, a: casework_services.notice_close(actor=a, application_id=c.id),
    "application_approve": lambda c, a: casework_services.application_approve(
        actor=a, application_id=c.id
    ),
    "application_reject": lambda c, a: casework_services.application_reject(
        actor=a, application_id=c.id, reasons=REASONS
    ),
    "application_withdraw": lambda c, a: casework_services.application_withdraw(
        actor=a, application_id=c.id, reason="家庭主动撤回"
    ),
    "county_check_record": lambda c, a: casework_services.county_check_record(
        actor=a, application_id=c.id, done_on=today(), findings="入户核查属实"
    ),
}


def _unchanged(c: Case, state: str, events: int) -> None:
    app = c.app()
    assert app.state == state
    assert app.events.count() == events


@pytest.mark.parametrize(
    ("call", "state", "wrong"),
    [
        ("submit", S.DRAFT, "approver_a"),
        ("accept", S.SUBMITTED, "assistant_a"),
        ("accept", S.SUBMITTED, "auditor"),
        ("extend", S.ACCEPTED, "assistant_a"),
        ("verification_request", S.ACCEPTED, "assistant_a"),
        ("verification_outcome_record", S.UNDER_VERIFICATION, "assistant_a"),
        ("verification_outcome_record", S.UNDER_VERIFICATION, "approver_a"),
        ("feedback_objection_record", S.FEEDBACK, "approver_a"),
        ("feedback_close", S.FEEDBACK, "approver_a"),
        ("home_visit_record", S.HOME_VISIT, "approver_a"),
        ("home_visit_record", S.HOME_VISIT, "verifier"),
        ("democratic_review_record", S.DEMOCRATIC_REVIEW, "approver_a"),
        ("notice_post", S.PUBLIC_NOTICE, "approver_a"),
        ("notice_close", S.PUBLIC_NOTICE, "auditor"),
        ("application_approve", S.AWAITING_DECISION, "caseworker_a"),
        ("application_approve", S.AWAITING_DECISION, "auditor"),
        ("application_reject", S.AWAITING_DECISION, "assistant_a"),
        ("application_withdraw", S.DRAFT, "approver_a"),
        ("county_check_record", S.AWAITING_DECISION, "caseworker_a"),
        ("county_check_record", S.AWAITING_DECISION, "approver_a"),
    ],
)
def test_a_wrong_role_is_refused(case, people, call, state, wrong):
    c = case()
    c.to(state)
    events = c.app().events.count()
    with pytest.raises(PermissionDenied):
        CALLS[call](c, getattr(people, wrong))
    _unchanged(c, state, events)


OUTSIDE_STATES = {
    "submit": S.DRAFT,
    "accept": S.SUBMITTED,
    "extend": S.ACCEPTED,
    "verification_request": S.ACCEPTED,
    "verification_outcome_record": S.UNDER_VERIFICATION,
    "feedback_objection_record": S.FEEDBACK,
    "feedback_close": S.FEEDBACK,
    "home_visit_record": S.HOME_VISIT,
    "democratic_review_record": S.DEMOCRATIC_REVIEW,
    "notice_post": S.PUBLIC_NOTICE,
    "notice_close": S.PUBLIC_NOTICE,
    "application_approve": S.AWAITING_DECISION,
    "application_reject": S.AWAITING_DECISION,
    "application_withdraw": S.DRAFT,
    "county_check_record": S.AWAITING_DECISION,
}


@pytest.mark.parametrize("outsider", ["caseworker_b", "outsider_auditor"])
@pytest.mark.parametrize("call", sorted(OUTSIDE_STATES))
def test_outside_the_jurisdiction_the_application_does_not_exist(case, people, call, outsider):
    c = case()
    state = OUTSIDE_STATES[call]
    c.to(state)
    events = c.app().events.count()
    with pytest.raises(DomainError) as caught:
        CALLS[call](c, getattr(people, outsider))
    assert type(caught.value) is DomainError  # not a Conflict: nothing about its state
    assert caught.value.message == "No such application."
    _unchanged(c, state, events)


def test_an_unknown_application_id_is_no_such_application(people):
    with pytest.raises(DomainError, match="No such application"):
        intake_services.application_submit(actor=people.caseworker_a, application_id=987654)


@pytest.mark.parametrize(
    ("call", "state", "actor"),
    [
        ("submit", S.ACCEPTED, "caseworker_a"),
        ("accept", S.DRAFT, "caseworker_a"),
        ("accept", S.ACCEPTED, "caseworker_a"),
        ("extend", S.DRAFT, "caseworker_a"),
        ("verification_request", S.SUBMITTED, "caseworker_a"),
        ("verification_request", S.UNDER_VERIFICATION, "caseworker_a"),
        ("verification_outcome_record", S.ACCEPTED, "caseworker_a"),
        ("verification_outcome_record", S.FEEDBACK, "caseworker_a"),
        ("feedback_objection_record", S.HOME_VISIT, "caseworker_a"),
        ("feedback_close", S.PUBLIC_NOTICE, "caseworker_a"),
        ("home_visit_record", S.UNDER_VERIFICATION, "caseworker_a"),
        ("home_visit_record", S.DEMOCRATIC_REVIEW, "caseworker_a"),
        ("democratic_review_record", S.HOME_VISIT, "caseworker_a"),
        ("notice_post", S.AWAITING_DECISION, "caseworker_a"),
        ("notice_close", S.HOME_VISIT, "caseworker_a"),
        ("application_approve", S.PUBLIC_NOTICE, "approver_a"),
        ("application_approve", S.APPROVED, "approver_a"),
        ("application_approve", S.REJECTED, "approver_a"),
        ("application_reject", S.DRAFT, "approver_a"),
        ("application_reject", S.APPROVED, "approver_a"),
        ("application_withdraw", S.APPROVED, "caseworker_a"),
        ("application_withdraw", S.REJECTED, "caseworker_a"),
        ("application_withdraw", S.WITHDRAWN, "caseworker_a"),
        ("county_check_record", S.APPROVED, "auditor"),
    ],
)
def test_a_wrong_state_is_a_conflict(case, people, call, state, actor):
    c = case()
    c.to(state)
    events = c.app().events.count()
    with pytest.raises(Conflict):
        CALLS[call](c, getattr(people, actor))
    _unchanged(c, state, events)


def test_a_decided_application_says_so(case, people):
    c = case()
    c.to(S.APPROVED)
    with pytest.raises(Conflict, match="already decided or closed"):
        casework_services.application_reject(
            actor=people.approver_a, application_id=c.id, reasons=REASONS
        )


def test_the_time_limit_is_extended_once(case, people):
    c = case()
    c.to(S.ACCEPTED)
    casework_services.application_extend(
        actor=c.cw, application_id=c.id, reason="申请人长期在外务工"
    )
    with pytest.raises(Conflict, match="already extended"):
        casework_services.application_extend(actor=c.cw, application_id=c.id, reason="再次延长")


def test_a_second_notice_is_a_conflict(case):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    c.post_notice(ended=False)
    with pytest.raises(Conflict):
        c.post_notice(ended=False)
    assert PublicNotice.objects.filter(application_id=c.id).count() == 1


def test_a_handled_objection_cannot_be_handled_again(case):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    notice = c.post_notice()
    objection = casework_services.notice_objection_record(
        actor=c.cw, notice=notice, objector="村民甲", content="其子务工收入高", raised_on=today()
    )
    casework_services.notice_objection_handle(
        actor=c.cw, objection=objection, handling="已核实，收入属实"
    )
    with pytest.raises(Conflict):
        casework_services.notice_objection_handle(
            actor=c.cw, objection=objection, handling="再次处理"
        )


# --- missing reasons and fields: the error names the field ---------------------------


def _field_error(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert not isinstance(caught.value, Conflict)
    return caught.value


@pytest.mark.parametrize(
    ("state", "field", "call"),
    [
        (S.ACCEPTED, "reason", lambda c: casework_services.application_extend(
            actor=c.cw, application_id=c.id, reason="  ")),
        (S.UNDER_VERIFICATION, "outcome", lambda c: casework_services.verification_outcome_record(
            actor=c.cw, application_id=c.id, outcome="maybe", reason="x")),
        (S.UNDER_VERIFICATION, "reason", lambda c: casework_services.verification_outcome_record(
            actor=c.cw, application_id=c.id, outcome="consistent", reason=" ")),
        (S.UNDER_VERIFICATION, "gap_items", lambda c: casework_services.verification_outcome_record(
            actor=c.cw, application_id=c.id, outcome="gap", reason="x", gap_items=[])),
        (S.FEEDBACK, "text", lambda c: casework_services.feedback_objection_record(
            actor=c.cw, application_id=c.id, text=" ", has_evidence=True)),
        (S.HOME_VISIT, "investigators", lambda c: c.home_visit(investigators=[c.cw, c.cw])),
        (S.HOME_VISIT, "findings", lambda c: c.home_visit(findings=" ")),
        (S.HOME_VISIT, "family_member_present", lambda c: c.home_visit(family_member_present="")),
        (S.HOME_VISIT, "visited_on", lambda c: c.home_visit(
            visited_on=today() + datetime.timedelta(days=1))),
        (S.HOME_VISIT, "investigators_signature", lambda c: c.home_visit(family_signature=None)),
        (S.DEMOCRATIC_REVIEW, "opinion", lambda c: casework_services.democratic_review_record(
            actor=c.cw, application_id=c.id, held_on=today(), participants=5, opinion=" ")),
        (S.DEMOCRATIC_REVIEW, "participants", lambda c: casework_services.democratic_review_record(
            actor=c.cw, application_id=c.id, held_on=today(), participants=2, opinion="同意")),
        (S.PUBLIC_NOTICE, "place", lambda c: casework_services.notice_post(
            actor=c.cw, application_id=c.id, starts_on=today(), place=" ")),
        (S.AWAITING_DECISION, "findings", lambda c: casework_services.county_check_record(
            actor=c.people.auditor, application_id=c.id, done_on=today(), findings=" ")),
        (S.AWAITING_DECISION, "reasons", lambda c: casework_services.application_reject(
            actor=c.people.approver_a, application_id=c.id, reasons="不符合")),
        (S.AWAITING_DECISION, "start_month", lambda c: casework_services.application_approve(
            actor=c.people.approver_a, application_id=c.id,
            start_month=today().replace(day=1) - datetime.timedelta(days=1))),
        (S.DRAFT, "reason", lambda c: casework_services.application_withdraw(
            actor=c.cw, application_id=c.id, reason="")),
    ],
)  # fmt: skip
def test_a_transition_without_its_reasons_names_the_field(case, state, field, call):
    c = case()
    c.to(state)
    events = c.app().events.count()
    assert _field_error(lambda: call(c)).field == field
    _unchanged(c, state, events)


def test_a_county_asking_three_investigators_refuses_two_from_its_date(
    case, people, places, policy
):
    three = Policy.objects.create(
        county=places.county,
        effective_from=today() - datetime.timedelta(days=5),
        dibao_standard_urban=policy.dibao_standard_urban,
        dibao_standard_rural=policy.dibao_standard_rural,
        home_visit_investigators=3,
    )
    earlier, now = case(), case()
    earlier.to(S.HOME_VISIT)
    now.to(S.HOME_VISIT)
    # A visit made the day before the county's row: two were enough then.
    earlier.home_visit(visited_on=three.effective_from - datetime.timedelta(days=1))
    assert earlier.app().state == S.DEMOCRATIC_REVIEW
    events = now.app().events.count()
    error = _field_error(lambda: now.home_visit())
    assert (error.field, error.message) == (
        "investigators",
        "A home visit needs at least 3 investigators.",
    )
    _unchanged(now, S.HOME_VISIT, events)
    now.home_visit(investigators=[now.cw, people.assistant_a, people.approver_a])
    assert now.app().state == S.DEMOCRATIC_REVIEW


def test_notice_objection_needs_who_and_what(case):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    notice = c.post_notice()
    error = _field_error(
        lambda: casework_services.notice_objection_record(
            actor=c.cw, notice=notice, objector="村民甲", content=" ", raised_on=today()
        )
    )
    assert error.field == "content"
    objection = casework_services.notice_objection_record(
        actor=c.cw, notice=notice, objector="村民甲", content="家有轿车", raised_on=today()
    )
    error = _field_error(
        lambda: casework_services.notice_objection_handle(
            actor=c.cw, objection=objection, handling=""
        )
    )
    assert error.field == "handling"


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("address", lambda f, p, pl: intake_services.household_create(
            actor=p.caseworker_a, village=pl.village_a, address="  ")),
        ("village", lambda f, p, pl: intake_services.household_create(
            actor=p.caseworker_a, village=pl.township_a, address="吉强镇1号")),
        ("identity_number", lambda f, p, pl: intake_services.member_add(
            actor=p.caseworker_a, household=f.application.household,
            identity_number="642222197001010012", name="马三", relation="child")),
        ("identity_number", lambda f, p, pl: intake_services.member_add(
            actor=p.caseworker_a, household=f.application.household,
            identity_number=identity("642222", "20990101", 11), name="马三", relation="child")),
        ("name", lambda f, p, pl: intake_services.member_add(
            actor=p.caseworker_a, household=f.application.household,
            identity_number=identity("642222", "19950101", 31), name=" ", relation="child")),
        ("disability_grade", lambda f, p, pl: intake_services.member_add(
            actor=p.caseworker_a, household=f.application.household,
            identity_number=identity("642222", "19950101", 31), name="马三", relation="child",
            disability="physical")),
        ("relation", lambda f, p, pl: intake_services.member_add(
            actor=p.caseworker_a, household=f.application.household,
            identity_number=identity("642222", "19950101", 31), name="马三", relation="self")),
        ("source", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="lottery", monthly_average="10")),
        ("monthly_average", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages")),
        ("monthly_average", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages", monthly_average="10",
            monthly_amounts=["10"] * 12)),
        ("monthly_amounts", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages",
            monthly_amounts=["10"] * 11)),
        ("monthly_average", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages", monthly_average="-1")),
        ("monthly_average", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages", monthly_average="abc")),
        ("monthly_average", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages", monthly_average="NaN")),
        ("monthly_average", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages",
            monthly_average="5000000")),
        ("job_costs", lambda f, p, pl: intake_services.income_add(
            actor=p.caseworker_a, member=f.applicant, source="wages", monthly_average="10",
            job_costs="-5")),
        ("kind", lambda f, p, pl: intake_services.asset_add(
            actor=p.caseworker_a, household=f.application.household, kind="gold",
            description="金条", value="100")),
        ("description", lambda f, p, pl: intake_services.asset_add(
            actor=p.caseworker_a, household=f.application.household, kind="deposit",
            description=" ", value="100")),
        ("value", lambda f, p, pl: intake_services.asset_add(
            actor=p.caseworker_a, household=f.application.household, kind="deposit",
            description="农村信用社存款", value="-1")),
        ("value", lambda f, p, pl: intake_services.asset_add(
            actor=p.caseworker_a, household=f.application.household, kind="deposit",
            description="农村信用社存款", value=None)),
        ("kind", lambda f, p, pl: intake_services.expenditure_add(
            actor=p.caseworker_a, household=f.application.household, kind="travel",
            monthly_amount="100")),
        ("monthly_amount", lambda f, p, pl: intake_services.expenditure_add(
            actor=p.caseworker_a, household=f.application.household, kind="medical",
            monthly_amount="-100")),
        ("signed_on", lambda f, p, pl: intake_services.authorisation_record(
            actor=p.caseworker_a, member=f.spouse,
            signed_on=today() + datetime.timedelta(days=1))),
        ("assistance_type", lambda f, p, pl: intake_services.application_create(
            actor=p.caseworker_a, household=f.application.household, assistance_type="lottery")),
        ("assistance_type", lambda f, p, pl: intake_services.application_create(
            actor=p.caseworker_a, household=f.application.household,
            assistance_type="dibao_rural")),
        ("signed_on", lambda f, p, pl: intake_services.declaration_commit(
            actor=p.caseworker_a, application=f.application,
            signed_on=today() + datetime.timedelta(days=1), informed_on=today())),
        ("position", lambda f, p, pl: intake_services.near_relative_file(
            actor=p.caseworker_a, application=f.application, member=f.applicant,
            official_name="马主任", position="mayor", kinship="兄弟")),
        ("official_name", lambda f, p, pl: intake_services.near_relative_file(
            actor=p.caseworker_a, application=f.application, member=f.applicant,
            official_name=" ", position="village_committee", kinship="兄弟")),
        ("county", lambda f, p, pl: case_policy.policy_create(
            actor=p.feedadmin, county=pl.township_a, effective_from=datetime.date(2027, 1, 1),
            dibao_standard_urban=Decimal("900"), dibao_standard_rural=Decimal("700"))),
        ("dibao_standard_rural", lambda f, p, pl: case_policy.policy_create(
            actor=p.feedadmin, county=pl.county, effective_from=datetime.date(2027, 1, 1),
            dibao_standard_urban=Decimal("900"), dibao_standard_rural=Decimal("0"))),
        ("home_visit_investigators", lambda f, p, pl: case_policy.policy_create(
            actor=p.feedadmin, county=pl.county, effective_from=datetime.date(2027, 1, 1),
            dibao_standard_urban=Decimal("900"), dibao_standard_rural=Decimal("700"),
            home_visit_investigators=1)),
        ("credit_block_months_severe", lambda f, p, pl: case_policy.policy_create(
            actor=p.feedadmin, county=pl.county, effective_from=datetime.date(2027, 1, 1),
            dibao_standard_urban=Decimal("900"), dibao_standard_rural=Decimal("700"),
            credit_block_months_moderate=8, credit_block_months_severe=6)),
    ],
)  # fmt: skip
def test_a_declaration_without_its_fields_names_the_field(make_family, people, places, field, call):
    family = make_family()
    assert _field_error(lambda: call(family, people, places)).field == field


@pytest.mark.parametrize("value", ["abc", "NaN"])
def test_an_asset_value_that_is_not_a_number_names_the_field(make_family, people, value):
    family = make_family()
    error = _field_error(
        lambda: intake_services.asset_add(
            actor=people.caseworker_a,
            household=family.application.household,
            kind="deposit",
            description="存款",
            value=value,
        )
    )
    assert error.field == "value"


def test_the_second_applicant_and_the_same_person_twice_are_refused(make_family, people):
    family = make_family()
    household = family.application.household
    number = family.spouse.person.identity_number
    with pytest.raises(DomainError, match="already in this household") as caught:
        intake_services.member_add(
            actor=people.caseworker_a,
            household=household,
            identity_number=number,
            name="李1",
            relation="sibling",
        )
    assert caught.value.field == "identity_number"


def test_a_member_of_another_household_cannot_be_filed(make_family, people):
    first, second = make_family(), make_family()
    error = _field_error(
        lambda: intake_services.near_relative_file(
            actor=people.caseworker_a,
            application=first.application,
            member=second.applicant,
            official_name="马主任",
            position="village_committee",
            kinship="兄弟",
        )
    )
    assert error.field == "member"


def test_a_non_committable_proof_cannot_be_promised(make_family, people, proof_items):
    family = make_family(complete=False)
    error = _field_error(
        lambda: intake_services.proof_record(
            actor=people.caseworker_a,
            application=family.application,
            item=proof_items[0],
            status="committed",
        )
    )
    assert error.field == "status"


def test_the_declaration_is_frozen_once_accepted(case, people):
    c = case()
    c.to(S.ACCEPTED)
    f = c.family
    cw = people.caseworker_a
    frozen = [
        lambda: intake_services.member_add(
            actor=cw,
            household=f.application.household,
            identity_number=identity("642222", "19950101", 31),
            name="马三",
            relation="child",
        ),
        lambda: intake_services.member_remove(actor=cw, member=f.spouse),
        lambda: intake_services.income_add(
            actor=cw, member=f.applicant, source="wages", monthly_average=1
        ),
        lambda: intake_services.asset_add(
            actor=cw, household=f.application.household, kind="deposit", description="存款", value=1
        ),
        lambda: intake_services.expenditure_add(
            actor=cw, household=f.application.household, kind="medical", monthly_amount=1
        ),
        lambda: intake_services.declaration_row_remove(actor=cw, row=f.applicant.incomes.first()),
        lambda: intake_services.declaration_commit(
            actor=cw, application=f.application, signed_on=today(), informed_on=today()
        ),
        lambda: intake_services.proof_record(
            actor=cw,
            application=c.app(),  # proof_record trusts the state of the object it is given
            item=c.family.application.proofs.first().item,
            status="provided",
        ),
    ]
    for call in frozen:
        with pytest.raises(DomainError):
            call()
    assert f.application.household.members.count() == 2
    assert f.applicant.incomes.count() == 1


def test_submitting_without_an_applicant_is_refused(people, places, policy):
    household = intake_services.household_create(
        actor=people.caseworker_a, village=places.village_a, address="龙王坝村9号"
    )
    intake_services.member_add(
        actor=people.caseworker_a,
        household=household,
        identity_number=identity("642222", "19700101", 501),
        name="马五",
        relation="spouse",
    )
    app = intake_services.application_create(
        actor=people.caseworker_a, household=household, assistance_type="dibao_rural"
    )
    with pytest.raises(DomainError, match="applicant"):
        intake_services.application_submit(actor=people.caseworker_a, application_id=app.pk)
    assert Application.objects.get(pk=app.pk).state == S.DRAFT


def test_an_unsigned_supporter_returns_the_application(case, people):
    c = case()
    intake_services.member_add(
        actor=c.cw,
        household=c.family.application.household,
        identity_number=identity("642222", "19450303", 41),
        name="马老汉",
        relation="parent",
        is_supporter=True,
    )
    # A supporter is verified too, so their authorisation is asked for.
    c.accept()
    assert c.app().state == S.RETURNED
    assert any("马老汉" in m for m in c.app().missing_items)


@pytest.mark.parametrize(
    ("call", "who"),
    [
        (lambda p, pl, f: intake_services.household_create(
            actor=p.approver_a, village=pl.village_a, address="龙王坝村1号"), "approver_a"),
        (lambda p, pl, f: intake_services.household_create(
            actor=p.caseworker_b, village=pl.village_a, address="龙王坝村1号"), "caseworker_b"),
        (lambda p, pl, f: intake_services.household_create(
            actor=p.assistant_a, village=pl.village_b, address="单家集村1号"), "assistant_a"),
        (lambda p, pl, f: intake_services.member_add(
            actor=p.caseworker_b, household=f.application.household,
            identity_number=identity("642222", "19950101", 31), name="马三",
            relation="child"), "caseworker_b"),
        (lambda p, pl, f: intake_services.income_add(
            actor=p.auditor, member=f.applicant, source="wages", monthly_average=1), "auditor"),
        (lambda p, pl, f: intake_services.application_create(
            actor=p.approver_a, household=f.application.household,
            assistance_type="temporary_emergency"), "approver_a"),
        (lambda p, pl, f: intake_services.authorisation_record(
            actor=p.verifier, member=f.spouse, signed_on=today()), "verifier"),
        (lambda p, pl, f: intake_services.near_relative_file(
            actor=p.caseworker_b, application=f.application, member=f.applicant,
            official_name="马主任", position="village_committee", kinship="兄弟"), "caseworker_b"),
        (lambda p, pl, f: case_policy.policy_create(
            actor=p.caseworker_a, county=pl.county, effective_from=datetime.date(2027, 1, 1),
            dibao_standard_urban=Decimal("900"), dibao_standard_rural=Decimal("700")),
         "caseworker_a"),
        (lambda p, pl, f: documents.document_upload(
            actor=p.auditor, household=f.application.household, kind="other",
            upload=scan()), "auditor"),
        (lambda p, pl, f: documents.document_upload(
            actor=p.caseworker_b, household=f.application.household, kind="other",
            upload=scan()), "caseworker_b"),
    ],
)  # fmt: skip
def test_intake_services_refuse_the_wrong_role_or_place(make_family, people, places, call, who):
    family = make_family()
    with pytest.raises(PermissionDenied):
        call(people, places, family)


# --- races -----------------------------------------------------------------------------


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and DB connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            with translation.override("en"):
                barrier.wait(timeout=10)
                results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_one_wins_the_other_is_told(case, people, places):
    c = case()
    c.to(S.AWAITING_DECISION)
    make_user("approver_a2", Role.TOWNSHIP_APPROVER, places.township_a)
    ids = [people.approver_a.pk, User.objects.get(username="approver_a2").pk]

    def approve(user_id):
        return lambda: casework_services.application_approve(
            actor=User.objects.get(pk=user_id), application_id=c.id
        )

    results = _race(approve(ids[0]), approve(ids[1]))
    won = [r for r in results if isinstance(r, Application)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict)
    assert "already decided" in lost[0].message
    app = c.app()
    assert app.state == S.APPROVED
    assert app.decided_by_id == won[0].decided_by_id
    assert ApplicationEvent.objects.filter(application=app, action="approve").count() == 1
    audits = AuditEvent.objects.filter(action="application.approve", object_id=str(app.pk))
    assert audits.count() == 1


def _household(actor, village, address) -> Household:
    return intake_services.household_create(actor=actor, village=village, address=address)


@pytest.mark.django_db(transaction=True)
def test_two_townships_adding_the_same_person_at_once(people, places, policy):
    house_a = _household(people.caseworker_a, places.village_a, "龙王坝村20号")
    house_b = _household(people.caseworker_b, places.village_b, "单家集村20号")
    number = identity("642222", "19800808", 77)

    def add(user, household):
        return lambda: intake_services.member_add(
            actor=User.objects.get(pk=user.pk),
            household=household,
            identity_number=number,
            name="马小军",
            relation="self",
        )

    results = _race(add(people.caseworker_a, house_a), add(people.caseworker_b, house_b))
    won = [r for r in results if isinstance(r, Member)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    error = lost[0]
    assert type(error) is DomainError and error.field == "identity_number"
    winner_house = won[0].household
    winner_village = Region.objects.get(pk=winner_house.village_id)
    winner_township = Region.objects.get(code=winner_village.code[:9] + "000")
    # Neither caseworker may see the other township: its name and nothing more.
    assert winner_township.name in error.message
    assert winner_village.name not in error.message
    assert f"#{winner_house.pk}" not in error.message
    assert Member.objects.filter(person__identity_hash=won[0].person.identity_hash).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_caseworkers_of_one_township_adding_the_same_person_at_once(people, places, policy):
    make_user("caseworker_a2", Role.TOWNSHIP_CASEWORKER, places.township_a)
    second = User.objects.get(username="caseworker_a2")
    yanghe = Region.objects.get(code="640422100202")  # 杨河村, also in 吉强镇
    house_1 = _household(people.caseworker_a, places.village_a, "龙王坝村21号")
    house_2 = _household(second, yanghe, "杨河村21号")
    number = identity("642222", "19800808", 79)

    def add(user, household):
        return lambda: intake_services.member_add(
            actor=User.objects.get(pk=user.pk),
            household=household,
            identity_number=number,
            name="马小军",
            relation="self",
        )

    results = _race(add(people.caseworker_a, house_1), add(second, house_2))
    won = [r for r in results if isinstance(r, Member)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    error = lost[0]
    assert type(error) is DomainError and error.field == "identity_number"
    winner_house = won[0].household
    village = Region.objects.get(pk=winner_house.village_id)
    assert village.name in error.message and f"#{winner_house.pk}" in error.message


def test_the_error_for_a_person_in_another_township_names_only_the_township(
    make_family, people, places
):
    family = make_family()
    house_b = _household(people.caseworker_b, places.village_b, "单家集村3号")
    with pytest.raises(DomainError) as caught:
        intake_services.member_add(
            actor=people.caseworker_b,
            household=house_b,
            identity_number=family.applicant.person.identity_number,
            name="马1",
            relation="self",
        )
    assert "吉强镇" in caught.value.message
    assert "龙王坝村" not in caught.value.message
    assert str(family.application.household_id) not in caught.value.message


# --- one household per person, until the first application closes -------------------


@pytest.mark.parametrize("closing", [S.WITHDRAWN, S.REJECTED])
def test_a_person_is_free_again_once_the_application_is_closed(case, people, places, closing):
    c = case()
    number = c.family.applicant.person.identity_number
    house_b = _household(people.caseworker_b, places.village_b, "单家集村5号")

    def add():
        return intake_services.member_add(
            actor=people.caseworker_b,
            household=house_b,
            identity_number=number,
            name="马1",
            relation="self",
        )

    with pytest.raises(DomainError):
        add()
    c.to(closing)
    assert not Member.objects.filter(household=c.family.application.household, active=True).exists()
    member = add()
    assert member.active and member.person_id == c.family.applicant.person_id
    # And the first household cannot reopen with someone who has moved on.
    with pytest.raises(DomainError, match="兴隆镇"):
        intake_services.application_create(
            actor=people.caseworker_a,
            household=c.family.application.household,
            assistance_type="dibao_rural",
        )


def test_an_approved_household_keeps_its_members(case, people, places):
    c = case()
    c.to(S.APPROVED)
    house_b = _household(people.caseworker_b, places.village_b, "单家集村6号")
    with pytest.raises(DomainError):
        intake_services.member_add(
            actor=people.caseworker_b,
            household=house_b,
            identity_number=c.family.applicant.person.identity_number,
            name="马1",
            relation="self",
        )


def test_a_supporter_may_be_declared_in_several_households(make_family, people, places):
    family = make_family()
    house_b = _household(people.caseworker_b, places.village_b, "单家集村7号")
    supporter = intake_services.member_add(
        actor=people.caseworker_b,
        household=house_b,
        identity_number=family.applicant.person.identity_number,
        name="马1",
        relation="child",
        is_supporter=True,
    )
    assert supporter.person_id == family.applicant.person_id


# --- the amount ------------------------------------------------------------------------


def test_a_policy_not_yet_in_force_is_not_used(make_family, places):
    family = make_family(income="300")
    Policy.objects.create(
        county=places.county,
        effective_from=today() + datetime.timedelta(days=1),
        dibao_standard_urban=Decimal("2000"),
        dibao_standard_rural=Decimal("2000"),
    )
    basis = eligibility.amount_compute(application=family.application)
    assert basis.standard == Decimal("600")
    assert basis.policy_from == datetime.date(2026, 1, 1)
    assert basis.monthly_amount == Decimal("900.00")  # (600 - 150) x 2
    # On the day it takes effect, it is.
    later = eligibility.amount_compute(
        application=family.application, on=today() + datetime.timedelta(days=1)
    )
    assert later.standard == Decimal("2000")


def test_of_two_policies_in_force_the_newer_is_used(make_family, places):
    family = make_family(income="300")
    Policy.objects.create(
        county=places.county,
        effective_from=today() - datetime.timedelta(days=10),
        dibao_standard_urban=Decimal("850"),
        dibao_standard_rural=Decimal("650"),
    )
    basis = eligibility.amount_compute(application=family.application)
    assert basis.standard == Decimal("650")
    assert basis.monthly_amount == Decimal("1000.00")  # (650 - 150) x 2
    old = eligibility.amount_compute(application=family.application, on=datetime.date(2026, 2, 1))
    assert old.standard == Decimal("600")


def test_no_policy_in_force_is_a_clear_error(make_family):
    family = make_family()
    with pytest.raises(DomainError, match="no assistance policy"):
        eligibility.amount_compute(application=family.application, on=datetime.date(2025, 12, 31))


def test_excluded_income_is_not_counted_and_rigid_expenditure_is_deducted(make_family, people):
    family = make_family(income="300")
    cw = people.caseworker_a
    household = family.application.household
    intake_services.income_add(
        actor=cw, member=family.spouse, source="scholarship", monthly_average=500
    )
    intake_services.income_add(
        actor=cw, member=family.spouse, source="basic_pension", monthly_average=150
    )
    intake_services.income_add(
        actor=cw, member=family.spouse, source="pension", monthly_average=400
    )
    intake_services.income_add(
        actor=cw, member=family.applicant, source="business", monthly_average=500, job_costs=100
    )
    # 300 wages + 400 pension + (500 - 100) business = 1100 counted
    basis = eligibility.amount_compute(application=family.application)
    assert basis.monthly_income == Decimal("1100.00")
    assert basis.per_capita_income == Decimal("550.00")
    assert basis.monthly_amount == Decimal("100.00")  # (600 - 550) x 2
    intake_services.expenditure_add(
        actor=cw, household=household, kind="medical", monthly_amount=300, member=family.spouse
    )
    basis = eligibility.amount_compute(application=family.application)
    assert basis.monthly_rigid_expenditure == Decimal("300.00")
    assert basis.per_capita_income == Decimal("400.00")  # (1100 - 300) / 2
    assert basis.monthly_amount == Decimal("400.00")  # (600 - 400) x 2


def test_rigid_expenditure_above_income_leaves_zero_not_a_negative(make_family, people):
    family = make_family(income="300")
    intake_services.expenditure_add(
        actor=people.caseworker_a,
        household=family.application.household,
        kind="disability_care",
        monthly_amount=900,
    )
    basis = eligibility.amount_compute(application=family.application)
    assert basis.per_capita_income == Decimal("0.00")
    assert basis.monthly_amount == Decimal("1200.00")


def test_twelve_monthly_figures_against_a_monthly_average(make_family, people):
    family = make_family(income="0")
    seasonal = ["0"] * 6 + ["1200"] * 6  # six months of seasonal work: 600 a month on average
    intake_services.income_add(
        actor=people.caseworker_a, member=family.spouse, source="wages", monthly_amounts=seasonal
    )
    basis = eligibility.amount_compute(application=family.application)
    assert basis.monthly_income == Decimal("600.00")
    assert basis.per_capita_income == Decimal("300.00")
    assert basis.monthly_amount == Decimal("600.00")  # (600 - 300) x 2


def test_a_supporter_is_neither_counted_nor_their_income(make_family, people):
    family = make_family(income="300")
    supporter = intake_services.member_add(
        actor=people.caseworker_a,
        household=family.application.household,
        identity_number=identity("642222", "19920606", 51),
        name="马大",
        relation="child",
        is_supporter=True,
    )
    intake_services.income_add(
        actor=people.caseworker_a, member=supporter, source="wages", monthly_average=6000
    )
    basis = eligibility.amount_compute(application=family.application)
    assert basis.members == 2 and basis.monthly_income == Decimal("300.00")


@pytest.mark.parametrize(
    ("kind", "standard", "threshold", "amount", "eligible"),
    [
        # income 300 for two people: 150 per head; urban 800, rural 600 (the fixture).
        ("dibao_urban", "800", "800", "1300.00", True),  # (800 - 150) x 2
        ("dibao_rural", "600", "600", "900.00", True),  # (600 - 150) x 2
        ("low_income_edge", "600", "900.00", "0.00", True),  # recognition only, 1.5 x 600
        ("extreme_poverty", "600", "600", "1560.00", True),  # 600 x 1.3 x 2
        ("temporary_emergency", "600", "600", "3600.00", True),  # 600 x 3 months x 2
        ("temporary_expenditure", "600", "600", "3600.00", True),
    ],
)
def test_amount_for_each_kind_of_assistance(
    make_family, kind, standard, threshold, amount, eligible
):
    family = make_family(income="300", kind=kind)
    basis = eligibility.amount_compute(application=family.application)
    assert basis.standard == Decimal(standard)
    assert basis.threshold == Decimal(threshold)
    assert basis.monthly_amount == Decimal(amount)
    assert basis.eligible is eligible


def test_a_low_income_edge_household_between_the_standard_and_the_multiple(make_family):
    family = make_family(income="1500", kind="low_income_edge")  # 750 per head
    basis = eligibility.amount_compute(application=family.application)
    assert basis.eligible and basis.threshold == Decimal("900.00")
    family = make_family(income="1800", kind="low_income_edge")  # 900 per head: not below
    assert not eligibility.amount_compute(application=family.application).eligible


def test_dibao_above_the_standard_is_not_eligible_and_cannot_be_approved(case, people):
    c = case(income="1500")  # 750 per head against 600
    basis = eligibility.amount_compute(application=c.family.application)
    assert not basis.eligible and basis.monthly_amount == Decimal("0.00")
    c.to(S.AWAITING_DECISION)
    events = c.app().events.count()
    with pytest.raises(DomainError, match="does not qualify"):
        casework_services.application_approve(actor=people.approver_a, application_id=c.id)
    _unchanged(c, S.AWAITING_DECISION, events)
    assert c.app().monthly_amount is None
    # The way out is a rejection with reasons.
    app = casework_services.application_reject(
        actor=people.approver_a, application_id=c.id, reasons=REASONS
    )
    assert app.state == S.REJECTED and app.rejection_reasons == REASONS


def test_per_capita_exactly_at_the_standard_does_not_qualify(make_family):
    family = make_family(income="1200")  # 600 per head, standard 600
    basis = eligibility.amount_compute(application=family.application)
    assert basis.per_capita_income == Decimal("600.00") and not basis.eligible


def test_approval_keeps_the_basis_it_was_computed_with(case, people, places):
    c = case(income="300")
    app = c.to(S.APPROVED)
    assert app.amount_basis["standard"] == "600.00"
    assert app.amount_basis["policy_from"] == "2026-01-01"
    Policy.objects.create(
        county=places.county,
        effective_from=today(),
        dibao_standard_urban=Decimal("900"),
        dibao_standard_rural=Decimal("700"),
    )
    app.refresh_from_db()
    assert app.monthly_amount == Decimal("900.00")


# --- near-relative filings -------------------------------------------------------------


def _filed(c: Case):
    return intake_services.near_relative_file(
        actor=c.cw,
        application=c.family.application,
        member=c.family.applicant,
        official_name="马建军",
        position="village_committee",
        kinship="兄弟",
    )


def test_a_near_relative_case_goes_the_normal_path_and_waits_for_the_county(case, people):
    c = case()
    _filed(c)
    app = c.consistent()
    assert (app.state, app.path) == (S.HOME_VISIT, Application.Path.NORMAL)
    assert c.app().events.filter(action="verification_consistent").get().data == {
        "near_relative": True
    }
    assert c.home_visit().state == S.PUBLIC_NOTICE  # nobody objected: no review
    c.post_notice()
    casework_services.notice_close(actor=c.cw, application_id=c.id)
    for decide in (
        lambda: casework_services.application_approve(actor=people.approver_a, application_id=c.id),
        lambda: casework_services.application_reject(
            actor=people.approver_a, application_id=c.id, reasons=REASONS
        ),
    ):
        with pytest.raises(DomainError, match="county's key check"):
            decide()
    assert c.app().state == S.AWAITING_DECISION
    with pytest.raises(PermissionDenied):
        casework_services.county_check_record(
            actor=people.caseworker_a, application_id=c.id, done_on=today(), findings="属实"
        )
    with pytest.raises(DomainError, match="No such application"):
        casework_services.county_check_record(
            actor=people.outsider_auditor, application_id=c.id, done_on=today(), findings="属实"
        )
    app = casework_services.county_check_record(
        actor=people.auditor, application_id=c.id, done_on=today(), findings="入户核查，情况属实"
    )
    assert app.county_check_done_on == today() and app.state == S.AWAITING_DECISION
    event = app.events.get(action="county_check")
    assert (event.from_state, event.to_state, event.actor_id) == (
        S.AWAITING_DECISION,
        S.AWAITING_DECISION,
        people.auditor.pk,
    )
    assert casework_services.application_approve(
        actor=people.approver_a, application_id=c.id
    ).state == (S.APPROVED)


def test_the_county_check_is_only_for_near_relative_filings(case, people):
    c = case()
    c.to(S.AWAITING_DECISION)
    with pytest.raises(DomainError, match="Only near-relative"):
        casework_services.county_check_record(
            actor=people.auditor, application_id=c.id, done_on=today(), findings="属实"
        )
    assert c.app().county_check_done_on is None


def test_the_county_decides_where_the_policy_says_so(case, people, policy):
    Policy.objects.filter(pk=policy.pk).update(deciding_level=Policy.DecidingLevel.COUNTY)
    c = case()
    c.to(S.AWAITING_DECISION)
    with pytest.raises(PermissionDenied):
        casework_services.application_approve(actor=people.approver_a, application_id=c.id)
    app = casework_services.application_approve(actor=people.auditor, application_id=c.id)
    assert app.state == S.APPROVED and app.decided_by_id == people.auditor.pk


def test_with_no_policy_in_force_the_township_decides(case, people, policy):
    c = case()
    c.to(S.AWAITING_DECISION)
    # The county's only policy now starts next year: none is in force today.
    next_year = today() + datetime.timedelta(days=365)
    Policy.objects.filter(pk=policy.pk).update(effective_from=next_year)
    with pytest.raises(PermissionDenied):
        casework_services.application_reject(
            actor=people.auditor, application_id=c.id, reasons=REASONS
        )
    # Approving needs the policy's standard: refused with what to do about it.
    with pytest.raises(DomainError, match="no assistance policy"):
        casework_services.application_approve(actor=people.approver_a, application_id=c.id)
    app = casework_services.application_reject(
        actor=people.approver_a, application_id=c.id, reasons=REASONS
    )
    assert app.state == S.REJECTED and app.decided_by_id == people.approver_a.pk


# --- deadlines in Chinese working days -------------------------------------------------

# Accepted on Monday 2026-09-28. The State Council's 2026 schedule: Mid-Autumn 09-25..27
# off, National Day 10-01..10-07 off, Sunday 09-20 and Saturday 10-10 worked.
# Working days after 09-28: 09-29 (1), 09-30 (2), 10-08 (3), 10-09 (4), 10-10 Sat (5),
# 10-12..16 (6-10), 10-19..23 (11-15), 10-26..30 (16-20), 11-02..06 (21-25),
# 11-09..13 (26-30), 11-16..20 (31-35), 11-23..27 (36-40), 11-30..12-04 (41-45).
ACCEPTED_ON = datetime.date(2026, 9, 28)


def test_deadlines_where_the_township_decides(case, monkeypatch):
    c = case()
    c.submit()
    freeze(monkeypatch, ACCEPTED_ON)
    app = casework_services.application_accept(actor=c.cw, application_id=c.id)
    assert app.accepted_on == ACCEPTED_ON
    assert app.investigation_due_on == datetime.date(2026, 10, 8)
    assert app.due_on == datetime.date(2026, 10, 30)
    # Extending counts 45 working days from the same acceptance, whenever it is done.
    freeze(monkeypatch, datetime.date(2026, 10, 20))
    app = casework_services.application_extend(
        actor=c.cw, application_id=c.id, reason="申请人长期在外务工"
    )
    assert app.extended
    assert app.investigation_due_on == datetime.date(2026, 10, 8)
    assert app.due_on == datetime.date(2026, 12, 4)
    stored = c.app()
    assert (stored.due_on, stored.extended) == (datetime.date(2026, 12, 4), True)
    event = stored.events.get(action="extend")
    assert event.reason == "申请人长期在外务工" and event.from_state == event.to_state


def test_deadlines_where_the_county_decides(case, monkeypatch, policy):
    Policy.objects.filter(pk=policy.pk).update(deciding_level=Policy.DecidingLevel.COUNTY)
    c = case()
    c.submit()
    freeze(monkeypatch, ACCEPTED_ON)
    app = casework_services.application_accept(actor=c.cw, application_id=c.id)
    assert app.investigation_due_on == datetime.date(2026, 10, 8)
    assert app.due_on == datetime.date(2026, 11, 13)


def test_a_returned_application_has_no_deadline(case, people, monkeypatch):
    c = case(complete=False)
    c.submit()
    freeze(monkeypatch, ACCEPTED_ON)
    app = casework_services.application_accept(actor=c.cw, application_id=c.id)
    assert app.state == S.RETURNED
    assert (app.accepted_on, app.due_on, app.investigation_due_on) == (None, None, None)


def test_an_unknown_holiday_year_is_refused_not_guessed(case, monkeypatch):
    CalendarYear.objects.filter(year=2027).delete()
    c = case()
    c.submit()
    freeze(monkeypatch, datetime.date(2026, 12, 20))  # 20 working days run into 2027
    with pytest.raises(DomainError, match="2027"):
        casework_services.application_accept(actor=c.cw, application_id=c.id)
    assert c.app().state == S.SUBMITTED


# --- the family's objection window -----------------------------------------------------


def _gap_on(c: Case, monkeypatch, day: datetime.date) -> datetime.date:
    c.verify()
    freeze(monkeypatch, day)
    casework_services.verification_outcome_record(
        actor=c.cw,
        application_id=c.id,
        outcome="gap",
        reason="存款不一致",
        gap_items=[{"item": "存款", "declared": "0", "verified": "85000"}],
    )
    outcome = c.app().verification_outcomes.get()
    assert outcome.objection_deadline == day + datetime.timedelta(days=15)
    return outcome.objection_deadline


def test_an_objection_after_the_window_is_refused(case, monkeypatch):
    c = case()
    deadline = _gap_on(c, monkeypatch, datetime.date(2026, 11, 2))
    freeze(monkeypatch, deadline + datetime.timedelta(days=1))
    with pytest.raises(DomainError, match="objection window closed"):
        casework_services.feedback_objection_record(
            actor=c.cw, application_id=c.id, text="存款为借款", has_evidence=True
        )
    assert c.app().state == S.FEEDBACK
    assert not c.app().verification_outcomes.get().objection_text
    # After the window the office goes on with what it has.
    app = casework_services.feedback_close(actor=c.cw, application_id=c.id)
    assert app.state == S.HOME_VISIT
    assert c.home_visit().state == S.PUBLIC_NOTICE  # no objection: no review


def test_an_objection_on_the_last_day_is_taken(case, monkeypatch):
    c = case()
    deadline = _gap_on(c, monkeypatch, datetime.date(2026, 11, 2))
    freeze(monkeypatch, deadline)
    app = casework_services.feedback_objection_record(
        actor=c.cw, application_id=c.id, text="存款为借款，附借条", has_evidence=True
    )
    assert app.state == S.HOME_VISIT


def test_the_window_cannot_be_closed_early(case, monkeypatch):
    c = case()
    deadline = _gap_on(c, monkeypatch, datetime.date(2026, 11, 2))
    for day in (datetime.date(2026, 11, 2), deadline):
        freeze(monkeypatch, day)
        with pytest.raises(DomainError, match="open until"):
            casework_services.feedback_close(actor=c.cw, application_id=c.id)
    assert c.app().state == S.FEEDBACK


def test_an_objection_without_evidence_lets_the_window_close_early(case, monkeypatch):
    c = case()
    _gap_on(c, monkeypatch, datetime.date(2026, 11, 2))
    freeze(monkeypatch, datetime.date(2026, 11, 4))
    app = casework_services.feedback_objection_record(
        actor=c.cw, application_id=c.id, text="只是说说，没有材料", has_evidence=False
    )
    assert app.state == S.FEEDBACK
    assert app.events.filter(action="feedback_objection", to_state=S.FEEDBACK).exists()
    assert casework_services.feedback_close(actor=c.cw, application_id=c.id).state == S.HOME_VISIT
    assert c.home_visit().state == S.PUBLIC_NOTICE  # no evidence: no review


def test_the_system_closes_the_window_without_an_actor(case, monkeypatch):
    c = case()
    deadline = _gap_on(c, monkeypatch, datetime.date(2026, 11, 2))
    freeze(monkeypatch, deadline + datetime.timedelta(days=1))
    app = casework_services.feedback_close(actor=None, application_id=c.id)
    event = app.events.get(action="feedback_close")
    assert event.actor_id is None and event.to_state == S.HOME_VISIT


# --- public notice ---------------------------------------------------------------------


def test_the_notice_cannot_close_before_its_last_day_has_passed(case, monkeypatch):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    freeze(monkeypatch, datetime.date(2026, 11, 2))
    notice = c.post_notice(ended=False)
    assert notice.ends_on == datetime.date(2026, 11, 8)  # seven days, the first counted
    for day in (datetime.date(2026, 11, 2), datetime.date(2026, 11, 8)):
        freeze(monkeypatch, day)
        with pytest.raises(DomainError, match="runs until"):
            casework_services.notice_close(actor=c.cw, application_id=c.id)
    freeze(monkeypatch, datetime.date(2026, 11, 9))
    assert (
        casework_services.notice_close(actor=c.cw, application_id=c.id).state == S.AWAITING_DECISION
    )


def test_closing_without_a_notice_is_refused(case):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    with pytest.raises(DomainError, match="Post the public notice first"):
        casework_services.notice_close(actor=c.cw, application_id=c.id)


def test_an_objection_during_notice_sends_the_case_back_and_to_review(case, people):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    notice = c.post_notice()
    objection = casework_services.notice_objection_record(
        actor=people.assistant_a,
        notice=notice,
        objector="村民甲",
        content="其子在银川务工，月收入四千元",
        raised_on=today() - datetime.timedelta(days=3),
    )
    assert c.app().events.filter(action="notice_objection").exists()
    with pytest.raises(DomainError, match="Handle every objection"):
        casework_services.notice_close(actor=c.cw, application_id=c.id)
    assert c.app().state == S.PUBLIC_NOTICE
    casework_services.notice_objection_handle(
        actor=c.cw, objection=objection, handling="需重新入户调查"
    )
    assert NoticeObjection.objects.get(pk=objection.pk).handled_on == today()
    app = casework_services.notice_close(actor=c.cw, application_id=c.id, reinvestigate=True)
    assert (app.state, app.path) == (S.HOME_VISIT, Application.Path.NORMAL)
    assert PublicNotice.objects.get(pk=notice.pk).closed_at is not None
    app = c.home_visit(findings="其子已分户，不属共同生活成员")
    assert app.state == S.DEMOCRATIC_REVIEW
    app = casework_services.democratic_review_record(
        actor=c.cw, application_id=c.id, held_on=today(), participants=9, opinion="同意纳入"
    )
    assert app.state == S.PUBLIC_NOTICE
    # A fresh notice may be posted: the first one is closed.
    c.post_notice()
    assert (
        casework_services.notice_close(actor=c.cw, application_id=c.id).state == S.AWAITING_DECISION
    )


def test_an_objection_is_recorded_only_during_notice(case):
    c = case()
    c.to(S.PUBLIC_NOTICE)
    notice = c.post_notice()
    casework_services.notice_close(actor=c.cw, application_id=c.id)
    with pytest.raises(Conflict):
        casework_services.notice_objection_record(
            actor=c.cw, notice=notice, objector="村民乙", content="迟到的异议", raised_on=today()
        )


# --- payments --------------------------------------------------------------------------


def test_payments_start_when_the_month_comes_and_only_once(case, people, make_family):
    this_month = today().replace(day=1)
    now = case()
    now.to(S.AWAITING_DECISION)
    casework_services.application_approve(
        actor=people.approver_a, application_id=now.id, start_month=this_month
    )
    later = case()
    later_app = later.to(S.APPROVED)  # default: the month after the decision
    assert later_app.start_month > this_month
    assert casework_services.payments_start() == 1
    assert now.app().state == S.IN_PAYMENT
    assert later.app().state == S.APPROVED
    assert casework_services.payments_start() == 0  # twice is harmless
    assert now.app().events.filter(action="payment_start").count() == 1
    event = now.app().events.get(action="payment_start")
    assert (event.actor_id, event.from_state, event.to_state) == (None, S.APPROVED, S.IN_PAYMENT)
    assert casework_services.payments_start(today=later_app.start_month) == 1
    assert later.app().state == S.IN_PAYMENT
    assert casework_services.payments_start(today=later_app.start_month) == 0
    assert (
        AuditEvent.objects.filter(
            action="application.payment_start", object_id__in=[str(now.id), str(later.id)]
        ).count()
        == 2
    )


def test_an_in_payment_household_cannot_apply_again_for_the_same(case, people):
    c = case()
    c.to(S.AWAITING_DECISION)
    casework_services.application_approve(
        actor=people.approver_a, application_id=c.id, start_month=today().replace(day=1)
    )
    casework_services.payments_start()
    with pytest.raises(DomainError) as caught:
        intake_services.application_create(
            actor=c.cw, household=c.family.application.household, assistance_type="dibao_rural"
        )
    assert caught.value.field == "assistance_type"


# --- every transition leaves its event and its audit row -----------------------------


def _assert_trail(app: Application) -> list[str]:
    events = list(app.events.order_by("at", "id"))
    previous = ""
    for event in events:
        assert event.from_state == previous, (event.action, event.from_state, previous)
        previous = event.to_state
    assert previous == Application.objects.get(pk=app.pk).state
    audits = list(
        AuditEvent.objects.filter(object_type="cases.application", object_id=str(app.pk))
        .filter(action__startswith="application.")
        .order_by("at", "id")
    )
    moved = [e for e in events if e.action != "create"]
    by_action: dict[str, list[AuditEvent]] = {}
    for audit in audits:
        by_action.setdefault(audit.action, []).append(audit)
    for event in moved:
        audit = by_action[f"application.{event.action}"].pop(0)
        assert audit.actor_id == event.actor_id
        if event.from_state != event.to_state or event.action in {"extend", "county_check"}:
            assert audit.old_values == {"state": event.from_state}
            assert audit.new_values["state"] == event.to_state
    assert "application.create" in by_action
    return [e.action for e in events]


def test_the_long_path_leaves_an_event_and_an_audit_row_per_step(case, people):
    c = case(income="300")
    c.to(S.HOME_VISIT)  # gap, objection with evidence
    casework_services.application_extend(
        actor=c.cw, application_id=c.id, reason="家庭成员在外地务工"
    )
    c.home_visit()
    casework_services.democratic_review_record(
        actor=c.cw, application_id=c.id, held_on=today(), participants=7, opinion="同意"
    )
    notice = c.post_notice()
    objection = casework_services.notice_objection_record(
        actor=c.cw, notice=notice, objector="村民丙", content="有异议", raised_on=today()
    )
    casework_services.notice_objection_handle(
        actor=c.cw, objection=objection, handling="已入户核实"
    )
    casework_services.notice_close(actor=c.cw, application_id=c.id, reinvestigate=True)
    c.home_visit()
    casework_services.democratic_review_record(
        actor=c.cw, application_id=c.id, held_on=today(), participants=7, opinion="同意"
    )
    c.post_notice()
    casework_services.notice_close(actor=c.cw, application_id=c.id)
    casework_services.application_approve(
        actor=people.approver_a, application_id=c.id, start_month=today().replace(day=1)
    )
    casework_services.payments_start()
    actions = _assert_trail(c.app())
    assert actions == [
        "create",
        "submit",
        "accept",
        "verification_request",
        "verification_gap",
        "feedback_objection",
        "extend",
        "home_visit",
        "democratic_review",
        "notice_post",
        "notice_objection",
        "notice_close",
        "home_visit",
        "democratic_review",
        "notice_post",
        "notice_close",
        "approve",
        "payment_start",
    ]


@pytest.mark.parametrize("end", [S.REJECTED, S.WITHDRAWN])
def test_closing_paths_leave_their_trail(case, end):
    c = case()
    if end == S.WITHDRAWN:
        c.to(S.ACCEPTED)
    c.to(end)
    actions = _assert_trail(c.app())
    assert actions[-1] == {"rejected": "reject", "withdrawn": "withdraw"}[end]
    last = c.app().events.last()
    assert last.reason


def test_a_returned_application_keeps_the_missing_list_in_its_trail(case):
    c = case(complete=False)
    app = c.accept()
    assert app.state == S.RETURNED
    event = app.events.get(action="return")
    assert event.data["missing"] == app.missing_items and len(app.missing_items) == 6
    _assert_trail(app)
    # Resubmitting a returned application is allowed.
    assert c.submit().state == S.SUBMITTED


# --- the household file: type by bytes, size limit -----------------------------------


def _upload(family, people, name: str, data: bytes, content_type: str = "application/pdf"):
    return documents.document_upload(
        actor=people.caseworker_a,
        household=family.application.household,
        application=family.application,
        kind="id_card",
        upload=SimpleUploadedFile(name, data, content_type=content_type),
    )


def test_a_png_named_pdf_is_stored_as_a_png(make_family, people):
    family = make_family()
    document = _upload(family, people, "x.pdf", PNG)
    assert document.content_type == "image/png"
    assert document.original_name == "x.pdf"
    assert document.file.name.endswith(".png")
    assert AuditEvent.objects.filter(action="document.upload", object_id=str(document.pk)).exists()


def test_a_real_pdf_is_stored_as_a_pdf(make_family, people):
    family = make_family()
    document = _upload(family, people, "身份证.pdf", PDF)
    assert document.content_type == "application/pdf" and document.file.name.endswith(".pdf")


def test_a_text_file_named_pdf_is_refused(make_family, people):
    family = make_family()
    before = family.application.household.documents.count()
    with pytest.raises(DomainError) as caught:
        _upload(family, people, "x.pdf", b"just some text, not a PDF at all\n")
    assert caught.value.field == "file"
    assert family.application.household.documents.count() == before


def test_a_file_over_the_limit_is_refused(make_family, people, monkeypatch):
    family = make_family()
    monkeypatch.setattr("cases.casework.documents.MAX_BYTES", len(PNG) - 1)
    with pytest.raises(DomainError) as caught:
        _upload(family, people, "x.png", PNG, "image/png")
    assert caught.value.field == "file"
    monkeypatch.setattr("cases.casework.documents.MAX_BYTES", len(PNG))
    assert _upload(family, people, "x.png", PNG, "image/png").size == len(PNG)


def test_an_unknown_document_kind_is_refused(make_family, people):
    family = make_family()
    with pytest.raises(DomainError) as caught:
        documents.document_upload(
            actor=people.caseworker_a,
            household=family.application.household,
            kind="selfie",
            upload=scan(),
        )
    assert caught.value.field == "kind"
