"""The whole path of an application through the services, and the decision's arithmetic."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases.casework import documents
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application
from tests.cases.conftest import scan
from verification.requests import services as verification_services

S = Application.State
pytestmark = pytest.mark.django_db


def to_notice_end(application, actor):
    """Post the notice back-dated so that it has ended, and close it."""
    starts = timezone.localdate() - datetime.timedelta(days=8)
    casework_services.notice_post(
        actor=actor, application_id=application.pk, starts_on=starts, place="龙王坝村村务公开栏"
    )
    return casework_services.notice_close(actor=actor, application_id=application.pk)


def test_simplified_path_to_approval_with_the_right_amount(make_family, people):
    family = make_family(income="300")
    cw = people.caseworker_a
    app = family.application
    assert intake_services.application_submit(actor=cw, application_id=app.pk).state == S.SUBMITTED
    app = casework_services.application_accept(actor=cw, application_id=app.pk)
    assert app.state == S.ACCEPTED and app.due_on and app.investigation_due_on
    verification_services.verification_request(actor=cw, application_id=app.pk)
    app = casework_services.verification_outcome_record(
        actor=cw, application_id=app.pk, outcome="consistent", reason="核对一致（手工录入）"
    )
    assert (app.state, app.path) == (S.PUBLIC_NOTICE, Application.Path.SIMPLIFIED)
    assert to_notice_end(app, cw).state == S.AWAITING_DECISION
    app = casework_services.application_approve(actor=people.approver_a, application_id=app.pk)
    # Rural standard 600; income 300 for 2 people: per capita 150; (600 - 150) x 2 = 900.
    assert app.state == S.APPROVED
    assert app.monthly_amount == Decimal("900.00")
    assert app.amount_basis["per_capita_income"] == "150.00"
    assert app.start_month.day == 1 and app.start_month > timezone.localdate().replace(day=1)
    actions = list(app.events.values_list("action", flat=True))
    assert actions == [
        "create",
        "submit",
        "accept",
        "verification_request",
        "verification_consistent",
        "notice_post",
        "notice_close",
        "approve",
    ]
    assert AuditEvent.objects.filter(action="application.approve", object_id=str(app.pk)).exists()


def test_incomplete_application_is_returned_with_everything_missing(make_family, people):
    family = make_family(complete=False)
    cw = people.caseworker_a
    intake_services.application_submit(actor=cw, application_id=family.application.pk)
    app = casework_services.application_accept(actor=cw, application_id=family.application.pk)
    assert app.state == S.RETURNED
    text = " ".join(app.missing_items)
    # Two authorisations, commitment, informing, one non-committable proof, one other.
    assert len(app.missing_items) == 6, app.missing_items
    assert "马1" in text and "李1" in text


def test_a_committed_proof_item_never_blocks_acceptance(make_family, people):
    family = make_family()
    cw = people.caseworker_a
    intake_services.application_submit(actor=cw, application_id=family.application.pk)
    assert (
        casework_services.application_accept(actor=cw, application_id=family.application.pk).state
        == S.ACCEPTED
    )


def test_gap_path_with_objection_to_review_and_rejection(make_family, people, places):
    family = make_family(income="2000")
    cw = people.caseworker_a
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    app = casework_services.verification_outcome_record(
        actor=cw,
        application_id=app_id,
        outcome="gap",
        reason="银行存款不一致",
        gap_items=[{"item": "存款", "declared": "0", "verified": "85000"}],
    )
    assert app.state == S.FEEDBACK
    app = casework_services.feedback_objection_record(
        actor=cw, application_id=app_id, text="存款为借款，附借条", has_evidence=True
    )
    assert app.state == S.HOME_VISIT
    household = family.application.household
    sig1 = documents.document_upload(
        actor=cw, household=household, kind="home_visit", upload=scan()
    )
    sig2 = documents.document_upload(
        actor=cw, household=household, kind="home_visit", upload=scan()
    )
    with pytest.raises(DomainError):
        casework_services.home_visit_record(
            actor=cw,
            application_id=app_id,
            visited_on=timezone.localdate(),
            investigators=[cw],
            family_member_present="马1",
            findings="x",
            investigators_signature=sig1,
            family_signature=sig2,
        )
    app = casework_services.home_visit_record(
        actor=cw,
        application_id=app_id,
        visited_on=timezone.localdate(),
        investigators=[cw, people.assistant_a],
        family_member_present="马1",
        findings="家中有新购轿车一辆",
        investigators_signature=sig1,
        family_signature=sig2,
    )
    assert app.state == S.DEMOCRATIC_REVIEW  # the family objected
    app = casework_services.democratic_review_record(
        actor=cw,
        application_id=app_id,
        held_on=timezone.localdate(),
        participants=7,
        opinion="多数认为不符合条件",
    )
    assert to_notice_end(app, cw).state == S.AWAITING_DECISION
    with pytest.raises(DomainError):
        casework_services.application_reject(
            actor=people.approver_a, application_id=app_id, reasons="no"
        )
    app = casework_services.application_reject(
        actor=people.approver_a,
        application_id=app_id,
        reasons="家庭人均收入1000元，高于当地低保标准600元。",
    )
    assert app.state == S.REJECTED
    assert not family.applicant.__class__.objects.filter(household=household, active=True).exists()


def test_only_the_approver_decides(make_family, people):
    family = make_family()
    app_id = family.application.pk
    cw = people.caseworker_a
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw, application_id=app_id, outcome="consistent", reason="manual"
    )
    to_notice_end(family.application, cw)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        casework_services.application_approve(actor=cw, application_id=app_id)
    with pytest.raises(DomainError):  # another township's approver: no such application
        casework_services.application_approve(actor=people.caseworker_b, application_id=app_id)
    casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    with pytest.raises(Conflict):
        casework_services.application_approve(actor=people.approver_a, application_id=app_id)


def test_wrong_state_is_refused(make_family, people):
    family = make_family()
    with pytest.raises(Conflict):
        casework_services.application_accept(
            actor=people.caseworker_a, application_id=family.application.pk
        )
