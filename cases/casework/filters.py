"""The FilterSets of the case lists: one per list, shared by its page and its API list."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput
from cases.records import Application, AssistanceType
from cases.reviews.models import AdjustmentProposal, PeriodicReview
from cases.search import CaseSearchFilterSet, village_filter


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
