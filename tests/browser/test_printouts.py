"""Printing in a real Chromium: the approver opens the approval notice from the case
page of an approved case, reads the amount with its arithmetic, the first month and the
review date, and fetches the same notice as a PDF."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application
from tests.browser.helpers import log_in, zh
from tests.cases import conftest as case_fixtures
from verification.requests import services as verification_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family


def approved(people, family) -> int:
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
    casework_services.application_approve(actor=people.approver_a, application_id=app_id)
    return app_id


def test_approver_opens_the_approval_notice_from_the_case_page(page, people, make_family):
    app_id = approved(people, make_family())
    log_in(page, "approver_a")
    page.goto(f"/cases/{app_id}/")
    entry = page.locator("#print-approval-notice")
    expect(entry).to_contain_text(zh("Notice of approval"))
    with page.context.expect_page() as opened:
        entry.get_by_role("link", name=zh("Print")).click()
    notice = opened.value
    notice.wait_for_load_state()
    expect(notice.locator("h1")).to_have_text(zh("Notice of approval"))  # 审核确认通知书
    # Rural standard 600; income 300 for 2 people: per capita 150; (600 - 150) x 2 = 900.
    expect(notice.locator("#amount-line")).to_contain_text("(600.00 − 150.00) × 2 = 900.00")
    expect(notice.locator("#amount-basis")).to_contain_text("(300.00 − 0.00) ÷ 2 = 150.00")
    start = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    expect(notice.locator("#first-month")).to_have_text(f"{start:%Y-%m}")
    review_on = Application.objects.get(pk=app_id).next_review_on
    expect(notice.locator("#review-date")).to_have_text(review_on.isoformat())
    expect(notice.locator("body")).to_contain_text("吉强镇")
    expect(notice.locator(".mainnav")).to_have_count(0)

    pdf = notice.request.get(notice.locator("#pdf-link").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
