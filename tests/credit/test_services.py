"""Credit discipline services: levels, escalation, who decides, sanctions on and off,
objection, repair, jurisdiction. The clock moves by the dates passed to the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied

from aid_portal.audit import ACTION_LABELS
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases import restrictions as case_selectors
from cases.intake import services as case_services
from cases.models import Application, Policy, Suspension
from credit.findings import selectors, services
from credit.findings.models import (
    Behaviour,
    Finding,
    FindingEvent,
    Interview,
    Objection,
    OutboxMessage,
    RepaymentOrder,
    Sanction,
)
from tests.credit.conftest import DAY, identity

pytestmark = pytest.mark.django_db

F = Finding.State
K = Sanction.Kind


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def active_kinds(finding: Finding) -> set[str]:
    return set(finding.sanctions.filter(ended_on__isnull=True).values_list("kind", flat=True))


def county_rules(policy: Policy, effective_from: datetime.date, **rules) -> Policy:
    """A later (or earlier) row of the county's policy: the fixture's figures, with
    ``rules`` changed."""
    return Policy.objects.create(
        county=policy.county,
        effective_from=effective_from,
        dibao_standard_urban=policy.dibao_standard_urban,
        dibao_standard_rural=policy.dibao_standard_rural,
        **rules,
    )


def hold_interview(people, finding: Finding, on: datetime.date) -> Interview:
    interview = finding.interviews.get()
    return services.interview_hold(
        actor=people.caseworker_a,
        interview_id=interview.pk,
        notes="已约谈，本人承认少报收入",
        held_on=on,
    )


# --- recording -----------------------------------------------------------------------------


def test_a_finding_is_recorded_with_its_catalogue_level_and_history(people, make_family, record):
    family = make_family()
    finding = record(family)
    assert (finding.state, finding.level, finding.level_recorded) == (F.PROPOSED, "light", "light")
    assert finding.village == family.application.village
    event = finding.events.get()
    assert (event.action, event.actor, event.to_state) == (
        "record",
        people.caseworker_a,
        F.PROPOSED,
    )
    audit = AuditEvent.objects.get(action="credit_finding.record")
    assert audit.actor == people.caseworker_a
    assert "credit_finding.record" in ACTION_LABELS


def test_a_finding_without_facts_is_refused_and_nothing_is_saved(make_family, record):
    family = make_family()
    with pytest.raises(DomainError) as caught:
        record(family, facts="   ")
    assert caught.value.field == "facts"
    assert not Finding.objects.exists()


def test_unknown_or_retired_behaviour_is_refused(make_family, record):
    family = make_family()
    Behaviour.objects.filter(code="xj-false-report").update(active=False)
    for code in ("no-such-thing", "xj-false-report"):
        with pytest.raises(DomainError) as caught:
            record(family, code)
        assert caught.value.field == "behaviour"


def test_evidence_is_stored_in_the_household_file(people, make_family):
    from tests.credit.conftest import scan

    family = make_family()
    finding = services.finding_record(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        person_id=None,
        behaviour_code="xj-false-material-minor",
        facts="隐瞒务工收入",
        source_kind="spot_check",
        evidence=[scan("photo.png")],
        found_on=DAY,
    )
    document = finding.evidence.get()
    assert document.household_id == family.application.household_id
    assert document.original_name == "photo.png"


def test_huangshi_levels_map_by_the_setting(settings, make_family, record):
    family = make_family()
    assert record(family, "hs-general").level == "light"
    assert record(family, "hs-serious").level == "severe"
    settings.CREDIT_LEVEL_MAPPING = {"general": "moderate", "serious": "severe"}
    assert record(family, "hs-general", on=DAY + days(1)).level == "moderate"


def test_a_household_outside_the_jurisdiction_is_not_found(people, make_family, record):
    family = make_family()
    with pytest.raises(DomainError, match="没有这个家庭"):
        record(family, actor=people.caseworker_b)
    assert not Finding.objects.exists()


# --- escalation ----------------------------------------------------------------------------


def test_two_consecutive_light_findings_make_the_second_moderate(make_family, record, in_force):
    family = make_family()
    first = in_force(family)
    second = record(family, on=DAY + days(40))
    assert (second.level_recorded, second.level, second.escalated_from) == (
        "light",
        "moderate",
        first,
    )
    assert second.events.get().data["escalated_from"] == first.pk


def test_two_consecutive_moderate_make_the_second_severe(make_family, record, in_force):
    family = make_family()
    in_force(family, "xj-false-material-refuses")
    second = record(family, "xj-hides-assets-repays", on=DAY + days(30))
    assert second.level == "severe"


def test_a_light_after_a_moderate_is_not_consecutive(make_family, record, in_force):
    family = make_family()
    in_force(family)
    in_force(family, "xj-false-material-refuses", on=DAY + days(10))
    assert record(family, on=DAY + days(20)).level == "light"


def test_an_undecided_earlier_finding_does_not_count(make_family, record):
    family = make_family()
    record(family)
    assert record(family, on=DAY + days(5)).level == "light"


def test_a_repair_breaks_the_chain(people, make_family, record, in_force):
    family = make_family()
    first = in_force(family)
    hold_interview(people, first, DAY + days(5))
    repair = services.repair_apply(
        actor=people.caseworker_a,
        finding_id=first.pk,
        correction="已如实补报",
        applied_on=DAY + days(6),
    )
    services.repair_decide(
        actor=people.approver_a,
        repair_id=repair.pk,
        grant=True,
        note="同意修复",
        today=DAY + days(7),
    )
    assert record(family, on=DAY + days(20)).level == "light"


def test_a_trustworthy_period_breaks_the_chain_at_twelve_months(
    policy, make_family, record, in_force
):
    county_rules(policy, datetime.date(2025, 1, 1))  # the county's rules of 2025, the same
    family = make_family()
    start = datetime.date(2025, 1, 10)
    in_force(family, on=start)
    # One day short of twelve months: still consecutive.
    assert record(family, on=datetime.date(2026, 1, 9)).level == "moderate"
    # Twelve months without a finding: a trustworthy period lies between.
    assert record(family, on=datetime.date(2026, 1, 10)).level == "light"


def test_the_trustworthy_period_is_the_countys_policy(policy, make_family, record, in_force):
    county_rules(policy, datetime.date(2025, 1, 1), credit_trustworthy_months=3)
    family = make_family()
    in_force(family, on=datetime.date(2025, 1, 10))
    assert record(family, on=datetime.date(2025, 4, 10)).level == "light"
    assert record(family, on=datetime.date(2025, 4, 9)).level == "moderate"


def test_a_later_trustworthy_period_applies_from_its_date_only(
    policy, make_family, record, in_force
):
    family = make_family()
    in_force(family)
    # Three months from DAY + 100 (DAY + 3 months is DAY + 92): a finding found before
    # that date is still judged by twelve months.
    county_rules(policy, DAY + days(100), credit_trustworthy_months=3)
    assert record(family, on=DAY + days(99)).level == "moderate"
    assert record(family, on=DAY + days(100)).level == "light"


def test_a_withdrawn_earlier_finding_no_longer_escalates_at_decision(
    people, make_family, record, in_force
):
    family = make_family()
    first = in_force(family)
    second = record(family, on=DAY + days(3))
    assert second.level == "moderate"
    objection = services.objection_lodge(
        actor=people.caseworker_a,
        finding_id=first.pk,
        statement="收入已如实申报",
        lodged_on=DAY + days(4),
    )
    services.objection_review(
        actor=people.approver_a,
        objection_id=objection.pk,
        upheld=True,
        note="核实属实",
        today=DAY + days(5),
    )
    services.finding_decide(actor=people.approver_a, finding_id=second.pk, today=DAY + days(6))
    second.refresh_from_db()
    assert (second.level, second.escalated_from) == ("light", None)
    assert active_kinds(second) == {K.INTERVIEW, K.WATCH_LIST}


# --- who decides ---------------------------------------------------------------------------


def test_light_takes_effect_on_the_township_decision(people, make_family, record):
    family = make_family()
    finding = record(family)
    with pytest.raises(PermissionDenied):
        services.finding_decide(actor=people.caseworker_a, finding_id=finding.pk, today=DAY)
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)
    finding.refresh_from_db()
    assert (finding.state, finding.effective_on, finding.objection_deadline) == (
        F.STANDING,
        DAY,
        DAY + days(15),
    )
    assert AuditEvent.objects.filter(
        action="credit_finding.decide", actor=people.approver_a
    ).exists()
    with pytest.raises(Conflict, match="已处理"):
        services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)


def test_severe_needs_the_county_step(people, make_family, record):
    family = make_family()
    finding = record(family, "xj-obstructs-staff")
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)
    finding.refresh_from_db()
    assert finding.state == F.COUNTY_PENDING
    assert not finding.sanctions.exists() and finding.effective_on is None
    assert (
        selectors.block_in_force(identity_hashes=[family.applicant.person.identity_hash], on=DAY)
        is None
    )
    # The township cannot take the county's step.
    with pytest.raises(PermissionDenied):
        services.finding_confirm(actor=people.approver_a, finding_id=finding.pk, today=DAY)
    finding.refresh_from_db()
    assert finding.state == F.COUNTY_PENDING
    services.finding_confirm(actor=people.auditor, finding_id=finding.pk, today=DAY + days(2))
    finding.refresh_from_db()
    assert (finding.state, finding.effective_on) == (F.STANDING, DAY + days(2))
    actions = list(finding.events.values_list("action", flat=True))
    assert actions == ["record", "propose", "confirm", "sanctions_on"]
    assert AuditEvent.objects.filter(action="credit_finding.confirm", actor=people.auditor).exists()


def test_the_county_may_decline_a_proposed_severe_finding(people, make_family, record):
    family = make_family()
    finding = record(family, "xj-false-report")
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)
    with pytest.raises(PermissionDenied):
        services.finding_dismiss(actor=people.approver_a, finding_id=finding.pk, reason="证据不足")
    services.finding_dismiss(actor=people.auditor, finding_id=finding.pk, reason="举报部分属实")
    finding.refresh_from_db()
    assert finding.state == F.DISMISSED and not finding.sanctions.exists()


# --- sanctions -----------------------------------------------------------------------------


def test_light_schedules_an_interview_and_watches_the_household(make_family, in_force):
    family = make_family()
    finding = in_force(family)
    assert active_kinds(finding) == {K.INTERVIEW, K.WATCH_LIST}
    assert finding.interviews.get().scheduled_for == DAY + days(10)
    household_id = family.application.household_id
    assert selectors.household_is_watched(household_id=household_id, on=DAY)
    assert household_id in selectors.watched_household_ids(on=DAY + days(364))
    assert not selectors.household_is_watched(household_id=household_id, on=DAY - days(1))
    assert household_id not in selectors.watched_household_ids(on=datetime.date(2027, 3, 2))
    assert selectors.bad_record_exists(household_id=household_id, on=DAY)
    assert not Suspension.objects.exists()


def test_moderate_suspends_the_case_and_blocks_the_family_for_six_months(
    people, make_family, in_force
):
    family = make_family()
    case_services.application_submit(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    finding = in_force(family, "xj-false-material-refuses")
    assert active_kinds(finding) == {K.INTERVIEW, K.SUSPENSION, K.BLOCK}
    hold = Suspension.objects.get(application=family.application)
    assert hold.source == f"credit_finding:{finding.pk}" and hold.active
    hashes = [family.applicant.person.identity_hash, family.spouse.person.identity_hash]
    block = selectors.block_in_force(identity_hashes=hashes[1:], on=DAY)
    assert (block.ends_on, block.finding, block.person) == (
        datetime.date(2026, 9, 2),
        finding,
        family.spouse.person,
    )
    assert block.reason == finding.behaviour.name
    assert selectors.block_in_force(identity_hashes=hashes, on=datetime.date(2026, 9, 1))
    assert selectors.block_in_force(identity_hashes=hashes, on=datetime.date(2026, 9, 2)) is None


def test_casework_learns_of_blocks_and_the_watch_list_from_the_credit_services(
    people, make_family, in_force
):
    """Cases answers "blocked?" and "watched?" from its own table (it never imports credit);
    the credit services keep that table in step when sanctions start and end."""
    family = make_family()
    light = in_force(family)
    household_id = family.application.household_id
    assert case_selectors.household_is_watched(household_id=household_id, on=DAY)
    assert not case_selectors.household_is_watched(household_id=household_id, on=DAY - days(1))
    other = make_family()
    finding = in_force(other, "xj-false-material-refuses")
    hashes = [other.applicant.person.identity_hash, other.spouse.person.identity_hash]
    block = case_selectors.credit_block_in_force(identity_hashes=hashes[1:], on=DAY)
    assert (block.ends_on, block.person, block.reason) == (
        datetime.date(2026, 9, 2),
        other.spouse.person,
        finding.behaviour.name,
    )
    assert (
        case_selectors.credit_block_in_force(identity_hashes=hashes, on=datetime.date(2026, 9, 2))
        is None
    )
    with pytest.raises(DomainError, match="2026"):
        case_services.refuse_blocked_person(other.applicant.person.identity_number, on=DAY)
    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=finding.pk, statement="材料系误交", lodged_on=DAY
    )
    services.objection_review(
        actor=people.auditor,
        objection_id=objection.pk,
        upheld=True,
        note="核实无误",
        today=DAY + days(3),
    )
    assert case_selectors.credit_block_in_force(identity_hashes=hashes, on=DAY + days(2))
    assert case_selectors.credit_block_in_force(identity_hashes=hashes, on=DAY + days(3)) is None
    case_services.refuse_blocked_person(other.applicant.person.identity_number, on=DAY + days(3))
    # The light finding of the first family is untouched by the other family's objection.
    assert light.sanctions.filter(ended_on__isnull=True).exists()
    assert case_selectors.household_is_watched(household_id=household_id, on=DAY + days(3))


def test_severe_orders_repayment_blocks_for_a_year_and_writes_the_outbox(people, enrol, in_force):
    family = enrol()
    assert family.application.state == Application.State.IN_PAYMENT
    finding = in_force(
        family,
        "xj-hides-assets-refuses",
        repayment_amount="3600",
        repayment_deadline=DAY + days(60),
    )
    assert active_kinds(finding) == {
        K.INTERVIEW,
        K.SUSPENSION,
        K.BLOCK,
        K.REPAYMENT,
        K.PLATFORM,
    }
    order = finding.repayment_order
    assert (order.amount, order.deadline, order.state) == (Decimal("3600"), DAY + days(60), "open")
    block = selectors.block_in_force(
        identity_hashes=[family.applicant.person.identity_hash], on=DAY
    )
    assert block.ends_on == datetime.date(2027, 3, 2)
    message = OutboxMessage.objects.get()
    assert (message.kind, message.state, message.finding) == ("record", "pending", finding)
    assert message.payload["identity_numbers"] == [family.applicant.person.identity_number]
    assert message.payload["key"] == str(message.key)


def test_repayments_are_tracked_until_paid(people, make_family, in_force):
    family = make_family()
    finding = in_force(
        family, "xj-obstructs-staff", repayment_amount="1000", repayment_deadline=DAY + days(30)
    )
    order = finding.repayment_order
    services.repayment_record(
        actor=people.caseworker_a, order_id=order.pk, amount="400", paid_on=DAY
    )
    with pytest.raises(DomainError, match="600"):
        services.repayment_record(actor=people.caseworker_a, order_id=order.pk, amount="700")
    services.repayment_record(
        actor=people.caseworker_a, order_id=order.pk, amount="600", paid_on=DAY + days(3)
    )
    order.refresh_from_db()
    assert (order.state, order.closed_on, order.paid_amount) == ("paid", DAY + days(3), 1000)
    assert K.REPAYMENT not in active_kinds(finding)
    with pytest.raises(Conflict):
        services.repayment_record(actor=people.caseworker_a, order_id=order.pk, amount="1")


def test_a_severe_confirmation_with_an_amount_needs_a_deadline(people, make_family, record):
    family = make_family()
    finding = record(family, "xj-obstructs-staff")
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)
    with pytest.raises(DomainError) as caught:
        services.finding_confirm(
            actor=people.auditor, finding_id=finding.pk, repayment_amount="100", today=DAY
        )
    assert caught.value.field == "repayment_deadline"
    finding.refresh_from_db()
    assert finding.state == F.COUNTY_PENDING


def test_a_sanction_outside_ones_jurisdiction_is_not_found(people, make_family, record, in_force):
    family = make_family()
    proposed = record(family, "xj-obstructs-staff")
    finding = in_force(family, on=DAY + days(1))
    for action in (
        lambda: services.finding_decide(actor=people.outsider_auditor, finding_id=proposed.pk),
        lambda: services.finding_confirm(actor=people.outsider_auditor, finding_id=proposed.pk),
        lambda: services.interview_hold(
            actor=people.caseworker_b, interview_id=finding.interviews.get().pk, notes="x"
        ),
        lambda: services.objection_lodge(
            actor=people.caseworker_b, finding_id=finding.pk, statement="x"
        ),
    ):
        with pytest.raises(DomainError, match="没有这项失信认定"):
            action()
    assert not Interview.objects.filter(held_on__isnull=False).exists()
    assert not Objection.objects.exists()


# --- notice and objection ------------------------------------------------------------------


def test_an_objection_after_its_deadline_is_refused(people, make_family, in_force):
    family = make_family()
    finding = in_force(family)
    with pytest.raises(DomainError, match="2026-03-17"):
        services.objection_lodge(
            actor=people.caseworker_a,
            finding_id=finding.pk,
            statement="不服",
            lodged_on=DAY + days(16),
        )
    finding.refresh_from_db()
    assert finding.state == F.STANDING and not finding.objections.exists()
    # The last day of the window still counts.
    services.objection_lodge(
        actor=people.caseworker_a, finding_id=finding.pk, statement="不服", lodged_on=DAY + days(15)
    )


def test_the_objection_window_is_the_countys_policy(policy, people, make_family, in_force):
    policy.credit_objection_days = 5
    policy.save(update_fields=["credit_objection_days"])
    finding = in_force(make_family())
    assert finding.objection_deadline == DAY + days(5)


def test_a_county_with_its_own_credit_rules_gets_them_from_their_date(
    policy, people, make_family, in_force
):
    """A policy row from DAY + 10: an 8-month moderate block, a 20-day objection window,
    18 months for severe, a 5-day interview, a 30-day objection review. A finding taking
    effect the day before gets the national figures; one taking effect on the day, the
    county's."""
    county_rules(
        policy,
        DAY + days(10),
        credit_block_months_moderate=8,
        credit_block_months_severe=18,
        credit_objection_days=20,
        credit_objection_review_days=30,
        credit_interview_days=5,
    )
    before = in_force(make_family(), "xj-false-material-refuses", on=DAY + days(9))
    after = in_force(make_family(), "xj-false-material-refuses", on=DAY + days(10))
    severe = in_force(make_family(), "xj-hides-assets-refuses", on=DAY + days(10))

    def block_end(finding: Finding) -> datetime.date:
        return finding.sanctions.filter(kind=K.BLOCK).values_list("ends_on", flat=True)[0]

    assert block_end(before) == DAY + days(9) + relativedelta(months=6)
    assert before.objection_deadline == DAY + days(9 + 15)
    assert before.interviews.get().scheduled_for == DAY + days(9 + 10)
    assert block_end(after) == DAY + days(10) + relativedelta(months=8)
    assert after.objection_deadline == DAY + days(10 + 20)
    assert after.interviews.get().scheduled_for == DAY + days(10 + 5)
    assert block_end(severe) == DAY + days(10) + relativedelta(months=18)
    # The review is due by the rule in force on the day the objection is lodged.
    objection = services.objection_lodge(
        actor=people.caseworker_a,
        finding_id=before.pk,
        statement="不服",
        lodged_on=DAY + days(12),
    )
    assert objection.review_due_on == DAY + days(12 + 30)


def test_a_light_finding_watches_the_household_for_the_countys_period(
    policy, make_family, in_force
):
    county_rules(policy, DAY, credit_trustworthy_months=2)
    finding = in_force(make_family())
    watch = finding.sanctions.get(kind=K.WATCH_LIST)
    assert watch.ends_on == DAY + relativedelta(months=2)


def test_a_rejected_objection_leaves_the_finding_standing(people, make_family, in_force):
    family = make_family()
    finding = in_force(family, "xj-false-material-refuses")
    objection = services.objection_lodge(
        actor=people.caseworker_a,
        finding_id=finding.pk,
        statement="财产已分家",
        lodged_on=DAY + days(3),
    )
    assert objection.review_due_on == DAY + days(18)
    finding.refresh_from_db()
    assert finding.state == F.OBJECTED
    with pytest.raises(Conflict):
        services.objection_lodge(actor=people.caseworker_a, finding_id=finding.pk, statement="再次")
    services.objection_review(
        actor=people.approver_a,
        objection_id=objection.pk,
        upheld=False,
        note="无新证据",
        today=DAY + days(5),
    )
    finding.refresh_from_db()
    objection.refresh_from_db()
    assert (finding.state, objection.state, objection.reviewed_by) == (
        F.STANDING,
        "rejected",
        people.approver_a,
    )
    assert active_kinds(finding) == {K.INTERVIEW, K.SUSPENSION, K.BLOCK}


def test_the_finder_may_not_review_the_objection(people, make_family, record):
    finding = record(make_family(), actor=people.approver_a)
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)
    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=finding.pk, statement="不服", lodged_on=DAY
    )
    with pytest.raises(DomainError, match="认定人以外"):
        services.objection_review(
            actor=people.approver_a, objection_id=objection.pk, upheld=True, note="撤销"
        )
    objection.refresh_from_db()
    assert objection.state == "pending"
    services.objection_review(
        actor=people.auditor, objection_id=objection.pk, upheld=False, note="维持"
    )


def test_an_upheld_objection_withdraws_the_finding_and_undoes_every_sanction(
    people, enrol, in_force
):
    family = enrol()
    finding = in_force(
        family, "xj-hides-assets-refuses", repayment_amount="500", repayment_deadline=DAY + days(30)
    )
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(state="delivered")
    objection = services.objection_lodge(
        actor=people.caseworker_a,
        finding_id=finding.pk,
        statement="房产系父母所有",
        lodged_on=DAY + days(2),
    )
    services.objection_review(
        actor=people.auditor,
        objection_id=objection.pk,
        upheld=True,
        note="产权证明属实",
        today=DAY + days(9),
    )
    finding.refresh_from_db()
    assert (finding.state, finding.ended_on) == (F.WITHDRAWN, DAY + days(9))
    assert active_kinds(finding) == set()
    assert set(finding.sanctions.values_list("ended_on", flat=True)) == {DAY + days(9)}
    assert not Suspension.objects.filter(ended_at__isnull=True).exists()
    assert (
        selectors.block_in_force(
            identity_hashes=[family.applicant.person.identity_hash], on=DAY + days(9)
        )
        is None
    )
    assert RepaymentOrder.objects.get().state == "cancelled"
    assert not finding.interviews.exists()  # the interview not held is called off
    withdrawal = OutboxMessage.objects.get(kind="withdrawal")
    assert withdrawal.state == "pending" and withdrawal.payload["finding"] == finding.pk
    assert not selectors.bad_record_exists(household_id=family.application.household_id, on=DAY)


def test_an_undelivered_record_is_cancelled_rather_than_withdrawn(people, make_family, in_force):
    finding = in_force(make_family(), "xj-obstructs-staff")
    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=finding.pk, statement="误认", lodged_on=DAY
    )
    services.objection_review(
        actor=people.auditor, objection_id=objection.pk, upheld=True, note="认定有误", today=DAY
    )
    assert list(OutboxMessage.objects.values_list("kind", "state")) == [("record", "cancelled")]


def test_a_record_sent_without_an_answer_is_followed_by_a_withdrawal(people, make_family, in_force):
    finding = in_force(make_family(), "xj-obstructs-staff")
    # Sent once, and the platform never answered (a timeout): it may hold the record.
    OutboxMessage.objects.filter(kind="record").update(attempts=1, last_error="timed out")
    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=finding.pk, statement="误认", lodged_on=DAY
    )
    services.objection_review(
        actor=people.auditor, objection_id=objection.pk, upheld=True, note="认定有误", today=DAY
    )
    assert list(OutboxMessage.objects.order_by("id").values_list("kind", "state")) == [
        ("record", "pending"),
        ("withdrawal", "pending"),
    ]
    # The withdrawal is not sent before the record is delivered.
    withdrawal = OutboxMessage.objects.get(kind="withdrawal")
    assert services.outbox_deliver(message_id=withdrawal.pk) == "pending"
    withdrawal.refresh_from_db()
    assert withdrawal.attempts == 0 and withdrawal.claimed_at is None


# --- repair --------------------------------------------------------------------------------


def test_a_repair_before_the_interview_is_refused(people, make_family, in_force):
    finding = in_force(make_family())
    with pytest.raises(DomainError, match="提醒约谈之后"):
        services.repair_apply(
            actor=people.caseworker_a,
            finding_id=finding.pk,
            correction="已改正",
            applied_on=DAY + days(1),
        )
    assert not finding.repairs.exists()


def test_a_repair_with_an_unpaid_order_is_refused(people, make_family, in_force):
    finding = in_force(
        make_family(),
        "xj-obstructs-staff",
        repayment_amount="800",
        repayment_deadline=DAY + days(30),
    )
    hold_interview(people, finding, DAY + days(1))
    with pytest.raises(DomainError, match="800"):
        services.repair_apply(
            actor=people.caseworker_a,
            finding_id=finding.pk,
            correction="已改正",
            applied_on=DAY + days(2),
        )


def test_a_granted_repair_ends_the_sanctions_from_its_date(people, make_family, in_force):
    family = make_family()
    case_services.application_submit(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    finding = in_force(family, "xj-false-material-refuses")
    hold_interview(people, finding, DAY + days(4))
    repair = services.repair_apply(
        actor=people.caseworker_a,
        finding_id=finding.pk,
        correction="已退回违规资金",
        applied_on=DAY + days(5),
    )
    with pytest.raises(PermissionDenied):
        services.repair_decide(actor=people.auditor, repair_id=repair.pk, grant=True, note="x")
    services.repair_decide(
        actor=people.approver_a,
        repair_id=repair.pk,
        grant=True,
        note="同意修复",
        today=DAY + days(8),
    )
    finding.refresh_from_db()
    assert (finding.state, finding.ended_on) == (F.REPAIRED, DAY + days(8))
    assert active_kinds(finding) == set()
    hashes = [family.applicant.person.identity_hash]
    assert selectors.block_in_force(identity_hashes=hashes, on=DAY + days(7)) is not None
    assert selectors.block_in_force(identity_hashes=hashes, on=DAY + days(8)) is None
    assert not Suspension.objects.filter(ended_at__isnull=True).exists()
    household_id = family.application.household_id
    assert selectors.bad_record_exists(household_id=household_id, on=DAY + days(7))
    assert not selectors.bad_record_exists(household_id=household_id, on=DAY + days(8))
    assert FindingEvent.objects.filter(finding=finding, action="repair").exists()


def test_repairing_a_severe_finding_needs_the_county(people, make_family, in_force):
    finding = in_force(make_family(), "xj-false-report")
    hold_interview(people, finding, DAY + days(1))
    repair = services.repair_apply(
        actor=people.caseworker_a,
        finding_id=finding.pk,
        correction="公开道歉",
        applied_on=DAY + days(2),
    )
    with pytest.raises(PermissionDenied):
        services.repair_decide(
            actor=people.approver_a, repair_id=repair.pk, grant=True, note="同意"
        )
    services.repair_decide(
        actor=people.auditor, repair_id=repair.pk, grant=True, note="同意", today=DAY + days(3)
    )
    finding.refresh_from_db()
    assert finding.state == F.REPAIRED
    assert list(OutboxMessage.objects.values_list("kind", "state")) == [("record", "cancelled")]


def test_a_refused_repair_leaves_the_finding_in_force(people, make_family, in_force):
    finding = in_force(make_family())
    hold_interview(people, finding, DAY + days(1))
    repair = services.repair_apply(
        actor=people.caseworker_a,
        finding_id=finding.pk,
        correction="口头保证",
        applied_on=DAY + days(2),
    )
    services.repair_decide(actor=people.approver_a, repair_id=repair.pk, grant=False, note="未改正")
    finding.refresh_from_db()
    assert finding.state == F.STANDING and K.WATCH_LIST in active_kinds(finding)


# --- the intake hook -----------------------------------------------------------------------


def test_intake_refuses_a_blocked_person_with_the_reason_and_the_end_date(
    people, places, make_family, in_force
):
    family = make_family()
    in_force(family, "xj-false-material-refuses", on=datetime.date.today() - days(10))
    number = family.applicant.person.identity_number
    with pytest.raises(DomainError) as caught:
        case_services.application_start(
            actor=people.caseworker_a,
            village=places.village_a,
            address="龙王坝村9号",
            phone="",
            identity_number=number,
            name=family.applicant.person.name,
            assistance_type="dibao_rural",
        )
    assert caught.value.field == "identity_number"
    assert "提供虚假申请材料" in caught.value.message
    ends = datetime.date.today() - days(10) + relativedelta(months=6)
    assert f"至{ends.year}年{ends.month}月{ends.day}日" in caught.value.message
    assert caught.value.message.startswith("该人员因")
    # Someone without a block is taken in as before.
    app = case_services.application_start(
        actor=people.caseworker_a,
        village=places.village_a,
        address="龙王坝村10号",
        phone="",
        identity_number=identity("642222", "19800303", 77),
        name="杨十",
        assistance_type="dibao_rural",
    )
    assert app.state == Application.State.DRAFT
