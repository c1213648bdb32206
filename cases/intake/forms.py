"""Forms of the intake pages. They parse input only; the services judge it.

A form checks what the browser can get wrong (a missing field, a number that is not a
number, an identity number that fails its check character). Every rule of the domain
(negative amounts, twelve monthly figures, one household per person) stays in
cases.intake.services, whose DomainError the view puts back on the form field it names.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aid_portal.identity import IdentityNumberFormField
from cases.models import (
    Asset,
    AssistanceType,
    DailyAbility,
    Document,
    Income,
    Member,
    NearRelativeFiling,
    ProofItem,
    ProofStatus,
    RigidExpenditure,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FIGURE_SEPARATORS = re.compile(r"[\s,，、;；]+")


class HouseholdForm(forms.Form):
    """A form about one household: member choices are that household's members."""

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.queryset.model is Member:
                field.queryset = (
                    household.members.select_related("person")
                    if household is not None
                    else Member.objects.none()
                )
                field.label_from_instance = lambda m: (
                    f"{m.person.name} · {m.get_relation_display()}"
                )


class StartForm(forms.Form):
    village = forms.ModelChoiceField(queryset=None, label=_("village"), empty_label=None)
    address = forms.CharField(label=_("address of residence"), max_length=200)
    phone = forms.CharField(label=_("contact phone"), max_length=20, required=False)
    registration_code = forms.RegexField(
        label=_("household registration (division code)"),
        regex=r"^\d{12}$",
        required=False,
        help_text=_(
            "12 digits: 6 of the county, 3 of the township, 3 of the village, e.g. "
            "640522100201. Only if the family's household registration is not in this "
            "village."
        ),
        error_messages={"invalid": _("A division code is 12 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "maxlength": 12, "placeholder": "640522100201"}
        ),
    )
    assistance_type = forms.ChoiceField(
        label=_("assistance applied for"), choices=AssistanceType.choices
    )
    identity_number = IdentityNumberFormField(label=_("applicant's identity number"))
    name = forms.CharField(label=_("applicant's name"), max_length=50)

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages


class MemberForm(HouseholdForm):
    identity_number = IdentityNumberFormField(label=_("identity number"))
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    relation = forms.ChoiceField(
        label=_("relation to the applicant"),
        choices=Member.Relation.choices,
        initial=Member.Relation.SPOUSE,
    )
    is_supporter = forms.BooleanField(
        label=_("legally bound supporter living elsewhere"), required=False
    )
    # Left blank, the service gives the default that follows the age (domain.md §8).
    work_ability = forms.ChoiceField(
        label=_("ability to work"),
        choices=[("", _("as the age says")), *Member.WorkAbility.choices],
        required=False,
        initial="",
        help_text=_(
            "Left at “as the age says”: unable to work under 16, at 60 or over, or "
            "while in school; otherwise able to work."
        ),
    )
    disability = forms.ChoiceField(
        label=_("disability"), choices=Member.Disability.choices, required=False
    )
    disability_grade = forms.IntegerField(
        label=_("disability grade"), min_value=1, max_value=4, required=False
    )
    health = forms.ChoiceField(
        label=_("health"), choices=Member.Health.choices, initial=Member.Health.HEALTHY
    )
    is_student = forms.BooleanField(label=_("student"), required=False)
    # The self-care assessment (domain.md §8): "assessed" ticked with no ability ticked
    # is self-sufficient; unticked is not assessed (cleaned into self_care_failed=None).
    self_care_assessed = forms.BooleanField(label=_("self-care assessed"), required=False)
    self_care_failed = forms.MultipleChoiceField(
        label=_("daily abilities the person cannot manage"),
        choices=DailyAbility.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None ticked: self-sufficient; up to three: partly dependent; four or more: "
            "fully dependent. Extreme-poverty support needs every member assessed."
        ),
    )

    def clean(self):
        data = super().clean()
        assessed = data.pop("self_care_assessed", False)
        failed = data.get("self_care_failed") or []
        if failed and not assessed:
            self.add_error(
                "self_care_assessed",
                _("Tick “self-care assessed” to record the abilities the person cannot manage."),
            )
        data["self_care_failed"] = list(failed) if assessed else None
        return data


class MemberEditForm(MemberForm):
    """A member's details as they can be corrected: everything but the identity number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["identity_number"]


class MonthlyFiguresField(forms.CharField):
    """Twelve figures typed in one line, oldest first; the service counts them."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        figures = []
        for token in FIGURE_SEPARATORS.split(value.strip()):
            try:
                figures.append(Decimal(token))
            except InvalidOperation:
                raise forms.ValidationError(
                    _("Type the monthly figures as numbers separated by spaces.")
                ) from None
        return figures


class IncomeForm(HouseholdForm):
    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("member"))
    source = forms.ChoiceField(
        label=pgettext_lazy("income", "source"), choices=Income.Source.choices
    )
    monthly_average = forms.DecimalField(label=_("monthly average"), required=False)
    monthly_amounts = MonthlyFiguresField(
        label=_("or the last 12 months, oldest first"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "1200 1200 900 …"}),
    )
    job_costs = forms.DecimalField(
        label=_("necessary job costs per month"), required=False, initial=0
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class AssetForm(HouseholdForm):
    member = forms.ModelChoiceField(
        queryset=Member.objects.none(), label=_("owner"), required=False
    )
    kind = forms.ChoiceField(label=_("kind"), choices=Asset.Kind.choices)
    description = forms.CharField(label=_("description"), max_length=200)
    value = forms.DecimalField(label=_("value (yuan)"))
    exempt = forms.BooleanField(
        label=_("necessary for living or production (exempt)"), required=False
    )


class ExpenditureForm(HouseholdForm):
    member = forms.ModelChoiceField(
        queryset=Member.objects.none(), label=_("for member"), required=False
    )
    kind = forms.ChoiceField(label=_("kind"), choices=RigidExpenditure.Kind.choices)
    monthly_amount = forms.DecimalField(label=_("per month (yuan)"))
    description = forms.CharField(label=_("description"), max_length=200, required=False)


class ProofForm(HouseholdForm):
    item = forms.ModelChoiceField(queryset=ProofItem.objects.filter(active=True))
    status = forms.ChoiceField(choices=ProofStatus.Status.choices)


class CommitmentForm(HouseholdForm):
    informed_on = forms.DateField(
        label=_("told the duty to declare truthfully on"), widget=DATE, initial=timezone.localdate
    )
    signed_on = forms.DateField(
        label=_("declaration commitment signed on"), widget=DATE, initial=timezone.localdate
    )


class AuthorisationForm(HouseholdForm):
    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("person"))
    signed_on = forms.DateField(label=_("signed on"), widget=DATE, initial=timezone.localdate)
    scan = forms.FileField(label=_("scan of the signed authorisation (PDF, JPEG or PNG)"))

    def clean_signed_on(self):
        # Checked here as well as in the service, so that no scan is stored for a
        # record that the service would then refuse.
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError(_("The signing date lies in the future."))
        return signed_on


class NearRelativeForm(HouseholdForm):
    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("member"))
    official_name = forms.CharField(label=_("name of the official"), max_length=50)
    position = forms.ChoiceField(label=_("position"), choices=NearRelativeFiling.Position.choices)
    kinship = forms.CharField(label=_("kinship with the member"), max_length=50)


class DocumentForm(HouseholdForm):
    kind = forms.ChoiceField(label=_("kind"), choices=Document.Kind.choices)
    file = forms.FileField(label=_("file (PDF, JPEG or PNG)"))
