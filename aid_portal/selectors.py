"""Reads of the shared core, each starting from the user's jurisdiction."""

from __future__ import annotations

from django.db.models import QuerySet

from aid_portal import access, permissions
from aid_portal.models import AuditEvent, Region, User

ANY_ROLE = frozenset(permissions.READ_CASES | permissions.READ_AUDIT_LOG | permissions.MANAGE_STAFF)


def audit_event_list_for_user(*, user: User) -> QuerySet[AuditEvent]:
    """Audit rows about objects inside the regions where ``user`` is a county auditor."""
    return access.restrict(
        AuditEvent.objects.select_related("region"),
        user,
        region_field="region",
        roles=permissions.READ_AUDIT_LOG,
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
