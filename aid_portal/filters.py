"""Filters of the audit log page and API (django-filter), shared by both."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aid_portal.forms import DateInput
from aid_portal.listing import SearchFilterSet
from aid_portal.models import AuditEvent


class AuditEventFilter(SearchFilterSet):
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="iexact", label=_("Actor (username)")
    )
    action = django_filters.CharFilter(lookup_expr="startswith", label=_("Action"))
    object_type = django_filters.CharFilter(label=_("Object type"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    region = django_filters.CharFilter(
        field_name="region__code", lookup_expr="startswith", label=_("Region code")
    )
    since = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label=_("From"), widget=DateInput
    )
    until = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label=_("To"), widget=DateInput
    )

    class Meta:
        model = AuditEvent
        fields = ["q", "actor", "action", "object_type", "object_id", "region", "since", "until"]

    def search_q(self, term: str) -> Q:
        """Who, what or about what: the search box of the audit log."""
        return (
            Q(actor_label__icontains=term)
            | Q(object_label__icontains=term)
            | Q(action__icontains=term)
            | Q(reason__icontains=term)
        )
