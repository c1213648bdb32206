"""A draft left after the first intake step is not lost: the work queue lists it with its
age, and filing the applicant again says where the draft is, with a link to it."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import translation
from playwright.sync_api import expect

from cases.models import Application, Policy
from tests.browser.helpers import log_in
from tests.cases.conftest import identity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = identity("642222", "19660606", 11)


def fill_start(page, places) -> None:
    page.goto("/cases/new/")
    page.select_option("#id_village", str(places.village_a.pk))
    page.fill("#id_address", "龙王坝村4组6号")
    page.select_option("#id_assistance_type", "dibao_rural")
    page.fill("#id_identity_number", NUMBER)
    page.fill("#id_name", "马有福")
    page.click("form.stepform button[type=submit]")


def test_a_draft_left_after_step_one_is_found_again(page, people, places):
    Policy.objects.create(
        county=places.county,
        effective_from=datetime.date(2026, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
    )
    log_in(page, "caseworker_a")

    # Step 1, then the caseworker leaves for the home page.
    fill_start(page, places)
    expect(page).to_have_url(re.compile(r"/cases/\d+/members/$"))
    app = Application.objects.get()
    draft_url = f"/cases/{app.pk}/members/"
    page.goto("/")

    # The work queue lists the draft, with its age; its link opens it.
    page.goto("/cases/")
    drafts = page.locator("#drafts")
    expect(drafts).to_contain_text("马有福")
    with translation.override("zh-hans"):
        age = translation.ngettext("%(days)s day", "%(days)s days", 0) % {"days": 0}
    expect(drafts.locator(".draft-age")).to_have_text(age)
    drafts.locator(f'a[href="{draft_url}"]').click()
    expect(page).to_have_url(re.compile(rf"{draft_url}$"))
    expect(page.locator("#section-members tbody")).to_contain_text("马有福")

    # Filing the same applicant again: the refusal links to the draft.
    fill_start(page, places)
    error = page.get_by_role("alert").filter(has_text=f"第{app.household_id}号家庭")
    expect(error).to_be_visible()
    error.locator("a").click()
    expect(page).to_have_url(re.compile(rf"{draft_url}$"))
    assert Application.objects.count() == 1
