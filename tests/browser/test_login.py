"""A caseworker logs in in a real headless Chromium and sees the Chinese home page."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_caseworker_logs_in_and_sees_the_chinese_home_page(page, people):
    page.goto("/")
    assert "/login/" in page.url
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("#id_username", "caseworker_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("欢迎")
    expect(page.locator("#work-queues")).to_contain_text("我的待办")
    roles = page.locator("#my-roles")
    expect(roles).to_contain_text("吉强镇")
    expect(roles).to_contain_text("乡镇经办人")
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_a_wrong_password_stays_on_the_login_page_with_a_message(page, people):
    page.goto("/login/")
    page.fill("#id_username", "caseworker_a")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("用户名或密码错误")
