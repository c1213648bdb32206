"""API tokens: they expire, their owner and a data-feed admin revoke them, nobody else
can, and every token made or revoked leaves an audit row."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aid_portal import services, tokens
from aid_portal.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def api_with(secret: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return api


def make_on_page(client, user, name="nightly export") -> str:
    """Make a token on the API tokens page, as the user would; returns its secret."""
    client.force_login(user)
    page = client.post(reverse("api-token-list"), {"name": name})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    return page.context["secret"]


def test_a_token_made_on_the_page_works_and_is_shown_once(client, people, settings):
    secret = make_on_page(client, people.caseworker_a)
    assert api_with(secret).get(reverse("api-me")).json()["username"] == "caseworker_a"

    token = ApiToken.objects.get(user=people.caseworker_a)
    assert token.name == "nightly export"
    # Only the digest is stored: neither the table nor the list page holds the secret.
    assert secret not in {token.digest, token.token_key} and len(token.digest) == 128
    listed = client.get(reverse("api-token-list")).content.decode()
    assert "nightly export" in listed and secret not in listed and token.prefix in listed
    expected = timezone.now() + datetime.timedelta(hours=settings.API_TOKEN_HOURS)
    assert abs((token.expiry - expected).total_seconds()) < 60
    token.refresh_from_db()
    assert token.last_used is not None  # the call above was recorded

    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == people.caseworker_a and event.object_id == str(token.pk)
    assert event.new_values["name"] == "nightly export"
    assert event.region == people.caseworker_a.role_assignments.get().region


def test_an_expired_token_gets_401(client, people):
    secret = make_on_page(client, people.caseworker_a)
    ApiToken.objects.filter(user=people.caseworker_a).update(
        expiry=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = api_with(secret).get(reverse("api-me"))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert response.json()["detail"] == "认证令牌无效。"  # knox's message, DRF's Chinese
    # The expired token is no longer listed either.
    assert "nightly export" not in client.get(reverse("api-token-list")).content.decode()


def test_the_api_token_lasts_api_token_hours(people, settings):
    settings.API_TOKEN_HOURS = 2
    token, _secret = tokens.api_token_create(user=people.caseworker_a, name="short")
    assert token.expiry - token.created < datetime.timedelta(hours=2, minutes=1)
    assert token.expiry - token.created > datetime.timedelta(hours=1, minutes=59)


def test_the_user_revokes_their_own_token(client, people):
    secret = make_on_page(client, people.caseworker_a)
    token = ApiToken.objects.get(user=people.caseworker_a)
    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302 and response.url == reverse("api-token-list")
    assert api_with(secret).get(reverse("api-me")).status_code == 401
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == people.caseworker_a
    assert event.object_id == str(token.pk) and event.old_values["name"] == "nightly export"


def test_another_user_cannot_revoke_your_token(client, people):
    secret = make_on_page(client, people.caseworker_a)
    token = ApiToken.objects.get(user=people.caseworker_a)
    for other in (people.caseworker_b, people.feedadmin, people.auditor):
        client.force_login(other)
        assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
        assert "nightly export" not in client.get(reverse("api-token-list")).content.decode()
    assert api_with(secret).get(reverse("api-me")).status_code == 200
    assert not AuditEvent.objects.filter(action="api_token.revoke").exists()


def test_revoke_is_post_only(client, people):
    make_on_page(client, people.caseworker_a)
    token = ApiToken.objects.get(user=people.caseworker_a)
    assert client.get(reverse("api-token-revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_a_token_needs_a_purpose(client, people):
    client.force_login(people.caseworker_a)
    page = client.post(reverse("api-token-list"), {"name": "   "})
    assert page.status_code == 400 and page.context["secret"] is None
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="api_token.create").exists()


def test_a_data_feed_admin_revokes_a_token_in_the_staff_admin(client, people):
    secret = make_on_page(client, people.caseworker_a)
    token = ApiToken.objects.get(user=people.caseworker_a)
    client.force_login(people.feedadmin)
    changelist = reverse("admin:aid_portal_apitoken_changelist")
    listed = client.get(changelist)
    assert listed.status_code == 200 and "nightly export" in listed.content.decode()
    assert secret not in listed.content.decode()
    response = client.post(
        changelist, {"action": "revoke", "_selected_action": [str(token.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert api_with(secret).get(reverse("api-me")).status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == people.feedadmin and event.old_values["user"] == "caseworker_a"


def test_a_superuser_revokes_through_the_admins_delete_page(client, people):
    secret = make_on_page(client, people.caseworker_a)
    token = ApiToken.objects.get(user=people.caseworker_a)
    client.force_login(people.superuser)
    url = reverse("admin:aid_portal_apitoken_delete", args=[token.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert api_with(secret).get(reverse("api-me")).status_code == 401
    assert AuditEvent.objects.get(action="api_token.revoke").actor == people.superuser


def test_a_data_feed_admin_sees_no_token_outside_their_places(client, people):
    make_on_page(client, people.outsider_auditor, name="other county script")
    make_on_page(client, people.superuser, name="root script")
    client.force_login(people.feedadmin)
    listed = client.get(reverse("admin:aid_portal_apitoken_changelist")).content.decode()
    assert "other county script" not in listed and "root script" not in listed
    outside = ApiToken.objects.get(user=people.outsider_auditor)
    url = reverse("admin:aid_portal_apitoken_delete", args=[outside.pk])
    client.post(url, {"post": "yes"})
    assert ApiToken.objects.filter(pk=outside.pk).exists()


def test_the_api_login_gives_an_expiring_audited_token(people, settings):
    response = APIClient().post(
        reverse("api-token"), {"username": "caseworker_a", "password": PASSWORD, "name": "etl"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    token = ApiToken.objects.get(user=people.caseworker_a)
    assert token.name == "etl" and token.expiry > timezone.now()
    assert AuditEvent.objects.filter(action="api_token.create", actor=people.caseworker_a).exists()
    assert api_with(body["token"]).get(reverse("api-me")).status_code == 200


def test_disabling_the_account_revokes_its_tokens(client, people):
    secret = make_on_page(client, people.caseworker_a)
    services.user_set_active(
        actor=people.superuser, user=people.caseworker_a, active=False, reason="left"
    )
    assert not ApiToken.objects.filter(user=people.caseworker_a).exists()
    assert api_with(secret).get(reverse("api-me")).status_code == 401


def test_a_garbage_token_gets_401(people):
    assert api_with("not-a-token").get(reverse("api-me")).status_code == 401
