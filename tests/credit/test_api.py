"""The credit API: the same services and gate as the pages, errors as field errors (400),
lost races as 409, other places as 404, and a warning-free schema."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.urls import include, path, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from credit import api_urls
from credit.findings.models import Finding, OutboxMessage
from credit.trust import api_urls as api_urls_trust
from tests.credit.conftest import DAY, scan

pytestmark = pytest.mark.django_db

# A URL configuration holding only these views, for their schema check alone.
urlpatterns = [
    path(
        "api/",
        include([p for p in api_urls.urlpatterns if p not in api_urls_trust.urlpatterns]),
    )
]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def post(client, url_name, *args, expect=200, **data):
    response = client.post(reverse(url_name, args=args), data, format="json")
    assert response.status_code == expect, response.content.decode()
    return response.json()


def record_body(family, **changes) -> dict:
    return {
        "household": family.application.household_id,
        "person": family.applicant.person_id,
        "behaviour": "xj-false-material-minor",
        "facts": "少报务工收入",
        "source_kind": "case",
        "application": family.application.pk,
        "found_on": DAY.isoformat(),
        **changes,
    }


def test_a_finding_goes_from_record_to_repair_through_the_api(people, make_family):
    family = make_family()
    caseworker, approver = client_for(people.caseworker_a), client_for(people.approver_a)
    finding = post(caseworker, "api-credit-findings", expect=201, **record_body(family))
    assert (finding["state"], finding["level"]) == ("proposed", "light")
    finding_id = finding["id"]
    decided = post(approver, "api-credit-decide", finding_id, note="属实")
    assert decided["state"] == "standing"
    assert {s["kind"] for s in decided["sanctions"]} == {"interview", "watch_list"}
    interview = decided["interviews"][0]["id"]
    post(caseworker, "api-credit-interview", finding_id, interview=interview, notes="已约谈")
    applied = post(caseworker, "api-credit-repair-apply", finding_id, correction="已补报")
    repair = applied["repairs"][0]
    done = post(
        approver,
        "api-credit-repair-decide",
        finding_id,
        repair=repair["id"],
        grant=True,
        note="同意",
    )
    assert done["state"] == "repaired"
    assert [e["action"] for e in done["events"]][:2] == ["record", "decide"]


def test_bad_input_is_a_field_error_and_saves_nothing(people, make_family):
    family = make_family()
    caseworker = client_for(people.caseworker_a)
    error = post(caseworker, "api-credit-findings", expect=400, **record_body(family, facts=" "))
    assert error == {"facts": ["请写明认定的事实。"]}
    assert not Finding.objects.exists()


def test_evidence_is_given_as_documents_of_the_household(people, make_family):
    family = make_family()
    caseworker = client_for(people.caseworker_a)
    upload = caseworker.post(
        reverse("api-households-document-upload", args=[family.application.household_id]),
        {"kind": "other", "file": scan()},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content.decode()
    document_id = upload.json()["id"]
    body = record_body(family, evidence=[document_id])
    post(caseworker, "api-credit-findings", expect=201, **body)
    assert list(Finding.objects.get().evidence.values_list("id", flat=True)) == [document_id]
    other = make_family()
    error = post(
        caseworker, "api-credit-findings", expect=400, **record_body(other, evidence=[document_id])
    )
    assert "evidence" in error


def test_severe_needs_the_county_and_a_second_decision_is_a_conflict(people, make_family):
    family = make_family()
    caseworker, approver = client_for(people.caseworker_a), client_for(people.approver_a)
    body = record_body(family, behaviour="xj-obstructs-staff")
    finding_id = post(caseworker, "api-credit-findings", expect=201, **body)["id"]
    assert post(approver, "api-credit-decide", finding_id)["state"] == "county_pending"
    post(approver, "api-credit-confirm", finding_id, expect=403)
    post(approver, "api-credit-decide", finding_id, expect=409)
    deadline = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    confirmed = post(
        client_for(people.auditor),
        "api-credit-confirm",
        finding_id,
        repayment_amount="900.00",
        repayment_deadline=deadline,
    )
    assert confirmed["state"] == "standing"
    assert confirmed["repayment_order"]["amount"] == "900.00"
    outbox = client_for(people.auditor).get(reverse("api-credit-outbox")).json()
    assert [m["kind"] for m in outbox["results"]] == ["record"]
    assert OutboxMessage.objects.get().finding_id == finding_id


def test_another_township_gets_not_found(people, make_family):
    family = make_family()
    finding_id = post(
        client_for(people.caseworker_a), "api-credit-findings", expect=201, **record_body(family)
    )["id"]
    outsider = client_for(people.caseworker_b)
    assert outsider.get(reverse("api-credit-finding", args=[finding_id])).status_code == 404
    post(outsider, "api-credit-object", finding_id, expect=404, statement="x")
    post(outsider, "api-credit-findings", expect=400, **record_body(family))
    assert Finding.objects.count() == 1


def test_the_block_check_answers_for_the_intake(people, make_family, in_force):
    family = make_family()
    in_force(family, "xj-false-material-refuses", on=datetime.date.today())
    number = family.applicant.person.identity_number
    answer = client_for(people.caseworker_a).get(
        reverse("api-credit-block-check"), {"identity_number": number}
    )
    assert answer.json()["blocked"] is True
    assert "被限制申请新的救助" in answer.json()["message"]


def test_the_schema_of_these_views_has_no_warnings(tmp_path):
    call_command(
        "spectacular",
        urlconf="tests.credit.test_api",
        validate=True,
        fail_on_warn=True,
        file=str(tmp_path / "schema.yaml"),
    )


def test_the_api_refuses_a_new_application_from_a_blocked_household(people, make_family, in_force):
    """The block is the service's rule, so the API meets it as the intake page does."""
    family = make_family()
    in_force(family, "xj-false-material-refuses", on=timezone.localdate())
    response = client_for(people.caseworker_a).post(
        reverse("api-cases-application-list"),
        {
            "household": family.application.household_id,
            "assistance_type": "temporary_emergency",
        },
        format="json",
    )
    assert response.status_code == 400, response.content.decode()
    assert "被限制申请新的救助" in response.content.decode()
    assert family.application.household.applications.count() == 1
