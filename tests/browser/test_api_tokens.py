"""The API tokens page in a real Chromium, in Chinese: make a token, see its secret once,
use it, revoke it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from rest_framework.test import APIClient

from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_make_see_once_and_revoke_a_token(page, people):
    log_in(page, "caseworker_a")
    page.goto(reverse("api-token-list"))
    expect(page.locator("h1")).to_have_text("API 令牌")
    page.fill("#id_name", "每月导出脚本")
    page.click("#token-add button[type=submit]")
    secret = page.locator("#token-secret").inner_text()
    assert len(secret) == 64
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get(reverse("api-me")).status_code == 200

    page.goto(reverse("api-token-list"))  # shown once: gone on the next visit
    expect(page.locator("#token-secret")).to_have_count(0)
    row = page.locator("table.api-tokens tbody tr", has_text="每月导出脚本")
    expect(row).to_contain_text(secret[:8])
    row.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已吊销")
    expect(page.locator("table.api-tokens")).not_to_contain_text("每月导出脚本")
    assert api.get(reverse("api-me")).status_code == 401
