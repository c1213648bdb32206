"""The one way to write the audit log.

Services call :func:`audit_record` inside the transaction of the change they make,
so the row exists exactly when the change does. The client address comes from the
request through a context variable set by ClientAddressMiddleware, so services never
take a request object; tasks and commands run with no address.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import connection, models

from aid_portal.audit_labels import ACTION_LABELS, action_label
from aid_portal.models import AuditEvent, Region, User

__all__ = [
    "ACTION_LABELS",
    "action_label",
    "audit_denial",
    "audit_printout",
    "audit_record",
    "audit_sensitive_read",
]

client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_address", default=None
)


class AuditOutsideTransaction(RuntimeError):
    """A state change tried to write its audit row outside its own transaction."""


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    region: Region | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Record a state change. Must run inside the atomic block that makes the change."""
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction(
            f"audit_record({action!r}) must be called inside transaction.atomic()"
        )
    return _write(
        actor=actor, action=action, obj=obj, region=region, old=old, new=new, reason=reason
    )


def audit_sensitive_read(
    *, actor: User, obj: models.Model, field: str, region: Region | None, reason: str = ""
) -> AuditEvent:
    """Record that ``actor`` saw the full value of a sensitive field of ``obj``.

    Reads happen outside any state change, so this helper opens no requirement for
    a transaction; it commits on its own.
    """
    return _write(
        actor=actor,
        action="sensitive.read",
        obj=obj,
        region=region,
        old=None,
        new={"field": field},
        reason=reason,
    )


def audit_printout(
    *, actor: User, obj: models.Model, document: str, region: Region | None, form: str
) -> AuditEvent:
    """Record that ``actor`` printed ``document`` about ``obj`` (as HTML or PDF).

    A printout leaves the system on paper, so who printed what is kept like a read of
    sensitive data; like that read, it commits on its own.
    """
    return _write(
        actor=actor,
        action="document.print",
        obj=obj,
        region=region,
        old=None,
        new={"document": document, "form": form},
        reason="",
    )


def audit_denial(
    *,
    actor: User,
    region: Region | None,
    path: str,
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the access gate refused ``actor`` the address ``path``.

    The object is named by its kind and key only: loading it would be a read the gate
    has just refused. Written by aid_portal.denials after the response, outside the
    request's rolled-back transaction.
    """
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor.get_username(),
        action="access.denied",
        object_type=object_type,
        object_id=object_id,
        object_label=path[:200],
        region=region,
        new_values={"path": path, **(details or {})},
        client_address=client_address.get(),
    )


def _write(*, actor, action, obj, region, old, new, reason) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.get_username() if actor is not None and actor.pk else "system",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:200] if obj is not None else "",
        region=region,
        old_values=old,
        new_values=new,
        reason=reason,
        client_address=client_address.get(),
    )
