"""The overview charts in a real Chromium: the county auditor opens the credit dashboard,
a spot-check campaign and the batch comparisons; each chart is drawn by Chart.js from the
figures the page embeds, with no error in the console."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import test_charts
from tests.browser.helpers import log_in
from tests.cases import test_overview

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

yearly = test_charts.yearly
campaign = test_charts.campaign
runs = test_charts.runs


def drawn(page, canvas_id: str) -> dict:
    """What Chart.js holds for the canvas: its size on the page and the figures drawn."""
    canvas = page.locator(f"#{canvas_id}")
    expect(canvas).to_be_visible()
    expect(canvas).to_have_attribute("role", "img")
    return page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const chart = Chart.getChart(canvas);
            const embedded = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
            return {
                embedded: embedded.datasets.map((d) => d.data),
                chart: chart !== undefined,
                width: canvas.width,
                height: canvas.height,
                data: chart ? chart.data.datasets.map((d) => d.data) : null,
                labels: chart ? chart.data.labels : null,
            };
        }""",
        canvas_id,
    )


def test_the_county_auditor_sees_the_charts_drawn(page, people, yearly, campaign, runs):
    errors = []

    def console(message):
        # The browser's own ask for /favicon.ico (the portal has none) is not the page's.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            errors.append(f"{message.text} {message.location['url']}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, people.auditor.username)

    page.goto(reverse("credit:dashboard"))
    rates = drawn(page, "credit-rates-chart-canvas")
    assert rates["chart"] and rates["width"] > 0 and rates["height"] > 0
    assert rates["data"] == rates["embedded"]
    # Last years as stored; this year live (the other fixtures' cases count in it).
    assert rates["data"][0][:2] == [12.5, 37.5]
    assert rates["labels"][:2] == [str(yearly - 2), str(yearly - 1)]
    assert page.locator("#credit-rates").is_visible()  # the table stays beside it

    page.goto(reverse("verification:spotcheck-campaign", args=[campaign.pk]))
    states = drawn(page, "spotcheck-states-chart-canvas")
    assert states["chart"] and states["width"] > 0
    assert states["data"] == states["embedded"] == [[1, 1], [2, 0], [3, 1]]
    assert drawn(page, "spotcheck-deadlines-chart-canvas")["data"][0] == [2, 1]

    page.goto(reverse("verification:batch-runs"))
    monthly = drawn(page, "batch-monthly-chart-canvas")
    assert monthly["chart"] and monthly["height"] > 0 and len(monthly["labels"]) == 12
    assert monthly["data"] == monthly["embedded"]

    assert errors == []


now_cases = test_overview.now_cases


@pytest.mark.parametrize("username", ["auditor", "approver_a"])
def test_the_case_overview_draws_its_three_charts(page, people, now_cases, username):
    errors = []

    def console(message):
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            errors.append(f"{message.text} {message.location['url']}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, getattr(people, username).username)
    page.goto(reverse("home"))
    page.locator("#home-overview a").click()
    expect(page.locator("h1")).to_have_text("案件总览")
    for chart in ("states", "decisions", "overdue"):
        canvas = f"case-{chart}-chart-canvas"
        found = drawn(page, canvas)
        assert found["chart"] and found["width"] > 0 and found["height"] > 0
        assert found["data"] == found["embedded"]
    states = drawn(page, "case-states-chart-canvas")
    assert states["labels"][0] == people.approver_a.role_assignments.get().region.name
    assert len(drawn(page, "case-decisions-chart-canvas")["labels"]) == 12
    assert page.locator("#case-states").is_visible()  # the table stays beside it
    assert errors == []
