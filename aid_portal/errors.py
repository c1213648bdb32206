"""Domain errors: what services raise when a request cannot be carried out.

Views turn them into a message on the page, the API into a 400 (or 409 for a lost
race) with the message under the field it concerns. Never a ``{"success": False}``.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refuses this change. ``message`` is for the user."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[str] | None = None,
        see: object | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or []
        # An object the error is about that the user may open (the service has checked
        # that through the access gate): a page may link to it beside the message.
        self.see = see

    def as_api_detail(self) -> dict:
        key = self.field or "non_field_errors"
        detail: dict = {key: [self.message]}
        if self.errors:
            detail["errors"] = self.errors
        return detail


class Conflict(DomainError):
    """Someone else changed the object first (two approvers at once, say)."""

    status_code = 409
