"""Refusals of the access gate leave an audit row (aid_portal.denials), and the county's
auditors see who keeps being refused on the audit page."""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from aid_portal.models import AuditEvent

pytestmark = pytest.mark.django_db

ADDRESS = "10.1.2.3"


def denials():
    return AuditEvent.objects.filter(action="access.denied").order_by("id")


@pytest.fixture
def family(make_family):
    return make_family()


@pytest.mark.parametrize("kind", ["case page", "file download", "api object"])
def test_another_townships_case_is_404_and_one_row_records_the_attempt(
    kind, client, people, places, family
):
    app = family.application
    document = app.documents.first()
    path = {
        "case page": reverse("cases:detail", args=[app.pk]),
        "file download": reverse("cases:document-download", args=[app.household_id, document.pk]),
        "api object": reverse("api-cases-application-detail", args=[app.pk]),
    }[kind]
    client.force_login(people.caseworker_b)

    response = client.get(path, REMOTE_ADDR=ADDRESS)

    assert response.status_code == 404
    [row] = denials()
    assert row.actor == people.caseworker_b and row.actor_label == "caseworker_b"
    assert row.client_address == ADDRESS
    assert row.new_values["path"] == path and row.new_values["status"] == 404
    # Filed under the refused user's township, so their county's auditors see it.
    assert row.region == places.township_b
    assert abs(row.at - timezone.now()) < datetime.timedelta(minutes=5)
    if kind != "file download":
        assert (row.object_type, row.object_id) == ("cases.application", str(app.pk))


def test_a_role_refusal_403_is_recorded_too(client, people):
    client.force_login(people.caseworker_b)
    assert client.get(reverse("audit-list")).status_code == 403
    [row] = denials()
    assert row.actor == people.caseworker_b and row.new_values["status"] == 403


def test_an_address_that_matches_no_route_writes_no_row(client, people):
    client.force_login(people.caseworker_b)
    assert client.get("/cases/no-such-page/").status_code == 404
    assert client.get("/api/no-such-thing/").status_code == 404
    assert not denials().exists()


def test_what_the_user_may_see_writes_no_row(client, people, family):
    client.force_login(people.caseworker_a)
    assert client.get(reverse("cases:detail", args=[family.application.pk])).status_code == 200
    assert not denials().exists()


def test_the_row_survives_the_requests_rolled_back_transaction(client, people, family, monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "ATOMIC_REQUESTS", True)
    client.force_login(people.caseworker_b)
    path = reverse("cases:detail", args=[family.application.pk])
    assert client.get(path).status_code == 404
    assert denials().filter(actor=people.caseworker_b).count() == 1


def test_the_county_auditor_sees_repeated_denials_on_the_audit_page(client, people, family):
    client.force_login(people.caseworker_b)
    paths = [reverse("cases:detail", args=[family.application.pk]), "/cases/999999/"]
    for path in paths:
        client.get(path)
    client.force_login(people.assistant_a)
    client.get(reverse("audit-list"))  # once only: not "repeated"

    client.force_login(people.auditor)
    page = client.get(reverse("audit-list"))
    assert page.status_code == 200
    table = page.context["repeated_denials"]
    assert [(row["actor_label"], row["count"], row["last_path"]) for row in table] == [
        ("caseworker_b", 2, paths[-1])
    ]
    html = page.content.decode()
    assert 'id="repeated-denials"' in html and "caseworker_b" in html and paths[-1] in html


def test_another_countys_auditor_does_not_see_them(client, people, family):
    client.force_login(people.caseworker_b)
    for _ in range(3):
        client.get(reverse("cases:detail", args=[family.application.pk]))
    client.force_login(people.outsider_auditor)
    page = client.get(reverse("audit-list"))
    assert page.status_code == 200
    assert list(page.context["repeated_denials"]) == []
