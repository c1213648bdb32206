"""Spot-check campaigns: the sampler's properties, drawing (populations, ratios, empty
windows, a second draw), re-deriving a sample from its audit row, assignment (the
item's auditor is who may record it), findings that reach the township as adjustment
proposals, and the schedule's task on a real worker."""

from __future__ import annotations

import datetime
import importlib
import random
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from aid_portal.crypto import blind_index
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent, Role
from cases import transitions
from cases.models import (
    AdjustmentProposal,
    Application,
    Document,
    Household,
    Member,
    NearRelativeFiling,
    NoticeObjection,
    Person,
    Policy,
    PublicNotice,
    PublicReport,
    PublicRoster,
    PublicRosterEntry,
)
from cases.publicity import services as publicity
from cases.reviews import services as review_services
from tests.cases import conftest as cases_fixtures
from tests.conftest import Hold, kill_and_redeliver, make_user, wait_for
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign, SpotCheckFinding
from verification.spotcheck.tasks import spotcheck_draw_all_task, spotcheck_draw_task

make_family = cases_fixtures.make_family
policy = cases_fixtures.policy
proof_items = cases_fixtures.proof_items
enrol = cases_fixtures.enrol

Rule = SpotCheckCampaign.Rule
TODAY = datetime.date(2026, 11, 20)
MARCH_END = datetime.date(2026, 3, 31)
LAST_MONTH = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in the English of the source."""
    with translation.override("en"):
        yield


# --- the sampler alone --------------------------------------------------------------------


def test_each_township_share_is_rounded_up_and_never_below_the_ratio():
    rng = random.Random(5)
    for _ in range(2000):
        n = rng.randint(1, 400)
        ratio = Decimal(rng.randint(1, 100)) / 100
        k = spotcheck.stratum_size(n, ratio)
        assert k <= n
        assert Decimal(k) >= ratio * n, (n, ratio, k)  # never below the ratio
        assert Decimal(k - 1) < ratio * n, (n, ratio, k)  # and the least that is not
    assert spotcheck.stratum_size(10, Decimal("0.30")) == 3  # no float rounding up to 4
    assert spotcheck.stratum_size(7, Decimal("0.30")) == 3
    assert spotcheck.stratum_size(1, Decimal("0.01")) == 1


def test_the_sample_is_reproducible_without_repeats_and_stratified():
    rng = random.Random(9)
    population = {
        f"640422{100 + t:03d}000": rng.sample(range(1, 100_000), rng.randint(1, 300))
        for t in range(8)
    }
    ratio = Decimal("0.30")
    first = spotcheck.sample_draw(population, ratio, 424242)
    # The same seed and population give the same sample, whatever order the ids came in.
    shuffled = {code: sorted(ids, reverse=True) for code, ids in reversed(population.items())}
    assert spotcheck.sample_draw(shuffled, ratio, 424242) == first
    assert spotcheck.sample_draw(population, ratio, 424243) != first
    for code, ids in population.items():
        drawn = first[code]
        assert len(drawn) == len(set(drawn)), "no repeats"
        assert set(drawn) <= set(ids)
        assert len(drawn) == spotcheck.stratum_size(len(ids), ratio)
        assert len(drawn) / len(ids) >= 0.30


# --- a county of cheap enrolled cases ------------------------------------------------------


@dataclass
class County:
    a_new: list[Application]  # township A, confirmed last month
    b_new: list[Application]  # township B, confirmed last month
    a_old: list[Application]  # township A, confirmed in the summer
    temporary: Application  # temporary assistance confirmed last month: not supervised
    draft: Application  # township A, not decided
    outside: Application  # the other county, confirmed last month


def _case(village, user, *, decided: datetime.date | None, kind="dibao_rural", state=None):
    household = Household.objects.create(village=village, address="某村1号")
    tz = timezone.get_current_timezone()
    return Application.objects.create(
        household=household,
        village=village,
        assistance_type=kind,
        state=state or (Application.State.IN_PAYMENT if decided else Application.State.DRAFT),
        decided_at=datetime.datetime.combine(decided, datetime.time(10), tzinfo=tz)
        if decided
        else None,
        monthly_amount=Decimal("600") if decided else None,
        created_by=user,
    )


@pytest.fixture
def county(places, people, policy) -> County:
    cw = people.caseworker_a
    day = datetime.date(2026, 10, 1)
    return County(
        a_new=[
            _case(places.village_a, cw, decided=day + datetime.timedelta(days=4 * n))
            for n in range(7)
        ],
        b_new=[
            _case(places.village_b, cw, decided=day + datetime.timedelta(days=9 * n))
            for n in range(3)
        ],
        a_old=[_case(places.village_a, cw, decided=datetime.date(2026, 7, 15)) for _ in range(2)],
        temporary=_case(places.village_a, cw, decided=day, kind="temporary_emergency"),
        draft=_case(places.village_a, cw, decided=None),
        outside=_case(places.other_village, cw, decided=day),
    )


def _draw(people, places, **kwargs) -> SpotCheckCampaign:
    kwargs.setdefault("rule", Rule.NEW_CASES)
    kwargs.setdefault("today", TODAY)
    return spotcheck.campaign_draw(actor=people.auditor, county=places.county, **kwargs)


def test_a_new_case_campaign_draws_30_percent_of_each_township(county, people, places):
    campaign = _draw(people, places)  # the default window: last month
    assert (campaign.window_start, campaign.window_end) == LAST_MONTH
    assert campaign.ratio == Decimal("0.30")  # the county policy's share
    assert campaign.population_size == 10
    items = list(campaign.items.select_related("township", "application"))
    by_township = {}
    for item in items:
        by_township.setdefault(item.township.code, []).append(item.application)
    # ceil(0.3 × 7) = 3 of township A, ceil(0.3 × 3) = 1 of township B.
    assert {code: len(apps) for code, apps in by_township.items()} == {
        places.township_a.code: 3,
        places.township_b.code: 1,
    }
    assert set(by_township[places.township_a.code]) <= set(county.a_new)
    assert set(by_township[places.township_b.code]) <= set(county.b_new)
    # Due within 3 months of confirmation.
    for item in items:
        decided = timezone.localdate(item.application.decided_at)
        assert item.due_on == transitions.add_months(decided, 3)
    assert campaign.status == SpotCheckCampaign.Status.DRAWN
    assert campaign.drawn_by == people.auditor and 0 <= campaign.seed < 2**62


def test_the_sample_is_re_derived_from_the_audit_row(county, people, places):
    campaign = _draw(people, places)
    event = AuditEvent.objects.get(action="spot_check.draw", object_id=str(campaign.pk))
    payload = event.new_values
    assert payload["seed"] == campaign.seed
    assert payload["population"] == {
        places.township_a.code: sorted(a.pk for a in county.a_new),
        places.township_b.code: sorted(b.pk for b in county.b_new),
    }
    again = spotcheck.sample_draw(
        payload["population"], Decimal(payload["ratio"]), int(payload["seed"])
    )
    assert again == payload["sample"]
    frozen = sorted(campaign.items.values_list("application_id", flat=True))
    assert sorted(i for ids in again.values() for i in ids) == frozen


def test_the_same_seed_and_population_draw_the_same_sample(county, people, places):
    first = _draw(people, places, seed=77)
    # A window one day wider holds the same cases (nothing was confirmed on 30 September).
    second = _draw(
        people, places, seed=77, window_start=datetime.date(2026, 9, 30), window_end=LAST_MONTH[1]
    )
    third = _draw(
        people, places, seed=78, window_start=datetime.date(2026, 9, 29), window_end=LAST_MONTH[1]
    )

    def sample(c):
        return sorted(c.items.values_list("application_id", flat=True))

    assert sample(first) == sample(second)
    assert len(sample(third)) == 4  # another seed: the same sizes (and here another sample)


def test_an_empty_window_is_refused_and_nothing_is_saved(county, people, places):
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError, match="nothing to draw") as caught:
        _draw(
            people,
            places,
            window_start=datetime.date(2026, 3, 1),
            window_end=datetime.date(2026, 3, 31),
        )
    assert caught.value.field == "window_start"
    assert not SpotCheckCampaign.objects.exists() and not SampleItem.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("ratio", ["0", "-0.2", "1.5", "abc", "0.1", "0.333", "150%"])
def test_a_ratio_out_of_range_is_a_field_error(ratio, county, people, places):
    with pytest.raises(DomainError) as caught:
        _draw(people, places, ratio=ratio)
    assert caught.value.field == "ratio"
    assert not SpotCheckCampaign.objects.exists()


def test_a_larger_ratio_may_be_chosen(county, people, places):
    campaign = _draw(people, places, ratio="50%")
    assert campaign.ratio == Decimal("0.50")
    assert campaign.sample_size == 4 + 2


def test_the_same_window_is_not_drawn_twice(county, people, places):
    _draw(people, places)
    with pytest.raises(Conflict, match="already drawn"):
        _draw(people, places)
    assert SpotCheckCampaign.objects.count() == 1


def test_only_the_county_auditor_draws(county, people, places):
    for person in (people.outsider_auditor, people.caseworker_a, people.verifier):
        with pytest.raises(PermissionDenied):
            spotcheck.campaign_draw(
                actor=person, county=places.county, rule=Rule.NEW_CASES, today=TODAY
            )
    assert not SpotCheckCampaign.objects.exists()


def test_the_annual_campaign_takes_20_percent_of_everyone_enrolled(county, people, places):
    campaign = _draw(people, places, rule=Rule.ANNUAL)
    assert (campaign.window_start, campaign.window_end) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
    )
    assert campaign.ratio == Decimal("0.20")
    assert campaign.population_size == 12  # 9 of A (old and new), 3 of B
    assert campaign.sample_size == 2 + 1  # ceil(1.8), ceil(0.6)
    assert set(campaign.items.values_list("due_on", flat=True)) == {datetime.date(2026, 12, 31)}


def test_near_relative_filings_and_complaints_are_all_drawn(county, people, places):
    filed, objected = county.a_new[0], county.b_new[1]
    NearRelativeFiling.objects.create(
        application=filed,
        member=Member.objects.create(
            household=filed.household,
            person=Person.objects.create(
                identity_number="642222197001013010",
                identity_hash=blind_index("642222197001013010"),
                name="马某",
                birth_date=datetime.date(1970, 1, 1),
                sex="M",
            ),
            relation=Member.Relation.SELF,
        ),
        official_name="马官",
        position="village_committee",
        kinship="兄弟",
        filed_on=datetime.date(2026, 9, 1),
    )
    notice = PublicNotice.objects.create(
        application=objected,
        starts_on=datetime.date(2026, 9, 20),
        ends_on=datetime.date(2026, 9, 26),
        place="村务公开栏",
    )
    NoticeObjection.objects.create(
        notice=notice, objector="邻居", content="家里有车", raised_on=datetime.date(2026, 9, 22)
    )
    with pytest.raises(DomainError) as caught:
        _draw(people, places, rule=Rule.FULL, ratio="0.5")
    assert caught.value.field == "ratio"
    campaign = _draw(people, places, rule=Rule.FULL)
    assert campaign.ratio == 1 and campaign.population_size == campaign.sample_size == 2
    reasons = dict(campaign.items.values_list("application_id", "reason"))
    assert reasons == {
        filed.pk: SampleItem.Reason.NEAR_RELATIVE,
        objected.pk: SampleItem.Reason.COMPLAINT,
    }
    assert set(campaign.items.values_list("due_on", flat=True)) == {
        TODAY + datetime.timedelta(days=30)
    }


def test_filings_and_complaints_are_due_within_the_countys_days(county, people, places, policy):
    """The county's policy in force on the day of the draw says how many days the 100%
    visits have; a row dated after the draw does not count."""
    for effective_from, days in ((TODAY, 10), (TODAY + datetime.timedelta(days=1), 60)):
        Policy.objects.create(
            county=places.county,
            effective_from=effective_from,
            dibao_standard_urban=policy.dibao_standard_urban,
            dibao_standard_rural=policy.dibao_standard_rural,
            spot_check_full_within_days=days,
        )
    notice = PublicNotice.objects.create(
        application=county.b_new[1],
        starts_on=datetime.date(2026, 9, 20),
        ends_on=datetime.date(2026, 9, 26),
        place="村务公开栏",
    )
    NoticeObjection.objects.create(
        notice=notice, objector="邻居", content="家里有车", raised_on=datetime.date(2026, 9, 22)
    )
    campaign = _draw(people, places, rule=Rule.FULL)
    assert campaign.sample_size == 1
    assert set(campaign.items.values_list("due_on", flat=True)) == {
        TODAY + datetime.timedelta(days=10)
    }


def _published_roster(village, user, households) -> list[PublicRosterEntry]:
    public = PublicRoster.objects.create(
        village=village, month=datetime.date(2026, 10, 1), published_by=user
    )
    return PublicRosterEntry.objects.bulk_create(
        PublicRosterEntry(
            public_roster=public,
            household=household,
            shown_name=f"户{n}",
            household_size=2,
            programme="dibao_rural",
            amount=Decimal("600"),
            change=PublicRosterEntry.Change.UNCHANGED,
        )
        for n, household in enumerate(households)
    )


def _received_on(report, day: datetime.date) -> None:
    tz = timezone.get_current_timezone()
    PublicReport.objects.filter(pk=report.pk).update(
        received_at=datetime.datetime.combine(day, datetime.time(9), tzinfo=tz)
    )


def test_a_public_report_about_a_listed_household_is_a_complaint(county, people, places):
    """A report sent from the public roster's page about one entry draws the household's
    case in the next 100% draw, though the case was confirmed long before the window
    and the township has not handled the report; a report about no household draws
    nobody, and neither does one received outside the window."""
    reported, unnamed, too_late = county.a_old[0], county.a_old[1], county.a_new[2]
    entries = _published_roster(
        places.village_a,
        people.caseworker_a,
        [reported.household, unnamed.household, too_late.household],
    )
    public = entries[0].public_roster
    about = publicity.public_report_receive(
        public_roster=public, text="此户家中有车辆", contact="139", entry=entries[0]
    )
    general = publicity.public_report_receive(
        public_roster=public, text="村里有人冒领", contact="138"
    )
    late = publicity.public_report_receive(
        public_roster=public, text="此户在外务工", contact="137", entry=entries[2]
    )
    _received_on(about, datetime.date(2026, 10, 31))
    _received_on(general, datetime.date(2026, 10, 15))
    _received_on(late, datetime.date(2026, 11, 1))
    assert about.state == PublicReport.State.OPEN
    campaign = _draw(people, places, rule=Rule.FULL)
    reasons = dict(campaign.items.values_list("application_id", "reason"))
    assert reasons == {reported.pk: SampleItem.Reason.COMPLAINT}


def test_a_report_about_an_entry_of_another_roster_is_refused(county, people, places):
    ours = _published_roster(places.village_a, people.caseworker_a, [county.a_old[0].household])
    theirs = _published_roster(places.village_b, people.caseworker_b, [county.b_new[0].household])
    with pytest.raises(DomainError) as caught:
        publicity.public_report_receive(
            public_roster=ours[0].public_roster, text="冒领", contact="139", entry=theirs[0]
        )
    assert caught.value.field == "about" and not PublicReport.objects.exists()


# --- assignment and findings ---------------------------------------------------------------


@pytest.fixture
def auditor2(places):
    return make_user("auditor2", Role.COUNTY_AUDITOR, places.county)


def _finding(item, actor, **kwargs):
    values = {
        "visited_on": timezone.localdate(),
        "visitors": "田明、何丽",
        "facts": "家中新购农用车一辆，儿子在外务工，月收入约3000元。",
        "still_eligible": True,
        "action": "decrease",
        "proposed_amount": Decimal("400"),
    } | kwargs
    return spotcheck.sample_finding_record(actor=actor, item_id=item.pk, **values)


def test_cases_are_dealt_to_the_auditors_who_alone_may_check_them(county, people, places, auditor2):
    campaign = _draw(people, places, assign_to=[people.auditor, auditor2])
    campaign.refresh_from_db()
    assert campaign.status == SpotCheckCampaign.Status.RUNNING
    counts = {
        user: SampleItem.objects.filter(campaign=campaign, assigned_to=user).count()
        for user in (people.auditor, auditor2)
    }
    assert counts == {people.auditor: 2, auditor2: 2}
    assign = AuditEvent.objects.get(action="spot_check.assign", object_id=str(campaign.pk))
    assert assign.new_values == {"auditor": 2, "auditor2": 2}
    for item in campaign.items.all():
        for user in (people.auditor, auditor2):
            assert spotcheck.sample_item_may_check(user=user, item=item) == (
                item.assigned_to_id == user.pk
            )
    # A caseworker is no auditor: refused, nothing changed.
    with pytest.raises(DomainError):
        spotcheck.sample_items_assign(
            actor=people.auditor, campaign_id=campaign.pk, auditors=[people.caseworker_a]
        )
    # Reassigning everything to one auditor moves the grants.
    assert (
        spotcheck.sample_items_assign(
            actor=people.auditor, campaign_id=campaign.pk, auditors=[auditor2]
        )
        == 4
    )
    for item in campaign.items.all():
        assert item.assigned_to == auditor2
        assert spotcheck.sample_item_may_check(user=auditor2, item=item)
        assert not spotcheck.sample_item_may_check(user=people.auditor, item=item)


def test_who_may_check_a_case_is_its_active_auditor_or_a_superuser(
    county, people, places, auditor2
):
    """As the per-object grant answered (django-guardian's checker): an inactive account
    never, a superuser always, anyone else only on the cases assigned to them."""
    campaign = _draw(people, places)
    item = campaign.items.first()
    root = make_user("root-spotcheck", Role.COUNTY_AUDITOR, places.county)
    root.is_superuser = True
    root.save()
    assert not spotcheck.sample_item_may_check(user=people.auditor, item=item)  # nobody's yet
    assert spotcheck.sample_item_may_check(user=root, item=item)
    spotcheck.sample_items_assign(
        actor=people.auditor, campaign_id=campaign.pk, auditors=[auditor2], item_ids=[item.pk]
    )
    item.refresh_from_db()
    assert spotcheck.sample_item_may_check(user=auditor2, item=item)
    assert not spotcheck.sample_item_may_check(user=people.auditor, item=item)
    auditor2.is_active = False
    auditor2.save()
    assert not spotcheck.sample_item_may_check(user=auditor2, item=item)
    with pytest.raises(DomainError):
        _finding(item, auditor2)
    assert not SpotCheckFinding.objects.exists()


def test_deletes_through_the_orm_still_honour_the_unchecked_keys(county, people, places):
    """The items carry no foreign-key constraint in the database (migration
    verification/0011): Django's on_delete is what guards their references."""
    campaign = _draw(people, places, assign_to=[people.auditor])
    item = campaign.items.first()
    for referenced in (item.application, item.township, people.auditor):
        with pytest.raises(ProtectedError) as refused:
            referenced.delete()
        assert item in set(refused.value.protected_objects), referenced
    campaign.delete()
    assert not SampleItem.objects.filter(pk=item.pk).exists()


def test_a_finding_reaches_the_township_as_an_adjustment_proposal(enrol, people, places, auditor2):
    family = enrol()
    app = family.application
    campaign = spotcheck.campaign_draw(
        actor=people.auditor,
        county=places.county,
        rule=Rule.ANNUAL,
        ratio="1",
        assign_to=[people.auditor],
    )
    item = campaign.items.get()
    assert item.application == app

    # Another auditor of the county: not in their sample, nothing saved.
    with pytest.raises(DomainError, match="not in your sample"):
        _finding(item, auditor2)
    assert not SpotCheckFinding.objects.exists() and not AdjustmentProposal.objects.exists()
    # Found no longer eligible but "keep": refused.
    with pytest.raises(DomainError) as caught:
        _finding(item, people.auditor, still_eligible=False, action="keep", proposed_amount=None)
    assert caught.value.field == "action"

    finding = _finding(item, people.auditor)
    proposal = AdjustmentProposal.objects.get()
    assert (proposal.application, proposal.action, proposal.source, proposal.source_id) == (
        app,
        "decrease",
        "spot_check",
        item.pk,
    )
    assert proposal.proposed_amount == Decimal("400") and finding.proposal == proposal
    assert app.events.filter(action="adjustment_propose").exists()
    campaign.refresh_from_db()
    assert campaign.status == SpotCheckCampaign.Status.FINISHED  # its only case is visited

    # The same findings again: a conflict, nothing duplicated.
    with pytest.raises(Conflict):
        _finding(item, people.auditor)
    assert SpotCheckFinding.objects.count() == 1 and AdjustmentProposal.objects.count() == 1

    # The township adopts it; progress counts it as adjusted.
    review_services.adjustment_handle(
        actor=people.approver_a, proposal_id=proposal.pk, adopt=True, note="同意"
    )
    app.refresh_from_db()
    assert app.monthly_amount == Decimal("400")
    total = spotcheck.campaign_progress(campaign=campaign).total
    assert (total.sampled, total.visited, total.ineligible, total.adjusted, total.overdue) == (
        1,
        1,
        0,
        1,
        0,
    )


def test_keep_proposes_nothing_and_evidence_goes_in_the_household_file(enrol, people, places):
    app = enrol().application
    campaign = spotcheck.campaign_draw(
        actor=people.auditor,
        county=places.county,
        rule=Rule.ANNUAL,
        ratio="1",
        assign_to=[people.auditor],
    )
    item = campaign.items.get()
    text = SimpleUploadedFile("note.pdf", b"just text, not a PDF", content_type="application/pdf")
    documents_before = Document.objects.count()
    with pytest.raises(DomainError) as caught:
        _finding(item, people.auditor, action="keep", proposed_amount=None, evidence=[text])
    assert caught.value.field == "file"
    assert not SpotCheckFinding.objects.exists()
    assert Document.objects.count() == documents_before

    finding = _finding(
        item,
        people.auditor,
        action="keep",
        proposed_amount=None,
        evidence=[cases_fixtures.scan("visit.png")],
    )
    assert finding.proposal is None and not AdjustmentProposal.objects.exists()
    (document,) = finding.evidence.all()
    assert document.household == app.household and document.kind == Document.Kind.HOME_VISIT


def test_a_credit_finding_is_opened_through_the_credit_service(enrol, people, places):
    from credit.findings.catalogue import BEHAVIOURS
    from credit.findings.models import Finding

    app = enrol().application
    campaign = spotcheck.campaign_draw(
        actor=people.auditor,
        county=places.county,
        rule=Rule.ANNUAL,
        ratio="1",
        assign_to=[people.auditor],
    )
    item = campaign.items.get()
    finding = _finding(
        item,
        people.auditor,
        still_eligible=False,
        action="stop",
        proposed_amount=None,
        credit_behaviour=BEHAVIOURS[0][0],
    )
    credit = Finding.objects.get(pk=finding.credit_finding_id)
    assert (credit.household_id, credit.source_kind, credit.source_id) == (
        app.household_id,
        "spot_check",
        item.pk,
    )
    assert finding.proposal.action == "stop"


def test_overdue_items_are_counted(county, people, places):
    campaign = _draw(people, places)
    late = campaign.items.order_by("due_on").first()
    progress = spotcheck.campaign_progress(campaign=campaign, today=late.due_on)
    assert progress.total.overdue == 0
    progress = spotcheck.campaign_progress(
        campaign=campaign, today=late.due_on + datetime.timedelta(days=1)
    )
    assert progress.total.overdue >= 1


# --- the schedule ----------------------------------------------------------------------------


def test_the_schedules_are_in_the_admin_editable_table(db):
    # The data migration's own function (a transactional test may have flushed its rows).
    from django.apps import apps

    migration = importlib.import_module("verification.migrations.0005_spotcheck_schedules")
    migration.add_schedules(apps, None)
    migration.add_schedules(apps, None)  # idempotent
    tasks = dict(
        PeriodicTask.objects.filter(task="verification.spotcheck_draw_all").values_list(
            "args", "enabled"
        )
    )
    assert tasks == {'["new_cases"]': True, '["annual"]': True}


def test_the_scheduled_draw_is_idempotent(county, people, places):
    def scheduled(today):
        return spotcheck.campaign_draw_scheduled(
            county=places.county, rule=Rule.NEW_CASES, today=today
        )

    first, again = scheduled(TODAY), scheduled(TODAY)
    assert first.pk == again.pk and first.drawn_by is None
    assert SpotCheckCampaign.objects.count() == 1
    # Nothing confirmed in the month before: no campaign, no error.
    assert scheduled(datetime.date(2026, 4, 10)) is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_monthly_schedule_draws_on_a_real_worker(county, places, celery_worker_process):
    # Delivered twice (a broker's redelivery): still one campaign.
    spotcheck_draw_all_task.delay("new_cases", TODAY.isoformat())
    spotcheck_draw_all_task.delay("new_cases", TODAY.isoformat())
    campaign = wait_for(
        lambda: SpotCheckCampaign.objects.filter(county=places.county).first(), timeout=60
    )
    assert (campaign.rule, campaign.window_start, campaign.window_end) == (
        Rule.NEW_CASES,
        *LAST_MONTH,
    )
    assert campaign.sample_size == 4 and campaign.drawn_by is None
    wait_for(lambda: AuditEvent.objects.filter(action="spot_check.draw").count() == 1, timeout=30)
    time.sleep(2)  # let the second delivery finish
    assert SpotCheckCampaign.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_draw_whose_worker_is_killed_mid_way_is_drawn_once(county, places, celery_worker_process):
    """Killed while writing the sample (its table held): the campaign rolls back with the
    worker, the redelivered task draws it, and there is one campaign of the size a draw
    that was not killed has (test above), with one audit row."""
    hold = Hold.table(SampleItem)
    spotcheck_draw_task.delay(places.county.pk, Rule.NEW_CASES, TODAY.isoformat())

    def killed_mid_way():
        assert not SpotCheckCampaign.objects.exists()

    kill_and_redeliver(celery_worker_process, hold, before_redelivery=killed_mid_way)
    campaign = wait_for(
        lambda: SpotCheckCampaign.objects.filter(county=places.county).first(), timeout=60
    )
    wait_for(lambda: AuditEvent.objects.filter(action="spot_check.draw").exists(), timeout=30)
    # A late duplicate of the task returns the same campaign.
    again = spotcheck_draw_task.delay(places.county.pk, Rule.NEW_CASES, TODAY.isoformat())
    assert again.get(timeout=60) == campaign.pk
    assert campaign.sample_size == 4
    assert SampleItem.objects.filter(campaign=campaign).count() == 4
    assert SpotCheckCampaign.objects.count() == 1 and SampleItem.objects.count() == 4
    assert AuditEvent.objects.filter(action="spot_check.draw").count() == 1
