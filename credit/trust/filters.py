"""The FilterSets of the trust lists (aid_portal.listing): the trust records and the
rewards list, each shared by its page and its API list.

Both are lists of a year: without ``year`` they show the current one, as they always
have, so a page, its API list and a queued export agree on the rows.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from aid_portal import permissions
from cases.records import Household
from cases.search import CaseSearchFilterSet, village_filter
from credit.trust import services as trust
from credit.trust.models import TrustRecord

YEARS_OFFERED = 6  # the page's select; the API takes any year since trust.FIRST_YEAR


@extend_schema_field(OpenApiTypes.INT)
class YearFilter(django_filters.Filter):
    """The calendar year (default: the current year)."""

    field_class = forms.IntegerField


class TrustYearFilterSet(CaseSearchFilterSet):
    roles = permissions.READ_TRUST
    year = YearFilter(
        method="filter_nothing",
        label=_("Year"),
        min_value=trust.FIRST_YEAR,
        # A year that has begun; a callable, so that the API schema (aid_portal.openapi)
        # reads the same bound the form checks.
        validators=[MaxValueValidator(lambda: timezone.localdate().year)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = timezone.localdate().year
        years = range(current, current - YEARS_OFFERED, -1)
        field = self.form.fields["year"]
        field.widget = forms.Select(choices=[(y, y) for y in years])

    def filter_nothing(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # applied first, by filter_queryset, with its default

    @property
    def chosen_year(self) -> int:
        data = getattr(self.form, "cleaned_data", {})
        return data.get("year") or timezone.localdate().year

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(self.in_year(queryset, self.chosen_year))

    @property
    def qs(self) -> QuerySet:
        # Unbound (no filters at all), django-filter skips filter_queryset: the year
        # still applies.
        if not self.is_bound and not hasattr(self, "_qs"):
            self._qs = self.in_year(self.queryset.all(), self.chosen_year)
        return super().qs

    def in_year(self, queryset: QuerySet, year: int) -> QuerySet:
        raise NotImplementedError


class TrustRecordFilter(TrustYearFilterSet):
    # A record's case is optional: a case's number finds its household's records.
    application = None
    kind = django_filters.ChoiceFilter(choices=TrustRecord.Kind.choices, label=_("Kind"))
    village = village_filter("household__village")

    class Meta:
        model = TrustRecord
        fields = ["q", "year", "kind", "village"]

    def in_year(self, queryset: QuerySet, year: int) -> QuerySet:
        return queryset.filter(recorded_on__year=year)


class RewardCandidateFilter(TrustYearFilterSet):
    household = ""
    application = None
    village = village_filter("village")

    class Meta:
        model = Household
        fields = ["q", "year", "village"]

    def in_year(self, queryset: QuerySet, year: int) -> QuerySet:
        return trust.reward_candidates_in_year(queryset, year=year)
