"""A periodic review in a real Chromium: the review falls due and opens in township A's
queue; the caseworker re-declares (a new income), records the outcome by hand, and the
approver adjusts the amount offered from the declaration."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import transitions
from cases.models import Application, PeriodicReview
from cases.reviews import services as review_services
from tests.browser.helpers import log_in, send, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def step(page, name: str, fill=None) -> None:
    send(page, f"step-{name}", fill)


def test_a_caseworker_works_a_review_through_to_the_approvers_decision(page, people, enrol):
    family = enrol(income="300")
    Application.objects.filter(pk=family.application.pk).update(
        next_review_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    assert review_services.reviews_open_due() == 1
    review = PeriodicReview.objects.get()

    log_in(page, "caseworker_a")
    page.get_by_role("link", name=zh("Periodic reviews")).first.click()
    row = page.locator(f"#review-{review.pk}")
    expect(row).to_have_class(re.compile("overdue"))
    row.get_by_role("link").click()
    expect(page.locator("#review-state")).to_have_text(zh("opened"))

    step(page, "redeclaration_start")
    expect(page.locator("#review-state")).to_have_text(zh("re-declaration"))

    def new_income(block):
        block.locator("select[name=member]").select_option(label=family.spouse.person.name)
        block.locator("select[name=source]").select_option("other")
        block.locator("input[name=monthly_average]").fill("5000000")

    step(page, "income_add", new_income)  # an implausible amount: refused beside the form
    expect(page.locator("#step-income_add .error")).to_be_visible()
    block = page.locator("#step-income_add")
    block.locator("input[name=monthly_average]").fill("200")
    with page.expect_navigation():
        block.locator("button[type=submit]").click()
    expect(page.locator("#incomes")).to_contain_text("200.00")

    step(
        page,
        "redeclaration_finish",
        lambda b: b.locator("textarea[name=note]").fill("配偶新增零工收入"),
    )
    expect(page.locator("#changes")).to_contain_text(zh("added"))

    def by_hand(block):
        block.locator("input[name=outcome][value=consistent]").check()
        block.locator("textarea[name=reason]").fill("核对平台维护，依据银行流水人工核对")

    step(page, "outcome", by_hand)
    expect(page.locator("#review-state")).to_have_text(zh("awaiting decision"))
    expect(page.locator("#step-decide")).to_have_count(0)  # the caseworker does not decide

    log_in(page, "approver_a")
    page.goto(f"/cases/reviews/{review.pk}/")

    def adjust(block):
        block.locator("input[name=decision][value=adjust]").check()
        expect(block.locator("input[name=monthly_amount]")).to_have_value("700.00")
        block.locator("textarea[name=reason]").fill("配偶务工收入增加，按新申报核减")

    step(page, "decide", adjust)
    expect(page.locator("#review-state")).to_have_text(zh("decided"))
    expect(page.locator("#monthly-amount")).to_have_text("700.00")
    expect(page.locator("#next-review")).to_have_text(
        transitions.add_months(timezone.localdate(), 6).isoformat()
    )
    family.refresh()
    assert str(family.application.monthly_amount) == "700.00"
