"""Forms of the payment pages: each parses what one service takes, nothing more."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import AssistanceType
from cases.payments.models import Bank, RosterLine

TEXT = forms.Textarea(attrs={"rows": 3})


class MonthInput(forms.DateInput):
    """The browser's month picker (YYYY-MM)."""

    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m")


class MonthField(forms.DateField):
    """A month, entered as YYYY-MM; cleans to its first day."""

    widget = MonthInput
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if isinstance(day, datetime.date) else day


class RosterPrepareForm(forms.Form):
    township = forms.ModelChoiceField(label=_("Township"), queryset=None, empty_label=None)
    month = MonthField(label=_("Month"))

    def __init__(self, *args, townships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships


class SupplementaryForm(RosterPrepareForm):
    lines = forms.ModelMultipleChoiceField(
        label=_("Failed payments to re-issue"),
        queryset=RosterLine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, failed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = failed
        self.fields["lines"].label_from_instance = lambda line: (
            f"{line.reference} {line.payee_name} {line.net_amount} ({line.get_failure_display()})"
        )


class ConfirmForm(forms.Form):
    """A step that needs nothing but the click."""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reasons"), widget=TEXT, max_length=2000)


class LineHoldForm(forms.Form):
    line = forms.TypedChoiceField(label=_("Line"), coerce=int)
    reason = forms.CharField(label=_("Why it is held back"), max_length=200)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [
            (line.pk, f"{line.payee_name} {line.amount} · {', '.join(line.problems) or '—'}")
            for line in lines
        ]


class ReturnForm(forms.Form):
    bank = forms.ModelChoiceField(label=_("Bank"), queryset=None, empty_label=None)
    file = forms.FileField(label=_("Return file (CSV)"))

    def __init__(self, *args, banks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 200 * 1024 * 1024:
            raise ValidationError(_("The file is larger than 200 MB."))
        return upload


class AccountForm(forms.Form):
    bank = forms.ModelChoiceField(
        label=_("Bank"), queryset=Bank.objects.filter(active=True), empty_label=None
    )
    number = forms.CharField(label=_("Account number"), max_length=40)
    holder_name = forms.CharField(label=_("Account holder"), max_length=50)
    reason = forms.CharField(label=_("Why it changes"), max_length=200, required=False)


class AllocationForm(forms.Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=None, empty_label=None)
    programme = forms.ChoiceField(label=_("Programme"), choices=AssistanceType.choices)
    month = MonthField(label=_("Month"))
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties


class ReconcileForm(forms.Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=None, empty_label=None)
    month = MonthField(label=_("Month"))

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties


class ExceptionForm(forms.Form):
    note = forms.CharField(label=_("Explanation"), max_length=2000)
    resolved = forms.BooleanField(label=_("Put right"), required=False)


class UnmaskForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="unmask")
    purpose = forms.CharField(
        label=_("Why you need the full number"),
        max_length=200,
        min_length=4,
        help_text=_("Recorded in the audit log with your name."),
    )
