"""Small forms of the review, adjustment and monthly-check pages: one per step, each
feeding exactly one service."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput
from cases.models import AdjustmentProposal, Asset, Income, Member, PeriodicReview

YES_NO = [("yes", _("yes")), ("no", _("no"))]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class MemberChoiceForm(forms.Form):
    """A form about one member of the household (the choices are the household's)."""

    member = forms.TypedChoiceField(label=_("Member"), coerce=int)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, m.person.name) for m in members]


class ReviewOpenForm(forms.Form):
    reason = forms.CharField(label=_("Why the case is reviewed now"), widget=_textarea(2))


class MemberDeathForm(MemberChoiceForm):
    died_on = forms.DateField(label=_("Died on"), widget=DateInput)


class WorkAbilityForm(MemberChoiceForm):
    work_ability = forms.ChoiceField(label=_("Ability to work"), choices=Member.WorkAbility.choices)


class IncomeAddForm(MemberChoiceForm):
    source = forms.ChoiceField(label=_("Source"), choices=Income.Source.choices)
    monthly_average = forms.DecimalField(
        label=_("Monthly average (yuan)"), min_value=Decimal("0"), decimal_places=2
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class AssetAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Asset.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=200)
    value = forms.DecimalField(label=_("Value (yuan)"), min_value=Decimal("0"), decimal_places=2)


class RowRemoveForm(forms.Form):
    row = forms.IntegerField(widget=forms.HiddenInput)


class RedeclarationFinishForm(forms.Form):
    note = forms.CharField(
        label=_("What the family declared (or that nothing changed)"), widget=_textarea()
    )
    income_irregular = forms.BooleanField(
        label=_("The family's income is irregular (reviewed every six months)"), required=False
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=PeriodicReview.Outcome.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Why it is recorded by hand"), widget=_textarea(2))


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=PeriodicReview.Decision.choices, widget=forms.RadioSelect
    )
    monthly_amount = forms.DecimalField(
        label=_("New monthly amount (yuan), for an adjustment"),
        required=False,
        decimal_places=2,
    )
    exit_months = forms.IntegerField(
        label=_("Months the benefit continues, for a gradual exit"), required=False
    )
    reason = forms.CharField(label=_("Reasons"), widget=_textarea())

    def __init__(self, *args, amount=None, exit_months=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monthly_amount"].initial = amount
        self.fields["exit_months"].initial = exit_months
        if exit_months:
            self.fields["exit_months"].widget.attrs.update({"min": 1, "max": exit_months})


class AdjustmentHandleForm(forms.Form):
    adopt = forms.ChoiceField(
        label=_("Act on the proposal"),
        choices=[("adopt", _("adopt")), ("decline", _("decline"))],
        widget=forms.RadioSelect,
    )
    monthly_amount = forms.DecimalField(
        label=_("Monthly amount (yuan), for an increase or decrease"),
        required=False,
        decimal_places=2,
    )
    note = forms.CharField(
        label=_("Note (required to decline)"), required=False, widget=_textarea(2)
    )

    def __init__(self, *args, proposal: AdjustmentProposal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if proposal is not None:
            self.fields["monthly_amount"].initial = proposal.proposed_amount


class FileCheckItemForm(forms.Form):
    file_complete = forms.ChoiceField(label=_("File complete"), choices=YES_NO)
    amount_right = forms.ChoiceField(label=_("Amount right"), choices=YES_NO)
    notice_done = forms.ChoiceField(label=_("Public notice done"), choices=YES_NO)
    visit_record = forms.ChoiceField(
        label=_("Home-visit record present"), choices=YES_NO, required=False
    )
    note = forms.CharField(label=_("Note (what is wrong)"), required=False, widget=_textarea(2))

    def __init__(self, *args, visit_needed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not visit_needed:
            del self.fields["visit_record"]

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "file_complete": data["file_complete"] == "yes",
            "amount_right": data["amount_right"] == "yes",
            "notice_done": data["notice_done"] == "yes",
            "visit_record": (
                None if not data.get("visit_record") else data["visit_record"] == "yes"
            ),
            "note": data.get("note", ""),
        }


class FileCheckDoneForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=_textarea(2))
