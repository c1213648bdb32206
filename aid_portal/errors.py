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
        field_errors: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or []
        # An object the error is about that the user may open (the service has checked
        # that through the access gate): a page may link to it beside the message.
        self.see = see
        # Every bad field of one request at once, so that a form reports them all in one
        # submit; ``message`` then only sums them up.
        self.field_errors = dict(field_errors or {})

    @classmethod
    def of_fields(cls, field_errors: dict[str, str]) -> DomainError:
        """One error for several bad fields (``field_errors`` must not be empty)."""
        first_field, first_message = next(iter(field_errors.items()))
        if len(field_errors) == 1:
            return cls(first_message, field=first_field)
        return cls(first_message, field=first_field, field_errors=field_errors)

    def as_api_detail(self) -> dict:
        if self.field_errors:
            detail: dict = {key: [message] for key, message in self.field_errors.items()}
        else:
            detail = {self.field or "non_field_errors": [self.message]}
        if self.errors:
            detail["errors"] = self.errors
        return detail


class Conflict(DomainError):
    """Someone else changed the object first (two approvers at once, say)."""

    status_code = 409
