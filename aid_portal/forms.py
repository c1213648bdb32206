"""Form pieces every app's pages use."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

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
    """Show a service's refusal on the field(s) it concerns (or above the form), once
    each: a field the form itself already found wrong keeps its own message. A link
    (address, label) the page gives goes after the message of the error's own field."""
    for name, message in (exc.field_errors or {exc.field: exc.message}).items():
        field = name if name in form.fields else None
        if field is not None and form.has_error(field):
            continue
        if link is not None and name == exc.field:
            message = format_html('{} <a href="{}">{}</a>', message, *link)
        form.add_error(field, message)
    for line in exc.errors:
        form.add_error(None, line)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("What is the token for?"),
        max_length=100,
        help_text=_("For example the name of the script or program that will use it."),
    )
