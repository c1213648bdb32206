"""Small forms of the casework pages: one per action, each feeding exactly one service."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput
from aid_portal.models import Region, User
from cases.models import Policy, VerificationOutcome

GAP_ROWS = 5  # rows offered for the items that differ; more go in a second record


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m")


def first_of_next_month(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


# --- filters -----------------------------------------------------------------------------


# --- actions -----------------------------------------------------------------------------


class EmptyForm(forms.Form):
    """An action with nothing to fill in (the button is the whole form)."""


class AcceptForm(forms.Form):
    also_missing = forms.CharField(
        label=_("Also missing (one item per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What you found missing beyond the automatic checks. The application is then "
            "returned with the complete list."
        ),
    )

    def clean_also_missing(self) -> list[str]:
        lines = self.cleaned_data["also_missing"].splitlines()
        return [line.strip() for line in lines if line.strip()]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class VerificationOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=VerificationOutcome.Outcome.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why it is recorded by hand"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        # Ids of its own: other steps' forms on the case page have a "reason" too, and a
        # label must point to this form's input.
        kwargs.setdefault("auto_id", "id_verification_outcome_%s")
        super().__init__(*args, **kwargs)
        for row in range(GAP_ROWS):
            self.fields[f"item_{row}"] = forms.CharField(
                label=_("Item"), required=False, max_length=100
            )
            self.fields[f"declared_{row}"] = forms.CharField(
                label=_("Declared"), required=False, max_length=100
            )
            self.fields[f"verified_{row}"] = forms.CharField(
                label=_("Verified"), required=False, max_length=100
            )

    def gap_rows(self):
        """The rows of bound fields, for the template's small table."""
        return [
            (self[f"item_{row}"], self[f"declared_{row}"], self[f"verified_{row}"])
            for row in range(GAP_ROWS)
        ]

    def clean(self):
        data = super().clean()
        items = []
        for row in range(GAP_ROWS):
            item, declared, verified = (
                data.get(f"{name}_{row}", "").strip() for name in ("item", "declared", "verified")
            )
            if not (item or declared or verified):
                continue
            if not item:
                self.add_error(f"item_{row}", _("Name the item that differs."))
                continue
            items.append({"item": item, "declared": declared, "verified": verified})
        if data.get("outcome") == VerificationOutcome.Outcome.GAP and not items and not self.errors:
            self.add_error("item_0", _("List the items that differ."))
        data["gap_items"] = items if data.get("outcome") == VerificationOutcome.Outcome.GAP else []
        return data


class FeedbackObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("The family's explanation"), widget=forms.Textarea(attrs={"rows": 3})
    )
    has_evidence = forms.BooleanField(label=_("With evidence"), required=False)


class HomeVisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Visited on"), widget=DateInput)
    investigators = forms.ModelMultipleChoiceField(
        label=_("Investigators"),
        help_text=_("At least as many as the county's policy asks (two by default)."),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    family_member_present = forms.CharField(label=_("Family member present"), max_length=50)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 3}))
    investigators_signature = forms.FileField(label=_("Investigators' signatures (scan)"))
    family_signature = forms.FileField(label=_("Family member's signature (scan)"))

    def __init__(self, *args, investigators=None, **kwargs):
        super().__init__(*args, **kwargs)
        if investigators is not None:
            self.fields["investigators"].queryset = investigators
        self.fields["visited_on"].initial = timezone.localdate()

    def clean_investigators(self):
        # How many are enough is the county's rule, which the service checks.
        return list(self.cleaned_data["investigators"])


class DemocraticReviewForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput)
    # Only the column's size: how many must take part is the service's rule, so the page
    # refuses too few with the same message as the API.
    participants = forms.IntegerField(label=_("Participants"), max_value=2**15 - 1)
    opinion = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.FileField(label=_("Minutes (scan, optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["held_on"].initial = timezone.localdate()


class NoticePostForm(forms.Form):
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    place = forms.CharField(label=_("Posted at"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_on"].initial = timezone.localdate()


class NoticeObjectionForm(forms.Form):
    objector = forms.CharField(label=_("Who objected"), max_length=100)
    content = forms.CharField(label=_("The objection"), widget=forms.Textarea(attrs={"rows": 3}))
    raised_on = forms.DateField(label=_("Raised on"), widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raised_on"].initial = timezone.localdate()

    def clean_raised_on(self):
        raised_on = self.cleaned_data["raised_on"]
        if raised_on > timezone.localdate():
            raise forms.ValidationError(_("The date lies in the future."))
        return raised_on


class NoticeObjectionHandleForm(forms.Form):
    objection = forms.TypedChoiceField(label=_("Objection"), coerce=int)
    handling = forms.CharField(
        label=_("How it was handled"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, objections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.objections = {objection.pk: objection for objection in objections}
        self.fields["objection"].choices = [
            (objection.pk, f"{objection.objector}: {objection.content[:40]}")
            for objection in objections
        ]

    def clean_objection(self):
        return self.objections[self.cleaned_data["objection"]]


class NoticeCloseForm(forms.Form):
    reinvestigate = forms.BooleanField(
        label=_("An objection calls for a new investigation (back to a home visit)"),
        required=False,
    )


class CountyCheckForm(forms.Form):
    done_on = forms.DateField(label=_("Checked on"), widget=DateInput)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].initial = timezone.localdate()


class ExtremePovertyExceptionForm(forms.Form):
    reasons = forms.CharField(
        label=_("Reasons for the exception"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with your name; it covers the conditions listed above."),
    )


class ApproveForm(forms.Form):
    start_month = forms.DateField(
        label=_("Payment from (month)"),
        widget=MonthInput,
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_month"].initial = first_of_next_month()

    def clean_start_month(self):
        return self.cleaned_data["start_month"].replace(day=1)


class RejectForm(forms.Form):
    reasons = forms.CharField(
        label=_("Reasons (printed on the notice to the family)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


# --- policies ----------------------------------------------------------------------------


class PolicyForm(forms.ModelForm):
    """Validates a new policy row; the row itself is written by services.policy_create."""

    class Meta:
        model = Policy
        fields = [
            "county",
            "effective_from",
            "dibao_standard_urban",
            "dibao_standard_rural",
            "edge_multiple",
            "extreme_poverty_multiple",
            "care_allowance_self_sufficient",
            "care_allowance_partly_dependent",
            "care_allowance_fully_dependent",
            "temporary_months",
            "deposit_limit_per_person",
            "vehicles_allowed",
            "houses_allowed",
            "deciding_level",
            "investigation_start_days",
            "home_visit_investigators",
            "total_days_township",
            "total_days_county",
            "total_days_extended",
            "rejection_notice_days",
            "notice_days",
            "objection_days",
            "public_name_display",
            "income_tolerance",
            "income_gap_direction",
            "extreme_poverty_age_from",
            "extreme_poverty_age_under",
            "review_months_stable",
            "review_months_unstable",
            "review_months_after_death",
            "gradual_exit_months",
            "spot_check_new_ratio",
            "spot_check_new_within_months",
            "spot_check_annual_ratio",
            "spot_check_full_within_days",
            "monthly_check_due_day",
            "credit_block_months_moderate",
            "credit_block_months_severe",
            "credit_objection_days",
            "credit_objection_review_days",
            "credit_interview_days",
            "credit_trustworthy_months",
            "draft_reminder_days",
            "draft_withdrawal_days",
        ]
        widgets = {"effective_from": DateInput}
        help_texts = {
            "effective_from": _(
                "A date in the past is allowed, but every calculation from that date on "
                "(deadlines, amounts) then follows the new figures."
            )
        }

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        if len(counties) == 1:
            self.fields["county"].initial = counties[0].pk


class PolicyEditForm(PolicyForm):
    """Changes a policy not yet in force (services.policy_update); its county stays."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, counties=Region.objects.none(), **kwargs)
        del self.fields["county"]
