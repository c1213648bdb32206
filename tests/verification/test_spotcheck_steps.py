"""The spot-check's declared steps (verification.spotcheck.steps) as the services, the
pages and the API use them.

Every step a person takes is bound to a page and to the API, and its roles are checked
before its body is read: a person who may never take it gets 403 whatever they send,
404 outside their places; a cover grant lets an auditor read another county's
campaign, never act on it. The rows come from the tables, so a new step is covered the
day it is declared.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from aid_portal import access, permissions, services
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Role, User
from aid_portal.steps import Step, StepTable, check_bindings, step_bindings_check
from tests.cases import conftest as cases_fixtures
from tests.conftest import make_user
from tests.step_bodies import valid_api_body, valid_page_body
from tests.verification.test_spotcheck import _case
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign
from verification.spotcheck.steps import (
    SPOT_CHECK,
    SPOT_CHECK_CAMPAIGN,
)

policy = cases_fixtures.policy

pytestmark = pytest.mark.django_db

TABLES = [SPOT_CHECK_CAMPAIGN, SPOT_CHECK]
PEOPLE_STEPS = [(table, step) for table in TABLES for step in table if not step.internal]
# The page that takes each step, and the API route's prefix.
PAGES = {
    ("spot_check_campaign", "assign"): "verification:spotcheck-assign",
    ("spot_check", "finding"): "verification:spotcheck-item",
}
API_PREFIX = {"spot_check_campaign": "api-spotcheck-campaign", "spot_check": "api-spotcheck-item"}
PEOPLE = [
    "assistant_a",
    "caseworker_a",
    "approver_a",
    "auditor",
    "auditor2",
    "cover_auditor",
    "outsider_auditor",
    "verifier",
    "feedadmin",
    "nobody",
    "superuser",
]
# Bodies a refused person might send: nothing, and something that is not the step's; the
# tests add a third the step would accept (tests.step_bodies).
BODIES = [{}, {"auditors": "x", "visited_on": "garbage", "still_eligible": "maybe"}]


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in the English of the source."""
    with translation.override("en"):
        yield


def step_id(row: tuple[StepTable, Step]) -> str:
    return f"{row[0].name}.{row[1].name}"


@dataclass
class World:
    campaign: SpotCheckCampaign  # running, in the county
    item: SampleItem  # its one case, in township A, assigned to the auditor
    people: dict[str, User]


@pytest.fixture
def world(places, people, policy) -> World:
    """A running campaign of the county with one case, dealt to ``auditor``. Its
    ``auditor2`` is another auditor of the county; ``cover_auditor`` an auditor of the
    other county covering this one (a grant to read its cases)."""
    day = timezone.localdate() - datetime.timedelta(days=20)
    _case(places.village_a, people.caseworker_a, decided=day)
    campaign = spotcheck.campaign_draw(
        actor=people.auditor,
        county=places.county,
        rule=SpotCheckCampaign.Rule.NEW_CASES,
        window_start=day,
        window_end=day,
        ratio="1",
        assign_to=[people.auditor],
    )
    cover = make_user("cover_auditor", Role.COUNTY_AUDITOR, places.other_county)
    services.region_cover_grant(actor=None, user=cover, region=places.county, reason="代班")
    named = {
        **people.by_name(),
        "auditor2": make_user("auditor2", Role.COUNTY_AUDITOR, places.county),
        "cover_auditor": cover,
    }
    campaign.refresh_from_db()
    return World(campaign, campaign.items.select_related("application__village").get(), named)


def obj_of(world: World, table: StepTable):
    return world.campaign if table is SPOT_CHECK_CAMPAIGN else world.item


def expected(user: User, table: StepTable, obj, step_name: str) -> str:
    if not access.has_role(user, permissions.RUN_SPOT_CHECKS):
        return "refused"  # no spot-check role anywhere: refused before anything is read
    if not access.jurisdiction_for(user, roles=permissions.RUN_SPOT_CHECKS).contains(
        table.region(obj)
    ):
        return "hidden"
    return "allowed" if table.may_take(user, obj, step_name) else "refused"


def assert_statuses(seen: dict[str, tuple[str, set[int]]]) -> None:
    for person, (kind, statuses) in seen.items():
        if kind == "hidden":
            assert statuses == {404}, (person, statuses)
        elif kind == "refused":
            assert statuses == {403}, (person, statuses)
        else:
            assert not statuses & {403, 404}, (person, statuses)
    # The world has someone of each kind, so none of the branches above is empty.
    assert seen["outsider_auditor"][0] == "hidden"
    assert seen["cover_auditor"][0] == "refused"
    assert seen["caseworker_a"][0] == "refused"
    assert seen["auditor"][0] == "allowed" and seen["auditor2"][0] == "allowed"


def test_every_step_a_person_takes_is_bound_to_a_page_and_the_api():
    assert check_bindings(TABLES) == []
    assert step_bindings_check() == []
    assert {step.name for table in TABLES for step in table if step.internal} == {"finish"}
    assert {(table.name, step.name) for table, step in PEOPLE_STEPS} == set(PAGES)


def test_the_tables_say_who_may_take_what(world, places):
    """A few rows written out by hand, so the tables themselves are checked."""
    who = world.people
    campaign, item = world.campaign, world.item
    for step_name, obj, table in (
        ("assign", campaign, SPOT_CHECK_CAMPAIGN),
        ("finding", item, SPOT_CHECK),
    ):
        assert table.may_take(who["auditor"], obj, step_name)
        assert table.may_take(who["auditor2"], obj, step_name)  # the service asks whose case
        assert not table.may_take(who["outsider_auditor"], obj, step_name)
        assert not table.may_take(who["cover_auditor"], obj, step_name)
        assert not table.may_take(who["caseworker_a"], obj, step_name)
        assert not table.may_take(who["verifier"], obj, step_name)
    # The cover grant lets the other county's auditor read the campaign, not act on it.
    read = spotcheck.campaign_get_for_user(user=who["cover_auditor"], campaign_id=campaign.pk)
    assert read.pk == campaign.pk
    with pytest.raises(PermissionDenied):
        spotcheck.sample_items_assign(
            actor=who["cover_auditor"], campaign_id=campaign.pk, auditors=[who["auditor"]]
        )
    assert SPOT_CHECK_CAMPAIGN["assign"].leaves == {"drawn", "running"}
    assert SPOT_CHECK["finding"].leaves == {"assigned"}


def _keep(actor: User, item: SampleItem):
    """The findings of a home visit that found nothing to change."""
    return spotcheck.sample_finding_record(
        actor=actor,
        item_id=item.pk,
        visited_on=timezone.localdate(),
        visitors="田明",
        facts="属实",
        still_eligible=True,
        action="keep",
    )


def test_the_rows_move_through_the_declared_states(places, people, policy):
    day = timezone.localdate() - datetime.timedelta(days=20)
    _case(places.village_a, people.caseworker_a, decided=day)
    campaign = spotcheck.campaign_draw(
        actor=people.auditor,
        county=places.county,
        rule=SpotCheckCampaign.Rule.NEW_CASES,
        window_start=day,
        window_end=day,
        ratio="1",
    )
    item = campaign.items.get()
    assert (campaign.status, item.state) == ("drawn", "drawn")
    # Nobody's case yet: refused, whoever asks.
    with pytest.raises(DomainError, match="not in your sample"):
        _keep(people.auditor, item)
    with pytest.raises(Conflict, match="not assigned to an auditor yet"):
        _keep(people.superuser, item)  # who holds every grant, but the case is nobody's yet
    assert (
        spotcheck.sample_items_assign(
            actor=people.auditor, campaign_id=campaign.pk, auditors=[people.auditor]
        )
        == 1
    )
    campaign.refresh_from_db()
    item.refresh_from_db()
    assert (campaign.status, item.state) == ("running", "assigned")
    _keep(people.auditor, item)
    campaign.refresh_from_db()
    item.refresh_from_db()
    assert (campaign.status, item.state) == ("finished", "visited")
    # Neither step leaves the end states; the services say so in their own words.
    with pytest.raises(Conflict, match="finished"):
        spotcheck.sample_items_assign(
            actor=people.auditor, campaign_id=campaign.pk, auditors=[people.auditor]
        )
    with pytest.raises(Conflict, match="already recorded"):
        _keep(people.auditor, item)


@pytest.mark.parametrize("row", PEOPLE_STEPS, ids=step_id)
def test_the_api_asks_for_the_role_before_it_reads_the_body(row, world):
    table, step = row
    obj = obj_of(world, table)
    url = reverse(f"{API_PREFIX[table.name]}-{step.slug}", args=[obj.pk])
    valid = valid_api_body(table, step.name)
    bodies = [*BODIES, valid] if valid is not None else BODIES
    seen = {}
    for person in PEOPLE:
        user = world.people[person]
        client = APIClient()
        client.force_login(user)
        statuses = {client.post(url, body, format="json").status_code for body in bodies}
        seen[person] = (expected(user, table, obj, step.name), statuses)
    assert_statuses(seen)


@pytest.mark.parametrize("row", PEOPLE_STEPS, ids=step_id)
def test_the_page_asks_for_the_role_before_it_reads_the_form(row, world):
    table, step = row
    obj = obj_of(world, table)
    url = reverse(PAGES[table.name, step.name], args=[obj.pk])
    valid = valid_page_body(table, step.name, obj, world.people["superuser"])
    bodies = [*BODIES, valid] if valid is not None else BODIES
    seen = {}
    for person in PEOPLE:
        user = world.people[person]
        client = Client()
        client.force_login(user)
        statuses = {client.post(url, body).status_code for body in bodies}
        seen[person] = (expected(user, table, obj, step.name), statuses)
    assert_statuses(seen)


def test_the_campaign_page_offers_assigning_to_those_who_may(world):
    url = reverse("verification:spotcheck-campaign", args=[world.campaign.pk])
    for person, offered in (("auditor", True), ("cover_auditor", False)):
        client = Client()
        client.force_login(world.people[person])
        page = client.get(url)
        assert page.status_code == 200
        assert ('id="spotcheck-assign"' in page.content.decode()) is offered, person
