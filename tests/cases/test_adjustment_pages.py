"""The adjustments to act on: the township's list (page and API), the approver adopting
or declining a proposal, and what the caseworker may not do."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aid_portal.identity import mask_identity_number
from cases.models import AdjustmentProposal, Policy
from cases.reviews import services
from tests.queries import assert_get_query_count

pytestmark = pytest.mark.django_db
A = AdjustmentProposal


def client_for(user, *, api: bool = False):
    client = APIClient() if api else APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def propose(enrol, people, *, action=A.Action.DECREASE, amount="500") -> AdjustmentProposal:
    family = enrol()
    return services.adjustment_propose(
        actor=people.auditor,
        application_id=family.application.pk,
        action=action,
        reasons="入户抽查发现家庭收入增加",
        source=A.Source.SPOT_CHECK,
        proposed_amount=amount,
    )


# The list for township A's approver:
#   1 session, 2 user, 3 role assignments, 4 per-object grants, 5 the count for the pager,
#   6 the page of proposals with their cases, villages, households and people,
#   7 the applicants with their persons, 8 the policy in force, read by the county's
#   code (who decides: once per county on the page, not per row), 9 the user's
#   villages for the search's village select.
ADJUSTMENT_PAGE_QUERIES = 9
# The API list: the first seven (the API offers no forms, so no policy, no villages).
ADJUSTMENT_API_QUERIES = 7


@pytest.mark.parametrize(
    ("name", "api", "expected"),
    [
        ("cases:adjustments", False, ADJUSTMENT_PAGE_QUERIES),
        ("api-cases-adjustment-list", True, ADJUSTMENT_API_QUERIES),
    ],
)
def test_the_list_costs_the_same_for_one_proposal_and_many(name, api, expected, enrol, people):
    client = client_for(people.approver_a, api=api)
    url = reverse(name)
    client.get(url)
    propose(enrol, people)
    assert_get_query_count(client, url, expected)
    for _ in range(3):
        propose(enrol, people)
    assert_get_query_count(client, url, expected)


def test_the_approver_adopts_a_decrease_with_the_amount(enrol, people):
    proposal = propose(enrol, people)
    approver = client_for(people.approver_a)
    page = approver.get(reverse("cases:adjustments")).content.decode()
    assert f'id="proposal-{proposal.pk}"' in page and "入户抽查发现家庭收入增加" in page
    url = reverse("cases:adjustment-handle", args=[proposal.pk])
    # An amount above the current one is no decrease: refused beside the form.
    response = approver.post(url, {"adopt": "adopt", "monthly_amount": "950"})
    assert response.status_code == 400
    assert "必须低于" in response.content.decode() or "低于" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == A.Status.OPEN
    response = approver.post(url, {"adopt": "adopt", "monthly_amount": "450"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == A.Status.ADOPTED
    assert proposal.application.monthly_amount == Decimal("450.00")
    # Acting twice is a warning; nothing changes.
    response = approver.post(url, {"adopt": "decline", "note": "再次"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == A.Status.ADOPTED


def test_declining_needs_a_note(enrol, people):
    proposal = propose(enrol, people, action=A.Action.STOP, amount=None)
    approver = client_for(people.approver_a)
    url = reverse("cases:adjustment-handle", args=[proposal.pk])
    assert approver.post(url, {"adopt": "decline", "note": " "}).status_code == 400
    assert approver.post(url, {}).status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == A.Status.OPEN
    assert approver.post(url, {"adopt": "decline", "note": "复查后收入未超标"}).status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.handling_note) == (A.Status.DECLINED, "复查后收入未超标")
    assert proposal.application.state == "in_payment"


def test_the_caseworker_sees_the_list_but_the_approver_decides(enrol, people):
    proposal = propose(enrol, people)
    caseworker = client_for(people.caseworker_a)
    page = caseworker.get(reverse("cases:adjustments")).content.decode()
    assert f'id="proposal-{proposal.pk}"' in page
    assert reverse("cases:adjustment-handle", args=[proposal.pk]) not in page
    url = reverse("cases:adjustment-handle", args=[proposal.pk])
    assert caseworker.post(url, {"adopt": "adopt", "monthly_amount": "450"}).status_code == 403
    outsider = client_for(people.caseworker_b)
    assert outsider.post(url, {"adopt": "adopt", "monthly_amount": "450"}).status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == A.Status.OPEN


def test_with_no_policy_in_force_the_township_approver_is_offered_the_decision(
    enrol, people, places
):
    proposal = propose(enrol, people)
    Policy.objects.filter(county=places.county).update(
        effective_from=timezone.localdate() + datetime.timedelta(days=365)
    )
    page = client_for(people.approver_a).get(reverse("cases:adjustments")).content.decode()
    assert reverse("cases:adjustment-handle", args=[proposal.pk]) in page


def test_the_api_handles_a_proposal(enrol, people):
    proposal = propose(enrol, people, action=A.Action.INCREASE, amount="1000")
    api = client_for(people.approver_a, api=True)
    url = reverse("api-cases-adjustment-handle", args=[proposal.pk])
    response = api.post(url, {"adopt": True, "monthly_amount": "800"}, format="json")
    assert response.status_code == 400 and "monthly_amount" in response.json()
    response = api.post(url, {"adopt": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "adopted"
    assert api.post(url, {"adopt": False, "note": "x"}, format="json").status_code == 409


def test_the_list_is_filtered_on_the_page_and_the_api_alike_and_exported(enrol, people):
    decrease = propose(enrol, people)
    stop = propose(enrol, people, action=A.Action.STOP, amount=None)
    approver = client_for(people.approver_a)

    def shown(**params) -> set[int]:
        html = approver.get(reverse("cases:adjustments"), params).content.decode()
        return {p.pk for p in (decrease, stop) if f'id="proposal-{p.pk}"' in html}

    assert shown() == {decrease.pk, stop.pk}
    assert shown(action="stop") == {stop.pk}
    assert shown(q=stop.application.number) == {stop.pk}
    api = client_for(people.approver_a, api=True)
    response = api.get(reverse("api-cases-adjustment-list"), {"action": "decrease"})
    assert [row["id"] for row in response.json()["results"]] == [decrease.pk]

    export = approver.get(reverse("cases:adjustments"), {"action": "stop", "export": "csv"})
    assert export.status_code == 200
    _header, *rows = [line.split(",") for line in export.content.decode("utf-8-sig").splitlines()]
    assert [row[0] for row in rows] == [stop.application.number]
    person = stop.application.household.members.get(relation="self").person
    assert rows[0][2] == mask_identity_number(person.identity_number)
