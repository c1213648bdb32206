"""A credit finding's declared steps (credit.findings.steps.CREDIT_FINDING) as the pages and the
API use them, in the spirit of tests/test_step_tables.py.

Every step is bound to a page and to the API, and its roles are checked before its body
is read: a person who may never take the step gets 403 whatever they send (404 outside
their places). The rows come from the table itself; the finding each step is tried on is
the first of the world's findings the step may leave from.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import access
from aid_portal.models import AuditEvent
from aid_portal.steps import check_bindings
from credit.findings import services
from credit.findings.models import Finding, FindingEvent
from credit.findings.steps import CREDIT_FINDING
from tests.credit.conftest import DAY
from tests.step_bodies import valid_api_body, valid_page_body

pytestmark = pytest.mark.django_db

F = Finding.State
PEOPLE = [
    "assistant_a",
    "caseworker_a",
    "approver_a",
    "caseworker_b",
    "auditor",
    "verifier",
    "feedadmin",
    "outsider_auditor",
    "nobody",
]
# Bodies a refused person might send: nothing, and something that is not the step's; the
# tests add a third the step would accept (tests.step_bodies).
BODIES = [{}, {"note": "x", "reason": "x", "amount": "garbage", "interview": "not a number"}]
SEVERE = "xj-obstructs-staff"


class World:
    """Findings of township A in the states the steps leave from, each made on demand on a
    family of its own (findings of one family would escalate each other)."""

    def __init__(self, people, make_family, record, in_force):
        self.people, self.make_family, self.record, self.in_force = (
            people,
            make_family,
            record,
            in_force,
        )

    def proposed(self) -> Finding:
        return self.record(self.make_family())

    def county_pending(self) -> Finding:
        finding = self.record(self.make_family(), SEVERE)
        services.finding_decide(actor=self.people.approver_a, finding_id=finding.pk, today=DAY)
        return finding

    def standing(self) -> Finding:
        return self.in_force(self.make_family())

    def owing(self) -> Finding:
        """Severe, in force, with an open repayment order."""
        return self.in_force(
            self.make_family(),
            SEVERE,
            repayment_amount="600",
            repayment_deadline=DAY + datetime.timedelta(days=30),
        )

    def objected(self) -> Finding:
        finding = self.standing()
        services.objection_lodge(
            actor=self.people.caseworker_a, finding_id=finding.pk, statement="不服", lodged_on=DAY
        )
        return finding

    def repair_pending(self) -> Finding:
        finding = self.standing()
        services.interview_hold(
            actor=self.people.caseworker_a,
            interview_id=finding.interviews.get().pk,
            notes="已约谈",
            held_on=DAY,
        )
        services.repair_apply(
            actor=self.people.caseworker_a,
            finding_id=finding.pk,
            correction="已改正",
            applied_on=DAY,
        )
        return finding

    KINDS = [
        (F.PROPOSED, proposed),
        (F.COUNTY_PENDING, county_pending),
        (F.STANDING, standing),
        (F.STANDING, owing),
        (F.STANDING, repair_pending),
        (F.OBJECTED, objected),
    ]

    def for_step(self, name: str) -> Finding:
        """The first finding the step leaves from and its page offers it on."""
        step, binding = CREDIT_FINDING[name], CREDIT_FINDING.page(name)
        for state, make in self.KINDS:
            if state not in step.leaves:
                continue
            finding = fresh(make(self))
            if binding.when is None or binding.when(finding):
                return finding
        raise AssertionError(f"the world has no finding for the step {name}")


@pytest.fixture
def world(people, make_family, record, in_force) -> World:
    return World(people, make_family, record, in_force)


def fresh(finding: Finding) -> Finding:
    return Finding.objects.select_related("village").get(pk=finding.pk)


def expected(user, finding: Finding, step_name: str) -> str:
    if not access.jurisdiction_for(user).contains(finding.village):
        return "hidden"
    return "allowed" if CREDIT_FINDING.may_take(user, finding, step_name) else "refused"


def try_everyone(people, finding: Finding, step_name: str, post, valid) -> dict[str, set]:
    """Each person sends each body, and a body the step would accept (``valid``, None if
    the step takes a file); the expectation is read from the finding as it stands before
    each request (an allowed body may have moved it on)."""
    seen: dict[str, set] = {}
    bodies = [*BODIES, valid] if valid is not None else BODIES
    for person in PEOPLE:
        user = getattr(people, person)
        for body in bodies:
            kind = expected(user, fresh(finding), step_name)
            status = post(user, body)
            if kind == "hidden":
                assert status == 404, (person, body, status)
            elif kind == "refused":
                assert status == 403, (person, body, status)
            else:
                assert status not in (403, 404), (person, body, status)
            seen.setdefault(kind, set()).add(person)
    return seen


STEPS = list(CREDIT_FINDING)


def test_every_step_of_a_finding_is_bound_to_a_page_and_the_api():
    assert check_bindings([CREDIT_FINDING]) == []
    assert [step.name for step in CREDIT_FINDING if step.internal] == []
    assert {step.name for step in CREDIT_FINDING} == {
        "decide",
        "confirm",
        "dismiss",
        "interview",
        "repayment",
        "recover",
        "object",
        "objection_review",
        "repair_apply",
        "repair_decide",
    }


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_the_api_asks_for_the_role_before_it_reads_the_body(step, people, world):
    finding = world.for_step(step.name)
    url = reverse(f"api-credit-{step.slug}", args=[finding.pk])

    def post(user, body):
        client = APIClient()
        client.force_login(user)
        return client.post(url, body, format="json").status_code

    valid = valid_api_body(CREDIT_FINDING, step.name)
    seen = try_everyone(people, finding, step.name, post, valid)
    assert {"caseworker_b", "outsider_auditor"} <= seen["hidden"]
    assert seen.get("refused") and seen.get("allowed"), seen


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_the_finding_page_asks_for_the_role_before_it_reads_the_form(step, people, world):
    finding = world.for_step(step.name)
    url = reverse("credit:act", args=[finding.pk, step.name])

    def post(user, body):
        client = Client()
        client.force_login(user)
        return client.post(url, body).status_code

    valid = valid_page_body(CREDIT_FINDING, step.name, finding, people.superuser)
    seen = try_everyone(people, finding, step.name, post, valid)
    assert {"caseworker_b", "outsider_auditor"} <= seen["hidden"]
    assert seen.get("refused") and seen.get("allowed"), seen


def test_the_table_says_who_may_take_what(people, world):
    """A few rows written out by hand, so the table itself is checked, not only used."""
    may = CREDIT_FINDING.may_take
    proposed, pending = world.proposed(), fresh(world.county_pending())
    # The township decides; a severe finding it proposes is confirmed by the county only.
    assert may(people.approver_a, proposed, "decide")
    assert not may(people.caseworker_a, proposed, "decide")
    assert may(people.auditor, pending, "confirm")
    assert not may(people.approver_a, pending, "confirm")
    # Not confirming: the township while it decides, the county once it is asked.
    assert may(people.approver_a, proposed, "dismiss")
    assert not may(people.auditor, proposed, "dismiss")
    assert may(people.auditor, pending, "dismiss")
    assert not may(people.approver_a, pending, "dismiss")
    # The township's staff record; village assistants and the verification centre do not.
    standing = world.standing()
    for step in ("interview", "repayment", "recover", "object", "repair_apply"):
        assert may(people.caseworker_a, standing, step), step
        assert may(people.approver_a, standing, step), step
        assert not may(people.assistant_a, standing, step), step
        assert not may(people.verifier, standing, step), step
    # An objection is reviewed by the township's approver or the county, not a caseworker.
    assert may(people.approver_a, standing, "objection_review")
    assert may(people.auditor, standing, "objection_review")
    assert not may(people.caseworker_a, standing, "objection_review")
    # Repairs: the township for light and moderate findings, the county for severe ones.
    owing = world.owing()
    assert may(people.approver_a, standing, "repair_decide")
    assert not may(people.auditor, standing, "repair_decide")
    assert may(people.auditor, owing, "repair_decide")
    assert not may(people.approver_a, owing, "repair_decide")


def test_the_service_refuses_what_the_table_refuses(people, world):
    """The services check the same table: the township's approver cannot confirm a
    severe finding, nor dismiss one proposed to the county."""
    pending = world.county_pending()
    with pytest.raises(PermissionDenied):
        services.finding_confirm(actor=people.approver_a, finding_id=pending.pk, today=DAY)
    with pytest.raises(PermissionDenied):
        services.finding_dismiss(actor=people.approver_a, finding_id=pending.pk, reason="x")
    assert fresh(pending).state == F.COUNTY_PENDING


def test_a_step_writes_its_event_and_audit_rows_through_the_table(people, world):
    """The table's move writes the finding's own history row (dated the step's day) and
    the audit row with the finding's level, as the services did by hand."""
    finding = world.proposed()
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, note="属实", today=DAY)
    event = FindingEvent.objects.get(finding=finding, action="decide")
    assert (event.on, event.actor, event.from_state, event.to_state, event.reason) == (
        DAY,
        people.approver_a,
        F.PROPOSED,
        F.STANDING,
        "属实",
    )
    audit = AuditEvent.objects.get(action="credit_finding.decide")
    assert audit.new_values == {"state": "standing", "level": "light"}
    assert audit.old_values == {"state": "proposed"}
    on = FindingEvent.objects.get(finding=finding, action="sanctions_on")
    assert (on.on, on.from_state, on.to_state) == (DAY, F.STANDING, F.STANDING)


def test_a_step_nobody_declared_is_not_found(people, world):
    finding = world.proposed()
    client = Client()
    client.force_login(people.approver_a)
    for name in ("record", "propose", "review", "no_such_step"):
        url = reverse("credit:act", args=[finding.pk, name])
        assert client.post(url, {"note": "x"}).status_code == 404, name
    assert fresh(finding).state == F.PROPOSED
