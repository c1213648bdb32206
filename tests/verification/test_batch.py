"""Batch comparisons: findings per kind, the run's idempotence, resolution by the
township caseworker, the pages and the XLSX download, and the task on a real worker."""

from __future__ import annotations

import datetime
import io
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aid_portal.crypto import blind_index
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases.intake import services
from cases.models import Application, Member
from tests.cases import conftest as cases_fixtures
from tests.cases.conftest import identity
from tests.conftest import Hold, backends_waiting, kill_and_redeliver, wait_for
from tests.queries import assert_same_query_count, numbered, queries_of
from verification.batch.models import BatchFinding, BatchRun
from verification.batch.services import batch_period, batch_run, batch_run_request, finding_resolve
from verification.batch.tasks import batch_run_task
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import DataItem, Feed, Snapshot, SnapshotRecord

# The case fixtures (tests/cases/conftest.py), shared with this directory.
make_family = cases_fixtures.make_family
policy = cases_fixtures.policy
proof_items = cases_fixtures.proof_items

K = BatchFinding.Kind
ENROLLED = Application.State.APPROVED


@dataclass
class BatchWorld:
    dead: object  # Family: the applicant died
    salaried: object  # applicant paid from public funds; spouse owns an undeclared car
    declared: object  # real estate on record and declared; business (tax) not declared
    deposit_at_limit: object
    deposit_over: object
    two_programmes: object  # the same household in dibao and temporary assistance
    temporary: Application  # its second application
    shared: object  # applicant also a member of ``other_household``'s family
    other_household: Application
    not_enrolled: object  # still a draft: nothing found although a death is on record
    township_b: Application  # an enrolled family of township B with a vehicle
    supporter: Member  # a supporter with a death record: supporters are not compared
    outside: Application  # enrolled in the other county, with a vehicle on record


def _number(member: Member) -> str:
    return member.person.identity_number


def _snapshot(department_code: str, user, records: list[tuple[Member | str, str, str]]):
    """A complete snapshot in use for the department, with (member, item, value) rows."""
    feed = Feed.objects.get(department__code=department_code)
    snapshot = Snapshot.objects.create(
        feed=feed,
        status=Snapshot.Status.COMPLETE,
        file=f"feeds/{department_code}.csv",
        original_name=f"{department_code}.csv",
        uploaded_by=user,
        rows_total=len(records),
        rows_loaded=len(records),
    )
    items = {i.code: i for i in DataItem.objects.filter(department=feed.department)}
    SnapshotRecord.objects.bulk_create(
        SnapshotRecord(
            snapshot=snapshot,
            identity_hash=blind_index(who if isinstance(who, str) else _number(who)),
            item=items[item],
            value=Decimal(value) if value else None,
            record_date=datetime.date(2026, 5, 1),
        )
        for who, item, value in records
    )
    Feed.objects.filter(pk=feed.pk).update(current=snapshot)
    return snapshot


def _enrol(*applications: Application, decided_at: datetime.datetime | None = None) -> None:
    Application.objects.filter(pk__in=[a.pk for a in applications]).update(
        state=ENROLLED, decided_at=decided_at or timezone.now() - datetime.timedelta(days=90)
    )


@pytest.fixture
def bw(make_family, people, places) -> BatchWorld:
    load_catalogue()
    dead = make_family()
    salaried = make_family()
    declared = make_family()
    services.asset_add(
        actor=people.caseworker_a,
        household=declared.application.household,
        kind="real_estate",
        description="住房一套",
        value="50000",
    )
    deposit_at_limit = make_family()
    deposit_over = make_family()
    two_programmes = make_family()
    temporary = services.application_create(
        actor=people.caseworker_a,
        household=two_programmes.application.household,
        assistance_type="temporary_emergency",
    )
    shared = make_family()
    other = make_family()
    # The shared person, also in the other family (inactive there, as the one-household
    # index demands; two enrolled applications make it a double enrolment all the same).
    Member.objects.create(
        household=other.application.household,
        person=shared.applicant.person,
        relation=Member.Relation.SIBLING,
        active=False,
    )
    not_enrolled = make_family()
    supporter = services.member_add(
        actor=people.caseworker_a,
        household=dead.application.household,
        identity_number=identity("642222", "19450303", 5),
        name="赡养人",
        relation=Member.Relation.CHILD,
        is_supporter=True,
    )
    township_b = _family_elsewhere(people.caseworker_b, places.village_b, "642222", 11)
    outside = _family_elsewhere(None, places.other_village, "640402", 13)
    _enrol(
        dead.application,
        salaried.application,
        declared.application,
        deposit_at_limit.application,
        deposit_over.application,
        two_programmes.application,
        temporary,
        shared.application,
        other.application,
        township_b,
        outside,
    )
    user = people.feedadmin
    _snapshot(
        "civil_affairs",
        user,
        [
            (dead.applicant, "death", ""),
            (not_enrolled.applicant, "death", ""),
            (supporter, "death", ""),
        ],
    )
    _snapshot("finance", user, [(salaried.applicant, "public_salary", "5200")])
    vehicle_b = township_b.household.members.get(relation="self")
    vehicle_outside = outside.household.members.get(relation="self")
    _snapshot(
        "public_security",
        user,
        [
            (salaried.spouse, "vehicle", "80000"),
            (vehicle_b, "vehicle", "30000"),
            (vehicle_outside, "vehicle", "30000"),
            (dead.spouse, "household_registration", ""),
        ],
    )
    _snapshot("housing", user, [(declared.applicant, "real_estate", "50000")])
    _snapshot("tax", user, [(declared.spouse, "business_tax", "1200")])
    _snapshot(
        "bank",
        user,
        [
            (deposit_at_limit.applicant, "deposit", "20000"),
            (deposit_at_limit.spouse, "deposit", "20000"),
            (deposit_over.applicant, "deposit", "20000"),
            (deposit_over.spouse, "deposit", "20000.01"),
        ],
    )
    # A replaced snapshot of the market department names everyone: it is not in use.
    market = _snapshot("market", user, [(dead.spouse, "business_registration", "1")])
    Snapshot.objects.filter(pk=market.pk).update(status=Snapshot.Status.REPLACED)
    Feed.objects.filter(department__code="market").update(current=None)
    return BatchWorld(
        dead=dead,
        salaried=salaried,
        declared=declared,
        deposit_at_limit=deposit_at_limit,
        deposit_over=deposit_over,
        two_programmes=two_programmes,
        temporary=temporary,
        shared=shared,
        other_household=other.application,
        not_enrolled=not_enrolled,
        township_b=township_b,
        supporter=supporter,
        outside=outside,
    )


def _family_elsewhere(actor, village, area, sequence) -> Application:
    if actor is None:
        from aid_portal.models import Role
        from tests.conftest import make_user

        actor = make_user(f"caseworker_{village.code}", Role.TOWNSHIP_CASEWORKER, village.parent)
    household = services.household_create(actor=actor, village=village, address="某村2号")
    services.member_add(
        actor=actor,
        household=household,
        identity_number=identity(area, "19600606", sequence),
        name=f"户主{sequence}",
        relation=Member.Relation.SELF,
    )
    return services.application_create(
        actor=actor, household=household, assistance_type="dibao_rural"
    )


def _found(run: BatchRun) -> set[tuple[str, int, int | None]]:
    """(kind, application, person) of each finding of the run."""
    return set(run.findings.values_list("kind", "application_id", "person_id"))


def test_the_enrolled_application_index_holds_exactly_the_enrolled_states():
    """The partial index a run's two-programmes branch reads is written with the states'
    values (a model's Meta cannot name its class's constants); it must follow them."""
    index = next(i for i in Application._meta.indexes if i.name == "application_enrolled")
    assert set(dict(index.condition.children)["state__in"]) == Application.ENROLLED_STATES


def test_half_yearly_run_finds_each_kind_for_exactly_the_right_people(bw, places, people):
    run = batch_run(county=places.county, kind=BatchRun.Kind.HALF_YEARLY_ALL, actor=people.auditor)

    assert run.status == BatchRun.Status.FINISHED
    b_applicant = bw.township_b.household.members.get(relation="self")
    assert _found(run) == {
        (K.DEAD_BUT_PAID, bw.dead.application.pk, bw.dead.applicant.person_id),
        (K.PUBLIC_SALARY, bw.salaried.application.pk, bw.salaried.applicant.person_id),
        (K.VEHICLE, bw.salaried.application.pk, bw.salaried.spouse.person_id),
        (K.VEHICLE, bw.township_b.pk, b_applicant.person_id),
        # Real estate was declared; the business the tax office knows of was not.
        (K.BUSINESS, bw.declared.application.pk, bw.declared.spouse.person_id),
        # 40,000.01 against 2 × 20,000; exactly 40,000 is within the limit.
        (K.DEPOSIT_OVER_LIMIT, bw.deposit_over.application.pk, None),
        (K.TWO_PROGRAMMES, bw.two_programmes.application.pk, None),
        (K.TWO_PROGRAMMES, bw.temporary.pk, None),
        # The same person, found once on each of the two applications.
        (K.TWO_HOUSEHOLDS, bw.shared.application.pk, bw.shared.applicant.person_id),
        (K.TWO_HOUSEHOLDS, bw.other_household.pk, bw.shared.applicant.person_id),
    }
    assert run.counts == {
        K.DEAD_BUT_PAID: 1,
        K.TWO_HOUSEHOLDS: 2,
        K.TWO_PROGRAMMES: 2,
        K.PUBLIC_SALARY: 1,
        K.VEHICLE: 2,
        K.REAL_ESTATE: 0,
        K.BUSINESS: 1,
        K.DEPOSIT_OVER_LIMIT: 1,
    }
    deposit = run.findings.get(kind=K.DEPOSIT_OVER_LIMIT)
    assert Decimal(str(deposit.detail["total"])) == Decimal("40000.01")
    assert deposit.detail["members"] == 2
    death = run.findings.get(kind=K.DEAD_BUT_PAID)
    assert death.detail["records"][0]["department"] == "civil_affairs"
    assert AuditEvent.objects.filter(action="batch.run", object_id=str(run.pk)).count() == 1


def test_the_deposit_limit_is_the_policy_in_force(bw, places, policy):
    from cases.models import Policy

    Policy.objects.create(
        county=places.county,
        effective_from=timezone.localdate() - datetime.timedelta(days=1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
        deposit_limit_per_person=Decimal("19999.99"),
    )
    run = batch_run(county=places.county, kind=BatchRun.Kind.ON_DEMAND)
    assert set(
        run.findings.filter(kind=K.DEPOSIT_OVER_LIMIT).values_list("application_id", flat=True)
    ) == {bw.deposit_at_limit.application.pk, bw.deposit_over.application.pk}


def test_a_county_with_no_policy_fails_with_the_reason(bw, places):
    from cases.models import Policy

    Policy.objects.filter(county=places.county).delete()
    run = batch_run(county=places.county, kind=BatchRun.Kind.ON_DEMAND)
    assert run.status == BatchRun.Status.FAILED
    assert "policy" in run.error or "政策" in run.error
    assert not run.findings.exists()


def test_monthly_run_covers_only_last_months_decisions(bw, places):
    today = timezone.localdate()
    start, end = batch_period(BatchRun.Kind.MONTHLY_NEW, today)
    tz = timezone.get_current_timezone()
    last_month = datetime.datetime.combine(start, datetime.time(10), tzinfo=tz)
    _enrol(bw.dead.application, bw.salaried.application, decided_at=last_month)
    # Decided at the very end of last month (local time): still last month.
    _enrol(
        bw.township_b,
        decided_at=datetime.datetime.combine(end, datetime.time(23, 59), tzinfo=tz),
    )

    run = batch_run(county=places.county, kind=BatchRun.Kind.MONTHLY_NEW, today=today)

    assert (run.period_start, run.period_end) == (start, end)
    assert {app for _kind, app, _person in _found(run)} == {
        bw.dead.application.pk,
        bw.salaried.application.pk,
        bw.township_b.pk,
    }


def test_a_run_computed_twice_finds_nothing_twice(bw, places):
    first = batch_run(county=places.county, kind=BatchRun.Kind.HALF_YEARLY_ALL)
    again = batch_run(county=places.county, kind=BatchRun.Kind.HALF_YEARLY_ALL)
    assert again.pk == first.pk  # a scheduled run delivered twice reuses its period's run
    assert again.counts == first.counts
    assert BatchFinding.objects.filter(run=first).count() == first.total == 10
    # An on-demand run computed twice over its own id, likewise.
    on_demand = batch_run(county=places.county, kind=BatchRun.Kind.ON_DEMAND)
    repeated = batch_run(county=places.county, kind=BatchRun.Kind.ON_DEMAND, run_id=on_demand.pk)
    assert repeated.counts == on_demand.counts
    assert on_demand.findings.count() == 10


def test_nothing_is_found_without_snapshots(make_family, places):
    family = make_family()
    _enrol(family.application)
    run = batch_run(county=places.county, kind=BatchRun.Kind.ON_DEMAND)
    assert run.status == BatchRun.Status.FINISHED
    assert run.total == 0


# --- resolution --------------------------------------------------------------------------


@pytest.fixture
def run(bw, places):
    return batch_run(county=places.county, kind=BatchRun.Kind.HALF_YEARLY_ALL)


def test_caseworker_resolves_a_finding_with_a_reason(run, bw, people):
    finding = run.findings.get(kind=K.DEAD_BUT_PAID)
    with pytest.raises(DomainError) as refused:
        finding_resolve(
            actor=people.caseworker_a, finding=finding, resolution="dismissed", reason=" "
        )
    assert refused.value.field == "reason"
    finding.refresh_from_db()
    assert finding.resolution == BatchFinding.Resolution.OPEN

    finding_resolve(
        actor=people.caseworker_a,
        finding=finding,
        resolution="review_opened",
        reason="民政死亡记录属实，启动复核",
    )
    finding.refresh_from_db()
    assert finding.resolution == BatchFinding.Resolution.REVIEW_OPENED
    assert finding.resolved_by == people.caseworker_a
    assert finding.resolved_at is not None
    event = AuditEvent.objects.get(action="batch_finding.resolve", object_id=str(finding.pk))
    assert event.reason == "民政死亡记录属实，启动复核"

    with pytest.raises(Conflict):
        finding_resolve(
            actor=people.caseworker_a, finding=finding, resolution="dismissed", reason="再次"
        )


def test_resolution_must_be_one_of_the_two(run, people):
    finding = run.findings.get(kind=K.PUBLIC_SALARY)
    with pytest.raises(DomainError):
        finding_resolve(actor=people.caseworker_a, finding=finding, resolution="open", reason="x")


def test_a_caseworker_of_another_township_is_refused(run, people):
    finding = run.findings.get(kind=K.DEAD_BUT_PAID)
    for outsider in (people.caseworker_b, people.auditor, people.assistant_a):
        with pytest.raises(PermissionDenied):
            finding_resolve(actor=outsider, finding=finding, resolution="dismissed", reason="无")
    finding.refresh_from_db()
    assert finding.resolution == BatchFinding.Resolution.OPEN


# --- pages -------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_runs_page_lists_runs_and_starts_one(
    run, people, places, django_capture_on_commit_callbacks
):
    client = _client(people.auditor)
    response = client.get(reverse("verification:batch-runs"))
    assert response.status_code == 200
    assert reverse("verification:batch-run", args=[run.pk]) in response.content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("verification:batch-runs"), {"county": places.county.pk})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is enqueued after the commit
    started = BatchRun.objects.get(kind=BatchRun.Kind.ON_DEMAND)
    assert started.started_by == people.auditor
    assert started.status == BatchRun.Status.RUNNING


def test_runs_page_refuses_a_county_outside(run, people, places):
    client = _client(people.auditor)
    response = client.post(reverse("verification:batch-runs"), {"county": places.other_county.pk})
    assert response.status_code == 400
    assert not BatchRun.objects.filter(kind=BatchRun.Kind.ON_DEMAND).exists()
    assert _client(people.caseworker_a).get(reverse("verification:batch-runs")).status_code == 403


def test_run_page_shows_counts_by_township(run, people, places):
    response = _client(people.verifier).get(reverse("verification:batch-run", args=[run.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert places.township_a.name in body and places.township_b.name in body
    assert (
        _client(people.outsider_auditor)
        .get(reverse("verification:batch-run", args=[run.pk]))
        .status_code
        == 404
    )


def test_xlsx_download_has_counts_and_masked_findings(run, bw, people, places):
    response = _client(people.feedadmin).get(reverse("verification:batch-run-xlsx", args=[run.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    counts, findings = book.worksheets
    header = [cell.value for cell in counts[1]]
    rows = {row[0]: row for row in counts.iter_rows(min_row=2, values_only=True)}
    assert len(header) == len(K.values) + 2  # township, each kind, total
    vehicle = 1 + K.values.index(K.VEHICLE)
    assert rows[places.township_a.name][-1] == 9
    assert rows[places.township_b.name][-1] == 1
    assert rows[places.township_b.name][vehicle] == 1
    assert list(rows.values())[-1][-1] == 10  # the total row
    lines = list(findings.iter_rows(min_row=2, values_only=True))
    assert len(lines) == 10
    numbers = [line[5] for line in lines if line[5]]
    full = _number(bw.dead.applicant)
    assert full not in numbers
    assert any(n[:4] == full[:4] and "*" in n for n in numbers)


def test_findings_queue_of_the_township_and_resolving_it(run, bw, people):
    client = _client(people.caseworker_a)
    response = client.get(reverse("verification:findings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("cases:detail", args=[bw.dead.application.pk]) in body
    assert reverse("cases:detail", args=[bw.township_b.pk]) not in body
    assert _number(bw.dead.applicant) not in body

    finding = run.findings.get(kind=K.DEAD_BUT_PAID)
    url = reverse("verification:finding-resolve", args=[finding.pk])
    response = client.post(url, {"resolution": "dismissed", "reason": ""})
    assert response.status_code == 400
    assert "error" in response.content.decode()
    response = client.post(url, {"resolution": "dismissed", "reason": "系同名人员，核实无误"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.resolution == BatchFinding.Resolution.DISMISSED
    body = client.get(reverse("verification:findings")).content.decode()
    assert f'id="finding-{finding.pk}"' not in body
    # Resolved already: a warning, nothing changes.
    response = client.post(url, {"resolution": "review_opened", "reason": "再看"}, follow=True)
    finding.refresh_from_db()
    assert finding.resolution == BatchFinding.Resolution.DISMISSED

    # Township B's caseworker does not find township A's finding at all.
    other = run.findings.exclude(pk=finding.pk).filter(application=bw.salaried.application).first()
    response = _client(people.caseworker_b).post(
        reverse("verification:finding-resolve", args=[other.pk]),
        {"resolution": "dismissed", "reason": "无"},
    )
    assert response.status_code == 404


def test_findings_page_query_count_does_not_grow(run, people):
    client = _client(people.caseworker_a)
    url = reverse("verification:findings")
    client.get(url)  # warm the session

    many = queries_of(client, url)
    # session, user, roles, grants, count, one page of findings (run, case, village,
    # person joined in): no query per row.
    assert len(many) <= 8, numbered(many)
    keep = run.findings.filter(application__village__code__startswith="640422100").first()
    run.findings.exclude(pk=keep.pk).update(resolution=BatchFinding.Resolution.DISMISSED)
    assert_same_query_count(many, queries_of(client, url))


def test_demo_runs_once(bw, places):
    from aid_portal.demo.batch import load_batch_demo

    first = load_batch_demo()
    assert first.status == BatchRun.Status.FINISHED and first.total == 10
    assert load_batch_demo().pk == first.pk
    assert BatchRun.objects.count() == 1


# --- the task on a real worker ------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_on_demand_run_on_a_real_worker(bw, people, places, celery_worker_process):
    run = batch_run_request(actor=people.verifier, county=places.county)
    finished = wait_for(
        lambda: BatchRun.objects.filter(pk=run.pk, status=BatchRun.Status.FINISHED).first(),
        timeout=60,
    )
    assert finished.total == 10
    assert finished.counts[K.VEHICLE] == 2


def test_records_imported_into_a_partition_are_compared(bw, places, people, settings, tmp_path):
    """The fixture's records are written through the ORM (the default partition); an
    imported file lands in a partition of its own, which the run reads the same way."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from verification.feeds.services import snapshot_import, snapshot_upload

    settings.MEDIA_ROOT = tmp_path
    feed = Feed.objects.get(department__code="civil_affairs")
    lines = [
        "身份证号,姓名,项目,数值,日期",
        f"{_number(bw.salaried.spouse)},配偶,death,,2026-04-01",
    ]
    upload = SimpleUploadedFile("civil.csv", ("\n".join(lines) + "\n").encode(), "text/csv")
    snapshot = snapshot_upload(actor=people.feedadmin, feed=feed, upload=upload)
    snapshot_import(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == Snapshot.Status.COMPLETE, snapshot.error

    run = batch_run(county=places.county, kind=BatchRun.Kind.ON_DEMAND)

    dead = {(app, person) for kind, app, person in _found(run) if kind == K.DEAD_BUT_PAID}
    # The new file replaced the civil affairs snapshot that recorded the other death.
    assert dead == {(bw.salaried.application.pk, bw.salaried.spouse.person_id)}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_mid_comparison_finishes_once(
    bw, people, places, celery_worker_process
):
    """Killed while writing its findings (the findings table held): the comparison rolls
    back with the worker, the redelivered task computes it again, and the run ends as the
    run on a worker that was not killed (test above): 10 findings, 2 of them vehicles."""
    hold = Hold.table(BatchFinding)
    run = batch_run_request(actor=people.verifier, county=places.county)

    def killed_mid_way():
        run.refresh_from_db()
        assert run.status == BatchRun.Status.RUNNING and not run.findings.exists()

    kill_and_redeliver(celery_worker_process, hold, before_redelivery=killed_mid_way)
    finished = wait_for(
        lambda: BatchRun.objects.filter(pk=run.pk, status=BatchRun.Status.FINISHED).first(),
        timeout=60,
    )
    assert finished.total == 10 and finished.counts[K.VEHICLE] == 2
    assert BatchFinding.objects.count() == 10
    assert BatchRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="batch.run").count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_run_taken_by_two_workers_at_once_is_one_run(bw, places, two_celery_workers):
    """The half-yearly task delivered twice, run by two worker processes at the same time
    (the first held while writing its findings, the second waiting on the period's run):
    one run of the period, its 10 findings once. The second computes it again after the
    first and finds nothing new."""
    hold = Hold.table(BatchFinding)
    started = time.monotonic()
    results = [
        batch_run_task.delay(places.county.pk, BatchRun.Kind.HALF_YEARLY_ALL) for _ in range(2)
    ]
    # The first waits at the hold, the second at the period's run.
    wait_for(lambda: backends_waiting() == 2, timeout=60)
    hold.release()
    run_ids = {result.get(timeout=120) for result in results}
    elapsed = time.monotonic() - started
    received = two_celery_workers.received("verification.batch_run")
    computed = AuditEvent.objects.filter(action="batch.run").count()
    print(f"batch_run ×2 on two workers at once: {elapsed:.1f} s, computed {computed}×")
    assert received == [1, 1]
    assert len(run_ids) == 1 and BatchRun.objects.count() == 1
    run = BatchRun.objects.get()
    assert run.status == BatchRun.Status.FINISHED and run.total == 10
    assert run.counts[K.VEHICLE] == 2
    assert BatchFinding.objects.count() == 10  # computed twice, nothing found twice
