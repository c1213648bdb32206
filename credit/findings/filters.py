"""The FilterSets of the credit lists: the findings (the findings list, the decisions
queue and the API's finding list, so the page and the API cannot differ) and the queues
of a finding's rows (interviews, objections, repairs, the outbox and its API list)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cases.search import CaseSearchFilterSet, case_search_q, village_filter
from credit.findings.models import Finding, Interview, Level, Objection, OutboxMessage, Repair


@extend_schema_field(OpenApiTypes.INT)
class RowIdFilter(django_filters.Filter):
    """A row's id: a whole number in the column's range, not any decimal (a number
    beyond it would reach the database and fail there)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class FlagInput(forms.CheckboxInput):
    """A checkbox that reads "1" (as links and the API send it) or "on" as ticked."""

    def value_from_datadict(self, data, files, name) -> bool:
        return data.get(name) in {"1", "on", "true", "True"}


class CreditFindingFilter(CaseSearchFilterSet):
    state = django_filters.ChoiceFilter(choices=Finding.State.choices, label=_("State"))
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("Level"))
    village = village_filter("village")
    # The household page links here with ?household=<id>, as the API has always taken it.
    household = RowIdFilter(field_name="household_id", label=_("Household"))

    class Meta:
        model = Finding
        fields = ["q", "state", "level", "village", "household"]

    def search_q(self, term: str) -> Q:
        # A finding is on a household; its case is optional, so a case's number finds
        # the findings of that case's household.
        return case_search_q(term, household="household__", application=None)


class FindingRowFilterSet(CaseSearchFilterSet):
    """Rows of one finding (its interviews, objections, repairs, messages): searched
    through the finding's household, as the findings are (a case's number finds the
    rows of its household). The rows are read where the user reads cases, so the
    village select keeps the default ``roles``."""

    household = "finding__household__"
    application = None
    village = village_filter("finding__village")


class InterviewFilter(FindingRowFilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Only overdue"))

    class Meta:
        model = Interview
        fields = ["q", "overdue", "village"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["overdue"].widget = FlagInput()

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(scheduled_for__lt=timezone.localdate()) if value else queryset


class ObjectionFilter(FindingRowFilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Only overdue"))

    class Meta:
        model = Objection
        fields = ["q", "overdue", "village"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["overdue"].widget = FlagInput()

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(review_due_on__lt=timezone.localdate()) if value else queryset


class RepairFilter(FindingRowFilterSet):
    level = django_filters.ChoiceFilter(
        field_name="finding__level", choices=Level.choices, label=_("Level")
    )

    class Meta:
        model = Repair
        fields = ["q", "level", "village"]


class OutboxFilter(FindingRowFilterSet):
    """The messages to the credit-information platform: the page and the API's list."""

    state = django_filters.ChoiceFilter(choices=OutboxMessage.State.choices, label=_("State"))
    kind = django_filters.ChoiceFilter(choices=OutboxMessage.Kind.choices, label=_("Kind"))

    class Meta:
        model = OutboxMessage
        fields = ["q", "state", "kind", "village"]
