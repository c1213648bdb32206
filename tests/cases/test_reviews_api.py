"""The review API: a review worked through its endpoints, with the errors each maps to."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import PeriodicReview

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_review_through_the_api(enrol, people):
    family = enrol()
    cw, approver = api_for(people.caseworker_a), api_for(people.approver_a)
    open_url = reverse("api-cases-review-open", args=[family.application.pk])
    assert cw.post(open_url, {"reason": ""}, format="json").status_code == 400
    response = cw.post(open_url, {"reason": "群众举报"}, format="json")
    assert response.status_code == 201, response.content
    review_id = response.json()["id"]

    def step(client, name, **data):
        return client.post(
            reverse(f"api-cases-review-{name}", args=[review_id]), data, format="json"
        )

    assert step(cw, "redeclaration-finish", note="无变化").status_code == 409
    assert step(cw, "redeclaration-start").status_code == 200
    response = step(cw, "work-ability", member=family.applicant.pk, work_ability="none")
    assert response.status_code == 200
    response = step(cw, "redeclaration-finish", note="户主因病丧失劳动能力")
    assert response.json()["changes"][0]["after"]["work_ability"] == "none"
    response = step(cw, "outcome", outcome="consistent", reason="")
    assert response.status_code == 400 and "reason" in response.json()
    assert step(cw, "outcome", outcome="consistent", reason="人工核对").status_code == 200
    assert step(cw, "decide", decision="continue", reason="正常").status_code == 403
    response = step(approver, "decide", decision="gradual_exit", reason="x", exit_months=9)
    assert response.status_code == 400 and "months" in response.json()
    response = step(approver, "decide", decision="continue", reason="情况稳定")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "decided" and body["decision"] == "continue"
    # Nobody in the family can work now: the next review is a year away.
    today = timezone.localdate()
    assert body["next_review_on"] == today.replace(year=today.year + 1).isoformat() or (
        today.month == 2 and today.day == 29
    )
    detail = api_for(people.auditor).get(reverse("api-cases-review-detail", args=[review_id]))
    assert detail.status_code == 200 and detail.json()["decision_reason"] == "情况稳定"
    assert (
        api_for(people.caseworker_b)
        .get(reverse("api-cases-review-detail", args=[review_id]))
        .status_code
        == 404
    )
    assert PeriodicReview.objects.get().decided_by == people.approver_a


def test_a_death_through_the_api(enrol, people):
    family = enrol()
    url = reverse("api-cases-member-death", args=[family.application.pk])
    died = timezone.localdate() - datetime.timedelta(days=1)
    response = api_for(people.assistant_a).post(
        url, {"member": family.spouse.pk, "died_on": died.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["next_review_on"] <= (died + datetime.timedelta(days=92)).isoformat()
    response = api_for(people.assistant_a).post(
        url, {"member": family.spouse.pk, "died_on": died.isoformat()}, format="json"
    )
    assert response.status_code == 409
