"""The declared step tables (aid_portal.steps) as the pages and the API use them.

Every step a person takes is bound to a page and to the API; and a step's roles are
checked before its body is read: a person who may never take the step gets 403 whatever
they send (404 outside their places), so the answer tells them nothing of what the step
expects. The rows come from the tables themselves, so a new step is covered the day it is
declared.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import access
from aid_portal.steps import check_bindings
from cases.casework import documents
from cases.casework.steps import APPLICATION
from cases.reviews.steps import REVIEW
from tests.cases.conftest import scan
from tests.cases.world import build_case_world
from tests.step_bodies import valid_api_body, valid_page_body
from tests.test_access_matrix import PEOPLE as MATRIX_PEOPLE

pytestmark = pytest.mark.django_db

# Everyone of the access matrix with a login; the superuser may take every step.
PEOPLE = [person for person in MATRIX_PEOPLE if person != "superuser"]
# Bodies a refused person might send: nothing, and something that is not the step's; the
# tests add a third the step would accept (tests.step_bodies).
BODIES = [{}, {"reason": "x", "start_month": "garbage", "objection": "not a number"}]
# What the built body cannot guess: staff who work in the case's village.
VALID = {"home_visit": {"investigators": ["caseworker_a", "assistant_a"]}}
PEOPLE_STEPS = [step for step in APPLICATION if not step.internal]


def expected(user, app, step_name: str) -> str:
    if not access.jurisdiction_for(user).contains(app.village):
        return "hidden"
    return "allowed" if APPLICATION.may_take(user, app, step_name) else "refused"


def test_every_step_a_person_takes_is_bound_to_a_page_and_the_api():
    assert check_bindings([APPLICATION, REVIEW]) == []
    assert {step.name for step in APPLICATION if step.internal} == {
        "payment_start",
        "draft_withdraw",
    }


def test_the_table_says_who_may_take_what(places, people):
    """A few rows written out by hand, so the table itself is checked, not only used."""
    app = build_case_world(places, people).case_a
    assert APPLICATION.may_take(people.approver_a, app, "approve")
    assert not APPLICATION.may_take(people.caseworker_a, app, "approve")
    assert APPLICATION.may_take(people.assistant_a, app, "home_visit")
    assert not APPLICATION.may_take(people.assistant_a, app, "accept")
    assert APPLICATION.may_take(people.verifier, app, "verification_outcome")
    assert not APPLICATION.may_take(people.verifier, app, "verification_request")
    assert APPLICATION.may_take(people.auditor, app, "county_check")
    assert not APPLICATION.may_take(people.auditor, app, "withdraw")
    # The county's exception to the extreme-poverty conditions: the county auditor only.
    assert APPLICATION.may_take(people.auditor, app, "extreme_poverty_exception")
    assert not APPLICATION.may_take(people.approver_a, app, "extreme_poverty_exception")
    assert not APPLICATION.may_take(people.outsider_auditor, app, "extreme_poverty_exception")


def _signature_scans(app, people) -> None:
    """Two scans in the household's file, so a home visit's signatures can name them."""
    for _ in range(2):
        documents.document_upload(
            actor=people.caseworker_a, household=app.household, kind="home_visit", upload=scan()
        )


@pytest.mark.parametrize("step", PEOPLE_STEPS, ids=lambda step: step.name)
def test_the_api_asks_for_the_role_before_it_reads_the_body(step, places, people):
    app = build_case_world(places, people).case_a
    _signature_scans(app, people)
    valid = valid_api_body(
        APPLICATION, step.name, {"household": app.household}, **VALID.get(step.name, {})
    )
    bodies = [*BODIES, valid] if valid is not None else BODIES
    seen = {}
    for person in PEOPLE:
        user = getattr(people, person)
        client = APIClient()
        client.force_login(user)
        url = reverse(f"api-cases-{step.slug}", args=[app.pk])
        statuses = {client.post(url, body, format="json").status_code for body in bodies}
        seen[person] = (expected(user, app, step.name), statuses)
    for person, (kind, statuses) in seen.items():
        if kind == "hidden":
            assert statuses == {404}, (person, statuses)
        elif kind == "refused":
            assert statuses == {403}, (person, statuses)
        else:
            assert not statuses & {403, 404}, (person, statuses)
    assert seen["caseworker_b"][0] == "hidden"
    assert any(kind == "refused" for kind, _ in seen.values())


@pytest.mark.parametrize(
    "step", [step for step in PEOPLE_STEPS if step.on_page], ids=lambda step: step.name
)
def test_the_case_page_asks_for_the_role_before_it_reads_the_form(step, places, people):
    app = build_case_world(places, people).case_a
    _signature_scans(app, people)
    valid = valid_page_body(APPLICATION, step.name, app, people.superuser)
    bodies = [*BODIES, valid] if valid is not None else BODIES
    for person in PEOPLE:
        user = getattr(people, person)
        client = Client()
        client.force_login(user)
        url = reverse("cases:act", args=[app.pk, step.name])
        statuses = {client.post(url, body).status_code for body in bodies}
        kind = expected(user, app, step.name)
        if kind == "hidden":
            assert statuses == {404}, (person, statuses)
        elif kind == "refused":
            assert statuses == {403}, (person, statuses)
        else:
            assert not statuses & {403, 404}, (person, statuses)


def test_a_step_nobody_declared_is_not_found(places, people):
    app = build_case_world(places, people).case_a
    client = Client()
    client.force_login(people.caseworker_a)
    assert client.post(reverse("cases:act", args=[app.pk, "payment_start"])).status_code == 404
    assert client.post(reverse("cases:act", args=[app.pk, "no_such_step"])).status_code == 404
