"""The FilterSets of the payment lists (aid_portal.listing): the rosters, a roster's
lines and the failed payments, each shared by its page and, where it has one, its API
list."""

from __future__ import annotations

import functools

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.listing import SearchFilterSet
from aid_portal.models import Region
from cases.models import AssistanceType
from cases.payments.forms import MonthInput
from cases.payments.models import ReconciliationException, Roster, RosterLine
from cases.search import CaseSearchFilterSet, case_search_q, village_filter

MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


def _townships(user) -> list[tuple]:
    """The townships whose rosters the user reads, for the page's select."""
    townships = access.restrict(
        Region.objects.filter(level=Region.Level.TOWNSHIP),
        user,
        region_field=None,
        roles=permissions.READ_PAYMENTS,
    ).order_by("code")
    return [("", "---------"), *((t.pk, t.name) for t in townships)]


class FlagInput(forms.CheckboxInput):
    """A checkbox that reads "1" (as links and the API send it) or "on" as ticked."""

    def value_from_datadict(self, data, files, name) -> bool:
        return data.get(name) in {"1", "on", "true", "True"}


class RosterFilter(SearchFilterSet):
    """The rosters: a term finds the rosters that pay the household it names."""

    state = django_filters.ChoiceFilter(choices=Roster.State.choices, label=_("State"))
    kind = django_filters.ChoiceFilter(choices=Roster.Kind.choices, label=_("Kind"))
    township = django_filters.NumberFilter(field_name="township_id", label=_("Township"))
    month = django_filters.DateFilter(
        input_formats=MONTH_FORMATS, widget=MonthInput, label=_("Month")
    )

    class Meta:
        model = Roster
        fields = ["q", "state", "kind", "township", "month"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # The page offers the user's townships by name (read only when the form is
        # drawn); the API takes the township's id, as it always did.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Drawing the select reads the choices more than once: one query.
            choices = functools.cache(lambda: _townships(user))
            self.form.fields["township"].widget = forms.Select(choices=choices)

    def search_q(self, term: str) -> Q:
        if term.startswith("#") and term[1:].isdigit():  # a roster's own number
            return Q(pk=int(term[1:]))
        lines = RosterLine.objects.filter(
            case_search_q(term, household="household__", application="application__")
            | Q(payee_name__icontains=term)
        )
        return Q(pk__in=lines.values("roster_id"))


class LineFilter(CaseSearchFilterSet):
    """Roster lines: a term names their household, case or payee; the page of a roster
    fixes ``roster`` from its URL."""

    household = "household__"
    application = "application__"
    roles = permissions.READ_PAYMENTS

    roster = django_filters.NumberFilter(field_name="roster_id", label=_("Roster"))
    programme = django_filters.ChoiceFilter(choices=AssistanceType.choices, label=_("Programme"))
    kind = django_filters.ChoiceFilter(choices=RosterLine.Kind.choices, label=_("Kind"))
    outcome = django_filters.ChoiceFilter(choices=RosterLine.Outcome.choices, label=_("Outcome"))
    problems = django_filters.BooleanFilter(method="filter_problems", label=_("Only problems"))
    village = village_filter("village")

    class Meta:
        model = RosterLine
        fields = ["q", "roster", "programme", "kind", "outcome", "problems", "village"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["problems"].widget = FlagInput()

    def search_q(self, term: str) -> Q:
        return super().search_q(term) | Q(payee_name__icontains=term)

    def filter_problems(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.exclude(problems=[]) if value else queryset


class FailedLineFilter(CaseSearchFilterSet):
    """Failed payments not yet re-issued: the page and the API's list."""

    household = "household__"
    application = "application__"
    roles = permissions.READ_PAYMENTS

    failure = django_filters.ChoiceFilter(
        choices=RosterLine.Failure.choices, label=_("Why it failed")
    )
    month = django_filters.DateFilter(
        field_name="roster__month", input_formats=MONTH_FORMATS, widget=MonthInput, label=_("Month")
    )
    village = village_filter("village")

    class Meta:
        model = RosterLine
        fields = ["q", "failure", "month", "village"]

    def search_q(self, term: str) -> Q:
        return super().search_q(term) | Q(payee_name__icontains=term)


class ExceptionFilter(CaseSearchFilterSet):
    """A reconciliation's exceptions; the page fixes ``reconciliation`` from its URL."""

    household = "household__"
    application = "application__"
    roles = permissions.READ_PAYMENTS

    reconciliation = django_filters.NumberFilter(
        field_name="reconciliation_id", label=_("Reconciliation")
    )
    kind = django_filters.ChoiceFilter(
        choices=ReconciliationException.Kind.choices, label=_("Kind")
    )
    status = django_filters.ChoiceFilter(
        choices=ReconciliationException.Status.choices, label=_("Status")
    )
    village = village_filter("village")

    class Meta:
        model = ReconciliationException
        fields = ["q", "reconciliation", "kind", "status", "village"]
