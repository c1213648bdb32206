"""Resident identity numbers (GB 11643-1999): one validator for every form and serializer.

python-stdnum checks the length, the MOD 11-2 check character and the birth date, and
holds the table of area codes. Its own area check also demands that the code was in use
in the birth year, which rejects real people who registered late or after a boundary
change; the portal only asks that the six digits are a county code that has existed.
It adds that the birth date may not lie in the future, and turns each failure into a
message a caseworker understands.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric

MESSAGES = {
    stdnum_errors.InvalidLength: _("An identity number has 18 characters."),
    stdnum_errors.InvalidFormat: _("The first 17 characters of an identity number are digits."),
    stdnum_errors.InvalidChecksum: _(
        "The last character does not match the rest of the number; check each digit."
    ),
}


@dataclass(frozen=True)
class IdentityFacts:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F": the sequence number is odd for men, even for women
    area_code: str


def normalize_identity_number(value: str) -> str:
    """Strip spaces and separators and upper-case the check character."""
    return ric.compact(value or "")


def validate_identity_number(value: str, *, today: datetime.date | None = None) -> str:
    """Return the normalised number, or raise a ValidationError with a clear message.

    ``today`` is for a caller checking many numbers at once (a roster's lines): asking
    the clock and compacting the number once each are most of the cost of one check."""
    number = normalize_identity_number(value)
    try:
        if len(number) != 18:
            raise stdnum_errors.InvalidLength()
        if not number[:17].isdigit():
            raise stdnum_errors.InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise stdnum_errors.InvalidChecksum()
        # ric.get_birth_date, without compacting the number a second time.
        try:
            birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise stdnum_errors.InvalidComponent() from None
    except stdnum_errors.InvalidComponent:
        raise ValidationError(
            _("Characters 7 to 14 of an identity number must be a real birth date."),
            code="identity_birth_date",
        ) from None
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(
            MESSAGES.get(type(exc), _("This is not a valid identity number.")),
            code="identity_invalid",
        ) from None
    if not is_known_area_code(number[:6]):
        raise ValidationError(
            _("The first six digits are not a known area code."), code="identity_area_code"
        )
    if birth_date > (today or timezone.localdate()):
        raise ValidationError(
            _("The birth date in this identity number lies in the future."),
            code="identity_birth_date",
        )
    return number


@functools.lru_cache(maxsize=4096)
def is_known_area_code(code: str) -> bool:
    """A county-level code that appears in the national table, in any year."""
    found = {key for _part, props in numdb.get("cn/loc").info(code) for key in props}
    return "county" in found


def identity_facts(value: str) -> IdentityFacts:
    number = validate_identity_number(value)
    return IdentityFacts(
        number=number,
        birth_date=ric.get_birth_date(number),
        sex="M" if int(number[16]) % 2 else "F",
        area_code=number[:6],
    )


def mask_identity_number(value: str) -> str:
    """Show the area code and the last four characters only: 640422********123X."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


class IdentityNumberFormField(forms.CharField):
    """A form field that normalises and validates an identity number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("min_length", None)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return validate_identity_number(value) if value else value


class IdentityNumberSerializerField(serializers.CharField):
    """The same rule for the API: a bad number is a field error with the same message."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return validate_identity_number(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
