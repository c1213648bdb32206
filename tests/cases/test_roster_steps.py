"""A payment roster's declared steps (cases.payments.steps.ROSTER) as the pages and the API
use them, in the spirit of tests/test_step_tables.py.

Every step is bound to the roster page and to the API, and its roles are checked before
its body is read: someone who reads no payments at all, or whose role may never take the
step, gets 403 whatever they send; someone who reads payments elsewhere gets 404 (the
roster is not in their places). The rows come from the table itself; the roster each
step is tried on is the first of the world's rosters the step may leave from.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import access, permissions
from aid_portal.steps import check_bindings
from cases.payments import services as payments
from cases.payments.models import Roster
from cases.payments.steps import ROSTER
from tests.cases.test_payments import THIS_MONTH
from tests.step_bodies import valid_api_body, valid_page_body

pytestmark = pytest.mark.django_db

R = Roster.State
PEOPLE = [
    "assistant_a",
    "caseworker_a",
    "approver_a",
    "caseworker_b",
    "auditor",
    "finance",
    "verifier",
    "feedadmin",
    "outsider_auditor",
    "nobody",
    "superuser",
]
# Bodies a refused person might send: nothing, and something that is not the step's; the
# tests add a third the step would accept (tests.step_bodies).
BODIES = [{}, {"reason": "x", "line": "garbage", "bank": "no-such-bank", "file": "not a file"}]
# Those who hold no role that reads payments: refused before the roster is looked up.
NO_PAYMENT_ROLE = {"assistant_a", "verifier", "feedadmin", "nobody"}


class World:
    """Rosters of township A in the states the steps leave from, each made on demand
    (one regular roster per township and month: a test takes one)."""

    def __init__(self, people, places, paying):
        self.people, self.places, self.paying = people, places, paying

    def _prepare(self) -> Roster:
        return payments.roster_prepare(
            actor=self.people.caseworker_a, township_id=self.places.township_a.pk, month=THIS_MONTH
        )

    def prepared(self) -> Roster:
        """Two lines, one of them without an account (so holding a line back is offered)."""
        self.paying()
        without = self.paying()
        without.application.household.payment_accounts.all().delete()
        roster = self._prepare()
        assert roster.problem_count == 1
        return roster

    def county_approved(self) -> Roster:
        self.paying()
        roster = self._prepare()
        return payments.roster_county_approve(actor=self.people.auditor, roster_id=roster.pk)

    def approved(self) -> Roster:
        roster = self.county_approved()
        return payments.roster_finance_approve(actor=self.people.finance, roster_id=roster.pk)

    KINDS = [(R.PREPARED, prepared), (R.COUNTY_APPROVED, county_approved), (R.APPROVED, approved)]

    def for_step(self, name: str) -> Roster:
        """The first roster the step leaves from and its page offers it on."""
        step, binding = ROSTER[name], ROSTER.page(name)
        for state, make in self.KINDS:
            if state not in step.leaves:
                continue
            roster = fresh(make(self))
            if binding.when is None or binding.when(roster):
                return roster
        raise AssertionError(f"the world has no roster for the step {name}")


@pytest.fixture
def world(people, places, paying) -> World:
    return World(people, places, paying)


def fresh(roster: Roster) -> Roster:
    return Roster.objects.select_related("township").get(pk=roster.pk)


def expected(user, roster: Roster, step_name: str) -> str:
    if not access.has_role(user, permissions.READ_PAYMENTS):
        return "refused"  # no payment role anywhere: refused before anything is read
    if not access.jurisdiction_for(user, roles=permissions.READ_PAYMENTS).contains(roster.township):
        return "hidden"
    return "allowed" if ROSTER.may_take(user, roster, step_name) else "refused"


def try_everyone(people, roster: Roster, step_name: str, post, valid) -> dict[str, set]:
    """Each person sends each body, and a body the step would accept (``valid``, None if
    the step takes a file); the expectation is read from the roster as it stands before
    each request (an allowed body may have moved it on)."""
    seen: dict[str, set] = {}
    bodies = [*BODIES, valid] if valid is not None else BODIES
    for person in PEOPLE:
        user = getattr(people, person)
        for body in bodies:
            kind = expected(user, fresh(roster), step_name)
            status = post(user, body)
            if kind == "hidden":
                assert status == 404, (person, body, status)
            elif kind == "refused":
                assert status == 403, (person, body, status)
            else:
                assert status not in (403, 404), (person, body, status)
            seen.setdefault(kind, set()).add(person)
    return seen


def assert_everyone_was_tried(seen: dict[str, set]) -> None:
    assert {"caseworker_b", "outsider_auditor"} <= seen["hidden"], seen
    assert seen["refused"] >= NO_PAYMENT_ROLE, seen
    assert "superuser" in seen["allowed"], seen


STEPS = list(ROSTER)


def test_every_step_of_a_roster_is_bound_to_a_page_and_the_api():
    assert check_bindings([ROSTER]) == []
    assert [step.name for step in ROSTER if step.internal] == []
    assert {step.name for step in ROSTER} == {
        "recheck",
        "line_hold",
        "county_approve",
        "finance_approve",
        "send_back",
        "return_apply",
    }


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_the_api_asks_for_the_role_before_it_reads_the_body(step, people, world):
    roster = world.for_step(step.name)
    url = reverse(f"api-cases-roster-{step.slug}", args=[roster.pk])

    def post(user, body):
        client = APIClient()
        client.force_login(user)
        return client.post(url, body, format="json").status_code

    seen = try_everyone(people, roster, step.name, post, valid_api_body(ROSTER, step.name))
    assert_everyone_was_tried(seen)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_the_roster_page_asks_for_the_role_before_it_reads_the_form(step, people, world):
    roster = world.for_step(step.name)
    url = reverse("cases:roster-act", args=[roster.pk, step.name])

    def post(user, body):
        client = Client()
        client.force_login(user)
        return client.post(url, body).status_code

    valid = valid_page_body(ROSTER, step.name, roster, people.superuser)
    seen = try_everyone(people, roster, step.name, post, valid)
    assert_everyone_was_tried(seen)


def test_the_table_says_who_may_take_what(people, world):
    """A few rows written out by hand, so the table itself is checked, not only used."""
    may = ROSTER.may_take
    roster = world.prepared()
    # The township prepares: it checks again and holds lines back; nobody else does.
    for step in ("recheck", "line_hold"):
        assert may(people.caseworker_a, roster, step), step
        assert may(people.approver_a, roster, step), step
        assert not may(people.caseworker_b, roster, step), step
        assert not may(people.auditor, roster, step), step
        assert not may(people.finance, roster, step), step
        assert not may(people.assistant_a, roster, step), step
    # The county approves, finance reviews; either sends back; the township does not.
    assert may(people.auditor, roster, "county_approve")
    assert not may(people.finance, roster, "county_approve")
    assert not may(people.approver_a, roster, "county_approve")
    assert may(people.finance, roster, "finance_approve")
    assert not may(people.auditor, roster, "finance_approve")
    assert not may(people.outsider_auditor, roster, "county_approve")
    for person in ("auditor", "finance"):
        assert may(getattr(people, person), roster, "send_back"), person
    for person in ("caseworker_a", "approver_a", "outsider_auditor"):
        assert not may(getattr(people, person), roster, "send_back"), person
    # The county exchanges files with the bank; finance and the township do not.
    assert may(people.auditor, roster, "return_apply")
    assert not may(people.finance, roster, "return_apply")
    assert not may(people.caseworker_a, roster, "return_apply")


def test_the_service_refuses_what_the_table_refuses(people, world):
    """The services check the same table: the township cannot send its roster back, the
    county's auditor cannot review it for finance, nor the finance reviewer approve it
    for the county."""
    roster = world.prepared()
    with pytest.raises(PermissionDenied):
        payments.roster_send_back(
            actor=people.approver_a, roster_id=roster.pk, reason="金额需要核实"
        )
    with pytest.raises(PermissionDenied):
        payments.roster_county_approve(actor=people.finance, roster_id=roster.pk)
    with pytest.raises(PermissionDenied):
        payments.roster_finance_approve(actor=people.auditor, roster_id=roster.pk)
    assert fresh(roster).state == R.PREPARED


def test_a_step_nobody_declared_is_not_found(people, world):
    roster = world.prepared()
    client = Client()
    client.force_login(people.auditor)
    for name in ("prepare", "paid", "approve", "no_such_step"):
        url = reverse("cases:roster-act", args=[roster.pk, name])
        assert client.post(url, {"reason": "金额需要核实"}).status_code == 404, name
    assert fresh(roster).state == R.PREPARED
