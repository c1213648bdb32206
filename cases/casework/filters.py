"""The FilterSets of the case lists: one per list, shared by its page and its API list."""

from __future__ import annotations

import django_filters
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput
from aid_portal.listing import SearchFilterSet
from cases.payments.forms import MonthInput
from cases.records import Application, AssistanceType
from cases.reviews.models import (
    AdjustmentProposal,
    MonthlyFileCheck,
    MonthlyFileCheckItem,
    PeriodicReview,
)
from cases.search import CaseSearchFilterSet, case_search_q, village_filter


class ApplicationFilter(CaseSearchFilterSet):
    """Applications: the work queue, the decisions, and the API's application list."""

    state = django_filters.ChoiceFilter(choices=Application.State.choices, label=_("State"))
    assistance_type = django_filters.ChoiceFilter(
        choices=AssistanceType.choices, label=_("Assistance")
    )
    village = village_filter("village")
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Decision due by"), widget=DateInput
    )
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label=_("Decision due from"), widget=DateInput
    )

    class Meta:
        model = Application
        fields = ["q", "state", "assistance_type", "village", "due_before", "due_after"]


class ReviewFilter(CaseSearchFilterSet):
    household = "application__household__"
    application = "application__"

    state = django_filters.ChoiceFilter(choices=PeriodicReview.State.choices, label=_("Step"))
    trigger = django_filters.ChoiceFilter(
        choices=PeriodicReview.Trigger.choices, label=_("Opened because")
    )
    village = village_filter("application__village")

    class Meta:
        model = PeriodicReview
        fields = ["q", "state", "trigger", "village"]


class AdjustmentFilter(CaseSearchFilterSet):
    """Open adjustment proposals: the page and the API's adjustment list."""

    household = "application__household__"
    application = "application__"

    action = django_filters.ChoiceFilter(
        choices=AdjustmentProposal.Action.choices, label=_("Recommended action")
    )
    source = django_filters.ChoiceFilter(choices=AdjustmentProposal.Source.choices, label=_("From"))
    village = village_filter("application__village")

    class Meta:
        model = AdjustmentProposal
        fields = ["q", "action", "source", "village"]


class MonthlyFileCheckFilter(SearchFilterSet):
    """The county's monthly checks of new dibao files: a term finds the checks whose
    checklist holds the case it names."""

    class Done(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")

    month = django_filters.DateFilter(
        input_formats=["%Y-%m", "%Y-%m-%d"], widget=MonthInput, label=_("Files approved in")
    )
    done = django_filters.ChoiceFilter(choices=Done.choices, method="filter_done", label=_("Done"))

    class Meta:
        model = MonthlyFileCheck
        fields = ["q", "month", "done"]

    def search_q(self, term: str) -> Q:
        items = MonthlyFileCheckItem.objects.filter(
            case_search_q(term, household="application__household__", application="application__")
        )
        return Q(pk__in=items.values("file_check_id"))

    def filter_done(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(done_at__isnull=value == self.Done.OPEN)
