"""A spot-check in a real Chromium: the county auditor previews and draws a 30% campaign
over last month's new cases, sees the seed and each township's share, records a finding
recommending a decrease, and township A's caseworker finds the proposal in the
adjustments queue."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Application
from tests.browser.helpers import log_in, zh
from tests.verification.test_spotcheck import _case
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_auditor_draws_a_campaign_and_a_finding_reaches_the_township(
    page, people, places, enrol
):
    families = [enrol() for _ in range(3)]  # township A: ceil(0.3 × 3) = 1 drawn
    start, _end = spotcheck.default_window("new_cases", timezone.localdate())
    confirmed = datetime.datetime.combine(
        start + datetime.timedelta(days=9),
        datetime.time(10),
        tzinfo=timezone.get_current_timezone(),
    )
    Application.objects.filter(pk__in=[f.application.pk for f in families]).update(
        decided_at=confirmed
    )
    for n in range(2):  # township B: ceil(0.3 × 2) = 1 drawn
        _case(places.village_b, people.caseworker_b, decided=start + datetime.timedelta(days=n))

    log_in(page, "auditor")
    page.get_by_role("link", name=zh("Spot-checks"), exact=True).click()
    page.get_by_role("link", name=zh("Draw a campaign"), exact=True).click()
    page.locator("input[name=ratio]").fill("30%")
    preview = page.locator("#draw-preview")
    expect(preview.locator("table")).to_be_visible()
    expect(preview.locator("tr", has_text=places.township_a.name)).to_contain_text("3")
    expect(preview.locator("tr", has_text=places.township_b.name)).to_contain_text("2")
    assert SpotCheckCampaign.objects.count() == 0  # the preview drew nothing

    with page.expect_navigation():
        page.get_by_role("button", name=zh("Draw the sample")).click()
    campaign = SpotCheckCampaign.objects.get()
    expect(page.locator("#campaign-seed")).to_have_text(str(campaign.seed))
    progress = page.locator("table.spotcheck-progress")
    expect(progress.locator("tr", has_text=places.township_a.name)).to_contain_text("1")
    expect(progress.locator("tr", has_text=places.township_b.name)).to_contain_text("1")

    item = SampleItem.objects.get(campaign=campaign, township=places.township_a)
    assert item.assigned_to == people.auditor  # the drawing auditor, ticked by default
    page.get_by_role("link", name=item.application.number).click()
    form = page.locator("#spotcheck-finding-form")
    form.locator("input[name=visitors]").fill("田明、何丽")
    form.locator("textarea[name=facts]").fill("儿子已在县城务工，月收入约2000元。")
    form.locator("input[name=still_eligible][value=yes]").check()
    form.locator("input[name=action][value=decrease]").check()
    form.locator("input[name=proposed_amount]").fill("250")
    with page.expect_navigation():
        form.get_by_role("button", name=zh("Record the findings")).click()
    expect(page.locator("#spotcheck-finding")).to_contain_text(zh("decrease the benefit"))

    log_in(page, "caseworker_a")
    page.goto("/cases/adjustments/")
    row = page.locator("table.adjustments tr", has_text=item.application.number)
    expect(row).to_contain_text(zh("county spot-check"))
    expect(row).to_contain_text(zh("decrease the benefit"))
    expect(row).to_contain_text(re.compile(r"→\s*250"))


def test_the_draw_form_shows_both_bad_fields_once_each_beside_them(page, people, places, policy):
    log_in(page, "auditor")
    page.goto("/verification/spot-checks/draw/")
    # The radios sit beside their labels: on the same line as the text they belong to.
    radio = page.locator("input[name=rule][value=new_cases]")
    label = page.locator("label", has=radio)
    radio_box, label_box = radio.bounding_box(), label.bounding_box()
    assert radio_box["height"] < 40 and label_box["height"] < 40
    assert label_box["x"] <= radio_box["x"] < label_box["x"] + 30

    page.locator("input[name=window_start]").fill("2024-03-01")
    page.locator("input[name=window_end]").fill("2024-02-01")
    page.locator("input[name=ratio]").fill("1.2")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Draw the sample")).click()
    ratio_error = zh("The share must be more than 0 and at most 1 (100%).")
    window_error = zh("The window ends before it starts.")
    expect(page.locator("#id_ratio_error")).to_have_text(ratio_error)
    expect(page.locator("#id_window_end_error")).to_have_text(window_error)
    expect(page.locator("#draw-preview")).to_contain_text(
        zh("The preview shows once the form's values are valid.")
    )
    body = page.locator("body").inner_text()
    assert body.count(ratio_error) == 1 and body.count(window_error) == 1
    assert SpotCheckCampaign.objects.count() == 0
