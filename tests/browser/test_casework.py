"""Casework in a real Chromium: a caseworker takes a family to the decision and the
approver approves with the amount on screen; another family is rejected and its notice
printed."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.casework import services as casework_services
from cases.intake import services as intake_services
from tests.browser.helpers import log_in, take, zh
from tests.cases import conftest as case_fixtures
from verification.requests import services as verification_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The family builder of the case tests (its conftest does not reach this folder).
policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family


def state_is(page, label: str) -> None:
    expect(page.locator("#case-state")).to_have_text(zh(label))


def test_caseworker_takes_a_family_to_the_decision_and_the_approver_approves(
    page, people, make_family
):
    family = make_family()
    intake_services.application_submit(
        actor=people.caseworker_a, application_id=family.application.pk
    )
    url = f"/cases/{family.application.pk}/"

    log_in(page, "caseworker_a")
    page.goto(url)
    state_is(page, "submitted")
    expect(page.locator("#timeline")).to_contain_text("caseworker_a")
    take(page, "accept")
    state_is(page, "accepted")
    take(page, "verification_request")
    state_is(page, "under verification")

    def consistent(form):
        form.locator("input[name=outcome][value=consistent]").check()
        form.locator("textarea[name=reason]").fill("核对平台维护，依纸质核对报告录入")

    take(page, "verification_outcome", consistent)
    state_is(page, "public notice")

    starts = timezone.localdate() - datetime.timedelta(days=8)

    def notice(form):
        form.locator("input[name=starts_on]").fill(starts.isoformat())
        expect(form.locator("#notice-ends-on")).to_have_text(
            (starts + datetime.timedelta(days=6)).isoformat()
        )
        form.locator("input[name=place]").fill("龙王坝村村务公开栏")

    take(page, "notice_post", notice)
    expect(page.locator("body")).to_contain_text("龙王坝村村务公开栏")
    take(page, "notice_close")
    state_is(page, "awaiting decision")
    expect(page.locator("#action-approve")).to_have_count(0)  # the decision is not hers

    log_in(page, "approver_a")
    page.goto(url)
    # Rural standard 600; income 300 for 2 people: per capita 150; (600 - 150) x 2 = 900.
    page.locator("#action-approve summary").click()
    expect(page.locator("#computed-amount")).to_have_text("900.00")
    expect(page.locator("#action-approve")).to_contain_text("(600.00 − 150.00) × 2 = 900.00")
    take(page, "approve")
    state_is(page, "approved")
    expect(page.locator(".case-header .amount")).to_have_text("900.00")
    expect(page.locator("#timeline")).to_contain_text("approver_a")


def test_approver_rejects_with_reasons_and_prints_the_notice(page, people, make_family):
    family = make_family(income="2000")
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw, application_id=app_id, outcome="consistent", reason="手工录入"
    )
    casework_services.notice_post(
        actor=cw,
        application_id=app_id,
        starts_on=timezone.localdate() - datetime.timedelta(days=8),
        place="村务公开栏",
    )
    casework_services.notice_close(actor=cw, application_id=app_id)

    log_in(page, "approver_a")
    page.goto(f"/cases/{app_id}/")
    # Reasons too short to be reasons: refused, the form stays open with the error.
    take(page, "reject", lambda form: form.locator("textarea[name=reasons]").fill("收入高"))
    expect(page.locator("#action-reject")).to_have_attribute("open", "")
    expect(page.locator("#action-reject [role=alert]")).to_be_visible()
    state_is(page, "awaiting decision")

    reasons = "家庭人均月收入1000元，高于本县农村低保标准600元，不符合低保条件。"
    take(page, "reject", lambda form: form.locator("textarea[name=reasons]").fill(reasons))
    state_is(page, "rejected")

    page.goto(page.locator('.case-header a[href$="/rejection-notice/"]').get_attribute("href"))
    expect(page.locator("h1")).to_have_text(zh("Notice of rejection"))  # 不予批准通知书
    expect(page.locator("#reasons")).to_have_text(reasons)
    expect(page.locator("body")).to_contain_text("马1")
    expect(page.locator("body")).to_contain_text("吉强镇")
    expect(page.locator(".mainnav")).to_have_count(0)
