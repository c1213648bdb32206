"""The review's steps (cases.reviews.steps.REVIEW) ask for the role before the body.

As for the application's path (tests/test_step_tables.py): a person who may never take a
step gets 403 whatever they send, nothing, a wrong body or one the step would accept, and
404 outside their places; the answer tells them nothing of what the step expects.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import access
from cases.reviews import services as reviews
from cases.reviews.steps import REVIEW
from tests.step_bodies import valid_api_body, valid_page_body
from tests.test_access_matrix import PEOPLE as MATRIX_PEOPLE

pytestmark = pytest.mark.django_db

PEOPLE = [person for person in MATRIX_PEOPLE if person != "superuser"]
BODIES = [{}, {"reason": "x", "decision": "garbage", "exit_months": "not a number"}]
API_STEPS = [step for step in REVIEW if step.api and not step.internal]
PAGE_STEPS = [step for step in REVIEW if step.on_page and not step.internal]


@pytest.fixture
def review(enrol, people):
    family = enrol()
    return reviews.review_open(
        actor=people.caseworker_a, application_id=family.application.pk, reason="群众举报"
    )


def expected(user, review, step_name: str) -> str:
    if not access.jurisdiction_for(user).contains(review.application.village):
        return "hidden"
    return "allowed" if REVIEW.may_take(user, review, step_name) else "refused"


def check(seen: dict) -> None:
    for person, (kind, statuses) in seen.items():
        if kind == "hidden":
            assert statuses == {404}, (person, statuses)
        elif kind == "refused":
            assert statuses == {403}, (person, statuses)
        else:
            assert not statuses & {403, 404}, (person, statuses)
    kinds = {kind for kind, _ in seen.values()}
    assert {"hidden", "refused", "allowed"} <= kinds, seen


@pytest.mark.parametrize("step", API_STEPS, ids=lambda step: step.name)
def test_the_api_asks_for_the_role_before_it_reads_the_body(step, review, people):
    valid = valid_api_body(REVIEW, step.name, {"household": review.application.household})
    bodies = [*BODIES, valid] if valid is not None else BODIES
    url = reverse(f"api-cases-review-{step.slug}", args=[review.pk])
    seen = {}
    for person in PEOPLE:
        user = getattr(people, person)
        client = APIClient()
        client.force_login(user)
        statuses = {client.post(url, body, format="json").status_code for body in bodies}
        seen[person] = (expected(user, review, step.name), statuses)
    check(seen)


@pytest.mark.parametrize("step", PAGE_STEPS, ids=lambda step: step.name)
def test_the_review_page_asks_for_the_role_before_it_reads_the_form(step, review, people):
    valid = valid_page_body(REVIEW, step.name, review, people.superuser)
    bodies = [*BODIES, valid] if valid is not None else BODIES
    url = reverse("cases:review-act", args=[review.pk, step.name])
    seen = {}
    for person in PEOPLE:
        user = getattr(people, person)
        client = Client()
        client.force_login(user)
        statuses = {client.post(url, body).status_code for body in bodies}
        seen[person] = (expected(user, review, step.name), statuses)
    check(seen)
