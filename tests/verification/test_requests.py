"""Verification requests: the authorisation rule, the fan-out to departments, answers
from snapshots, the report's verdict, issuing it into the case, overdue departments,
a real Celery worker, and the pages."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from aid_portal.simulator import records_for
from aid_portal.workdays import add_working_days
from cases import eligibility
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, Authorisation, Member, VerificationOutcome
from tests.cases import conftest as case_fixtures
from tests.cases.conftest import identity
from tests.conftest import Hold, InThread, kill_and_redeliver, lock_wait_at_most, wait_for
from tests.queries import assert_get_query_count
from tests.verification.conftest import SEED
from tests.verification.test_connector import live_department
from verification.feeds.models import DataItem, Department, Feed, Snapshot, SnapshotRecord
from verification.requests import selectors, services
from verification.requests.models import Answer, DepartmentQuery, VerificationRequest
from verification.requests.tasks import query_run

S = Application.State
C = DataItem.CompareAs

# The case fixtures (a county policy, the proof catalogue, a family builder) live in
# tests/cases/conftest.py, which pytest loads only for tests under tests/cases.
policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family

# code: (name, {item code: (item name, compared as)})
CATALOGUE = {
    "hrss": (
        "人社局",
        {"wages": ("工资收入", C.MONTHLY_INCOME), "job": ("就业登记", C.INFORMATION)},
    ),
    "finance": ("财政局", {"salary": ("财政供养工资", C.PUBLIC_SALARY)}),
    "bank": ("人民银行", {"deposit": ("银行存款", C.DEPOSIT)}),
    "police": ("公安局", {"vehicle": ("机动车", C.VEHICLE)}),
    "housing": ("不动产登记中心", {"house": ("不动产登记", C.REAL_ESTATE)}),
    "market": ("市场监管局", {"business": ("工商登记", C.BUSINESS)}),
    "finoffice": ("金融办", {"securities": ("证券账户", C.SECURITIES)}),
    "civil": ("民政局", {"death": ("死亡火化", C.DEATH)}),
}


@dataclass
class Catalogue:
    departments: dict[str, Department]
    items: dict[str, DataItem]
    snapshots: dict[str, Snapshot]

    def record(self, member: Member, item: str, *, value=None, text="", on=None):
        data_item = self.items[item]
        return SnapshotRecord.objects.create(
            snapshot=self.snapshots[data_item.department.code],
            identity_hash=member.person.identity_hash,
            name=member.person.name,
            item=data_item,
            value=None if value is None else Decimal(value),
            text=text,
            record_date=on or datetime.date(2026, 3, 1),
        )


@pytest.fixture
def catalogue(people) -> Catalogue:
    """Every kind of department with a snapshot in use (made here with the ORM)."""
    departments, items, snapshots = {}, {}, {}
    for code, (name, supplies) in CATALOGUE.items():
        department = Department.objects.create(code=code, name=name)
        feed = Feed.objects.create(department=department)
        snapshot = Snapshot.objects.create(
            feed=feed,
            status=Snapshot.Status.COMPLETE,
            file=f"feeds/{code}.csv",
            original_name=f"{code}.csv",
            uploaded_by=people.feedadmin,
        )
        Feed.objects.filter(pk=feed.pk).update(current=snapshot)
        departments[code], snapshots[code] = department, snapshot
        for item_code, (item_name, compare_as) in supplies.items():
            items[item_code] = DataItem.objects.create(
                department=department,
                code=item_code,
                name=item_name,
                sensitivity=DataItem.Sensitivity.MEDIUM,
                compare_as=compare_as,
            )
    return Catalogue(departments=departments, items=items, snapshots=snapshots)


def request_for(family, cw) -> VerificationRequest:
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    services.verification_request(actor=cw, application_id=app_id)
    return VerificationRequest.objects.get(application_id=app_id)


def answer_all(request: VerificationRequest) -> VerificationRequest:
    for query in request.queries.all():
        services.query_run(query_id=query.pk)
    request.refresh_from_db()
    return request


def verified(make_family, people, catalogue, *, income="300", kind="dibao_rural", records=()):
    """A family whose departments have answered: ``records`` are (member attr, item,
    kwargs) written into the snapshots before the queries run."""
    family = make_family(income=income, kind=kind)
    for who, item, kwargs in records:
        catalogue.record(getattr(family, who), item, **kwargs)
    return family, answer_all(request_for(family, people.caseworker_a))


def rows_of(request: VerificationRequest, kind: str) -> list[dict]:
    return [row for row in request.report["items"] if row["kind"] == kind]


# --- no query without a signed authorisation --------------------------------------------


@pytest.mark.django_db
def test_verification_start_refuses_a_household_with_a_person_not_authorised(
    make_family, people, catalogue
):
    family = make_family()
    supporter = intake_services.member_add(
        actor=people.caseworker_a,
        household=family.application.household,
        identity_number=identity("642222", "19450303", 77),
        name="马老汉",
        relation=Member.Relation.PARENT,
        is_supporter=True,
    )
    with pytest.raises(DomainError) as refused:
        services.verification_start(actor=people.caseworker_a, application=family.application)
    assert "马老汉" in refused.value.message
    assert not VerificationRequest.objects.exists()
    assert not DepartmentQuery.objects.exists()
    assert supporter.pk


@pytest.mark.django_db
def test_the_case_and_verification_refuse_by_the_one_rule_of_cases(make_family, people, catalogue):
    family = make_family()
    cw = people.caseworker_a
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    Authorisation.objects.filter(member__in=[family.applicant, family.spouse]).delete()
    with pytest.raises(DomainError) as rule:
        intake_services.authorisations_check(application=family.application)
    with pytest.raises(DomainError) as on_request:
        services.verification_request(actor=cw, application_id=app_id)
    with pytest.raises(DomainError) as on_opening:
        services.verification_start(actor=cw, application=family.application)
    assert on_request.value.message == on_opening.value.message == rule.value.message
    assert f"{family.applicant.person.name}、{family.spouse.person.name}" in rule.value.message
    assert not VerificationRequest.objects.exists()


@pytest.mark.django_db
def test_requesting_verification_with_an_authorisation_missing_is_refused(
    make_family, people, catalogue
):
    family = make_family()
    cw = people.caseworker_a
    intake_services.application_submit(actor=cw, application_id=family.application.pk)
    casework_services.application_accept(actor=cw, application_id=family.application.pk)
    Authorisation.objects.filter(member=family.spouse).delete()
    with pytest.raises(DomainError) as refused:
        services.verification_request(actor=cw, application_id=family.application.pk)
    assert family.spouse.person.name in refused.value.message
    assert family.refresh().state == S.ACCEPTED
    assert not VerificationRequest.objects.exists()


@pytest.mark.django_db
def test_a_query_never_asks_about_someone_whose_authorisation_is_gone(
    make_family, people, catalogue
):
    family = make_family()
    catalogue.record(family.applicant, "wages", value="300")
    catalogue.record(family.spouse, "wages", value="500")
    request = request_for(family, people.caseworker_a)
    Authorisation.objects.filter(member=family.spouse).delete()
    answer_all(request)
    assert set(Answer.objects.values_list("member_id", flat=True)) == {family.applicant.pk}


# --- the request fans out ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_opens_one_query_per_active_department_due_in_working_days(
    make_family, people, catalogue, django_capture_on_commit_callbacks
):
    Department.objects.filter(code="market").update(active=False)
    Department.objects.filter(code="civil").update(answer_days=3)
    family = make_family()
    with django_capture_on_commit_callbacks() as sent:
        request = request_for(family, people.caseworker_a)
    today = timezone.localdate()
    queries = {q.department.code: q for q in request.queries.select_related("department")}
    assert set(queries) == set(CATALOGUE) - {"market"}
    assert queries["hrss"].due_on == add_working_days(today, 7)
    assert queries["civil"].due_on == add_working_days(today, 3)
    assert {q.status for q in queries.values()} == {DepartmentQuery.Status.PENDING}
    assert len(sent) == len(queries)  # one task per department, after commit
    audit = AuditEvent.objects.get(action="verification.request")
    assert audit.object_id == str(request.pk)
    assert set(audit.new_values["departments"]) == set(queries)


# --- answers from snapshots ----------------------------------------------------------------


@pytest.mark.django_db
def test_snapshot_answers_are_stored_for_the_household_only_and_once(
    make_family, people, catalogue
):
    family = make_family()
    stranger = make_family()
    catalogue.record(family.applicant, "wages", value="300", on=datetime.date(2026, 2, 1))
    catalogue.record(stranger.applicant, "wages", value="9999")
    request = request_for(family, people.caseworker_a)
    hrss = request.queries.get(department__code="hrss")
    assert services.query_run(query_id=hrss.pk).status == DepartmentQuery.Status.ANSWERED
    answer = Answer.objects.get()
    assert (answer.member, answer.value, answer.record_date) == (
        family.applicant,
        Decimal("300.00"),
        datetime.date(2026, 2, 1),
    )
    assert answer.source == f"snapshot {catalogue.snapshots['hrss'].pk}"
    services.query_run(query_id=hrss.pk)  # a second run changes nothing
    assert Answer.objects.count() == 1
    hrss.refresh_from_db()
    assert hrss.attempts == 1
    request.refresh_from_db()
    assert request.status == VerificationRequest.Status.OPEN  # others still to answer
    request = answer_all(request)
    assert request.status == VerificationRequest.Status.ANSWERED
    assert request.verdict == VerificationRequest.Verdict.CONSISTENT
    assert AuditEvent.objects.filter(action="verification.query_answer").count() == len(CATALOGUE)


@pytest.mark.django_db
def test_a_department_without_a_snapshot_fails_and_is_not_taken_as_silence(
    make_family, people, catalogue
):
    Feed.objects.filter(department__code="bank").update(current=None)
    family = make_family()
    request = answer_all(request_for(family, people.caseworker_a))
    bank = request.queries.get(department__code="bank")
    assert bank.status == DepartmentQuery.Status.FAILED
    assert bank.attempts == 1 and "人民银行" in bank.last_error
    assert request.status == VerificationRequest.Status.OPEN and request.report is None


@pytest.mark.django_db
def test_a_live_department_that_cannot_be_reached_fails_with_the_reason(
    make_family, people, catalogue
):
    Department.objects.create(
        code="fund",
        name="公积金中心",
        channel=Department.Channel.LIVE,
        live_url="http://127.0.0.1:9/",
        timeout_seconds=1,
    )
    family = make_family()
    request = request_for(family, people.caseworker_a)
    fund = request.queries.get(department__code="fund")
    for attempt in (1, 2):
        query = services.query_run(query_id=fund.pk)
        assert query.status == DepartmentQuery.Status.FAILED
        assert query.attempts == attempt and query.last_error
    assert not Answer.objects.filter(query=fund).exists()


# --- the report's verdict ------------------------------------------------------------------


@pytest.mark.django_db
def test_matching_income_and_nothing_undeclared_is_basically_consistent(
    make_family, people, catalogue
):
    family, request = verified(
        make_family,
        people,
        catalogue,
        income="300",
        records=[
            ("applicant", "wages", {"value": "300"}),
            ("spouse", "job", {"text": "灵活就业"}),
        ],
    )
    assert request.verdict == VerificationRequest.Verdict.CONSISTENT
    assert request.report["verdict"] == "consistent"
    (mine, _theirs) = rows_of(request, "income")
    assert mine["member"] == family.applicant.person.name
    assert (mine["declared"], mine["verified"], mine["difference"]) == ("300.00", "300.00", "0.00")
    assert "人社局" in mine["source"] and mine["date"] == "2026-03-01"
    assert rows_of(request, "information")[0]["verdict"] == "information"
    for row in request.report["items"]:
        assert set(row) >= {
            "member",
            "item",
            "declared",
            "verified",
            "source",
            "date",
            "difference",
            "verdict",
        }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("declared", "verdict"),
    [
        ("900", "consistent"),  # the departments found 100 more than 900: exactly 10 %
        ("890", "gap"),  # 110 more: 11 %
        ("1100", "consistent"),  # declared more than found: consistent at any distance
        ("1110", "consistent"),  # (this row was a gap before: the rule had no direction)
    ],
)
def test_income_tolerance_is_ten_percent_of_the_verified_value_found_above_declared(
    make_family, people, catalogue, declared, verdict
):
    _family, request = verified(
        make_family,
        people,
        catalogue,
        income=declared,
        records=[("applicant", "wages", {"value": "1000"})],
    )
    assert request.verdict == verdict
    (per_capita,) = rows_of(request, "per_capita")
    assert per_capita["verdict"] == verdict


@pytest.mark.django_db
def test_within_tolerance_but_across_the_eligibility_line_is_a_gap(make_family, people, catalogue):
    # Rural standard 600, two members: 1180 → 590 a head (below), 1300 → 650 (above).
    _family, request = verified(
        make_family,
        people,
        catalogue,
        income="1180",
        records=[("applicant", "wages", {"value": "1300"})],
    )
    assert request.report["income"]["within_tolerance"] is True
    assert request.report["income"]["same_side"] is False
    assert request.verdict == VerificationRequest.Verdict.GAP


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "verdict"), [("low_income_edge", "gap"), ("dibao_rural", "consistent")]
)
def test_the_eligibility_line_depends_on_the_kind_of_assistance(
    make_family, people, catalogue, kind, verdict
):
    # Edge line 600 × 1.5 = 900 a head: 850 and 925 fall either side of it, but both
    # above the dibao line of 600.
    _family, request = verified(
        make_family,
        people,
        catalogue,
        income="1700",
        kind=kind,
        records=[("applicant", "wages", {"value": "1850"})],
    )
    assert request.verdict == verdict


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["dibao_rural", "low_income_edge"])
def test_the_report_judges_by_the_figures_of_the_amount(make_family, people, catalogue, kind):
    cw = people.caseworker_a
    family = make_family(income="1500.05", kind=kind)
    intake_services.expenditure_add(
        actor=cw, household=family.application.household, kind="medical", monthly_amount="200.03"
    )
    catalogue.record(family.applicant, "wages", value="1450")
    request = answer_all(request_for(family, cw))
    basis = eligibility.amount_compute(application=family.application)
    income = request.report["income"]
    assert income["declared_net_per_capita"] == str(basis.per_capita_income) == "650.01"
    assert income["threshold"] == str(basis.threshold)
    assert income["verified_net_per_capita"] == "624.99"  # (1450 − 200.03) / 2


@pytest.mark.django_db
def test_the_report_rounds_per_capita_income_as_the_decision_does(make_family, people, catalogue):
    # 1199.99 for two is 600.00 a head, as the amount and the decision count it: not
    # below the rural line of 600, where the verified 590 a head is.
    family, request = verified(
        make_family,
        people,
        catalogue,
        income="1199.99",
        records=[("applicant", "wages", {"value": "1180"})],
    )
    basis = eligibility.amount_compute(application=family.application)
    assert (basis.per_capita_income, basis.eligible) == (Decimal("600.00"), False)
    assert request.report["income"]["within_tolerance"] is True
    assert request.report["income"]["same_side"] is False
    assert request.verdict == VerificationRequest.Verdict.GAP


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("item", "asset_kind"),
    [
        ("vehicle", "vehicle"),
        ("house", "real_estate"),
        ("business", "business"),
        ("securities", "securities"),
    ],
)
def test_an_undeclared_holding_is_a_gap_and_a_declared_one_is_not(
    make_family, people, catalogue, item, asset_kind
):
    records = [("applicant", "wages", {"value": "300"}), ("applicant", item, {"text": "某登记"})]
    _family, request = verified(make_family, people, catalogue, records=records)
    assert request.verdict == VerificationRequest.Verdict.GAP
    (row,) = [r for r in request.report["items"] if r["kind"] == catalogue.items[item].compare_as]
    # The report is a document: its words are stored in the language it was built in.
    assert (row["verdict"], row["verified"], row["declared"]) == (
        "gap",
        "某登记",
        gettext("not declared"),
    )

    declared = make_family(income="300")
    intake_services.asset_add(
        actor=people.caseworker_a,
        household=declared.application.household,
        kind=asset_kind,
        description="已申报",
        value="10000",
    )
    catalogue.record(declared.applicant, "wages", value="300")
    catalogue.record(declared.applicant, item, text="某登记")
    request = answer_all(request_for(declared, people.caseworker_a))
    assert request.verdict == VerificationRequest.Verdict.CONSISTENT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("item", "kwargs"),
    [("salary", {"value": "0.01"}), ("death", {"text": "死亡", "on": datetime.date(2026, 1, 5)})],
)
def test_a_public_salary_or_a_death_is_always_a_gap(make_family, people, catalogue, item, kwargs):
    _family, request = verified(
        make_family,
        people,
        catalogue,
        records=[("applicant", "wages", {"value": "300"}), ("spouse", item, kwargs)],
    )
    assert request.verdict == VerificationRequest.Verdict.GAP
    (row,) = rows_of(request, catalogue.items[item].compare_as)
    assert row["verdict"] == "gap" and row["member"].startswith("李")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("declared", "found", "verdict", "overall"),
    [
        (None, "30000", "differs", "consistent"),  # undeclared, but under 2 × 20000
        (None, "40000.01", "gap", "gap"),  # undeclared and over the limit
        ("50000", "50000", "consistent", "consistent"),  # over the limit, but declared
    ],
)
def test_deposits_are_a_gap_only_when_undeclared_money_exceeds_the_limit(
    make_family, people, catalogue, declared, found, verdict, overall
):
    family = make_family(income="300")
    if declared:
        intake_services.asset_add(
            actor=people.caseworker_a,
            household=family.application.household,
            kind="deposit",
            description="活期",
            value=declared,
        )
    catalogue.record(family.applicant, "wages", value="300")
    catalogue.record(family.applicant, "deposit", value=found)
    request = answer_all(request_for(family, people.caseworker_a))
    (row,) = rows_of(request, "deposit")
    assert (row["verdict"], row["verified"]) == (
        verdict,
        str(Decimal(found).quantize(Decimal("0.01"))),
    )
    assert request.report["deposit_limit"] == "40000.00"
    assert request.verdict == overall


@pytest.mark.django_db
def test_what_is_found_about_a_supporter_is_shown_but_never_a_gap(make_family, people, catalogue):
    family = make_family(income="300")
    supporter = intake_services.member_add(
        actor=people.caseworker_a,
        household=family.application.household,
        identity_number=identity("642222", "19800808", 55),
        name="马大哥",
        relation=Member.Relation.SIBLING,
        is_supporter=True,
    )
    Authorisation.objects.create(member=supporter, signed_on=timezone.localdate())
    catalogue.record(family.applicant, "wages", value="300")
    catalogue.record(supporter, "vehicle", text="轿车")
    catalogue.record(supporter, "wages", value="5000")
    request = answer_all(request_for(family, people.caseworker_a))
    assert request.verdict == VerificationRequest.Verdict.CONSISTENT
    assert {r["verdict"] for r in rows_of(request, "supporter")} == {"information"}
    assert request.report["income"]["verified_total"] == "300.00"


# --- issuing the report -------------------------------------------------------------------


@pytest.mark.django_db
def test_issuing_a_consistent_report_sends_the_case_to_public_notice(
    make_family, people, catalogue
):
    family, request = verified(
        make_family, people, catalogue, records=[("applicant", "wages", {"value": "300"})]
    )
    services.report_issue(actor=people.verifier, verification_id=request.pk)
    request.refresh_from_db()
    assert request.status == VerificationRequest.Status.REPORTED and request.reported_at
    app = family.refresh()
    assert (app.state, app.path) == (S.PUBLIC_NOTICE, Application.Path.SIMPLIFIED)
    outcome = app.verification_outcomes.get()
    assert outcome.source == VerificationOutcome.Source.VERIFICATION
    assert outcome.outcome == "consistent" and outcome.gap_items == []
    with pytest.raises(Conflict):
        services.report_issue(actor=people.verifier, verification_id=request.pk)
    assert AuditEvent.objects.filter(action="verification.report_issue").count() == 1


@pytest.mark.django_db
def test_issuing_a_gap_report_opens_the_objection_window_with_the_items(
    make_family, people, catalogue
):
    family, request = verified(
        make_family,
        people,
        catalogue,
        records=[
            ("applicant", "wages", {"value": "300"}),
            ("applicant", "vehicle", {"text": "宁D12345"}),
        ],
    )
    services.report_issue(actor=people.caseworker_a, verification_id=request.pk)
    app = family.refresh()
    assert app.state == S.FEEDBACK
    outcome = app.verification_outcomes.get()
    assert outcome.outcome == "gap"
    assert outcome.objection_deadline == timezone.localdate() + datetime.timedelta(days=15)
    (gap,) = outcome.gap_items
    assert gap["verified"] == "宁D12345" and gap["item"].startswith(family.applicant.person.name)


@pytest.mark.django_db
def test_a_report_is_issued_only_when_complete_and_only_by_its_township_or_centre(
    make_family, people, catalogue
):
    Feed.objects.filter(department__code="bank").update(current=None)
    family = make_family()
    request = answer_all(request_for(family, people.caseworker_a))
    with pytest.raises(Conflict):
        services.report_issue(actor=people.caseworker_a, verification_id=request.pk)
    with pytest.raises(DomainError):
        services.report_issue(actor=people.caseworker_b, verification_id=request.pk)
    assert family.refresh().state == S.UNDER_VERIFICATION


# --- overdue departments --------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_queries_are_asked_again_with_an_audit_row_each(
    make_family, people, catalogue, django_capture_on_commit_callbacks
):
    family = make_family()
    request = request_for(family, people.caseworker_a)
    services.query_run(query_id=request.queries.get(department__code="hrss").pk)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    request.queries.filter(department__code__in=["hrss", "bank", "police"]).update(due_on=yesterday)
    overdue = selectors.queries_overdue()
    assert {q.department.code for q in overdue} == {"bank", "police"}  # hrss answered
    with django_capture_on_commit_callbacks() as sent:
        assert services.queries_reask() == 2
    assert len(sent) == 2
    audit = AuditEvent.objects.filter(action="verification.query_reask")
    assert audit.count() == 2 and {a.reason for a in audit} == {"overdue"}
    assert services.queries_reask(today=yesterday) == 0  # on their due day they are not late


@pytest.mark.django_db
def test_the_officer_may_re_ask_only_an_overdue_or_failed_query(make_family, people, catalogue):
    request = request_for(make_family(), people.caseworker_a)
    query = request.queries.get(department__code="bank")
    with pytest.raises(Conflict):
        services.query_reask(actor=people.verifier, query_id=query.pk)
    DepartmentQuery.objects.filter(pk=query.pk).update(status=DepartmentQuery.Status.FAILED)
    services.query_reask(actor=people.verifier, query_id=query.pk)
    with pytest.raises(Exception) as refused:
        services.query_reask(actor=people.caseworker_a, query_id=query.pk)
    assert refused.type.__name__ == "PermissionDenied"


# --- a real worker ----------------------------------------------------------------------


@pytest.mark.worker
def test_a_real_worker_answers_a_snapshot_department(
    make_family, people, catalogue, celery_worker_process
):
    Department.objects.exclude(code="hrss").update(active=False)
    family = make_family(income="300")
    catalogue.record(family.applicant, "wages", value="300")
    request = request_for(family, people.caseworker_a)  # the task is sent on commit
    wait_for(
        lambda: VerificationRequest.objects.filter(
            pk=request.pk, status=VerificationRequest.Status.ANSWERED
        ).exists(),
        timeout=60,
    )
    request.refresh_from_db()
    assert request.verdict == VerificationRequest.Verdict.CONSISTENT
    assert Answer.objects.get().source == f"snapshot {catalogue.snapshots['hrss'].pk}"


@pytest.mark.worker
def test_a_fan_out_whose_worker_is_killed_mid_query_answers_each_department_once(
    make_family, people, start_simulator, celery_worker_process
):
    """Two live departments asked by one request; the worker dies after the first
    department answered and while its answers were being written (the answers table
    held). Once the claim has run out the redelivered task asks again with the same
    request id, and the request ends as one asked by a worker that was not killed: the
    answers of each department once, one audit row each."""
    running = start_simulator()
    Department.objects.update(active=False)
    departments = [live_department(running.url, code=code) for code in ("hrss", "bank")]
    family = make_family()
    hold = Hold.table(Answer)
    request = request_for(family, people.caseworker_a)  # two tasks, sent on commit
    killed = []

    def killed_mid_way():
        claimed = list(request.queries.filter(claimed_at__isnull=False))
        assert len(claimed) == 1 and not Answer.objects.exists()
        assert running.attempts(claimed[0].request_id) == 1
        killed.append(claimed[0])
        # No task outlives the time limit, so by the broker's visibility timeout the
        # claim is known dead: age it rather than wait.
        DepartmentQuery.objects.filter(pk=claimed[0].pk).update(
            claimed_at=F("claimed_at") - services.CLAIM_LEASE
        )

    kill_and_redeliver(celery_worker_process, hold, before_redelivery=killed_mid_way)
    wait_for(
        lambda: VerificationRequest.objects.filter(
            pk=request.pk, status=VerificationRequest.Status.ANSWERED
        ).exists(),
        timeout=60,
    )
    for department in departments:
        query = request.queries.get(department=department)
        expected = [
            record
            for member in (family.applicant, family.spouse)
            for record in records_for(
                department=department.code,
                identity_number=member.person.identity_number,
                seed=SEED,
                as_of=datetime.date.today(),
            )
        ]
        assert Answer.objects.filter(query=query).count() == len(expected), department.code
        asked = 2 if query.pk == killed[0].pk else 1  # the same request id both times
        assert running.attempts(query.request_id) == asked
        assert query.status == DepartmentQuery.Status.ANSWERED and query.claimed_at is None
    assert AuditEvent.objects.filter(action="verification.query_answer").count() == 2
    # A late duplicate of the killed task asks nobody and writes nothing.
    services.query_run(query_id=killed[0].pk)
    assert running.attempts(killed[0].request_id) == 2
    assert AuditEvent.objects.filter(action="verification.query_answer").count() == 2


# --- no lock held while a department is asked ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_query_row_is_free_while_a_live_department_holds_its_answer(
    make_family, people, start_simulator
):
    slow = start_simulator(latency_ms=4000)
    hrss = live_department(slow.url, timeout_seconds=10)
    family = make_family()
    request = request_for(family, people.caseworker_a)
    query = request.queries.get(department=hrss)
    asking = InThread(lambda: services.query_run(query_id=query.pk))
    wait_for(lambda: slow.attempts(query.request_id) == 1, timeout=10)

    # The department has the question and answers 4 s later. Meanwhile another
    # transaction takes the row at once and changes it.
    later = query.due_on + datetime.timedelta(days=5)
    with lock_wait_at_most(1):
        DepartmentQuery.objects.select_for_update(nowait=True).get(pk=query.pk)
        DepartmentQuery.objects.filter(pk=query.pk).update(due_on=later)
    assert asking.session_state() == "idle"  # no transaction open while it waits
    assert asking.thread.is_alive(), "the department answered before the checks ran"

    answered = asking.join()
    assert answered.status == DepartmentQuery.Status.ANSWERED
    assert answered.attempts == 1 and answered.claimed_at is None
    assert answered.due_on == later  # the other transaction's change stands
    expected = [
        record
        for member in (family.applicant, family.spouse)
        for record in records_for(
            department="hrss",
            identity_number=member.person.identity_number,
            seed=SEED,
            as_of=datetime.date.today(),
        )
    ]
    assert Answer.objects.filter(query=query).count() == len(expected)
    assert AuditEvent.objects.filter(action="verification.query_answer").count() == 1
    assert slow.attempts(query.request_id) == 1
    request.refresh_from_db()
    assert request.status == VerificationRequest.Status.ANSWERED


@pytest.mark.django_db
def test_a_claimed_query_is_left_alone_until_its_claim_has_run_out(make_family, people, simulator):
    hrss = live_department(simulator.url)
    query = request_for(make_family(), people.caseworker_a).queries.get(department=hrss)
    # Another run claimed the query a moment ago and is waiting for the department.
    DepartmentQuery.objects.filter(pk=query.pk).update(claimed_at=timezone.now(), attempts=1)
    assert services.query_run(query_id=query.pk).status == DepartmentQuery.Status.PENDING
    assert simulator.attempts(query.request_id) == 0

    # That run died (no task outlives the time limit): its claim is taken over.
    expired = timezone.now() - services.CLAIM_LEASE - datetime.timedelta(seconds=1)
    DepartmentQuery.objects.filter(pk=query.pk).update(claimed_at=expired)
    answered = services.query_run(query_id=query.pk)
    assert answered.status == DepartmentQuery.Status.ANSWERED
    assert answered.attempts == 2 and answered.claimed_at is None
    assert simulator.attempts(query.request_id) == 1


# --- the pages ---------------------------------------------------------------------------


@pytest.fixture
def gap_request(make_family, people, catalogue):
    family, request = verified(
        make_family,
        people,
        catalogue,
        records=[
            ("applicant", "wages", {"value": "300"}),
            ("applicant", "vehicle", {"text": "宁D12345"}),
        ],
    )
    return family, request


@pytest.mark.django_db
def test_the_officer_sees_open_requests_with_overdue_departments_in_red(
    client, make_family, people, catalogue
):
    request = request_for(make_family(), people.caseworker_a)
    late = request.queries.get(department__code="bank")
    DepartmentQuery.objects.filter(pk=late.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    client.force_login(people.verifier)
    page = client.get(reverse("verification:requests"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<li class="overdue" id="query-{late.pk}">' in html
    assert reverse("verification:query-reask", args=[late.pk]) in html
    assert html.count("/reask/") == 1  # only the late department offers it
    response = client.post(reverse("verification:query-reask", args=[late.pk]))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="verification.query_reask", actor=people.verifier
    ).exists()
    client.force_login(people.caseworker_a)
    assert client.get(reverse("verification:requests")).status_code == 403


@pytest.mark.django_db
def test_the_officer_list_costs_the_same_queries_for_one_request_or_many(
    client, make_family, people, catalogue
):
    request_for(make_family(), people.caseworker_a)
    client.force_login(people.verifier)
    client.get(reverse("verification:requests"))  # the first visit also saves the session
    # session, user, role assignments, region grants, the count for the pager, the
    # requests (with case and village), their department queries (with departments),
    # their applicants, and the officer's villages for the search's village select
    assert_get_query_count(client, reverse("verification:requests"), 9)
    for _ in range(3):
        request_for(make_family(), people.caseworker_a)
    assert_get_query_count(client, reverse("verification:requests"), 9)


@pytest.mark.django_db
def test_the_report_page_shows_each_item_and_issuing_it_moves_the_case(client, gap_request, people):
    family, request = gap_request
    client.force_login(people.caseworker_a)
    page = client.get(reverse("verification:report", args=[request.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "宁D12345" in html and "机动车" in html and "公安局" in html
    assert reverse("verification:report-issue", args=[request.pk]) in html
    read = AuditEvent.objects.get(action="sensitive.read", actor=people.caseworker_a)
    assert read.new_values == {"field": "verification_report"}
    assert read.object_id == str(request.pk)

    response = client.post(reverse("verification:report-issue", args=[request.pk]))
    assert response.status_code == 302
    assert family.refresh().state == S.FEEDBACK
    html = client.get(reverse("verification:report", args=[request.pk])).content.decode()
    assert reverse("verification:feedback-letter", args=[request.pk]) in html
    assert reverse("verification:report-issue", args=[request.pk]) not in html


@pytest.mark.django_db
def test_the_printed_report_and_the_feedback_letter(client, gap_request, people):
    family, request = gap_request
    client.force_login(people.caseworker_a)
    letter_url = reverse("verification:feedback-letter", args=[request.pk])
    assert client.get(letter_url).status_code == 404  # not issued yet
    printed = client.get(reverse("verification:report-print", args=[request.pk]))
    assert printed.status_code == 200
    html = printed.content.decode()
    assert "宁D12345" in html and 'class="mainnav"' not in html
    services.report_issue(actor=people.caseworker_a, verification_id=request.pk)
    letter = client.get(letter_url)
    assert letter.status_code == 200
    html = letter.content.decode()
    deadline = family.refresh().verification_outcomes.get().objection_deadline
    assert deadline.strftime("%Y-%m-%d") in html
    assert "宁D12345" in html and family.applicant.person.name in html
    assert 'class="mainnav"' not in html
    reads = AuditEvent.objects.filter(action="sensitive.read", object_id=str(request.pk))
    assert reads.count() == 2  # the printed report and the letter (not the refused one)


@pytest.mark.django_db
def test_another_township_sees_nothing_of_the_report(client, gap_request, people):
    _family, request = gap_request
    services.report_issue(actor=people.caseworker_a, verification_id=request.pk)
    for person in (people.caseworker_b, people.assistant_a, people.outsider_auditor):
        client.force_login(person)
        for name in ("report", "report-print", "feedback-letter"):
            url = reverse(f"verification:{name}", args=[request.pk])
            assert client.get(url).status_code == 404, (person, name)
        assert (
            client.post(reverse("verification:report-issue", args=[request.pk])).status_code == 404
        )
    assert not AuditEvent.objects.filter(
        action="sensitive.read", actor__in=[people.caseworker_b, people.assistant_a]
    ).exists()


# --- where verification stands: one reading on every page --------------------------------


def _stage_label(request: VerificationRequest) -> str:
    return selectors.verification_stage(request.application).label


@pytest.mark.django_db
def test_a_case_whose_departments_all_answered_says_so_everywhere_and_offers_the_report(
    client, gap_request, people
):
    family, request = gap_request
    label = _stage_label(request)
    assert gettext("clear gap") in label
    client.force_login(people.caseworker_a)
    html = client.get(reverse("cases:detail", args=[family.application.pk])).content.decode()
    assert gettext("Not verified yet.") not in html
    # The case page's status and its honest-declarant table read the same.
    assert html.count(label) == 2
    assert f'<strong id="verification-status" class="error">{label}</strong>' in html
    assert 'id="condition-no_anomaly"' in html
    # The next step comes first, as the primary button, before the manual outcome.
    issue = reverse("verification:report-issue", args=[request.pk])
    assert html.index(issue) < html.index('id="action-verification_outcome"')
    assert 'class="primary big" id="first-action"' in html
    # Nothing polls once the departments are done.
    assert reverse("verification:case-stage", args=[family.application.pk]) not in html
    # The report page shows the same reading.
    report = client.get(reverse("verification:report", args=[request.pk])).content.decode()
    assert label in report

    # Issued from the case page, the case comes back with its new stage.
    response = client.post(issue, {"next": reverse("cases:detail", args=[family.application.pk])})
    assert response.status_code == 302
    assert response.url == reverse("cases:detail", args=[family.application.pk])
    assert family.refresh().state == S.FEEDBACK
    request.refresh_from_db()
    label = _stage_label(request)
    html = client.get(response.url).content.decode()
    assert html.count(label) == 2
    assert issue not in html


@pytest.mark.django_db
def test_an_approver_sees_the_stage_without_the_issue_button(client, gap_request, people):
    family, request = gap_request
    client.force_login(people.approver_a)
    html = client.get(reverse("cases:detail", args=[family.application.pk])).content.decode()
    assert _stage_label(request) in html
    assert reverse("verification:report-issue", args=[request.pk]) not in html


@pytest.mark.django_db
def test_the_case_page_refreshes_itself_while_departments_answer(
    client, make_family, people, catalogue
):
    request = request_for(make_family(), people.caseworker_a)
    app_id = request.application_id
    stage_url = reverse("verification:case-stage", args=[app_id])
    client.force_login(people.caseworker_a)
    html = client.get(reverse("cases:detail", args=[app_id])).content.decode()
    assert f'hx-get="{stage_url}" hx-trigger="every 2s"' in html
    total = request.queries.count()
    waiting = gettext("Waiting for the departments: %(answered)s of %(total)s answered.") % {
        "answered": 0,
        "total": total,
    }
    assert waiting in html
    report = client.get(reverse("verification:report", args=[request.pk])).content.decode()
    assert stage_url in report and waiting in report

    first = request.queries.order_by("pk").first()
    services.query_run(query_id=first.pk)
    polled = client.get(stage_url, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in polled
    assert (
        gettext("Waiting for the departments: %(answered)s of %(total)s answered.")
        % {"answered": 1, "total": total}
        in polled.content.decode()
    )
    answer_all(request)
    polled = client.get(stage_url, HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"


# --- two workers, as on two machines (issue 16 item 6) -------------------------------------


@pytest.mark.worker
def test_a_fan_out_with_duplicates_on_two_workers_asks_each_department_once(
    make_family, people, start_simulator, two_celery_workers
):
    """One request asks two live departments (slow: 2 s each); every query's task is also
    sent a second time, and two worker processes take the four at once. Each department
    is asked once and answers once: a duplicate finds the query claimed or answered."""
    running = start_simulator(latency_ms=2000)
    Department.objects.update(active=False)
    departments = [live_department(running.url, code=code) for code in ("hrss", "bank")]
    family = make_family()
    started = time.monotonic()
    request = request_for(family, people.caseworker_a)  # two tasks, sent on commit
    for query in request.queries.all():
        query_run.delay(query.pk)  # the duplicates
    wait_for(
        lambda: VerificationRequest.objects.filter(
            pk=request.pk, status=VerificationRequest.Status.ANSWERED
        ).exists(),
        timeout=90,
    )
    elapsed = time.monotonic() - started
    received = two_celery_workers.received("verification.query_run")
    print(f"query_run ×4 on two workers at once: answered in {elapsed:.1f} s, by {received}")
    assert all(received)
    for department in departments:
        query = request.queries.get(department=department)
        assert query.status == DepartmentQuery.Status.ANSWERED and query.claimed_at is None
        assert running.attempts(query.request_id) == 1, department.code  # asked once
        expected = [
            record
            for member in (family.applicant, family.spouse)
            for record in records_for(
                department=department.code,
                identity_number=member.person.identity_number,
                seed=SEED,
                as_of=datetime.date.today(),
            )
        ]
        assert Answer.objects.filter(query=query).count() == len(expected)  # stored once
    assert AuditEvent.objects.filter(action="verification.query_answer").count() == 2
