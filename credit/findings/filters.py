"""The FilterSet of the credit findings: one for the findings list, the decisions queue
and the API's finding list, so the page and the API cannot differ."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.search import CaseSearchFilterSet, case_search_q, village_filter
from credit.findings.models import Finding, Level


class CreditFindingFilter(CaseSearchFilterSet):
    state = django_filters.ChoiceFilter(choices=Finding.State.choices, label=_("State"))
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("Level"))
    village = village_filter("village")
    # The household page links here with ?household=<id>, as the API has always taken it.
    household = django_filters.NumberFilter(field_name="household_id", label=_("Household"))

    class Meta:
        model = Finding
        fields = ["q", "state", "level", "village", "household"]

    def search_q(self, term: str) -> Q:
        # A finding is on a household; its case is optional, so a case's number finds
        # the findings of that case's household.
        return case_search_q(term, household="household__", application=None)
