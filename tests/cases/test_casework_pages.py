"""The casework pages through the test client: the case page, each action, the decision,
the printable rejection notice, the queues and the county policies."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from aid_portal.errors import DomainError
from aid_portal.models import CalendarYear
from cases import eligibility
from cases.casework import services as casework_services
from cases.casework.views import EVENT_LABELS, amount_explanation, home_queue_context
from cases.intake import services as intake_services
from cases.models import Application, Document, Policy
from tests.cases.conftest import scan
from tests.queries import assert_get_query_count, assert_same_query_count, queries_of
from verification.requests import services as verification_services

S = Application.State
pytestmark = pytest.mark.django_db


def zh(text: str) -> str:
    """What the page shows for an English source string (the pages render in Chinese)."""
    with translation.override("zh-hans"):
        return translation.gettext(text)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(client, application, action, data=None, **extra):
    url = reverse("cases:act", args=[application.pk, action])
    return client.post(url, data or {}, **extra)


def queued(response) -> list:
    return list(get_messages(response.wsgi_request))


def submitted(make_family, people, **kwargs):
    family = make_family(**kwargs)
    intake_services.application_submit(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    return family


def to_verification(make_family, people, **kwargs):
    family = submitted(make_family, people, **kwargs)
    cw = people.caseworker_a
    casework_services.application_accept(actor=cw, application_id=family.application.pk)
    verification_services.verification_request(actor=cw, application_id=family.application.pk)
    return family


def to_decision(make_family, people, **kwargs):
    family = to_verification(make_family, people, **kwargs)
    cw = people.caseworker_a
    casework_services.verification_outcome_record(
        actor=cw, application_id=family.application.pk, outcome="consistent", reason="手工录入"
    )
    casework_services.notice_post(
        actor=cw,
        application_id=family.application.pk,
        starts_on=timezone.localdate() - datetime.timedelta(days=8),
        place="村务公开栏",
    )
    casework_services.notice_close(actor=cw, application_id=family.application.pk)
    return family


# --- the case page -----------------------------------------------------------------------


def test_case_page_shows_household_declaration_and_timeline(make_family, people):
    family = submitted(make_family, people)
    response = client_for(people.caseworker_a).get(
        reverse("cases:detail", args=[family.application.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    person = family.applicant.person
    assert person.masked_identity_number in page
    assert person.identity_number not in page  # never the full number
    assert "马1" in page and "李1" in page and "300.00" in page
    timeline = page.split('id="timeline"')[1]
    assert str(zh(EVENT_LABELS["create"])) in timeline
    assert str(zh(EVENT_LABELS["submit"])) in timeline
    assert "caseworker_a" in timeline
    # Only the actions of the caseworker in this state: accept and withdraw, no decision.
    assert 'id="action-accept"' in page and 'id="action-withdraw"' in page
    assert 'id="action-approve"' not in page


def test_the_approver_sees_no_caseworker_actions(make_family, people):
    family = submitted(make_family, people)
    page = (
        client_for(people.approver_a)
        .get(reverse("cases:detail", args=[family.application.pk]))
        .content.decode()
    )
    assert 'id="action-' not in page


def test_case_of_another_township_is_not_found(make_family, people):
    family = submitted(make_family, people)
    url = reverse("cases:detail", args=[family.application.pk])
    assert client_for(people.caseworker_b).get(url).status_code == 404
    assert act(client_for(people.caseworker_b), family.application, "accept").status_code == 404


def test_case_page_queries_do_not_grow_with_the_declaration(make_family, people):
    small = submitted(make_family, people)
    large = make_family()
    cw = people.caseworker_a
    household = large.application.household
    for number in range(5):
        intake_services.income_add(
            actor=cw, member=large.spouse, source="pension", monthly_average=str(10 + number)
        )
        intake_services.asset_add(
            actor=cw,
            household=household,
            kind="deposit",
            description="存款",
            value="100",
            member=large.applicant,
        )
        intake_services.expenditure_add(
            actor=cw,
            household=household,
            kind="medical",
            monthly_amount="50",
            member=large.spouse,
        )
    intake_services.application_submit(actor=cw, application_id=large.application.pk)
    client = client_for(cw)
    client.get(reverse("cases:detail", args=[small.application.pk]))  # session start
    few = queries_of(client, reverse("cases:detail", args=[small.application.pk]))
    many = queries_of(client, reverse("cases:detail", args=[large.application.pk]))
    assert_same_query_count(few, many)


# --- actions -------------------------------------------------------------------------------


def test_accept_through_the_page(make_family, people):
    family = submitted(make_family, people)
    response = act(client_for(people.caseworker_a), family.application, "accept")
    assert response.status_code == 302
    app = family.refresh()
    assert app.state == S.ACCEPTED and app.due_on
    assert [m.level for m in queued(response)] == [messages.SUCCESS]


def test_accept_of_an_incomplete_application_returns_it_with_everything_missing(
    make_family, people
):
    family = submitted(make_family, people, complete=False)
    client = client_for(people.caseworker_a)
    response = act(client, family.application, "accept", {"also_missing": "户口本原件\n\n"})
    app = family.refresh()
    assert app.state == S.RETURNED
    assert len(app.missing_items) == 7 and app.missing_items[-1] == "户口本原件"
    (warning,) = queued(response)
    assert warning.level == messages.WARNING and "户口本原件" in warning.message
    page = client.get(reverse("cases:detail", args=[app.pk])).content.decode()
    for item in app.missing_items:
        assert item in page


def test_manual_consistent_outcome_goes_to_notice(make_family, people):
    family = to_verification(make_family, people)
    response = act(
        client_for(people.caseworker_a),
        family.application,
        "verification_outcome",
        {"outcome": "consistent", "reason": "核对平台暂停，按纸质报告录入"},
    )
    assert response.status_code == 302
    app = family.refresh()
    assert (app.state, app.path) == (S.PUBLIC_NOTICE, Application.Path.SIMPLIFIED)


def test_manual_gap_outcome_keeps_its_items(make_family, people):
    family = to_verification(make_family, people)
    client = client_for(people.caseworker_a)
    # A gap without any item is refused on the page, and nothing changes.
    response = act(
        client, family.application, "verification_outcome", {"outcome": "gap", "reason": "手工"}
    )
    assert response.status_code == 400
    assert 'id="action-verification_outcome" open' in response.content.decode()
    assert family.refresh().state == S.UNDER_VERIFICATION
    response = act(
        client,
        family.application,
        "verification_outcome",
        {
            "outcome": "gap",
            "reason": "手工",
            "item_0": "存款",
            "declared_0": "0",
            "verified_0": "85000",
        },
    )
    assert response.status_code == 302
    app = family.refresh()
    assert app.state == S.FEEDBACK
    assert app.verification_outcomes.get().gap_items == [
        {"item": "存款", "declared": "0", "verified": "85000"}
    ]


def test_outcome_without_a_reason_is_refused(make_family, people):
    family = to_verification(make_family, people)
    response = act(
        client_for(people.caseworker_a),
        family.application,
        "verification_outcome",
        {"outcome": "consistent"},
    )
    assert response.status_code == 400
    assert family.refresh().state == S.UNDER_VERIFICATION


def test_gap_path_objection_home_visit_and_review_through_the_page(make_family, people):
    family = to_verification(make_family, people, income="2000")
    client = client_for(people.caseworker_a)
    app = family.application
    act(
        client,
        app,
        "verification_outcome",
        {"outcome": "gap", "reason": "手工", "item_0": "车辆", "verified_0": "轿车一辆"},
    )
    act(client, app, "feedback_objection", {"text": "车辆已转卖，附合同", "has_evidence": "on"})
    assert family.refresh().state == S.HOME_VISIT
    page = client.get(reverse("cases:detail", args=[app.pk])).content.decode()
    assert "assistant_a" in page  # offered as an investigator
    visit = {
        "visited_on": timezone.localdate().isoformat(),
        "investigators": [people.caseworker_a.pk],
        "family_member_present": "马1",
        "findings": "车辆确已转卖",
        "investigators_signature": scan("a.png"),
        "family_signature": scan("b.png"),
    }
    response = act(client, app, "home_visit", visit)
    assert response.status_code == 400  # one investigator is not enough
    assert not Document.objects.filter(kind="home_visit").exists()
    visit |= {
        "investigators": [people.caseworker_a.pk, people.assistant_a.pk],
        "investigators_signature": scan("a.png"),
        "family_signature": scan("b.png"),
    }
    assert act(client, app, "home_visit", visit).status_code == 302
    assert family.refresh().state == S.DEMOCRATIC_REVIEW
    assert Document.objects.filter(kind="home_visit", application=app).count() == 2
    review = {
        "held_on": timezone.localdate().isoformat(),
        "participants": "7",
        "opinion": "同意纳入",
    }
    assert act(client, app, "democratic_review", review).status_code == 302
    assert family.refresh().state == S.PUBLIC_NOTICE


def test_with_no_policy_in_force_the_township_approver_decides_on_the_page(
    make_family, people, policy
):
    family = to_decision(make_family, people)
    Policy.objects.filter(pk=policy.pk).update(
        effective_from=timezone.localdate() + datetime.timedelta(days=365)
    )
    url = reverse("cases:detail", args=[family.application.pk])
    page = client_for(people.approver_a).get(url).content.decode()
    assert 'id="action-approve"' in page and 'id="action-reject"' in page
    # Approving cannot succeed: the page says why, in the service's words.
    with translation.override("zh-hans"), pytest.raises(DomainError) as no_policy:
        eligibility.amount_compute(application=family.application)
    assert no_policy.value.message in page
    assert 'id="action-reject"' not in client_for(people.auditor).get(url).content.decode()
    response = act(
        client_for(people.approver_a),
        family.application,
        "reject",
        {"reasons": "家庭人均收入高于当地低保标准，不符合条件。"},
    )
    assert response.status_code == 302
    assert family.refresh().state == S.REJECTED


def to_democratic_review(make_family, people):
    family = to_verification(make_family, people)
    cw = people.caseworker_a
    app_id = family.application.pk
    casework_services.verification_outcome_record(
        actor=cw,
        application_id=app_id,
        outcome="gap",
        reason="存款不一致",
        gap_items=[{"item": "存款", "declared": "0", "verified": "85000"}],
    )
    casework_services.feedback_objection_record(
        actor=cw, application_id=app_id, text="存款为借款，附借条", has_evidence=True
    )
    casework_services.home_visit_record(
        actor=cw,
        application_id=app_id,
        visited_on=timezone.localdate(),
        investigators=[cw, people.assistant_a],
        family_member_present="马1",
        findings="家中陈设简陋",
        investigators_signature=scan("a.png"),
        family_signature=scan("b.png"),
    )
    assert family.refresh().state == S.DEMOCRATIC_REVIEW
    return family


@pytest.mark.parametrize("participants", ["-1", "0", "2"])
def test_too_few_review_participants_get_the_services_message(make_family, people, participants):
    family = to_democratic_review(make_family, people)
    review = {
        "held_on": timezone.localdate().isoformat(),
        "participants": participants,
        "opinion": "同意纳入",
    }
    response = act(client_for(people.caseworker_a), family.application, "democratic_review", review)
    assert response.status_code == 400
    assert zh("A review has at least three participants.") in response.content.decode()
    assert family.refresh().state == S.DEMOCRATIC_REVIEW


def test_the_page_sets_no_upper_bound_of_its_own_on_review_participants(make_family, people):
    family = to_democratic_review(make_family, people)
    review = {
        "held_on": timezone.localdate().isoformat(),
        "participants": "600",  # a whole village assembly
        "opinion": "同意纳入",
    }
    response = act(client_for(people.caseworker_a), family.application, "democratic_review", review)
    assert response.status_code == 302
    assert family.refresh().state == S.PUBLIC_NOTICE
    assert family.application.reviews.get().participants == 600


def test_notice_post_objection_and_close_through_the_page(make_family, people):
    family = to_verification(make_family, people)
    cw = people.caseworker_a
    casework_services.verification_outcome_record(
        actor=cw, application_id=family.application.pk, outcome="consistent", reason="手工"
    )
    client = client_for(cw)
    app = family.application
    starts = timezone.localdate() - datetime.timedelta(days=8)
    response = act(
        client, app, "notice_post", {"starts_on": starts.isoformat(), "place": "村务公开栏"}
    )
    assert response.status_code == 302
    notice = app.notices.get()
    assert notice.ends_on == starts + datetime.timedelta(days=6)
    act(
        client,
        app,
        "notice_objection",
        {"objector": "村民张某", "content": "该户有经营收入", "raised_on": starts.isoformat()},
    )
    # An unhandled objection stops the close: a message, no 500.
    response = act(client, app, "notice_close")
    assert response.status_code == 400
    assert family.refresh().state == S.PUBLIC_NOTICE
    objection = notice.objections.get()
    act(
        client,
        app,
        "notice_objection_handle",
        {"objection": objection.pk, "handling": "经核实，经营已停止"},
    )
    response = act(client, app, "notice_close", {"reinvestigate": ""})
    assert response.status_code == 302
    assert family.refresh().state == S.AWAITING_DECISION


def test_notice_still_running_cannot_be_closed(make_family, people):
    family = to_verification(make_family, people)
    cw = people.caseworker_a
    casework_services.verification_outcome_record(
        actor=cw, application_id=family.application.pk, outcome="consistent", reason="手工"
    )
    client = client_for(cw)
    act(
        client,
        family.application,
        "notice_post",
        {"starts_on": timezone.localdate().isoformat(), "place": "村务公开栏"},
    )
    response = act(client, family.application, "notice_close")
    assert response.status_code == 400
    assert family.refresh().state == S.PUBLIC_NOTICE


def test_an_action_in_the_wrong_state_is_a_message_not_an_error(make_family, people):
    family = submitted(make_family, people)
    response = act(client_for(people.caseworker_a), family.application, "notice_close")
    assert response.status_code == 302
    (warning,) = queued(response)
    assert warning.level == messages.WARNING
    assert family.refresh().state == S.SUBMITTED


def test_unknown_action_and_get_are_refused(make_family, people):
    family = submitted(make_family, people)
    client = client_for(people.caseworker_a)
    assert act(client, family.application, "teleport").status_code == 404
    url = reverse("cases:act", args=[family.application.pk, "accept"])
    assert client.get(url).status_code == 405


def test_extend_and_withdraw(make_family, people):
    # 45 working days may reach into a year the holiday package does not know yet.
    CalendarYear.objects.get_or_create(
        year=timezone.localdate().year + 1, defaults={"source": "国务院办公厅通知（测试）"}
    )
    family = submitted(make_family, people)
    client = client_for(people.caseworker_a)
    act(client, family.application, "accept")
    due = family.refresh().due_on
    assert act(client, family.application, "extend", {"reason": ""}).status_code == 400
    act(client, family.application, "extend", {"reason": "申请人长期在外务工"})
    app = family.refresh()
    assert app.extended and app.due_on > due
    act(client, family.application, "withdraw", {"reason": "家庭主动撤回"})
    assert family.refresh().state == S.WITHDRAWN


def test_near_relative_case_needs_the_county_check(make_family, people):
    family = make_family()
    cw = people.caseworker_a
    intake_services.near_relative_file(
        actor=cw,
        application=family.application,
        member=family.spouse,
        official_name="王某",
        position="village_committee",
        kinship="兄妹",
    )
    intake_services.application_submit(actor=cw, application_id=family.application.pk)
    url = reverse("cases:detail", args=[family.application.pk])
    page = client_for(cw).get(url).content.decode()
    assert zh("This case needs the county's key check before any decision.") in page
    assert 'id="action-county_check"' not in page  # the county's, not the township's
    auditor = client_for(people.auditor)
    assert 'id="action-county_check"' in auditor.get(url).content.decode()
    response = act(
        auditor,
        family.application,
        "county_check",
        {"done_on": timezone.localdate().isoformat(), "findings": "入户核实，无优亲厚友"},
    )
    assert response.status_code == 302
    assert family.refresh().county_check_done_on == timezone.localdate()


# --- the decision --------------------------------------------------------------------------


def test_approver_sees_the_arithmetic_then_approves(make_family, people):
    family = to_decision(make_family, people)
    client = client_for(people.approver_a)
    page = client.get(reverse("cases:detail", args=[family.application.pk])).content.decode()
    # Rural standard 600; income 300 for 2 people: per capita 150; (600 - 150) x 2 = 900.
    assert "(600.00 − 150.00) × 2 = 900.00" in page
    assert '<strong class="amount" id="computed-amount">900.00</strong>' in page
    next_month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    assert f'value="{next_month:%Y-%m}"' in page  # start month defaults to next month
    response = act(client, family.application, "approve", {"start_month": f"{next_month:%Y-%m}"})
    assert response.status_code == 302
    app = family.refresh()
    assert app.state == S.APPROVED
    assert app.monthly_amount == Decimal("900.00") and app.start_month == next_month
    page = client.get(reverse("cases:detail", args=[app.pk])).content.decode()
    assert "900.00" in page and 'id="action-' not in page


def test_the_arithmetic_reads_for_each_kind_of_assistance(make_family):
    extreme = make_family(kind="extreme_poverty").application
    basis = eligibility.amount_compute(application=extreme)
    # Rural standard 600 × the default multiple 1.30 × 2 members, plus each member's care
    # allowance (none: not assessed, and the fixture's policy pays none).
    assert amount_explanation(basis) == "600.00 × 1.30 × 2 + (0.00 + 0.00) = 1560.00"
    edge = make_family(kind="low_income_edge", income="1600").application
    # Per capita 800 against 600 × 1.5 = 900: below the line.
    assert amount_explanation(eligibility.amount_compute(application=edge)) == "800.00 < 900.00"


def test_a_caseworker_cannot_approve(make_family, people):
    family = to_decision(make_family, people)
    response = act(client_for(people.caseworker_a), family.application, "approve")
    assert response.status_code == 403
    assert family.refresh().state == S.AWAITING_DECISION


def test_the_second_approval_is_told_it_was_already_decided(make_family, people):
    family = to_decision(make_family, people)
    first, second = client_for(people.approver_a), client_for(people.approver_a)
    month = {"start_month": f"{timezone.localdate():%Y-%m}"}
    assert act(first, family.application, "approve", month).status_code == 302
    response = act(second, family.application, "approve", month)
    assert response.status_code == 302
    (warning,) = queued(response)
    assert warning.level == messages.WARNING
    expected = zh("This application was already decided or closed: %(state)s.") % {
        "state": zh("approved")
    }
    assert warning.message == expected
    assert family.refresh().events.filter(action="approve").count() == 1


def test_reject_needs_reasons_then_prints_the_notice(make_family, people, places):
    family = to_decision(make_family, people, income="2000")
    client = client_for(people.approver_a)
    response = act(client, family.application, "reject", {"reasons": ""})
    assert response.status_code == 400
    assert 'id="action-reject" open' in response.content.decode()
    response = act(client, family.application, "reject", {"reasons": "收入高"})  # too short
    assert response.status_code == 400
    assert zh("Write the reasons for the rejection in full.") in response.content.decode()
    assert family.refresh().state == S.AWAITING_DECISION
    notice_url = reverse("cases:rejection-notice", args=[family.application.pk])
    assert client.get(notice_url).status_code == 404  # not rejected yet
    reasons = "家庭人均月收入1000元，高于本县农村低保标准600元。"
    assert act(client, family.application, "reject", {"reasons": reasons}).status_code == 302
    assert family.refresh().state == S.REJECTED
    response = client.get(notice_url)
    assert response.status_code == 200
    page = response.content.decode()
    assert reasons in page and "马1" in page and places.township_a.name in page
    assert zh("Notice of rejection") in page
    assert 'class="mainnav"' not in page  # a sheet to print, without the portal around it
    assert client_for(people.caseworker_b).get(notice_url).status_code == 404


# --- the queues ----------------------------------------------------------------------------


# The work queue of a township caseworker:
#   1 the session, 2 the user, 3 the user's role assignments with their regions (nav, the
#   role check and the jurisdiction share them), 4 per-object region grants, 5 the
#   villages for the filter, 6 the count for the pager, 7 the page of rows with their
#   villages and households, 8 the applicants of those households with their persons,
#   9 the drafts not yet submitted (and, when there are some, 10 their applicants).
QUEUE_QUERIES = 9


def test_queue_query_count_does_not_grow_with_rows(make_family, people):
    client = client_for(people.caseworker_a)
    url = reverse("cases:queue")
    client.get(url)  # the first request after login records the session's start
    submitted(make_family, people)
    assert_get_query_count(client, url, QUEUE_QUERIES)
    for _ in range(19):
        submitted(make_family, people)
    assert_get_query_count(client, url, QUEUE_QUERIES)
    assert client.get(url).content.decode().count('href="/cases/') >= 20


# The decisions awaiting an approver: the queue's queries without the drafts (9 less 1).
DECISIONS_QUERIES = 8


def test_decisions_query_count_is_the_same_for_1_and_50_cases(make_family, people):
    client = client_for(people.approver_a)
    url = reverse("cases:decisions")
    client.get(url)
    to_decision(make_family, people)
    assert_get_query_count(client, url, DECISIONS_QUERIES)
    for _ in range(49):
        to_decision(make_family, people)
    page = assert_get_query_count(client, url, DECISIONS_QUERIES).content.decode()
    assert page.count('href="/cases/') >= 50


def test_queue_filters_and_htmx_refresh(make_family, people, places):
    submitted(make_family, people)
    accepted = submitted(make_family, people)
    casework_services.application_accept(
        actor=people.caseworker_a, application_id=accepted.application.pk
    )
    client = client_for(people.caseworker_a)
    response = client.get(reverse("cases:queue"), {"state": "accepted"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page  # only the table
    assert accepted.application.number in page
    assert "马1" not in page
    response = client.get(reverse("cases:queue"), {"village": places.village_b.pk})
    assert "马2" not in response.content.decode()


def test_queue_marks_overdue_rows(make_family, people):
    family = submitted(make_family, people)
    casework_services.application_accept(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    Application.objects.filter(pk=family.application.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    page = client_for(people.caseworker_a).get(reverse("cases:queue")).content.decode()
    assert '<tr class="overdue">' in page


def test_decisions_queue_lists_what_awaits_the_approver(make_family, people):
    waiting = to_decision(make_family, people)
    other = submitted(make_family, people)
    url = reverse("cases:decisions")
    page = client_for(people.approver_a).get(url).content.decode()
    assert waiting.application.number in page and other.application.number not in page
    assert client_for(people.caseworker_a).get(url).status_code == 403
    assert client_for(people.caseworker_b).get(reverse("cases:queue")).status_code == 200
    assert waiting.application.number not in (
        client_for(people.caseworker_b).get(reverse("cases:queue")).content.decode()
    )


def test_home_queue_partial_lists_alerts_and_queue(make_family, people):
    family = submitted(make_family, people)
    casework_services.application_accept(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    Application.objects.filter(pk=family.application.pk).update(due_on=timezone.localdate())
    html = render_to_string("cases/_home_queue.html", home_queue_context(people.caseworker_a))
    assert html.count(family.application.number) == 2  # an alert, and first in the queue
    approver = render_to_string("cases/_home_queue.html", home_queue_context(people.approver_a))
    assert approver.count(family.application.number) == 1  # an alert; it awaits no decision
    nothing = render_to_string("cases/_home_queue.html", home_queue_context(people.nobody))
    assert nothing.strip() == ""


# --- policies ------------------------------------------------------------------------------


def policy_data(county, effective_from, **overrides) -> dict:
    data = {
        "county": county.pk,
        "effective_from": effective_from.isoformat(),
        "dibao_standard_urban": "850",
        "dibao_standard_rural": "650",
        "edge_multiple": "1.5",
        "extreme_poverty_multiple": "1.3",
        "care_allowance_self_sufficient": "0",
        "care_allowance_partly_dependent": "200",
        "care_allowance_fully_dependent": "600",
        "temporary_months": "3",
        "deposit_limit_per_person": "20000",
        "vehicles_allowed": "0",
        "houses_allowed": "1",
        "deciding_level": "township",
        "investigation_start_days": "3",
        "total_days_township": "20",
        "total_days_county": "30",
        "total_days_extended": "45",
        "rejection_notice_days": "3",
        "notice_days": "7",
        "objection_days": "15",
        "public_name_display": "full",
        "income_tolerance": "0.10",
        "income_gap_direction": "found_more",
        "extreme_poverty_age_from": "60",
        "extreme_poverty_age_under": "16",
        "review_months_stable": "12",
        "review_months_unstable": "6",
        "review_months_after_death": "3",
        "gradual_exit_months": "6",
        "spot_check_new_ratio": "0.30",
        "spot_check_new_within_months": "3",
        "spot_check_annual_ratio": "0.20",
        "home_visit_investigators": "2",
        "spot_check_full_within_days": "30",
        "monthly_check_due_day": "15",
        "credit_block_months_moderate": "6",
        "credit_block_months_severe": "12",
        "credit_objection_days": "15",
        "credit_objection_review_days": "15",
        "credit_interview_days": "10",
        "credit_trustworthy_months": "12",
        "draft_reminder_days": "7",
        "draft_withdrawal_days": "30",
    }
    return data | overrides


def test_policies_are_listed_for_the_users_counties(policy, people, places):
    Policy.objects.create(
        county=places.other_county,
        effective_from=datetime.date(2026, 1, 1),
        dibao_standard_urban=Decimal("777"),
        dibao_standard_rural=Decimal("555"),
    )
    response = client_for(people.caseworker_a).get(reverse("cases:policies"))
    page = response.content.decode()
    assert places.county.name in page and "600.00" in page
    assert places.other_county.name not in page and "555.00" not in page
    assert 'id="policy-add"' not in page  # read only
    assert client_for(people.nobody).get(reverse("cases:policies")).status_code == 403


def test_feed_admin_adds_a_policy_and_is_warned_about_a_past_date(policy, people, places):
    client = client_for(people.feedadmin)
    url = reverse("cases:policies")
    assert 'id="policy-add"' in client.get(url).content.decode()
    past = timezone.localdate() - datetime.timedelta(days=10)
    response = client.post(url, policy_data(places.county, past))
    assert response.status_code == 302
    assert Policy.objects.get(county=places.county, effective_from=past).dibao_standard_rural == 650
    levels = [m.level for m in queued(response)]
    assert levels == [messages.SUCCESS, messages.WARNING]
    # The same county and date twice: refused on the form.
    response = client.post(url, policy_data(places.county, past))
    assert response.status_code == 400
    # A bad figure: refused on the form, nothing saved.
    future = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(url, policy_data(places.county, future, dibao_standard_rural="0"))
    assert response.status_code == 400
    assert not Policy.objects.filter(effective_from=future).exists()


def test_a_county_enters_its_own_credit_and_supervision_rules(policy, people, places):
    client = client_for(people.feedadmin)
    url = reverse("cases:policies")
    # The form offers the national defaults.
    assert 'name="credit_trustworthy_months" value="12"' in client.get(url).content.decode()
    future = timezone.localdate() + datetime.timedelta(days=30)
    own = {
        "credit_block_months_moderate": "8",
        "credit_objection_days": "20",
        "home_visit_investigators": "3",
        "monthly_check_due_day": "10",
    }
    assert client.post(url, policy_data(places.county, future, **own)).status_code == 302
    row = Policy.objects.get(county=places.county, effective_from=future)
    assert (
        row.credit_block_months_moderate,
        row.credit_objection_days,
        row.home_visit_investigators,
        row.monthly_check_due_day,
    ) == (8, 20, 3, 10)
    page = client.get(url).content.decode()
    assert "8 / 12 · 20 · 15 · 10 · 12" in page  # the credit column
    assert "0.30 / 0.20 · 3 · 30 · 10" in page  # the supervision column
    # A severe block shorter than a moderate one: refused on the form, nothing saved.
    later = future + datetime.timedelta(days=1)
    shorter = {"credit_block_months_moderate": "8", "credit_block_months_severe": "6"}
    response = client.post(url, policy_data(places.county, later, **shorter))
    assert response.status_code == 400
    assert not Policy.objects.filter(effective_from=later).exists()


def test_only_a_feed_admin_adds_policies(policy, people, places):
    future = timezone.localdate() + datetime.timedelta(days=30)
    url = reverse("cases:policies")
    for person in (people.caseworker_a, people.auditor):
        response = client_for(person).post(url, policy_data(places.county, future))
        assert response.status_code == 403
    assert not Policy.objects.filter(effective_from=future).exists()


def _zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def test_the_new_policy_form_starts_from_the_figures_in_force(policy, people, places):
    policy.dibao_standard_rural = Decimal("612.50")
    policy.credit_interview_days = 9
    policy.save()
    page = client_for(people.feedadmin).get(reverse("cases:policies")).content.decode()
    assert 'name="dibao_standard_rural" value="612.50"' in page
    assert 'name="credit_interview_days" value="9"' in page


def test_a_policy_not_yet_in_force_is_edited_and_withdrawn_audited(policy, people, places):
    from aid_portal.models import AuditEvent

    client = client_for(people.feedadmin)
    future = timezone.localdate() + datetime.timedelta(days=30)
    assert (
        client.post(reverse("cases:policies"), policy_data(places.county, future)).status_code
        == 302
    )
    new = Policy.objects.get(county=places.county, effective_from=future)
    list_page = client.get(reverse("cases:policies")).content.decode()
    assert reverse("cases:policy-edit", args=[new.pk]) in list_page
    assert reverse("cases:policy-edit", args=[policy.pk]) not in list_page  # in force

    edit = reverse("cases:policy-edit", args=[new.pk])
    assert 'name="dibao_standard_rural" value="650.00"' in client.get(edit).content.decode()
    later = future + datetime.timedelta(days=5)
    data = policy_data(places.county, later, dibao_standard_rural="700")
    del data["county"]
    assert client.post(edit, data).status_code == 302
    new.refresh_from_db()
    assert (new.effective_from, new.dibao_standard_rural) == (later, Decimal("700"))
    event = AuditEvent.objects.filter(action="policy.update").get()
    assert Decimal(event.old_values["dibao_standard_rural"]) == 650
    assert Decimal(event.new_values["dibao_standard_rural"]) == 700
    # Not moved into force: a policy in force from today is a new one.
    today = policy_data(places.county, timezone.localdate())
    del today["county"]
    response = client.post(edit, today)
    assert response.status_code == 400
    assert (
        _zh(
            "A policy being changed must still start after today; to put figures in force now, "
            "enter a new policy."
        )
        in response.content.decode()
    )
    new.refresh_from_db()
    assert new.effective_from == later

    # A caseworker reads the policies but changes none.
    assert client_for(people.caseworker_a).post(edit, data).status_code == 403
    withdraw = reverse("cases:policy-withdraw", args=[new.pk])
    assert client_for(people.caseworker_a).post(withdraw).status_code == 403
    assert client.post(withdraw, {"reason": "录入有误"}).status_code == 302
    assert not Policy.objects.filter(pk=new.pk).exists()
    gone = AuditEvent.objects.get(action="policy.withdraw")
    assert gone.reason == "录入有误" and gone.old_values["effective_from"] == later.isoformat()


def test_a_policy_in_force_can_neither_change_nor_be_withdrawn(policy, people, places):
    client = client_for(people.feedadmin)
    edit = reverse("cases:policy-edit", args=[policy.pk])
    data = policy_data(places.county, timezone.localdate() + datetime.timedelta(days=3))
    del data["county"]
    response = client.post(edit, data)
    assert response.status_code == 302
    assert [m.level for m in queued(response)] == [messages.ERROR]
    response = client.post(reverse("cases:policy-withdraw", args=[policy.pk]))
    assert {m.level for m in queued(response)} == {messages.ERROR}
    policy.refresh_from_db()
    assert policy.effective_from == datetime.date(2026, 1, 1)
    assert policy.dibao_standard_rural == Decimal("600")


def test_the_policy_services_refuse_what_the_pages_refuse(policy, people, places):
    from cases import policy as case_policy

    with pytest.raises(DomainError):
        case_policy.policy_update(
            actor=people.feedadmin,
            policy_id=policy.pk,
            effective_from=timezone.localdate() + datetime.timedelta(days=3),
            dibao_standard_rural=Decimal("1"),
        )
    with pytest.raises(DomainError):
        case_policy.policy_withdraw(actor=people.feedadmin, policy_id=policy.pk)
    assert Policy.objects.filter(pk=policy.pk, dibao_standard_rural=Decimal("600")).exists()
    future = case_policy.policy_create(
        actor=people.feedadmin,
        county=places.county,
        effective_from=timezone.localdate() + datetime.timedelta(days=10),
        **case_policy.policy_initial(county=places.county),
    )
    assert future.dibao_standard_rural == Decimal("600")  # started from the one in force
    with pytest.raises(DomainError) as refused:
        case_policy.policy_update(
            actor=people.feedadmin,
            policy_id=future.pk,
            effective_from=future.effective_from,
            credit_block_months_moderate=9,
            credit_block_months_severe=3,
        )
    assert refused.value.message
    future.refresh_from_db()
    assert future.credit_block_months_moderate != 9
    with pytest.raises(PermissionDenied):
        case_policy.policy_withdraw(actor=people.caseworker_a, policy_id=future.pk)
    case_policy.policy_withdraw(actor=people.feedadmin, policy_id=future.pk)
    assert not Policy.objects.filter(pk=future.pk).exists()


def test_every_input_of_the_manual_outcome_has_its_label(make_family, people):
    import re

    family = to_verification(make_family, people)
    html = (
        client_for(people.caseworker_a)
        .get(reverse("cases:detail", args=[family.application.pk]))
        .content.decode()
    )
    start = html.index('id="action-verification_outcome"')
    form = html[start : html.index("</details>", start)]
    ids = re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', form)
    assert len(ids) >= 2 + 3 * 5  # two outcomes, the reason, three inputs per row
    for input_id in ids:
        assert len(re.findall(rf'<label[^>]*\bfor="{input_id}"', form)) == 1, input_id
        assert html.count(f'id="{input_id}"') == 1, input_id  # the label finds this input
    assert zh("Outcome") in form and "<legend>" in form
