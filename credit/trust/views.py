"""Trust pages: recording trustworthy behaviour from a case, the trust records, the
rewards list (with its XLSX export and the approver's grants) and the county dashboard
of untrustworthy rates.

Thin views: a form parses, one service of credit.trust.services acts, the page redirects. Reads
go through the selectors of credit.trust.services, which start from the user's jurisdiction.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import Conflict, DomainError
from aid_portal.exports import Sheet, xlsx_response
from aid_portal.forms import add_domain_error
from cases import selectors as case_selectors
from credit import lists as credit_lists
from credit.trust import services as trust
from credit.trust.models import Reward, TrustRecord

PAGE_SIZE = 50
KIND_LABELS = dict(TrustRecord.Kind.choices)


class TrustRecordForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of trustworthy behaviour"), choices=TrustRecord.Kind.choices
    )
    person = forms.TypedChoiceField(
        label=gettext_lazy("Person"), coerce=int, required=False, empty_value=None
    )
    facts = forms.CharField(
        label=gettext_lazy("Facts"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    recorded_on = forms.DateField(
        label=gettext_lazy("Recorded on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("the whole household"))] + [
            (m.person_id, m.person.name) for m in members
        ]
        self.fields["recorded_on"].initial = timezone.localdate()


class YearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=trust.FIRST_YEAR)

    def year_or_current(self) -> int:
        current = timezone.localdate().year
        if self.is_bound and self.is_valid() and self.cleaned_data["year"] <= current:
            return self.cleaned_data["year"]
        return current


class RewardGrantForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Reward"), choices=Reward.Kind.choices)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class YearlyComputeForm(forms.Form):
    county = forms.ModelChoiceField(queryset=None, label=gettext_lazy("County"))
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=trust.FIRST_YEAR)

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        self.fields["year"].initial = timezone.localdate().year - 1
        only = list(counties[:2])
        if len(only) == 1:
            self.fields["county"].initial = only[0]


def _year(request) -> int:
    return YearForm(request.GET or None).year_or_current()


# --- recording trustworthy behaviour from a case ---------------------------------------------


def _render_record(request, app, form, *, status: int = 200) -> HttpResponse:
    return render(
        request, "credit/trust/record_form.html", {"app": app, "form": form}, status=status
    )


@login_required
def record(request, application_id: int):
    """The caseworker records trustworthy behaviour of the case's household."""
    app = case_selectors.application_get_for_user(user=request.user, application_id=application_id)
    access.require_role(request.user, permissions.RECORD_TRUST, app.village)
    members = list(app.household.members.all())
    if request.method != "POST":
        return _render_record(request, app, TrustRecordForm(members=members))
    form = TrustRecordForm(request.POST, members=members)
    if not form.is_valid():
        messages.error(request, _("Check the form below."))
        return _render_record(request, app, form, status=400)
    try:
        trust.trust_record(
            actor=request.user,
            household_id=app.household_id,
            application_id=app.pk,
            person_id=form.cleaned_data["person"],
            kind=form.cleaned_data["kind"],
            facts=form.cleaned_data["facts"],
            recorded_on=form.cleaned_data["recorded_on"],
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, exc.message)
        return _render_record(request, app, form, status=400)
    messages.success(request, _("Trustworthy behaviour recorded."))
    return redirect("cases:detail", application_id=app.pk)


@login_required
def records(request):
    """Trust records of the user's places, newest first, for a year."""
    result = listing.list_page(request, credit_lists.TRUST_RECORDS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "credit/trust/records.html",
        {"page": result.page, "listing": result, "year": result.filter.chosen_year},
        status=result.status,
    )


# --- rewards ---------------------------------------------------------------------------------


def _render_rewards(request, *, bound=None, status: int = 200) -> HttpResponse:
    result = listing.list_page(request, credit_lists.REWARDS)
    if isinstance(result, HttpResponse):
        return result
    can_grant = access.has_role(request.user, permissions.GRANT_REWARDS)
    rows = []
    for household in result.page:
        form = None
        if can_grant:
            form = (
                bound[1]
                if bound and bound[0] == household.pk
                else RewardGrantForm(auto_id=f"id_household{household.pk}_%s")
            )
        kinds = [KIND_LABELS.get(kind, kind) for kind in household.trust_kinds]
        rows.append((household, kinds, form))
    return render(
        request,
        "credit/trust/rewards.html",
        {
            "page": result.page,
            "listing": result,
            "rows": rows,
            "year": result.filter.chosen_year,
            "can_grant": can_grant,
        },
        status=status if status != 200 else result.status,
    )


@login_required
def rewards(request):
    """Trustworthy households of a year with no finding standing, and their rewards."""
    return _render_rewards(request)


@login_required
@require_POST
def reward_grant(request, household_id: int):
    access.require_role(request.user, permissions.GRANT_REWARDS)
    household = case_selectors.household_get_for_user(user=request.user, household_id=household_id)
    year = _year(request)
    form = RewardGrantForm(request.POST, auto_id=f"id_household{household.pk}_%s")
    if not form.is_valid():
        messages.error(request, _("Choose the reward."))
        return _render_rewards(request, bound=(household.pk, form), status=400)
    try:
        trust.reward_grant(
            actor=request.user,
            household_id=household.pk,
            year=year,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
        )
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, exc.message)
        return _render_rewards(request, bound=(household.pk, form), status=400)
    else:
        messages.success(request, _("Reward granted."))
    return redirect(f"{reverse('credit:rewards')}?year={year}")


@login_required
def rewards_xlsx(request):
    """The rewards list of a year: one row per household (identity numbers masked)."""
    access.require_role(request.user, permissions.READ_TRUST)
    year = _year(request)
    rows = []
    for household in trust.reward_candidates_for_user(
        user=request.user, year=year
    ).prefetch_related("members__person"):
        applicant = next((m for m in household.members.all() if m.is_applicant), None)
        rows.append(
            [
                household.village.parent.name if household.village.parent else "",
                household.village.name,
                applicant.person.name if applicant else "",
                applicant.person.masked_identity_number if applicant else "",
                household.trust_count,
                "；".join(str(KIND_LABELS.get(k, k)) for k in household.trust_kinds),
                "；".join(r.get_kind_display() for r in household.year_rewards),
            ]
        )
    return xlsx_response(
        filename=f"rewards-{year}.xlsx",
        sheets=[
            Sheet(
                _("Rewards %(year)s") % {"year": year},
                [
                    _("Township"),
                    _("Village"),
                    _("Applicant"),
                    _("Identity number"),
                    _("Trust records"),
                    _("Kinds of trustworthy behaviour"),
                    _("Rewards granted"),
                ],
                rows,
            )
        ],
    )


# --- the county dashboard --------------------------------------------------------------------


def _render_dashboard(request, form, *, status: int = 200) -> HttpResponse:
    rates = trust.untrustworthy_rates_for_user(user=request.user)
    return render(
        request,
        "credit/trust/dashboard.html",
        {"dashboard": rates, "chart": trust.untrustworthy_rate_chart(rates), "form": form},
        status=status,
    )


@login_required
def dashboard(request):
    """Untrustworthy rate by township and year; the auditor recomputes a past year."""
    access.require_role(request.user, permissions.READ_CREDIT_DASHBOARD)
    counties = trust.dashboard_county_list_for_user(user=request.user)
    return _render_dashboard(request, YearlyComputeForm(counties=counties))


@login_required
@require_POST
def yearly_compute(request):
    access.require_role(request.user, permissions.READ_CREDIT_DASHBOARD)
    counties = trust.dashboard_county_list_for_user(user=request.user)
    form = YearlyComputeForm(request.POST, counties=counties)
    if not form.is_valid():
        messages.error(request, _("Choose the county and a year that has ended."))
        return _render_dashboard(request, form, status=400)
    try:
        trust.yearly_results_request(
            actor=request.user, county=form.cleaned_data["county"], year=form.cleaned_data["year"]
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, exc.message)
        return _render_dashboard(request, form, status=400)
    messages.success(
        request, _("The yearly results are being computed; refresh this page in a moment.")
    )
    return redirect("credit:dashboard")
