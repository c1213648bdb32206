"""Form pieces every app's pages use."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html

from aid_portal.errors import DomainError


class DateInput(forms.DateInput):
    """The browser's own date picker, with the value in the ISO form it expects."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several scans in one input; cleans to a list (empty when none was chosen)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def add_domain_error(
    form: forms.Form, exc: DomainError, *, link: tuple[str, str] | None = None
) -> None:
    """Show a service's refusal on the field it concerns (or above the form), with a
    link (address, label) after it if the page gives one."""
    field = exc.field if exc.field in form.fields else None
    message = exc.message
    if link is not None:
        message = format_html('{} <a href="{}">{}</a>', message, *link)
    form.add_error(field, message)
    for line in exc.errors:
        form.add_error(None, line)
