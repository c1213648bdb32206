"""The FilterSets of the public roster's lists (aid_portal.listing): the public's
reports, shared by the page and the API's report list, and the staff's grid of villages
for a month."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Exists, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.models import Region
from cases.publicity import selectors
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


class PublicityGridFilter(CaseSearchFilterSet):
    """The villages of the user's places for one month (``month``, YYYY-MM, this month
    when not given): what is published, what could be, what waits for the township's
    payment roster. A term finds villages by name or code, and villages whose roster of
    the month lists the household it names (name, identity number through the blind
    index, household number)."""

    class State:
        PUBLISHED = "published"
        READY = "ready"
        WAITING = "waiting"
        CHOICES = [
            (PUBLISHED, _("published")),
            (READY, _("not published; the payment roster is frozen")),
            (WAITING, _("the payment roster is not frozen yet")),
        ]

    roles = permissions.READ_PUBLICITY

    month = django_filters.DateFilter(
        method="filter_month",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
        label=_("Month"),
    )
    state = django_filters.ChoiceFilter(
        choices=State.CHOICES, method="filter_state", label=_("Public roster")
    )
    village = django_filters.CharFilter(
        field_name="code", lookup_expr="startswith", label=_("Village")
    )

    class Meta:
        model = Region
        fields = ["q", "month", "state", "village"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["month"].initial = timezone.localdate().replace(day=1)

    def month_value(self) -> datetime.date:
        """The month the grid shows: the one asked for, or this month."""
        month = None
        if self.is_bound and self.is_valid():
            month = self.form.cleaned_data.get("month")
        return (month or timezone.localdate()).replace(day=1)

    @property
    def qs(self) -> QuerySet:
        # Each row carries the month's roster, asked for or not: annotate after filtering.
        return selectors.villages_with_month(super().qs, self.month_value())

    def filter_month(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # the month says what each row shows, not which rows

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        month = self.month_value()
        published = selectors.village_month_published(month)
        frozen = selectors.village_month_frozen(month)
        if value == self.State.PUBLISHED:
            return queryset.filter(Exists(published))
        if value == self.State.READY:
            return queryset.filter(~Exists(published), frozen)
        return queryset.filter(~Exists(published), ~frozen)

    def search_q(self, term: str) -> Q:
        listed = PublicRosterEntry.objects.filter(
            case_search_q(term, household="household__", application=None),
            public_roster__month=self.month_value(),
            public_roster__withdrawn_at__isnull=True,
        )
        return (
            Q(name__icontains=term)
            | Q(code__startswith=term)
            | Q(pk__in=listed.values("public_roster__village_id"))
        )
