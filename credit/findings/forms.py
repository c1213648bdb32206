"""Forms of the credit pages: each parses what one service takes, nothing more."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput, MultipleFileField
from credit.findings.models import Behaviour, Finding

DATE = DateInput()
TEXT = forms.Textarea(attrs={"rows": 3})


class CaseLookupForm(forms.Form):
    application = forms.CharField(
        label=_("Case number"),
        max_length=30,
        help_text=_("The application number on the case page, e.g. 640422100-000012."),
    )


class FindingRecordForm(forms.Form):
    person = forms.ChoiceField(label=_("Person concerned"), required=False)
    behaviour = forms.ModelChoiceField(
        label=_("Behaviour"), queryset=Behaviour.objects.none(), to_field_name="code"
    )
    facts = forms.CharField(label=_("Facts found"), widget=TEXT, max_length=5000, required=False)
    source_kind = forms.ChoiceField(
        label=_("Found in"), choices=Finding.SourceKind.choices, initial="case"
    )
    found_on = forms.DateField(label=_("Found on"), widget=DATE, initial=timezone.localdate)
    evidence = MultipleFileField(label=_("Evidence (PDF, JPEG or PNG)"), required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("the whole household"))] + [
            (str(m.person_id), f"{m.person.name} ({m.get_relation_display()})") for m in members
        ]
        self.fields["behaviour"].queryset = Behaviour.objects.filter(active=True).order_by(
            "source", "level", "code"
        )
        self.fields["behaviour"].label_from_instance = lambda b: (
            f"[{b.get_level_display()}] {b.name}"
        )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=TEXT, max_length=2000, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=TEXT, max_length=2000, required=False)


class ConfirmForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=TEXT, max_length=2000, required=False)
    repayment_amount = forms.DecimalField(
        label=_("Aid to repay (yuan)"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("Leave empty if nothing was obtained wrongly."),
    )
    repayment_deadline = forms.DateField(label=_("Repay by"), widget=DATE, required=False)


class InterviewForm(forms.Form):
    interview = forms.IntegerField(widget=forms.HiddenInput)
    held_on = forms.DateField(label=_("Held on"), widget=DATE, initial=timezone.localdate)
    notes = forms.CharField(label=_("What was said"), widget=TEXT, max_length=5000, required=False)


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount repaid (yuan)"), max_digits=12, decimal_places=2)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE, initial=timezone.localdate)


class RecoverForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to deduct (yuan)"),
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_("Empty: what is owed, at most the household's monthly payment."),
    )


class ObjectionForm(forms.Form):
    lodged_on = forms.DateField(label=_("Lodged on"), widget=DATE, initial=timezone.localdate)
    statement = forms.CharField(
        label=_("The objection"), widget=TEXT, max_length=5000, required=False
    )
    evidence = MultipleFileField(label=_("Evidence (PDF, JPEG or PNG)"), required=False)


class ObjectionReviewForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("reject", _("rejected: the finding stands")),
            ("uphold", _("upheld: withdraw the finding")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Review"), widget=TEXT, max_length=5000, required=False)


class RepairApplyForm(forms.Form):
    applied_on = forms.DateField(label=_("Applied on"), widget=DATE, initial=timezone.localdate)
    correction = forms.CharField(
        label=_("How the behaviour was corrected"), widget=TEXT, max_length=5000, required=False
    )


class RepairDecideForm(forms.Form):
    repair = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[("grant", _("grant the repair")), ("refuse", _("refuse the repair"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Reason"), widget=TEXT, max_length=2000, required=False)
