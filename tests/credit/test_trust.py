"""Trust: trust records, the honest declarant, rewards and the yearly credit results.

The clock moves by the dates passed to the services. Yearly results are computed for the
current year Y "as on 5 January of Y+1", so that the approvals made today fall in Y.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import ApplicationEvent
from credit.findings import services
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour
from credit.trust import services as trust
from credit.trust.models import Reward, TrustRecord, YearlyResult
from tests.queries import numbered, queries_captured
from verification.requests import services as verification_services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def behaviours(db):
    """The catalogue is loaded by a data migration, which a transactional test (the
    worker's) flushes away: load it again (it adds only what is missing)."""
    catalogue_load(Behaviour)


Y = timezone.localdate().year
JAN_1 = datetime.date(Y, 1, 1)  # never in the future: findings of year Y are found on it
NEXT_JANUARY = datetime.date(Y + 1, 1, 5)  # "today" for storing year Y
MODERATE = "xj-false-material-refuses"
LIGHT = "xj-false-material-minor"


def results(county) -> dict[int, str]:
    return dict(
        YearlyResult.objects.filter(year=Y, village__code__startswith=county.prefix).values_list(
            "household_id", "result"
        )
    )


def condition(status, code):
    return next(c for c in status.conditions if c.code == code)


def repair(people, finding, *, on):
    """Hold the interview on the day the finding took effect, apply and grant repair ``on``."""
    interview = finding.interviews.get()
    services.interview_hold(
        actor=people.caseworker_a,
        interview_id=interview.pk,
        notes="已约谈，本人承认少报收入",
        held_on=finding.effective_on,
    )
    application = services.repair_apply(
        actor=people.caseworker_a,
        finding_id=finding.pk,
        correction="已如实补报收入",
        applied_on=finding.effective_on,
    )
    services.repair_decide(
        actor=people.approver_a, repair_id=application.pk, grant=True, note="同意修复", today=on
    )


# --- trust records ---------------------------------------------------------------------------


def test_a_caseworker_records_trustworthy_behaviour_with_event_and_audit(people, make_family):
    family = make_family()
    record = trust.trust_record(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        application_id=family.application.pk,
        person_id=family.applicant.person_id,
        kind=TrustRecord.Kind.ASKED_TO_LEAVE,
        facts="收入增加后主动申请退出低保",
    )
    assert (record.kind, record.person_id, record.recorded_by) == (
        "asked_to_leave",
        family.applicant.person_id,
        people.caseworker_a,
    )
    event = ApplicationEvent.objects.get(application=family.application, action="trust_record")
    assert event.data["record"] == record.pk
    audit = AuditEvent.objects.get(action="trust.record", object_id=str(record.pk))
    assert audit.region == family.application.village and audit.actor == people.caseworker_a


def test_bad_trust_records_are_refused_and_nothing_is_saved(people, places, make_family):
    family = make_family()
    other = make_family()
    household_id = family.application.household_id
    base = {"household_id": household_id, "kind": "truthful_declaration", "facts": "如实申报"}
    with pytest.raises(DomainError) as refused:
        trust.trust_record(actor=people.caseworker_a, **{**base, "facts": "  "})
    assert (refused.value.field, refused.value.message) == ("facts", "请填写事实。")
    with pytest.raises(DomainError):
        trust.trust_record(actor=people.caseworker_a, **{**base, "kind": "generous"})
    with pytest.raises(DomainError):
        trust.trust_record(
            actor=people.caseworker_a, **base, recorded_on=timezone.localdate().replace(year=Y + 1)
        )
    with pytest.raises(DomainError):
        trust.trust_record(actor=people.caseworker_a, **base, person_id=other.applicant.person_id)
    with pytest.raises(DomainError):
        trust.trust_record(actor=people.caseworker_a, **base, application_id=other.application.pk)
    # Township B's caseworker does not see the household: "no such household".
    with pytest.raises(DomainError) as refused:
        trust.trust_record(actor=people.caseworker_b, **base)
    assert refused.value.field == "household"
    # The approver sees it but does not record.
    with pytest.raises(PermissionDenied):
        trust.trust_record(actor=people.approver_a, **base)
    assert not TrustRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="trust.record").exists()


# --- the honest declarant --------------------------------------------------------------------


def test_honest_declarant_needs_all_four_conditions(people, make_family, enrol, record):
    # Unsigned authorisations and no verification yet.
    unsigned = make_family(complete=False)
    status = trust.honest_declarant_status(application=unsigned.application)
    assert not status.qualifies
    assert not condition(status, "authorisations_signed").met
    assert unsigned.applicant.person.name in condition(status, "authorisations_signed").reason
    assert not condition(status, "no_anomaly").met
    assert condition(status, "no_notice_objection").met  # no notice yet
    assert condition(status, "no_bad_record").met

    # The whole way through verification (consistent) and the notice: an honest declarant.
    family = enrol(paying=False)
    status = trust.honest_declarant_status(application=family.application)
    assert [c.code for c in status.conditions if not c.met] == []
    assert status.qualifies

    # A standing finding on the household: a bad record.
    finding = record(family, LIGHT, on=timezone.localdate())
    assert trust.honest_declarant_status(application=family.application).qualifies
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk)
    status = trust.honest_declarant_status(application=family.application)
    assert not status.qualifies
    assert [c.code for c in status.conditions if not c.met] == ["no_bad_record"]


def test_honest_declarant_a_clear_gap_is_an_anomaly(people, make_family):
    family = make_family()
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw,
        application_id=app_id,
        outcome="gap",
        gap_items=[{"item": "存款", "declared": "0", "verified": "52000"}],
        reason="银行存款未申报",
    )
    status = trust.honest_declarant_status(application=family.refresh())
    assert [c.code for c in status.conditions if not c.met] == ["no_anomaly"]
    assert timezone.localdate().isoformat() in condition(status, "no_anomaly").reason


def test_honest_declarant_an_objection_during_notice_counts(people, make_family):
    family = make_family()
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw, application_id=app_id, outcome="consistent", reason="核对一致"
    )
    notice = casework_services.notice_post(
        actor=cw,
        application_id=app_id,
        starts_on=timezone.localdate() - datetime.timedelta(days=2),
        place="龙王坝村村务公开栏",
    )
    assert trust.honest_declarant_status(application=family.refresh()).qualifies
    casework_services.notice_objection_record(
        actor=cw,
        notice=notice,
        objector="村民甲",
        content="该户有一辆货车",
        raised_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    status = trust.honest_declarant_status(application=family.refresh())
    assert [c.code for c in status.conditions if not c.met] == ["no_notice_objection"]


# --- rewards ---------------------------------------------------------------------------------


def test_rewards_go_to_trustworthy_households_without_a_finding(people, make_family, in_force):
    honest = make_family()
    sanctioned = make_family()
    silent = make_family()
    for family in (honest, sanctioned):
        trust.trust_record(
            actor=people.caseworker_a,
            household_id=family.application.household_id,
            kind="prompt_change_report",
            facts="家庭成员外出务工后及时申报收入变化",
            recorded_on=JAN_1,
        )
    in_force(sanctioned, MODERATE, on=JAN_1)
    candidates = trust.reward_candidates_for_user(user=people.approver_a, year=Y)
    assert [h.pk for h in candidates] == [honest.application.household_id]
    assert candidates[0].trust_kinds == ["prompt_change_report"]

    reward = trust.reward_grant(
        actor=people.approver_a,
        household_id=honest.application.household_id,
        year=Y,
        kind=Reward.Kind.HONOUR_ROLL,
        note="光荣榜公示",
    )
    assert AuditEvent.objects.filter(action="reward.grant", object_id=str(reward.pk)).exists()
    with pytest.raises(Conflict):
        trust.reward_grant(
            actor=people.approver_a,
            household_id=honest.application.household_id,
            year=Y,
            kind=Reward.Kind.HONOUR_ROLL,
        )
    for family in (sanctioned, silent):
        with pytest.raises(DomainError):
            trust.reward_grant(
                actor=people.approver_a,
                household_id=family.application.household_id,
                year=Y,
                kind=Reward.Kind.WELFARE_JOB,
            )
    with pytest.raises(PermissionDenied):
        trust.reward_grant(
            actor=people.caseworker_a,
            household_id=honest.application.household_id,
            year=Y,
            kind=Reward.Kind.HOLIDAY_VISIT,
        )
    assert Reward.objects.count() == 1
    # Township B's people do not see township A's candidates.
    assert not trust.reward_candidates_for_user(user=people.caseworker_b, year=Y).exists()


# --- yearly results --------------------------------------------------------------------------


def test_yearly_results_follow_the_rules_with_dates(people, places, make_family, enrol, in_force):
    clean = enrol(paying=False)
    untrustworthy = enrol(paying=False)
    watched = enrol(paying=False)
    repaired_in_time = enrol(paying=False)
    repaired_late = enrol(paying=False)
    withdrawn = enrol(paying=False)
    undecided = enrol(paying=False)
    draft = make_family()  # never decided: not in the population

    in_force(untrustworthy, MODERATE, on=JAN_1)
    in_force(watched, LIGHT, on=JAN_1)
    repair(people, in_force(repaired_in_time, MODERATE, on=JAN_1), on=datetime.date(Y, 12, 31))
    repair(people, in_force(repaired_late, MODERATE, on=JAN_1), on=datetime.date(Y + 1, 1, 1))
    objected = in_force(withdrawn, MODERATE, on=JAN_1)
    objection = services.objection_lodge(
        actor=people.caseworker_a,
        finding_id=objected.pk,
        statement="收入为一次性补贴，不应计入",
        lodged_on=JAN_1,
    )
    services.objection_review(
        actor=people.approver_a,
        objection_id=objection.pk,
        upheld=True,
        note="异议成立",
        today=JAN_1,
    )
    services.finding_record(
        actor=people.caseworker_a,
        household_id=undecided.application.household_id,
        person_id=None,
        behaviour_code=MODERATE,
        facts="待乡镇认定",
        source_kind="case",
        found_on=JAN_1,
    )

    counts = trust.yearly_results_compute(county=places.county, year=Y, today=NEXT_JANUARY)

    def of(family):
        return results(places.county).get(family.application.household_id)

    assert of(clean) == "good"
    assert of(untrustworthy) == "untrustworthy"
    assert of(watched) == "watch"
    assert of(repaired_in_time) == "good"  # repaired on the year's last day
    assert of(repaired_late) == "untrustworthy"  # repaired the day after
    assert of(withdrawn) == "good"
    assert of(undecided) == "good"  # proposed, not decided
    assert of(draft) is None
    assert counts == {"good": 4, "watch": 1, "untrustworthy": 2}
    assert AuditEvent.objects.filter(action="yearly_result.compute").count() == 1

    # The finding of year Y, never repaired, still stands at the end of Y+1.
    counts = trust.yearly_results_compute(
        county=places.county, year=Y, today=datetime.date(Y + 1, 6, 1)
    )
    assert counts["untrustworthy"] == 2


def test_recomputing_a_year_is_idempotent_and_follows_changes(people, places, enrol, in_force):
    first = enrol(paying=False)
    second = enrol(paying=False)
    finding = in_force(first, MODERATE, on=JAN_1)
    once = trust.yearly_results_compute(county=places.county, year=Y, today=NEXT_JANUARY)
    rows = list(YearlyResult.objects.order_by("household_id").values_list("id", "result"))
    again = trust.yearly_results_compute(county=places.county, year=Y, today=NEXT_JANUARY)
    assert once == again == {"good": 1, "watch": 0, "untrustworthy": 1}
    assert list(YearlyResult.objects.order_by("household_id").values_list("id", "result")) == rows

    # A repair dated before the year's end changes the result on the next computation.
    repair(people, finding, on=datetime.date(Y, 12, 1))
    assert trust.yearly_results_compute(county=places.county, year=Y, today=NEXT_JANUARY) == {
        "good": 2,
        "watch": 0,
        "untrustworthy": 0,
    }
    # The other county is untouched, and a household that leaves the population goes.
    assert YearlyResult.objects.count() == 2
    YearlyResult.objects.filter(household_id=second.application.household_id).update(year=Y - 1)
    trust.yearly_results_compute(county=places.county, year=Y - 1, today=NEXT_JANUARY)
    assert not YearlyResult.objects.filter(year=Y - 1).exists()


def test_the_yearly_computation_is_one_statement(people, places, enrol):
    enrol(paying=False)
    with queries_captured() as queries:
        trust.yearly_results_compute(county=places.county, year=Y, today=NEXT_JANUARY)
    writes = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    # The results (one INSERT ... SELECT ... ON CONFLICT) and the audit row.
    assert len(writes) == 2, numbered(queries)
    assert "ON CONFLICT" in writes[0]


def test_only_a_year_that_has_ended_is_stored(people, places):
    with pytest.raises(DomainError) as refused:
        trust.yearly_results_compute(county=places.county, year=Y, today=datetime.date(Y, 12, 31))
    assert refused.value.field == "year"
    with pytest.raises(DomainError):
        trust.yearly_results_compute(county=places.township_a, year=Y - 1)
    with pytest.raises(PermissionDenied):
        trust.yearly_results_request(actor=people.caseworker_a, county=places.county, year=Y - 1)
    with pytest.raises(PermissionDenied):
        trust.yearly_results_request(
            actor=people.outsider_auditor, county=places.county, year=Y - 1
        )


def test_dashboard_rates_by_township_stored_and_live(people, places, enrol, in_force):
    families = [enrol(paying=False) for _ in range(4)]
    in_force(families[0], MODERATE, on=JAN_1)
    # Year Y stored as if on 5 January of Y+1; the live year is then Y+1, with the same
    # households enrolled and the finding still standing.
    trust.yearly_results_compute(county=places.county, year=Y, today=NEXT_JANUARY)
    dashboard = trust.untrustworthy_rates_for_user(user=people.auditor, today=NEXT_JANUARY)
    assert dashboard.years == [Y, Y + 1]
    [(township, (stored, live))] = dashboard.rows
    assert township == places.township_a
    assert (stored.untrustworthy, stored.households, str(stored.percent)) == (1, 4, "25.0")
    assert not stored.provisional
    assert (live.untrustworthy, live.households, live.provisional) == (1, 4, True)
    # The other county's auditor sees none of it.
    other = trust.untrustworthy_rates_for_user(user=people.outsider_auditor, today=NEXT_JANUARY)
    assert other.rows == []
