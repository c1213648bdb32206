"""Drafts left after the first intake step: in the work queue with their age, a link to
them from the "already a member" refusal, and the county's rule (a reminder, then the
withdrawal) run by the daily task."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aid_portal.models import AuditEvent
from cases.intake import services as intake_services
from cases.intake.tasks import drafts_follow_up as drafts_follow_up_task
from cases.models import Application, Member, Policy
from tests.cases.conftest import identity

pytestmark = pytest.mark.django_db

S = Application.State
NUMBER = identity("642222", "19650505", 7)


def start(people, places, *, actor=None, number: str = NUMBER) -> Application:
    return intake_services.application_start(
        actor=actor or people.caseworker_a,
        village=places.village_a,
        address="龙王坝村3组1号",
        phone="",
        identity_number=number,
        name="马成",
        assistance_type="dibao_rural",
    )


def opened_days_ago(app: Application, days: int) -> Application:
    Application.objects.filter(pk=app.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    return app


def follow_up(*, days_later: int = 0):
    return intake_services.drafts_follow_up(
        now=timezone.now() + datetime.timedelta(days=days_later)
    )


def audits(app: Application, action: str):
    return AuditEvent.objects.filter(
        action=action, object_type="cases.application", object_id=str(app.pk)
    )


# --- the rule -----------------------------------------------------------------------------


def test_a_young_draft_is_left_alone(people, places, policy):
    opened_days_ago(start(people, places), 6)
    assert follow_up() == (0, 0)
    assert not AuditEvent.objects.filter(action__startswith="application.draft_").exists()


def test_reminder_after_seven_days_once_however_often_it_runs(people, places, policy):
    app = opened_days_ago(start(people, places), 7)

    assert follow_up() == (1, 0)
    assert follow_up() == (0, 0)

    [event] = app.events.filter(action="draft_remind")
    app.refresh_from_db()
    expected = timezone.localdate(app.created_at) + datetime.timedelta(30)
    assert event.data == {"withdraw_on": expected.isoformat()}
    assert audits(app, "application.draft_remind").count() == 1
    assert Application.objects.get(pk=app.pk).state == S.DRAFT


def test_withdrawal_after_thirty_days_audited_and_not_twice(people, places, policy):
    app = opened_days_ago(start(people, places), 7)
    follow_up()
    assert follow_up(days_later=22) == (0, 0)  # 29 days old: not yet

    assert follow_up(days_later=23) == (0, 1)
    assert follow_up(days_later=24) == (0, 0)

    app.refresh_from_db()
    assert app.state == S.WITHDRAWN
    [row] = audits(app, "application.draft_withdraw")
    assert row.actor is None and row.new_values["state"] == S.WITHDRAWN
    assert row.region == places.village_a
    # The person is free to be filed again.
    assert not Member.objects.filter(household=app.household, active=True).exists()
    start(people, places)


def test_an_old_draft_found_late_is_reminded_first_and_given_the_notice(people, places, policy):
    app = opened_days_ago(start(people, places), 40)
    assert follow_up() == (1, 0)
    [event] = app.events.filter(action="draft_remind")
    assert event.data["withdraw_on"] == (timezone.localdate() + datetime.timedelta(23)).isoformat()
    assert follow_up(days_later=22) == (0, 0)
    assert follow_up(days_later=23) == (0, 1)


def test_the_days_are_the_countys_policy(people, places):
    Policy.objects.create(
        county=places.county,
        effective_from=datetime.date(2026, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
        draft_reminder_days=3,
        draft_withdrawal_days=10,
    )
    app = opened_days_ago(start(people, places), 3)
    assert follow_up() == (1, 0)
    assert follow_up(days_later=6) == (0, 0)
    assert follow_up(days_later=7) == (0, 1)
    assert Application.objects.get(pk=app.pk).state == S.WITHDRAWN


def test_a_submitted_application_is_not_a_draft(people, places, make_family):
    family = make_family()
    intake_services.application_submit(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    opened_days_ago(family.application, 60)
    assert follow_up() == (0, 0)


def test_the_policy_refuses_a_withdrawal_before_the_reminder(people, places):
    policy = Policy(
        county=places.county,
        effective_from=datetime.date(2026, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
        draft_reminder_days=10,
        draft_withdrawal_days=10,
    )
    with pytest.raises(ValidationError) as caught:
        policy.full_clean()
    assert "draft_withdrawal_days" in caught.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_the_daily_task_runs_on_a_real_worker(celery_worker_process, people, places):
    app = opened_days_ago(start(people, places), 8)
    assert drafts_follow_up_task.delay().get(timeout=60) == {"reminded": 1, "withdrawn": 0}
    assert drafts_follow_up_task.delay().get(timeout=60) == {"reminded": 0, "withdrawn": 0}
    assert app.events.filter(action="draft_remind").count() == 1


# --- the pages ----------------------------------------------------------------------------


def test_the_work_queue_shows_the_draft_with_its_age(client, people, places, policy):
    app = opened_days_ago(start(people, places), 9)
    client.force_login(people.caseworker_a)
    page = client.get(reverse("cases:queue"))
    assert page.status_code == 200
    [row] = page.context["drafts"]
    assert (row.pk, row.age_days) == (app.pk, 9)
    html = page.content.decode()
    assert reverse("cases:intake-members", args=[app.pk]) in html
    assert "9 天" in html


def test_the_queue_of_another_township_has_no_such_draft(client, people, places, policy):
    start(people, places)
    client.force_login(people.caseworker_b)
    assert client.get(reverse("cases:queue")).context["drafts"] == []


def test_the_home_page_shows_the_reminder(client, people, places, policy):
    app = opened_days_ago(start(people, places), 8)
    follow_up()
    client.force_login(people.caseworker_a)
    html = client.get(reverse("home")).content.decode()
    assert 'id="home-drafts"' in html
    assert reverse("cases:intake-members", args=[app.pk]) in html
    withdraw_on = app.events.get(action="draft_remind").data["withdraw_on"]
    assert withdraw_on in html


def test_filing_the_applicant_again_links_to_the_draft(client, people, places, policy):
    app = start(people, places)
    client.force_login(people.caseworker_a)
    page = client.post(
        reverse("cases:intake-start"),
        {
            "village": places.village_a.pk,
            "address": "龙王坝村3组2号",
            "assistance_type": "dibao_rural",
            "identity_number": NUMBER,
            "name": "马成",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert f"第{app.household_id}号家庭" in html
    assert f'href="{reverse("cases:intake-members", args=[app.pk])}"' in html
    assert Application.objects.count() == 1


def test_no_link_for_a_user_the_gate_keeps_out(client, people, places, policy):
    app = start(people, places)
    client.force_login(people.caseworker_b)
    page = client.post(
        reverse("cases:intake-start"),
        {
            "village": places.village_b.pk,
            "address": "兴隆村1号",
            "assistance_type": "dibao_rural",
            "identity_number": NUMBER,
            "name": "马成",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert places.township_a.name in html
    assert reverse("cases:intake-members", args=[app.pk]) not in html
    assert f"第{app.household_id}号家庭" not in html
