"""Roles, accounts and per-object cover grants (django-guardian) through the gate."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import access, services
from aid_portal.errors import DomainError
from aid_portal.models import AuditEvent, Role

pytestmark = pytest.mark.django_db


def test_a_role_is_held_at_its_level(people, places):
    with pytest.raises(DomainError) as caught:
        services.role_grant(
            actor=people.superuser,
            user=people.nobody,
            role=Role.TOWNSHIP_CASEWORKER,
            region=places.county,
        )
    assert caught.value.field == "region"
    with pytest.raises(DomainError):
        services.role_grant(
            actor=people.superuser,
            user=people.nobody,
            role=Role.VILLAGE_ASSISTANT,
            region=places.township_a,
        )
    assert not AuditEvent.objects.filter(action="role.grant", object_id=str(people.nobody.pk))


def test_granting_twice_is_refused(people, places):
    with pytest.raises(DomainError):
        services.role_grant(
            actor=people.superuser,
            user=people.caseworker_a,
            role=Role.TOWNSHIP_CASEWORKER,
            region=places.township_a,
        )


def test_feed_admin_role_opens_the_staff_pages_and_revoking_closes_them(people, places):
    feedadmin = people.feedadmin
    feedadmin.refresh_from_db()
    assert feedadmin.is_staff and feedadmin.has_perm("aid_portal.add_roleassignment")
    assignment = feedadmin.role_assignments.get()
    services.role_revoke(actor=people.superuser, assignment=assignment, reason="moved")
    feedadmin.refresh_from_db()
    assert not feedadmin.is_staff
    assert AuditEvent.objects.get(action="role.revoke").reason == "moved"


def test_jurisdictions_nest_by_division_code(people, places):
    assert access.jurisdiction_for(people.auditor).prefixes == ("640422",)
    assert access.jurisdiction_for(people.caseworker_a).prefixes == ("640422100",)
    assert access.jurisdiction_for(people.assistant_a).prefixes == ("640422100201",)
    assert access.jurisdiction_for(people.nobody).is_empty
    assert access.jurisdiction_for(people.superuser).everything


def test_cover_grant_widens_reading_but_not_acting(people, places):
    api = APIClient()
    api.force_login(people.caseworker_b)
    url = reverse("api-region-detail", args=[places.township_a.code])
    assert api.get(url).status_code == 404
    services.region_cover_grant(
        actor=people.superuser,
        user=people.caseworker_b,
        region=places.township_a,
        reason="马秀兰 on leave",
    )
    caseworker_b = type(people.caseworker_b).objects.get(pk=people.caseworker_b.pk)
    assert access.jurisdiction_for(caseworker_b).contains(places.village_a)
    assert not access.has_role(caseworker_b, {Role.TOWNSHIP_CASEWORKER}, places.village_a)
    assert api.get(url).status_code == 200
    services.region_cover_revoke(
        actor=people.superuser, user=people.caseworker_b, region=places.township_a, reason="back"
    )
    assert api.get(url).status_code == 404
    assert AuditEvent.objects.filter(action__startswith="region.cover").count() == 2


def test_cover_grant_needs_a_reason(people, places):
    with pytest.raises(DomainError):
        services.region_cover_grant(
            actor=people.superuser, user=people.caseworker_b, region=places.township_a, reason=" "
        )


def test_disabling_twice_is_refused_and_needs_a_reason(people):
    with pytest.raises(DomainError):
        services.user_set_active(
            active=False, actor=people.superuser, user=people.caseworker_a, reason=""
        )
    services.user_set_active(
        active=False, actor=people.superuser, user=people.caseworker_a, reason="left"
    )
    with pytest.raises(DomainError):
        services.user_set_active(
            active=False, actor=people.superuser, user=people.caseworker_a, reason="again"
        )


def test_nobody_changes_their_own_roles(people, places):
    with pytest.raises(DomainError):
        services.role_grant(
            actor=people.feedadmin,
            user=people.feedadmin,
            role=Role.COUNTY_AUDITOR,
            region=places.county,
        )
    with pytest.raises(DomainError):
        services.role_revoke(
            actor=people.feedadmin,
            assignment=people.feedadmin.role_assignments.get(),
            reason="self",
        )


def test_client_address_behind_a_trusted_proxy(rf, settings):
    from aid_portal.middleware import client_address_of

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.7", REMOTE_ADDR="127.0.0.1")
    assert client_address_of(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address_of(request) == "10.0.0.7"  # the left entry could be forged
