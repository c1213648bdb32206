"""The credit lists (credit.lists): the findings and the decisions queue, searched and
filtered as the API's finding list is, and exported as the filters show them.

The families of tests.cases.test_listing: 马文忠 (龙王坝村) and 杨秀兰 (杨河村) in township
A, another 马文忠 in township B.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal.identity import mask_identity_number
from aid_portal.models import AuditEvent
from cases.models import Member
from credit.findings import services
from tests.cases import conftest as case_fixtures
from tests.cases import test_listing
from tests.cases.test_listing import read_csv

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
cases = test_listing.cases


@pytest.fixture
def findings(cases, people):
    """A finding on each family, the 马文忠 of township A's on the person; all proposed."""
    made = {}
    for key in ("ma", "yang", "b"):
        app = cases[key]
        person = None
        if key == "ma":
            person = Member.objects.get(household=app.household, relation="self").person_id
        made[key] = services.finding_record(
            actor=people.caseworker_b if key == "b" else people.caseworker_a,
            household_id=app.household_id,
            person_id=person,
            behaviour_code="xj-false-material-minor",
            facts="少报收入",
            source_kind="case",
            application_id=app.pk,
        ).pk
    return made


def shown(client, name, findings, **params) -> set[str]:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    html = response.content.decode()
    return {key for key, pk in findings.items() if f'id="finding-{pk}"' in html}


def test_findings_are_searched_in_the_users_places_as_the_api_does(client, people, cases, findings):
    client.force_login(people.caseworker_a)
    name = "credit:findings"
    assert shown(client, name, findings) == {"ma", "yang"}
    assert shown(client, name, findings, q="文忠") == {"ma"}  # never township B's
    assert shown(client, name, findings, q=cases["yang"].identity) == {"yang"}
    assert shown(client, name, findings, q=cases["yang"].number) == {"yang"}
    assert shown(client, name, findings, village=cases["yang"].village.code) == {"yang"}
    assert shown(client, name, findings, household=cases["ma"].household_id) == {"ma"}
    assert shown(client, name, findings, q=cases["b"].identity) == set()

    api = APIClient()
    api.force_authenticate(people.caseworker_a)
    response = api.get(reverse("api-credit-findings"), {"q": "文忠"})
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {findings["ma"]}


def test_the_findings_export_is_what_the_filters_show(client, people, cases, findings):
    client.force_login(people.caseworker_a)
    response = client.get(reverse("credit:findings"), {"q": "文忠", "export": "csv"})
    header, *rows = read_csv(response)
    assert header[:2] == ["编号", "发现日期"]
    assert [row[0] for row in rows] == [f"#{findings['ma']}"]
    assert rows[0][5] == mask_identity_number(cases["ma"].identity)
    assert AuditEvent.objects.get(action="list.export").new_values["list"] == "credit-findings"


def test_the_decisions_queue_is_searched_and_exported(client, people, cases, findings):
    client.force_login(people.approver_a)
    name = "credit:decisions"
    assert shown(client, name, findings) == {"ma", "yang"}
    assert shown(client, name, findings, q="杨河") == {"yang"}
    rows = read_csv(client.get(reverse(name), {"q": "杨河", "export": "csv"}))[1:]
    assert [row[0] for row in rows] == [f"#{findings['yang']}"]
    client.force_login(people.caseworker_a)
    assert client.get(reverse(name), {"export": "csv"}).status_code == 403
