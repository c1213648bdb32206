"""Periodic reviews: when they fall due, their steps, and the bad input each step refuses."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases import transitions
from cases.intake import services
from cases.models import (
    Application,
    Income,
    Member,
    MemberDeath,
    MonthlyFileCheck,
    PeriodicReview,
    Policy,
    VerificationOutcome,
)
from cases.reviews import selectors as review_selectors
from cases.reviews import services as review_services
from verification.requests.models import VerificationRequest

S = Application.State
R = PeriodicReview.State
pytestmark = pytest.mark.django_db


def stable(family):
    """Nobody in the family can work and the only income is wages: a stable family."""
    Member.objects.filter(household=family.application.household).update(work_ability="none")
    return family


# --- when the next review falls due -------------------------------------------------------


def test_months_are_added_to_the_same_day_or_the_last_of_the_month():
    assert transitions.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert transitions.add_months(datetime.date(2027, 8, 31), 6) == datetime.date(2028, 2, 29)
    assert transitions.add_months(datetime.date(2026, 11, 23), 12) == datetime.date(2027, 11, 23)
    assert transitions.add_months(datetime.date(2026, 3, 15), -3) == datetime.date(2025, 12, 15)


def test_approval_schedules_a_stable_family_a_year_ahead(make_family, enrol):
    family = enrol(family=stable(make_family()))
    today = timezone.localdate()
    assert family.application.next_review_on == transitions.add_months(today, 12)


def test_a_member_able_to_work_brings_the_review_to_six_months(enrol):
    family = enrol()  # the applicant is able to work (the fixture's default)
    today = timezone.localdate()
    assert family.application.next_review_on == transitions.add_months(today, 6)
    app = family.application
    assert review_services.review_unstable_reasons(application=app, on=today) == ["able_to_work"]


def test_business_income_counts_as_irregular(make_family, enrol, people):
    family = stable(make_family())
    services.income_add(
        actor=people.caseworker_a,
        member=family.spouse,
        source=Income.Source.BUSINESS,
        monthly_average="50",
    )
    family = enrol(family=family)
    today = timezone.localdate()
    assert family.application.next_review_on == transitions.add_months(today, 6)


def test_the_intervals_come_from_the_policy_in_force_on_the_day(make_family, enrol, places):
    family = enrol(family=stable(make_family()))
    Policy.objects.create(
        county=places.county,
        effective_from=datetime.date(2030, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
        review_months_stable=9,
        review_months_unstable=4,
    )
    app = family.application
    before, after = datetime.date(2029, 12, 31), datetime.date(2030, 1, 2)
    assert review_services.next_review_date(application=app, after=before) == datetime.date(
        2030, 12, 31
    )
    assert review_services.next_review_date(application=app, after=after) == datetime.date(
        2030, 10, 2
    )
    assert review_services.next_review_date(
        application=app, after=after, income_irregular=True
    ) == datetime.date(2030, 5, 2)


def test_a_household_on_the_credit_watch_list_is_reviewed_every_six_months(
    make_family, enrol, people
):
    from credit.findings import services as credit_services
    from credit.findings.catalogue import catalogue_load
    from credit.findings.models import Behaviour

    # The catalogue the data migration loads (a transactional test may have emptied it).
    catalogue_load(Behaviour)
    family = enrol(family=stable(make_family()))
    day = datetime.date(2026, 3, 2)
    app = family.application
    assert review_services.next_review_date(application=app, after=day) == datetime.date(2027, 3, 2)
    finding = credit_services.finding_record(
        actor=people.caseworker_a,
        household_id=app.household_id,
        person_id=family.applicant.person_id,
        behaviour_code="xj-false-material-minor",
        facts="申报收入比核对结果少每月800元",
        source_kind="case",
        source_id=app.pk,
        application_id=app.pk,
        found_on=day,
    )
    credit_services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=day)
    assert review_services.next_review_date(application=app, after=day) == datetime.date(2026, 9, 2)


def test_a_death_brings_the_review_within_three_months(make_family, enrol, people):
    family = enrol(family=stable(make_family()))
    app_id = family.application.pk
    year_ahead = family.application.next_review_on
    died = timezone.localdate() - datetime.timedelta(days=10)
    review_services.member_death_record(
        actor=people.caseworker_a, application_id=app_id, member_id=family.spouse.pk, died_on=died
    )
    assert family.refresh().next_review_on == transitions.add_months(died, 3) < year_ahead
    assert family.application.events.filter(action="member_death").count() == 1
    # Recording it again is refused; a date in the future, or a stranger, too.
    with pytest.raises(Conflict):
        review_services.member_death_record(
            actor=people.caseworker_a,
            application_id=app_id,
            member_id=family.spouse.pk,
            died_on=died,
        )
    with pytest.raises(DomainError) as refused:
        review_services.member_death_record(
            actor=people.caseworker_a,
            application_id=app_id,
            member_id=family.applicant.pk,
            died_on=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert refused.value.field == "died_on"
    with pytest.raises(DomainError, match="该申请不存在"):
        review_services.member_death_record(
            actor=people.caseworker_b,
            application_id=app_id,
            member_id=family.applicant.pk,
            died_on=died,
        )
    assert MemberDeath.objects.count() == 1


def test_an_earlier_review_is_not_postponed_by_a_death(enrol, people):
    family = enrol()
    soon = timezone.localdate() + datetime.timedelta(days=5)
    Application.objects.filter(pk=family.application.pk).update(next_review_on=soon)
    review_services.member_death_record(
        actor=people.caseworker_a,
        application_id=family.application.pk,
        member_id=family.spouse.pk,
        died_on=timezone.localdate(),
    )
    assert family.refresh().next_review_on == soon


# --- opening reviews ----------------------------------------------------------------------


def test_due_reviews_open_once_in_the_township_queue(enrol, make_family, people):
    due, later = enrol(), enrol()
    today = timezone.localdate()
    Application.objects.filter(pk=due.application.pk).update(
        next_review_on=today - datetime.timedelta(days=3)
    )
    assert review_services.reviews_open_due(today=today) == 1
    assert review_services.reviews_open_due(today=today) == 0
    review = PeriodicReview.objects.get()
    assert (review.application_id, review.state, review.trigger) == (
        due.application.pk,
        R.OPENED,
        PeriodicReview.Trigger.SCHEDULE,
    )
    assert review.due_on == today - datetime.timedelta(days=3)
    assert list(review_selectors.review_list_for_user(user=people.caseworker_a)) == [review]
    assert list(review_selectors.review_list_for_user(user=people.caseworker_b)) == []
    # The other case falls due on its own date.
    assert review_services.reviews_open_due(today=later.application.next_review_on) == 1


def test_a_caseworker_opens_a_review_with_a_reason_and_only_one_at_a_time(enrol, people):
    family = enrol()
    app_id = family.application.pk
    with pytest.raises(DomainError) as refused:
        review_services.review_open(actor=people.caseworker_a, application_id=app_id, reason=" ")
    assert refused.value.field == "reason"
    first = review_services.review_open(
        actor=people.caseworker_a, application_id=app_id, reason="群众反映"
    )
    again = review_services.review_open(
        actor=people.caseworker_a, application_id=app_id, reason="再次"
    )
    assert first.pk == again.pk and PeriodicReview.objects.count() == 1
    with pytest.raises(PermissionDenied):
        review_services.review_open(
            actor=people.assistant_a, application_id=app_id, reason="群众反映"
        )


def test_a_case_not_enrolled_has_no_review(make_family, people):
    family = make_family()
    with pytest.raises(Conflict):
        review_services.review_open(
            actor=people.caseworker_a, application_id=family.application.pk, reason="群众反映"
        )


# --- the steps ------------------------------------------------------------------------------


def opened(family, people) -> PeriodicReview:
    return review_services.review_open(
        actor=people.caseworker_a, application_id=family.application.pk, reason="到期复核"
    )


def test_a_review_worked_through_to_a_new_amount(enrol, people):
    family = enrol(income="300")
    app = family.application
    assert app.monthly_amount == Decimal("900.00")  # (600 - 150) × 2
    review = opened(family, people)
    # Outside a re-declaration the declaration of an enrolled case does not change.
    with pytest.raises(DomainError):
        services.income_add(
            actor=people.caseworker_a, member=family.spouse, source="wages", monthly_average="1"
        )
    review_services.review_redeclaration_start(actor=people.caseworker_a, review_id=review.pk)
    services.income_add(
        actor=people.caseworker_a,
        member=family.spouse,
        source=Income.Source.OTHER,
        monthly_average="200",
        note="打零工",
    )
    review_services.review_work_ability_set(
        actor=people.caseworker_a,
        review_id=review.pk,
        member_id=family.applicant.pk,
        work_ability="partial",
    )
    review = review_services.review_redeclaration_finish(
        actor=people.caseworker_a,
        review_id=review.pk,
        note="配偶新增零工收入",
        income_irregular=True,
    )
    assert review.state == R.VERIFICATION
    assert [(c["part"], c["change"]) for c in review.changes] == [
        ("members", "changed"),
        ("incomes", "added"),
    ]
    assert review.changes[0]["after"]["work_ability"] == "partial"
    # The declaration is closed again.
    with pytest.raises(DomainError):
        services.income_add(
            actor=people.caseworker_a, member=family.spouse, source="wages", monthly_average="1"
        )
    review_services.review_outcome_record(
        actor=people.caseworker_a,
        review_id=review.pk,
        outcome="consistent",
        reason="核对平台故障，依据银行流水人工核对",
    )
    with pytest.raises(PermissionDenied):
        review_services.review_decide(
            actor=people.caseworker_a, review_id=review.pk, decision="adjust", reason="收入增加"
        )
    today = timezone.localdate()
    review = review_services.review_decide(
        actor=people.approver_a, review_id=review.pk, decision="adjust", reason="收入增加"
    )
    app = family.refresh()
    assert app.monthly_amount == Decimal("700.00")  # (600 - 250) × 2
    assert (review.state, review.old_amount, review.new_amount) == (
        R.DECIDED,
        Decimal("900.00"),
        Decimal("700.00"),
    )
    assert app.next_review_on == review.next_review_on == transitions.add_months(today, 6)
    steps = list(app.events.filter(action__startswith="review_").values_list("action", flat=True))
    assert steps == [
        "review_open",
        "review_redeclaration_start",
        "review_redeclaration_finish",
        "review_outcome",
        "review_decide",
    ]
    assert AuditEvent.objects.filter(action="review.decide", actor=people.approver_a).exists()
    assert AuditEvent.objects.filter(action="member.work_ability").exists()
    # A decided review takes no further step; a new one may be opened.
    with pytest.raises(Conflict):
        review_services.review_decide(
            actor=people.approver_a, review_id=review.pk, decision="continue", reason="再次"
        )
    assert opened(family, people).pk != review.pk


def to_decision(family, people) -> PeriodicReview:
    review = opened(family, people)
    review_services.review_redeclaration_start(actor=people.caseworker_a, review_id=review.pk)
    review_services.review_redeclaration_finish(
        actor=people.caseworker_a, review_id=review.pk, note="无变化"
    )
    return review_services.review_outcome_record(
        actor=people.caseworker_a, review_id=review.pk, outcome="consistent", reason="人工核对"
    )


def test_steps_out_of_order_are_conflicts(enrol, people):
    family = enrol()
    review = opened(family, people)
    with pytest.raises(Conflict):
        review_services.review_redeclaration_finish(
            actor=people.caseworker_a, review_id=review.pk, note="无变化"
        )
    with pytest.raises(Conflict):
        review_services.review_outcome_record(
            actor=people.caseworker_a, review_id=review.pk, outcome="consistent", reason="人工"
        )
    with pytest.raises(Conflict):
        review_services.review_decide(
            actor=people.approver_a, review_id=review.pk, decision="continue", reason="正常"
        )
    review_services.review_redeclaration_start(actor=people.caseworker_a, review_id=review.pk)
    with pytest.raises(Conflict):
        review_services.review_redeclaration_start(actor=people.caseworker_a, review_id=review.pk)


def test_each_bad_input_is_refused_with_its_field(enrol, people):
    family = enrol()
    review = opened(family, people)
    cw = people.caseworker_a

    def field_of(call, **kwargs) -> str | None:
        with pytest.raises(DomainError) as refused:
            call(**kwargs)
        assert not isinstance(refused.value, Conflict)
        return refused.value.field

    review_services.review_redeclaration_start(actor=cw, review_id=review.pk)
    assert (
        field_of(
            review_services.review_work_ability_set,
            actor=cw,
            review_id=review.pk,
            member_id=family.applicant.pk,
            work_ability="sometimes",
        )
        == "work_ability"
    )
    assert (
        field_of(
            review_services.review_work_ability_set,
            actor=cw,
            review_id=review.pk,
            member_id=family.applicant.pk,
            work_ability="full",
        )
        == "work_ability"
    )
    assert (
        field_of(
            review_services.review_redeclaration_finish, actor=cw, review_id=review.pk, note=" "
        )
        == "note"
    )
    review_services.review_redeclaration_finish(actor=cw, review_id=review.pk, note="无变化")
    assert (
        field_of(
            review_services.review_outcome_record,
            actor=cw,
            review_id=review.pk,
            outcome="maybe",
            reason="x",
        )
        == "outcome"
    )
    assert (
        field_of(
            review_services.review_outcome_record,
            actor=cw,
            review_id=review.pk,
            outcome="consistent",
            reason="",
        )
        == "reason"
    )
    review_services.review_outcome_record(
        actor=cw, review_id=review.pk, outcome="gap", reason="人工核对"
    )
    approver = people.approver_a
    for kwargs, field in [
        ({"decision": "pause", "reason": "x"}, "decision"),
        ({"decision": "continue", "reason": " "}, "reason"),
        ({"decision": "gradual_exit", "reason": "x", "exit_months": 7}, "months"),
        ({"decision": "gradual_exit", "reason": "x", "exit_months": "six"}, "months"),
        ({"decision": "adjust", "reason": "x", "monthly_amount": "-5"}, "monthly_amount"),
        ({"decision": "adjust", "reason": "x", "monthly_amount": "900"}, "monthly_amount"),
    ]:
        assert field_of(
            review_services.review_decide, actor=approver, review_id=review.pk, **kwargs
        ) == (field), kwargs
    # Nothing half-done: the review still waits, the case is as it was.
    review.refresh_from_db()
    app = family.refresh()
    assert review.state == R.AWAITING_DECISION
    assert (app.monthly_amount, app.exit_after_month) == (Decimal("900.00"), None)


def test_a_review_may_end_in_a_gradual_exit(enrol, people):
    family = enrol()
    review = to_decision(family, people)
    review = review_services.review_decide(
        actor=people.approver_a,
        review_id=review.pk,
        decision="gradual_exit",
        reason="务工收入超过标准",
        exit_months=3,
    )
    app = family.refresh()
    assert review.exit_months == 3 and app.exit_after_month is not None
    assert app.next_review_on is None and app.state == S.IN_PAYMENT


def test_a_review_may_stop_the_benefit(enrol, people):
    family = enrol()
    review = to_decision(family, people)
    review_services.review_decide(
        actor=people.approver_a, review_id=review.pk, decision="stop", reason="家庭人均收入超标"
    )
    app = family.refresh()
    assert (app.state, app.next_review_on) == (S.STOPPED, None)
    assert (
        review_services.reviews_open_due(today=timezone.localdate() + datetime.timedelta(days=800))
        == 0
    )


def test_the_verification_report_lands_on_the_review_not_the_intake_path(enrol, people):
    from verification.requests import services as verification_services

    family = enrol()
    review = opened(family, people)
    review_services.review_redeclaration_start(actor=people.caseworker_a, review_id=review.pk)
    review_services.review_redeclaration_finish(
        actor=people.caseworker_a, review_id=review.pk, note="无变化"
    )
    review = verification_services.review_verification_request(
        actor=people.caseworker_a, review_id=review.pk
    )
    request = review.verification
    assert request.application_id == family.application.pk
    with pytest.raises(Conflict):
        verification_services.review_verification_request(
            actor=people.caseworker_a, review_id=review.pk
        )
    outcomes_before = VerificationOutcome.objects.filter(application=family.application).count()
    # Every department answered (what they said is not under test here).
    VerificationRequest.objects.filter(pk=request.pk).update(
        status=VerificationRequest.Status.ANSWERED,
        verdict=VerificationRequest.Verdict.GAP,
        report={
            "items": [
                {
                    "member": "马1",
                    "item": "存款",
                    "kind": "deposit",
                    "declared": "0",
                    "verified": "80000",
                    "verdict": "gap",
                }
            ]
        },
    )
    verification_services.report_issue(actor=people.caseworker_a, verification_id=request.pk)
    review.refresh_from_db()
    assert (review.state, review.outcome, review.outcome_manual) == (
        R.AWAITING_DECISION,
        "gap",
        False,
    )
    assert review.gap_items[0]["verified"] == "80000"
    assert family.refresh().state == S.IN_PAYMENT
    assert (
        VerificationOutcome.objects.filter(application=family.application).count()
        == outcomes_before
    )


def finished_batch_run(places):
    from verification.batch.models import BatchRun

    return BatchRun.objects.create(
        county=places.county,
        kind=BatchRun.Kind.HALF_YEARLY_ALL,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 6, 30),
        status=BatchRun.Status.FINISHED,
    )


def test_a_batch_finding_resolved_as_review_opened_opens_a_review(enrol, people, places):
    from verification.batch.models import BatchFinding
    from verification.batch.services import finding_resolve

    family = enrol()
    run = finished_batch_run(places)
    finding = BatchFinding.objects.create(
        run=run, kind=BatchFinding.Kind.VEHICLE, application=family.application
    )
    finding_resolve(
        actor=people.caseworker_a,
        finding=finding,
        resolution=BatchFinding.Resolution.REVIEW_OPENED,
        reason="名下有车辆，入户复核",
    )
    review = PeriodicReview.objects.get()
    assert (review.trigger, review.trigger_id) == ("batch_finding", finding.pk)


def test_a_member_named_in_a_batch_finding_can_leave_in_the_re_declaration(enrol, people, places):
    """The finding names the person, not the membership: the review it opened may take
    the member off the household (the membership row is deleted), and the finding still
    says whom it was about."""
    from verification.batch.models import BatchFinding
    from verification.batch.services import finding_resolve

    family = enrol()
    run = finished_batch_run(places)
    finding = BatchFinding.objects.create(
        run=run,
        kind=BatchFinding.Kind.TWO_HOUSEHOLDS,
        application=family.application,
        person=family.spouse.person,
    )
    finding_resolve(
        actor=people.caseworker_a,
        finding=finding,
        resolution=BatchFinding.Resolution.REVIEW_OPENED,
        reason="配偶已落户他户，复核",
    )
    review = PeriodicReview.objects.get(trigger="batch_finding", trigger_id=finding.pk)
    review_services.review_redeclaration_start(actor=people.caseworker_a, review_id=review.pk)

    services.member_remove(actor=people.caseworker_a, member=family.spouse)

    assert not family.application.household.members.filter(person=finding.person).exists()
    finding.refresh_from_db()
    assert finding.person == family.spouse.person


def test_findings_keep_django_s_protection_without_database_constraints(enrol, places):
    """BatchFinding's references have no constraint in the database (see the model);
    deleting what a finding names through the ORM is still refused."""
    from django.db.models import ProtectedError

    from verification.batch.models import BatchFinding

    family = enrol()
    run = finished_batch_run(places)
    finding = BatchFinding.objects.create(
        run=run,
        kind=BatchFinding.Kind.VEHICLE,
        application=family.application,
        person=family.spouse.person,
    )
    for named in (family.application, family.spouse.person):
        with pytest.raises(ProtectedError) as refused:
            named.delete()
        assert finding in refused.value.protected_objects
    # The run takes its findings with it.
    run.delete()
    assert not BatchFinding.objects.exists()


# --- the county's monthly check of new dibao files ----------------------------------------


def test_the_monthly_check_is_due_on_the_countys_day_from_its_date(policy, places):
    Policy.objects.create(
        county=places.county,
        effective_from=datetime.date(2026, 11, 1),
        dibao_standard_urban=policy.dibao_standard_urban,
        dibao_standard_rural=policy.dibao_standard_rural,
        monthly_check_due_day=10,
    )
    october, _ = review_services.monthly_check_create(
        county=places.county, today=datetime.date(2026, 10, 1)
    )
    november, _ = review_services.monthly_check_create(
        county=places.county, today=datetime.date(2026, 11, 1)
    )
    assert (october.due_on, november.due_on) == (
        datetime.date(2026, 10, 15),
        datetime.date(2026, 11, 10),
    )


def test_a_county_whose_policy_starts_later_gets_no_monthly_check_yet(policy, places):
    Policy.objects.create(
        county=places.other_county,
        effective_from=datetime.date(2026, 12, 1),
        dibao_standard_urban=policy.dibao_standard_urban,
        dibao_standard_rural=policy.dibao_standard_rural,
    )
    made = review_services.monthly_checks_create(today=datetime.date(2026, 11, 1))
    assert [check.county for check in MonthlyFileCheck.objects.filter(pk__in=made)] == [
        places.county
    ]
    made = review_services.monthly_checks_create(today=datetime.date(2026, 12, 1))
    assert {check.county for check in MonthlyFileCheck.objects.filter(pk__in=made)} == {
        places.county,
        places.other_county,
    }
