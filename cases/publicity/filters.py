"""The FilterSet of the public's reports (aid_portal.listing), shared by the page and the
API's report list."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from cases.publicity.models import PublicReport, PublicRosterEntry
from cases.search import CaseSearchFilterSet, case_search_q, village_filter


class PublicReportFilter(CaseSearchFilterSet):
    """Reports from the public page: a term finds reports about a public roster that
    lists the household it names (name, identity number through the blind index,
    household number), and reports whose village or text it is part of. The reporter's
    name and contact are stored encrypted, so they are never searched."""

    roles = permissions.READ_PUBLICITY

    state = django_filters.ChoiceFilter(choices=PublicReport.State.choices, label=_("State"))
    village = village_filter("village")

    class Meta:
        model = PublicReport
        fields = ["q", "state", "village"]

    def search_q(self, term: str) -> Q:
        entries = PublicRosterEntry.objects.filter(
            case_search_q(term, household="household__", application=None)
        )
        return (
            Q(public_roster__in=entries.values("public_roster_id"))
            | Q(village__name__icontains=term)
            | Q(text__icontains=term)
        )
