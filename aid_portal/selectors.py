"""Reads of the shared core, each starting from the user's jurisdiction."""

from __future__ import annotations

import datetime

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT

from aid_portal import access, permissions
from aid_portal.models import AuditEvent, Region, User
from aid_portal.unmask import UNMASKED

ANY_ROLE = frozenset(permissions.READ_CASES | permissions.READ_AUDIT_LOG | permissions.MANAGE_STAFF)


def audit_event_list_for_user(*, user: User) -> QuerySet[AuditEvent]:
    """Audit rows about objects inside the regions where ``user`` is a county auditor."""
    return access.restrict(
        AuditEvent.objects.select_related("region"),
        user,
        region_field="region",
        roles=permissions.READ_AUDIT_LOG,
    )


def denials_repeated_for_user(
    *, user: User, since: datetime.datetime, at_least: int = 2
) -> QuerySet:
    """People of the user's county refused by the access gate ``at_least`` times since
    ``since``: ``actor_label``, ``count``, ``last_at``, ``last_path``, most refused first.

    Only county auditors see any (READ_AUDIT_LOG over the refused person's home region).
    """
    refused = audit_event_list_for_user(user=user).filter(action="access.denied", at__gte=since)
    last = refused.filter(actor_label=OuterRef("actor_label")).order_by("-at", "-id")
    return (
        refused.order_by()
        .values("actor_label")
        .annotate(
            count=Count("id"),
            last_at=Max("at"),
            last_path=Subquery(last.values(path=KT("new_values__path"))[:1]),
        )
        .filter(count__gte=at_least)
        .order_by("-count", "-last_at")
    )


def unmasks_for_user(*, user: User, since: datetime.datetime) -> QuerySet:
    """Full numbers seen by the staff of the user's county since ``since``, newest first:
    who, when, what and why (aid_portal.unmask). County auditors only, like the log."""
    return (
        audit_event_list_for_user(user=user).filter(UNMASKED, at__gte=since).order_by("-at", "-id")
    )


def audit_event_get_for_user(*, user: User, event_id: int) -> AuditEvent:
    return access.get_object_or_404(
        AuditEvent.objects.select_related("region"),
        user,
        region_field="region",
        roles=permissions.READ_AUDIT_LOG,
        pk=event_id,
    )


def region_list_for_user(*, user: User) -> QuerySet[Region]:
    """The region nodes at and below the places where ``user`` holds any role."""
    return access.restrict(
        Region.objects.select_related("parent"), user, region_field=None, roles=ANY_ROLE
    )


def region_get_for_user(*, user: User, code: str) -> Region:
    return access.get_object_or_404(
        Region.objects.select_related("parent"),
        user,
        region_field=None,
        roles=ANY_ROLE,
        code=code,
    )
