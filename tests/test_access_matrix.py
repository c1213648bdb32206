"""Every page and API endpoint × every demo role, inside and outside the jurisdiction.

Each feature adds its rows to ROWS. A row names the URL (built from the fixtures), and
the status each person gets. 404 is the answer for objects outside a person's places:
never the object, never "forbidden" (which would confirm it exists). For lists, the
``must_not_contain`` check proves nothing from outside leaks into a 200.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal.audit import audit_record
from aid_portal.models import ApiToken
from tests.cases.world import build_case_world

ANON = "anonymous"
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
    "superuser",
    "finance",
]
EVERYONE = [ANON, *PEOPLE]


@dataclass
class World:
    places: object
    people: object
    event_a: object  # an audit row about township A
    event_other: object  # an audit row about the other county
    cases: object = None  # tests.cases.world.CaseWorld


@dataclass
class Row:
    name: str
    url: Callable[[World], str]
    expect: dict[str, int]  # person -> status; see default
    default: int = 200
    api: bool = False
    must_not_contain: dict[str, Callable[[World], str]] = field(default_factory=dict)
    url_name: str = ""  # the URL name this row covers (see test_every_url_is_in_the_matrix)

    def status_for(self, person: str) -> int:
        return self.expect.get(person, self.default)


PAGE_LOGIN = 302  # anonymous on a page: sent to the login page
API_ANON = 401  # anonymous on the API: asked for credentials


def only(allowed: list[str], *, otherwise: int, anon: int, status: int = 200) -> dict[str, int]:
    return {p: (status if p in allowed else otherwise) for p in PEOPLE} | {ANON: anon}


TOKEN_OWNERS = ("caseworker_a", "outsider_auditor")


def with_tokens(url_name: str) -> Callable[[World], str]:
    """The URL, once caseworker_a and the other county's auditor each have an API token
    (named after them), so a list can be checked for tokens that are not the reader's."""

    def url(w: World) -> str:
        for owner in TOKEN_OWNERS:
            user = getattr(w.people, owner)
            if not ApiToken.objects.filter(user=user).exists():
                ApiToken.objects.create(user=user, name=f"script of {owner}")
        return reverse(url_name)

    return url


ROWS = [
    # Signed-in people are sent on from the login page to the home page.
    Row("login page", lambda w: reverse("login"), {ANON: 200}, default=302),
    Row("health", lambda w: reverse("healthz"), {}),
    Row("home", lambda w: reverse("home"), {ANON: PAGE_LOGIN}),
    Row(
        "audit list",
        lambda w: reverse("audit-list"),
        only(["auditor", "outsider_auditor", "superuser"], otherwise=403, anon=PAGE_LOGIN),
        must_not_contain={
            "auditor": lambda w: w.event_other.object_label,
            "outsider_auditor": lambda w: w.event_a.object_label,
        },
    ),
    Row(
        "audit detail, township A",
        lambda w: reverse("audit-detail", args=[w.event_a.id]),
        only(["auditor", "superuser"], otherwise=404, anon=PAGE_LOGIN),
    ),
    Row(
        "audit detail, other county",
        lambda w: reverse("audit-detail", args=[w.event_other.id]),
        only(["outsider_auditor", "superuser"], otherwise=404, anon=PAGE_LOGIN),
    ),
    Row(
        "staff admin",
        lambda w: reverse("admin:index"),
        only(["feedadmin", "superuser"], otherwise=302, anon=302),
    ),
    Row(
        "staff admin: users",
        lambda w: reverse("admin:aid_portal_user_changelist"),
        only(["feedadmin", "superuser"], otherwise=302, anon=302),
        must_not_contain={"feedadmin": lambda w: "outsider_auditor"},
    ),
    Row(
        "api tokens page",
        with_tokens("api-token-list"),
        {ANON: PAGE_LOGIN},
        # Everyone sees their own tokens only.
        must_not_contain={
            p: (lambda w: "script of caseworker_a")
            if p != "caseworker_a"
            else (lambda w: "script of outsider_auditor")
            for p in PEOPLE
        },
    ),
    Row(
        "staff admin: api tokens",
        with_tokens("admin:aid_portal_apitoken_changelist"),
        only(["feedadmin", "superuser"], otherwise=302, anon=302),
        must_not_contain={"feedadmin": lambda w: "script of outsider_auditor"},
    ),
    Row("api root", lambda w: reverse("api-root"), {ANON: API_ANON}, api=True),
    Row("api me", lambda w: reverse("api-me"), {ANON: API_ANON}, api=True),
    Row(
        "api regions",
        lambda w: reverse("api-region-list"),
        {ANON: API_ANON},
        api=True,
        must_not_contain={
            p: (lambda w: w.places.other_county.code)
            for p in PEOPLE
            if p not in {"outsider_auditor", "superuser"}
        },
    ),
    Row(
        "api region, township A",
        lambda w: reverse("api-region-detail", args=[w.places.township_a.code]),
        {
            ANON: API_ANON,
            "assistant_a": 404,
            "caseworker_b": 404,
            "outsider_auditor": 404,
            "nobody": 404,
            "finance": 404,
        },
        api=True,
    ),
    Row(
        "api audit list",
        lambda w: reverse("api-audit-list"),
        only(["auditor", "outsider_auditor", "superuser"], otherwise=403, anon=API_ANON),
        api=True,
        must_not_contain={
            "auditor": lambda w: w.event_other.object_label,
            "outsider_auditor": lambda w: w.event_a.object_label,
        },
    ),
    Row(
        "api audit detail, township A",
        lambda w: reverse("api-audit-detail", args=[w.event_a.id]),
        only(["auditor", "superuser"], otherwise=404, anon=API_ANON),
        api=True,
    ),
    Row("api schema", lambda w: reverse("api-schema"), {ANON: API_ANON}, api=True),
    Row("api docs", lambda w: reverse("api-docs"), {ANON: API_ANON}, api=True),
]


# Each feature keeps its rows in a module of its own; they all run here.
ROW_MODULES = [
    "tests.cases.access_rows_intake",
    "tests.cases.access_rows_casework",
    "tests.cases.access_rows_printouts",
    "tests.cases.access_rows_api",
    "tests.verification.access_rows_feeds",
    "tests.verification.access_rows_requests",
    "tests.verification.access_rows_batch",
    "tests.verification.access_rows_spotcheck",
    "tests.cases.access_rows_reviews",
    "tests.credit.access_rows_credit",
    "tests.credit.access_rows_trust",
    "tests.cases.access_rows_publicity",
    "tests.cases.access_rows_payments",
    "tests.cases.access_rows_lists",
    "tests.verification.access_rows_lists",
    "tests.credit.access_rows_lists",
    "tests.cases.access_rows_overview",
]
for _module in ROW_MODULES:
    try:
        ROWS += importlib.import_module(_module).ROWS
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise


@pytest.fixture
def world(places, people) -> World:
    with transaction.atomic():
        event_a = audit_record(
            actor=people.caseworker_a,
            action="test.inside",
            obj=places.village_a,
            region=places.village_a,
        )
        event_other = audit_record(
            actor=None, action="test.outside", obj=places.other_village, region=places.other_village
        )
    return World(
        places=places,
        people=people,
        event_a=event_a,
        event_other=event_other,
        cases=build_case_world(places, people),
    )


def client_for(person: str, world: World, *, api: bool):
    client = APIClient() if api else APIClient(enforce_csrf_checks=True)
    if person != ANON:
        client.force_login(getattr(world.people, person))
    return client


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_access_matrix(row: Row, world: World):
    failures = []
    for person in EVERYONE:
        client = client_for(person, world, api=row.api)
        url = row.url(world)
        response = client.get(url)
        expected = row.status_for(person)
        if response.status_code != expected:
            failures.append(f"{person}: {response.status_code}, expected {expected}")
            continue
        if person in row.must_not_contain and response.status_code == 200:
            secret = row.must_not_contain[person](world)
            if secret in response.content.decode():
                failures.append(f"{person}: sees {secret!r}, which lies outside their places")
    assert not failures, f"{row.name} ({row.url(world)}):\n" + "\n".join(failures)


# The core rows above, by the URL name each covers (feature rows set Row.url_name).
CORE_URL_NAMES = {
    "login": "login page",
    "healthz": "health",
    "home": "home",
    "audit-list": "audit list",
    "audit-detail": "audit detail, township A",
    "api-root": "api root",
    "api-me": "api me",
    "api-region-list": "api regions",
    "api-region-detail": "api region, township A",
    "api-audit-list": "api audit list",
    "api-audit-detail": "api audit detail, township A",
    "api-schema": "api schema",
    "api-docs": "api docs",
    "api-token-list": "api tokens page",
}
assert set(CORE_URL_NAMES.values()) <= {row.name for row in ROWS}

# URL names whose GET is not a page (POST-only actions); each is tested where it lives.
# api-token-revoke: tests/test_api_tokens.py (another user's token is "not found").
POST_ONLY = {"logout", "set_language", "api-token", "api-token-revoke"}
for _module in ROW_MODULES:
    try:
        POST_ONLY |= set(getattr(importlib.import_module(_module), "POST_ONLY", ()))
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise


def test_every_url_is_in_the_matrix():
    """A new page or endpoint without a row here fails this test."""
    from django.urls import get_resolver

    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                if pattern.namespace == "admin":
                    continue  # the admin is covered by its own rows above
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns)
    covered = set(CORE_URL_NAMES) | {row.url_name for row in ROWS if row.url_name} | POST_ONLY
    missing = names - covered
    assert not missing, f"URLs with no row in the access matrix: {sorted(missing)}"


# Bodies of two shapes: the answer to a person who may not act must not depend on them.
POST_BODIES = [{}, {"reason": "x", "id": "garbage", "amount": "-1", "file": "not a file"}]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_a_refusal_does_not_depend_on_the_body(row: Row, world: World):
    """Permission first (issue 17): a POST to any address of the matrix, whatever it
    carries, gets one answer about access: refused (403), hidden (404), or neither. A
    refusal for one body and a validation error for another would tell a caller that
    the address exists and what it expects. (The steps' own addresses are tested the
    same way, with a body the step would accept, beside their step tables.)"""
    mixed = []
    for person in EVERYONE:
        # Without the CSRF check, or every page POST would be the same 403 for everyone.
        client = APIClient()
        if person != ANON:
            client.force_login(getattr(world.people, person))
        url = row.url(world)
        statuses = [
            client.post(url, body, format="json" if row.api else None).status_code
            for body in POST_BODIES
        ]
        refusals = {status for status in statuses if status in (401, 403, 404)}
        if refusals and (len(refusals) > 1 or len(refusals) < len(set(statuses))):
            mixed.append(f"{person}: {statuses}")
    assert not mixed, f"{row.name} ({row.url(world)}):\n" + "\n".join(mixed)
