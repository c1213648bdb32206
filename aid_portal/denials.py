"""Every request the access gate refuses leaves an audit row: who, what, when, from where.

A refusal is a 404 or a 403 raised by a view the URL resolved to (the gate's
``get_object_or_404``, ``require_role``, a ``*_get_for_user`` selector, a step's role
check), for a signed-in user. Two hooks see every one of them: the page views' exceptions
(``DenialAuditMiddleware.process_exception``) and the API's (``aid_portal.api``'s
exception handler, since DRF catches its views' exceptions itself). Both only *note* the
refusal on the request; the middleware writes the row once the response is made, when
the view's transaction (``ATOMIC_REQUESTS`` or the view's own ``atomic``) has already
been rolled back, so the row is not rolled back with it.

An address that matches no route raises ``Resolver404`` before any view runs: it is not
a refusal of the gate and is not recorded, so stray crawlers do not flood the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from django.urls import Resolver404
from rest_framework import exceptions as api_exceptions

from aid_portal import access
from aid_portal.audit import audit_denial
from aid_portal.models import User

ACTION = "access.denied"
_NOTE = "_aid_portal_denial"


@dataclass(frozen=True)
class Denial:
    user: User
    object_type: str
    object_id: str


def denial_note(request: HttpRequest, exc: BaseException, user) -> None:
    """Remember that the gate refused ``user`` this request (recorded after the response)."""
    if isinstance(exc, Resolver404) or user is None or not user.is_authenticated:
        return
    refused = (Http404, PermissionDenied, api_exceptions.NotFound, api_exceptions.PermissionDenied)
    if not isinstance(exc, refused):
        return
    setattr(
        request,
        _NOTE,
        Denial(
            user=user,
            object_type=getattr(exc, "object_type", ""),
            object_id=getattr(exc, "object_id", ""),
        ),
    )


def denial_record(request: HttpRequest, status: int) -> None:
    """Write the audit row of a refusal noted on ``request``, in a transaction of its own."""
    denial: Denial | None = getattr(request, _NOTE, None)
    if denial is None or status not in (403, 404):
        return
    match = request.resolver_match
    with transaction.atomic():
        audit_denial(
            actor=denial.user,
            region=access.home_region(denial.user),
            path=request.get_full_path()[:2000],
            object_type=denial.object_type,
            object_id=denial.object_id,
            details={
                "method": request.method,
                "status": status,
                "route": match.view_name if match else "",
            },
        )
