"""Login, logout, throttling, session lifetime, disabled accounts, API tokens."""

import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import services
from aid_portal.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from aid_portal.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_is_chinese_even_for_an_english_browser(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    content = page.content.decode()
    assert page.status_code == 200
    assert 'lang="zh-hans"' in content and "登录" in content


def test_english_is_available_through_the_switcher(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_login_then_home_then_logout(client, people):
    response = login(client, "caseworker_a")
    assert response.status_code == 302 and response.url == reverse("home")
    home = client.get(reverse("home")).content.decode()
    assert "乡镇经办人" in home and "吉强镇" in home
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action="user.logout", actor=people.caseworker_a).exists()


def test_wrong_password_says_so_in_chinese(client, people):
    page = login(client, "caseworker_a", "wrong")
    assert page.status_code == 200
    assert "用户名或密码" in page.content.decode()


def test_repeated_failures_lock_the_account_for_a_while(client, people, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "caseworker_a", "wrong")
    locked = login(client, "caseworker_a")  # even the right password now
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_idle_session_ends(client, people, settings):
    login(client, "caseworker_a")
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() - settings.SESSION_IDLE_MINUTES * 60 - 5
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.get(reverse("home")).status_code == 302  # really logged out


def test_session_ends_after_its_absolute_lifetime_even_when_busy(client, people, settings):
    login(client, "caseworker_a")
    session = client.session
    session[SESSION_STARTED] = time.time() - settings.SESSION_MAX_HOURS * 3600 - 5
    session.save()
    assert client.get(reverse("home")).status_code == 302


def test_idle_htmx_request_is_redirected_by_header(client, people, settings):
    login(client, "auditor")
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() - settings.SESSION_IDLE_MINUTES * 60 - 5
    session.save()
    response = client.get(reverse("audit-list"), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"].startswith(reverse("login"))


def test_a_disabled_users_session_ends_at_once(client, people):
    login(client, "caseworker_a")
    assert client.get(reverse("home")).status_code == 200
    services.user_set_active(
        active=False, actor=people.superuser, user=people.caseworker_a, reason="left"
    )
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.get(action="user.disable").reason == "left"


def test_api_token_works_until_the_user_is_disabled(people):
    api = APIClient()
    token = api.post(reverse("api-token"), {"username": "caseworker_a", "password": PASSWORD})
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get(reverse("api-me")).json()["username"] == "caseworker_a"
    services.user_set_active(
        active=False, actor=people.superuser, user=people.caseworker_a, reason="left"
    )
    assert api.get(reverse("api-me")).status_code == 401


def test_api_token_with_a_wrong_password_is_a_field_error(people):
    response = APIClient().post(
        reverse("api-token"), {"username": "caseworker_a", "password": "nope"}
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_unknown_url_is_a_chinese_404_not_a_trace(client, people, settings):
    settings.DEBUG = False
    client.force_login(people.caseworker_a)
    page = client.get("/no/such/page/")
    assert page.status_code == 404 and "未找到" in page.content.decode()
