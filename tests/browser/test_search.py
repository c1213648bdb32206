"""Search in a real Chromium: the work queue's search box narrows the rows in place
(htmx), and the top bar's search finds the case, grouped by kind."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.intake import services as intake_services
from tests.browser.helpers import log_in
from tests.cases import conftest as case_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family


def test_caseworker_searches_the_queue_and_the_whole_portal(page, people, make_family):
    first, second = make_family(), make_family()
    for family in (first, second):
        intake_services.application_submit(
            actor=people.caseworker_a, application_id=family.application.pk
        )
    wanted = first.application.number
    other = second.application.number

    log_in(page, "caseworker_a")
    page.goto("/cases/")
    table = page.locator("#queue-table")
    expect(table).to_contain_text(other)
    page.fill("#list-search", first.applicant.person.name)
    page.press("#list-search", "Enter")
    expect(table).not_to_contain_text(other)
    expect(table).to_contain_text(wanted)

    page.fill("#top-search", first.applicant.person.identity_number)
    page.press("#top-search", "Enter")
    expect(page.locator("#search-applications")).to_contain_text(wanted)
    expect(page.locator("#search-applications")).not_to_contain_text(other)
    expect(page.locator("#search-persons")).to_contain_text(first.applicant.person.name)
