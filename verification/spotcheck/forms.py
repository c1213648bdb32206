"""Forms of the spot-check pages: drawing a campaign, assigning its cases, and the
findings of a home visit. They parse; verification.spotcheck.services decides."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput, MultipleFileField
from verification.spotcheck.models import SpotCheckCampaign, SpotCheckFinding


class CampaignDrawForm(forms.Form):
    county = forms.ModelChoiceField(queryset=None, label=_("County"))
    rule = forms.ChoiceField(
        label=_("Rule"), choices=SpotCheckCampaign.Rule.choices, widget=forms.RadioSelect
    )
    window_start = forms.DateField(
        label=_("Window from"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: last month (the annual rule: this year)."),
    )
    window_end = forms.DateField(label=_("Window to"), required=False, widget=DateInput())
    ratio = forms.CharField(
        label=_("Share to draw"),
        required=False,
        max_length=8,
        help_text=_("Empty: the county's rule (30% of new cases, 20% annual, 100% filings)."),
    )
    seed = forms.IntegerField(
        label=_("Random seed"),
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text=_("Empty: a new random seed. Give one only to repeat a published draw."),
    )
    auditors = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Assign the cases to"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("In turn, township by township; you can assign them later too."),
    )

    def __init__(self, *args, counties, auditors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.fields["auditors"].queryset = auditors
        only = list(counties[:2])
        if len(only) == 1:
            self.fields["county"].initial = only[0]
        self.fields["rule"].initial = SpotCheckCampaign.Rule.NEW_CASES


class AssignForm(forms.Form):
    auditors = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Auditors"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one auditor.")},
    )

    def __init__(self, *args, auditors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["auditors"].queryset = auditors


class FindingForm(forms.Form):
    visited_on = forms.DateField(label=_("Home visit on"), widget=DateInput())
    visitors = forms.CharField(
        label=_("Visited by"), max_length=200, help_text=_("Names of those who visited.")
    )
    facts = forms.CharField(
        label=_("Facts found"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    still_eligible = forms.TypedChoiceField(
        label=_("Still eligible?"),
        choices=[("yes", _("yes, still eligible")), ("no", _("no longer eligible"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    action = forms.ChoiceField(
        label=_("Recommended action"),
        choices=SpotCheckFinding.Action.choices,
        widget=forms.RadioSelect,
    )
    proposed_amount = forms.DecimalField(
        label=_("Proposed monthly amount (yuan)"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("With an increase or a decrease; the township decides."),
    )
    credit_behaviour = forms.ChoiceField(
        label=_("Open a credit finding"),
        required=False,
        help_text=_("Only where the family's own untrustworthy behaviour was found."),
    )
    evidence = MultipleFileField(
        label=_("Evidence (PDF, JPEG, PNG)"),
        required=False,
        help_text=_("Stored in the household file."),
    )

    def __init__(self, *args, behaviours=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_behaviour"].choices = [
            ("", _("no credit finding")),
            *[(b.code, b.name) for b in behaviours],
        ]
        self.fields["visited_on"].initial = timezone.localdate()
