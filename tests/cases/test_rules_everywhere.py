"""Every rule is the service's, so the page and the API refuse alike.

For each rule a service enforces (a credit block on new applications, eligibility at the
decision, a signed authorisation before verification) the same refusal is tried through
the page and through the API: both refuse with the service's message, and nothing is
saved.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, Authorisation
from credit.findings import services as credit_services
from tests.cases.conftest import to_decision

pytestmark = pytest.mark.django_db
S = Application.State


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def block(people, family) -> None:
    """A moderate credit finding in force today: the family is blocked for six months."""
    today = timezone.localdate()
    finding = credit_services.finding_record(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        person_id=family.applicant.person_id,
        behaviour_code="xj-false-material-refuses",
        facts="拒不改正虚假材料",
        source_kind="case",
        source_id=family.application.pk,
        application_id=family.application.pk,
        found_on=today,
    )
    credit_services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=today)


def test_a_blocked_household_is_refused_by_the_page_and_the_api(people, places, make_family):
    family = make_family()
    block(people, family)
    households = family.application.household.applications
    page = page_client(people.caseworker_a).post(
        reverse("cases:intake-start"),
        {
            "village": places.village_a.pk,
            "address": "龙王坝村8号",
            "assistance_type": "temporary_emergency",
            "identity_number": family.applicant.person.identity_number,
            "name": family.applicant.person.name,
        },
    )
    api = api_client(people.caseworker_a).post(
        reverse("api-cases-application-list"),
        {"household": family.application.household_id, "assistance_type": "temporary_emergency"},
        format="json",
    )
    assert (page.status_code, api.status_code) == (400, 400)
    for response in (page, api):
        assert "被限制申请新的救助" in response.content.decode()
    assert households.count() == 1


def test_an_ineligible_family_is_refused_by_the_page_and_the_api(people, make_family):
    family = make_family(income="5000")  # far above the line for two people
    app_id = to_decision(people, family)
    start = timezone.localdate().replace(day=1).isoformat()
    page = page_client(people.approver_a).post(
        reverse("cases:act", args=[app_id, "approve"]), {"start_month": start[:7]}
    )
    api = api_client(people.approver_a).post(
        reverse("api-cases-approve", args=[app_id]), {"start_month": start}, format="json"
    )
    assert (page.status_code, api.status_code) == (400, 400)
    for response in (page, api):
        assert "该家庭不符合条件" in response.content.decode()
    assert Application.objects.get(pk=app_id).state == S.AWAITING_DECISION


def test_verification_without_a_signed_authorisation_is_refused_by_both(people, make_family):
    family = make_family()
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    Authorisation.objects.filter(member=family.spouse).delete()
    page = page_client(cw).post(reverse("cases:act", args=[app_id, "verification_request"]))
    api = api_client(cw).post(
        reverse("api-cases-verification-request", args=[app_id]), {}, format="json"
    )
    assert (page.status_code, api.status_code) == (400, 400)
    for response in (page, api):
        text = response.content.decode()
        assert family.spouse.person.name in text and "授权" in text
    assert Application.objects.get(pk=app_id).state == S.ACCEPTED
    assert not family.application.verification_requests.exists()
