"""The core's list: the audit log (aid_portal.listing)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions, selectors
from aid_portal.filters import AuditEventFilter
from aid_portal.listing import Column, ListSpec, register


def _audit_rows(user):
    access.require_role(user, permissions.READ_AUDIT_LOG)
    return selectors.audit_event_list_for_user(user=user)


AUDIT_LOG = register(
    ListSpec(
        name="audit-log",
        title=_("Audit log"),
        rows=_audit_rows,
        filterset=AuditEventFilter,
        columns=[
            Column(_("Time"), lambda e: timezone.localtime(e.at).replace(tzinfo=None)),
            Column(_("Actor"), lambda e: e.actor_label),
            Column(_("Action"), lambda e: e.action_label),
            Column(_("Object"), lambda e: e.object_label),
            Column(_("Region"), lambda e: e.region.name if e.region else ""),
            Column(_("Reason"), lambda e: e.reason),
            Column(_("Client address"), lambda e: e.client_address or ""),
        ],
    )
)
