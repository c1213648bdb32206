"""What every browser test does: log in, read a label as the page shows it, open a
step's fold-out form, fill it in and send it."""

from __future__ import annotations

import re

from django.utils import translation
from playwright.sync_api import expect

from tests.conftest import PASSWORD


def zh(text: str) -> str:
    """What the page shows for an English source string (the pages render in Chinese)."""
    with translation.override("zh-hans"):
        return translation.gettext(text)


def log_in(page, username: str) -> None:
    """Log in as ``username`` (any earlier session dropped) and wait to be let in."""
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile("/login/"))


def send(page, block_id: str, fill=None) -> None:
    """Open the fold-out form ``#<block_id>`` (a <details>), fill it, send it, and wait
    for the page that answers."""
    block = page.locator(f"#{block_id}")
    if block.get_attribute("open") is None:
        block.locator("summary").click()
    if fill:
        fill(block)
    with page.expect_navigation():
        block.locator("button[type=submit]").click()


def take(page, action: str, fill=None) -> None:
    """Take an action of a case or credit-finding page (``#action-<name>``)."""
    send(page, f"action-{action}", fill)
