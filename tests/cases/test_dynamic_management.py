"""After approval: holds, adjustment proposals, amount changes, gradual exit and stop."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import AdjustmentProposal, Application, Member, Suspension
from cases.reviews import selectors
from cases.reviews import services as review_services

S = Application.State
pytestmark = pytest.mark.django_db


def test_a_hold_stops_an_open_application_from_moving(make_family, people):
    family = make_family()
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    hold = casework_services.application_suspend(
        actor=people.approver_a, application_id=app_id, source="credit_finding:1", reason="失信"
    )
    with pytest.raises(Conflict, match="失信"):
        casework_services.application_accept(actor=cw, application_id=app_id)
    assert family.refresh().state == S.SUBMITTED
    # Asking again for the same source changes nothing.
    again = casework_services.application_suspend(
        actor=people.approver_a, application_id=app_id, source="credit_finding:1", reason="失信"
    )
    assert again.pk == hold.pk and Suspension.objects.count() == 1
    assert casework_services.application_resume(
        actor=people.approver_a, application_id=app_id, source="credit_finding:1", reason="撤销"
    )
    assert not casework_services.application_resume(
        actor=people.approver_a, application_id=app_id, source="credit_finding:1", reason="撤销"
    )
    assert casework_services.application_accept(actor=cw, application_id=app_id).state == S.ACCEPTED
    actions = list(family.application.events.values_list("action", flat=True))
    assert actions.count("suspend") == 1 and actions.count("resume") == 1


def test_two_holds_need_two_lifts(make_family, people):
    family = make_family()
    app_id = family.application.pk
    for source in ("credit_finding:1", "spot_check:2"):
        casework_services.application_suspend(
            actor=people.caseworker_a, application_id=app_id, source=source, reason=source
        )
    casework_services.application_resume(
        actor=people.caseworker_a, application_id=app_id, source="credit_finding:1", reason="撤销"
    )
    with pytest.raises(Conflict, match="spot_check:2"):
        intake_services.application_submit(actor=people.caseworker_a, application_id=app_id)


def test_a_suspended_approved_case_is_not_paid(enrol, people):
    family = enrol(paying=False)
    app_id = family.application.pk
    casework_services.application_suspend(
        actor=people.approver_a, application_id=app_id, source="credit_finding:3", reason="失信"
    )
    assert casework_services.payments_start() == 0
    assert family.refresh().state == S.APPROVED
    casework_services.application_resume(
        actor=people.approver_a, application_id=app_id, source="credit_finding:3", reason="修复"
    )
    assert casework_services.payments_start() == 1
    assert family.refresh().state == S.IN_PAYMENT


def test_holds_need_a_reason_and_stay_inside_the_jurisdiction(make_family, people):
    family = make_family()
    with pytest.raises(DomainError):
        casework_services.application_suspend(
            actor=people.approver_a, application_id=family.application.pk, source="x", reason=" "
        )
    with pytest.raises(DomainError, match="该申请不存在"):
        casework_services.application_suspend(
            actor=people.caseworker_b,
            application_id=family.application.pk,
            source="x",
            reason="越权",
        )
    assert not Suspension.objects.exists()


def test_a_spot_check_proposal_adopted_lowers_the_amount(enrol, people):
    family = enrol(income="300")
    app_id = family.application.pk
    assert family.application.monthly_amount == Decimal("900.00")
    proposal = review_services.adjustment_propose(
        actor=people.auditor,
        application_id=app_id,
        action="decrease",
        reasons="入户发现配偶有务工收入",
        source="spot_check",
        source_id=77,
        proposed_amount="600",
    )
    assert list(selectors.adjustment_list_for_user(user=people.caseworker_a)) == [proposal]
    assert not selectors.adjustment_list_for_user(user=people.caseworker_b).exists()
    with pytest.raises(Conflict):
        review_services.adjustment_propose(
            actor=people.auditor,
            application_id=app_id,
            action="decrease",
            reasons="重复提交",
            source="spot_check",
            source_id=77,
        )
    # An increase would be the wrong direction for a decrease proposal.
    with pytest.raises(DomainError) as wrong_direction:
        review_services.adjustment_handle(
            actor=people.approver_a, proposal_id=proposal.pk, adopt=True, monthly_amount="950"
        )
    assert wrong_direction.value.field == "monthly_amount"
    # The caseworker sees the proposal but does not decide it.
    with pytest.raises(PermissionDenied):
        review_services.adjustment_handle(
            actor=people.caseworker_a, proposal_id=proposal.pk, adopt=True
        )
    review_services.adjustment_handle(actor=people.approver_a, proposal_id=proposal.pk, adopt=True)
    assert family.refresh().monthly_amount == Decimal("600.00")
    proposal.refresh_from_db()
    assert proposal.status == AdjustmentProposal.Status.ADOPTED
    assert not selectors.adjustment_list_for_user(user=people.caseworker_a).exists()
    with pytest.raises(Conflict):
        review_services.adjustment_handle(
            actor=people.approver_a, proposal_id=proposal.pk, adopt=False
        )
    assert AuditEvent.objects.filter(action="application.adjustment_adopt").count() == 1


def test_declining_needs_a_note_and_stop_ends_the_case(enrol, people):
    family = enrol()
    app_id = family.application.pk
    keep = review_services.adjustment_propose(
        actor=people.caseworker_a,
        application_id=app_id,
        action="stop",
        reasons="复核发现已不符合条件",
        source="review",
        source_id=5,
    )
    with pytest.raises(DomainError):
        review_services.adjustment_handle(actor=people.approver_a, proposal_id=keep.pk, adopt=False)
    assert AdjustmentProposal.objects.get(pk=keep.pk).status == "open"
    review_services.adjustment_handle(actor=people.approver_a, proposal_id=keep.pk, adopt=True)
    app = family.refresh()
    assert app.state == S.STOPPED and app.stopped_on == timezone.localdate()
    assert not Member.objects.filter(pk=family.applicant.pk, active=True).exists()


def test_a_proposal_needs_an_enrolled_case_and_a_known_action(make_family, enrol, people):
    open_case = make_family()
    with pytest.raises(Conflict):
        review_services.adjustment_propose(
            actor=people.auditor,
            application_id=open_case.application.pk,
            action="stop",
            reasons="x",
            source="spot_check",
        )
    enrolled = enrol()
    with pytest.raises(DomainError):
        review_services.adjustment_propose(
            actor=people.auditor,
            application_id=enrolled.application.pk,
            action="double",
            reasons="x",
            source="spot_check",
        )
    assert not AdjustmentProposal.objects.exists()


def test_gradual_exit_pays_on_then_stops_by_itself(enrol, people):
    family = enrol()
    app_id = family.application.pk
    today = datetime.date(2026, 11, 23)
    with pytest.raises(DomainError) as too_long:
        casework_services.gradual_exit_start(
            actor=people.approver_a, application_id=app_id, months=7, reason="务工", today=today
        )
    assert too_long.value.field == "months"
    app = casework_services.gradual_exit_start(
        actor=people.approver_a, application_id=app_id, months=3, reason="务工收入", today=today
    )
    assert app.exit_after_month == datetime.date(2027, 2, 1)
    assert casework_services.gradual_exits_finish(today=datetime.date(2027, 2, 28)) == 0
    assert casework_services.gradual_exits_finish(today=datetime.date(2027, 3, 1)) == 1
    assert casework_services.gradual_exits_finish(today=datetime.date(2027, 3, 2)) == 0
    app = family.refresh()
    assert app.state == S.STOPPED and app.stopped_on == datetime.date(2027, 3, 1)


def test_amount_adjust_is_for_deciders_only(enrol, people):
    family = enrol()
    app_id = family.application.pk
    with pytest.raises(DomainError) as same:
        casework_services.application_amount_adjust(
            actor=people.approver_a, application_id=app_id, monthly_amount="900", reason="x"
        )
    assert same.value.field == "monthly_amount"
    app = casework_services.application_amount_adjust(
        actor=people.approver_a, application_id=app_id, monthly_amount="1000", reason="增人"
    )
    assert app.monthly_amount == Decimal("1000.00")
    with pytest.raises(DomainError, match="该申请不存在"):
        casework_services.application_amount_adjust(
            actor=people.caseworker_b, application_id=app_id, monthly_amount="10", reason="x"
        )
