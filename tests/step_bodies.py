"""A valid body for any step, built from the step's own serializer or form.

The permission-first tests (issue 17, item 1) send each refused person both nothing, a
body that is not the step's, and a body the step would accept: the answer must be the
same 403 (404 outside their places) for all three. Building the valid body from the
binding, and checking it against the binding, keeps it valid when a step's input changes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.test import RequestFactory
from rest_framework import serializers

from aid_portal.steps import StepTable

TEXT = "经核实，情况属实"


class NoValidBody(Exception):
    """The object offers nothing to choose (no objection to handle): no body is valid."""


def _first_of_this_month() -> datetime.date:
    return datetime.date.today().replace(day=1)


def _api_value(field: serializers.Field, context: dict):
    if hasattr(field, "selector") and "household" in context:  # a row of the household
        return field.selector(household=context["household"]).values_list("pk", flat=True).first()
    if isinstance(field, serializers.ChoiceField):  # MultipleChoiceField too
        first = next(iter(field.choices))
        return [first] if isinstance(field, serializers.MultipleChoiceField) else first
    if isinstance(field, serializers.BooleanField):
        return False
    if isinstance(field, serializers.DateField):
        return _first_of_this_month().isoformat()
    if isinstance(field, serializers.IntegerField):
        return max(1, field.min_value or 1)
    if isinstance(field, serializers.DecimalField):
        return "100.00"
    if isinstance(field, serializers.ListField):
        return [_api_value(field.child, context)]
    if isinstance(field, serializers.DictField | serializers.JSONField):
        return {}
    if isinstance(field, serializers.ManyRelatedField):
        return [field.child_relation.get_queryset().values_list("pk", flat=True).first()]
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        return field.get_queryset().values_list("pk", flat=True).first()
    if isinstance(field, serializers.Serializer):
        return _serializer_body(field, context)
    if isinstance(field, serializers.CharField):
        return TEXT[: field.max_length] if field.max_length else TEXT
    raise TypeError(f"no valid value known for {type(field).__name__}")


def _takes_files(field: serializers.Field) -> bool:
    return isinstance(field, serializers.FileField) or (
        isinstance(field, serializers.ListField) and isinstance(field.child, serializers.FileField)
    )


def _serializer_body(serializer: serializers.Serializer, context: dict) -> dict:
    """Every field the caller may send; optional files left out (JSON carries none)."""
    return {
        name: _api_value(field, context)
        for name, field in serializer.fields.items()
        if not field.read_only and not _takes_files(field)
    }


def valid_api_body(
    table: StepTable, step_name: str, context: dict | None = None, **overrides
) -> dict | None:
    """A JSON body the step's serializer accepts (``context`` as the API gives it, e.g. the
    household); None for a step that takes a file (a multipart upload, which the
    refused-person tests cover with the other bodies)."""
    context = context or {}
    serializer_class = table.api(step_name).serializer
    fields = serializer_class().fields
    if any(_takes_files(field) and field.required for field in fields.values()):
        return None
    body = _serializer_body(serializer_class(context=context), context) | overrides
    checked = serializer_class(data=body, context=context)
    assert checked.is_valid(), (step_name, body, checked.errors)
    return body


def _form_value(field: forms.Field):
    if isinstance(field, forms.ModelChoiceField):  # ModelMultipleChoiceField too
        first = field.queryset.values_list("pk", flat=True).first()
        if first is None:
            raise NoValidBody(field.label)
        return [first] if isinstance(field, forms.ModelMultipleChoiceField) else first
    if isinstance(field, forms.ChoiceField):  # MultipleChoiceField too
        values = [value for value, _ in field.choices if value != ""]
        if not values:
            raise NoValidBody(field.label)
        return values[:1] if isinstance(field, forms.MultipleChoiceField) else values[0]
    if isinstance(field, forms.BooleanField):
        return ""  # unchecked: valid for every optional box
    if isinstance(field, forms.DateField):
        return _first_of_this_month().isoformat()
    if isinstance(field, forms.IntegerField):
        return max(1, field.min_value or 1)
    if isinstance(field, forms.DecimalField):
        return str(Decimal("100.00"))
    if isinstance(field, forms.CharField):
        return TEXT[: field.max_length] if field.max_length else TEXT
    raise TypeError(f"no valid value known for {type(field).__name__}")


def valid_page_body(table: StepTable, step_name: str, obj, user, **overrides) -> dict | None:
    """Form data the step's page form accepts for ``obj`` as ``user`` would see it; None
    for a step whose form takes a file, or whose object offers nothing to choose."""
    binding = table.page(step_name)
    request = RequestFactory().post("/")
    request.user = user
    form = binding.form(request, obj)
    if any(isinstance(field, forms.FileField) and field.required for field in form.fields.values()):
        return None
    try:
        body = {
            name: _form_value(field)
            for name, field in form.fields.items()
            if not field.disabled
            and not isinstance(field, forms.FileField)
            and (field.required or not isinstance(field, forms.BooleanField))
        } | overrides
    except NoValidBody:
        return None
    checked = binding.form(request, obj, data=body)
    assert checked.is_valid(), (step_name, body, checked.errors)
    return body
