"""The FilterSets of the verification lists (aid_portal.listing): one per list, shared by
its page and, where it has one, its API list."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.crypto import blind_index
from aid_portal.forms import DateInput
from aid_portal.listing import SearchFilterSet
from cases.search import CaseSearchFilterSet, case_search_q, identity_number_in, village_filter
from verification.batch.models import BatchFinding, BatchRun
from verification.feeds.models import QuarantinedRow, Snapshot
from verification.requests.models import VerificationRequest
from verification.spotcheck.models import SampleItem, SpotCheckCampaign


class FlagInput(forms.CheckboxInput):
    """A checkbox that reads "1" (as links and the API send it) or "on" as ticked."""

    def value_from_datadict(self, data, files, name) -> bool:
        return data.get(name) in {"1", "on", "true", "True"}


class CaseRowFilterSet(CaseSearchFilterSet):
    """Rows that belong to one application: searched through it."""

    household = "application__household__"
    application = "application__"


class VerificationRequestFilter(CaseRowFilterSet):
    roles = permissions.WATCH_VERIFICATION
    status = django_filters.ChoiceFilter(
        choices=[
            (value, label)
            for value, label in VerificationRequest.Status.choices
            if value != VerificationRequest.Status.REPORTED  # the list shows open ones
        ],
        label=_("Status"),
    )
    village = village_filter("application__village")

    class Meta:
        model = VerificationRequest
        fields = ["q", "status", "village"]


class BatchFindingFilter(CaseRowFilterSet):
    roles = permissions.WORK_CASES
    kind = django_filters.ChoiceFilter(choices=BatchFinding.Kind.choices, label=_("Finding"))
    village = village_filter("application__village")

    class Meta:
        model = BatchFinding
        fields = ["q", "kind", "village"]


class SampleItemFilter(CaseRowFilterSet):
    """A campaign's sampled cases; the page fixes ``campaign`` from its URL."""

    roles = permissions.RUN_SPOT_CHECKS

    campaign = django_filters.NumberFilter(field_name="campaign_id", label=_("Campaign"))
    state = django_filters.ChoiceFilter(
        choices=SampleItem.State.choices, method="filter_state", label=_("State")
    )
    reason = django_filters.ChoiceFilter(choices=SampleItem.Reason.choices, label=_("Why sampled"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Only mine"))
    village = village_filter("application__village")

    class Meta:
        model = SampleItem
        fields = ["q", "campaign", "state", "reason", "mine", "village"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["mine"].widget = FlagInput()

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The state is read from the row (SampleItem.state), so it is filtered the same way.
        visited = Q(visited_at__isnull=False)
        if value == SampleItem.State.VISITED:
            return queryset.filter(visited)
        if value == SampleItem.State.ASSIGNED:
            return queryset.filter(~visited, assigned_to__isnull=False)
        return queryset.filter(~visited, assigned_to__isnull=True)

    def filter_mine(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        user = getattr(self.request, "user", None)
        return queryset.filter(assigned_to=user) if value and user is not None else queryset


def holding_case_q(children: QuerySet, parent_id: str, term: str) -> Q:
    """Rows (a campaign, a run…) one of whose ``children`` (rows with an application,
    pointing to their parent by ``parent_id``) is the case the term names."""
    found = children.filter(
        case_search_q(term, household="application__household__", application="application__")
    )
    return Q(pk__in=found.values(parent_id))


class CampaignFilter(SearchFilterSet):
    """Spot-check campaigns, page and API: a term finds the campaigns that sampled the
    case it names."""

    rule = django_filters.ChoiceFilter(choices=SpotCheckCampaign.Rule.choices, label=_("Rule"))
    status = django_filters.ChoiceFilter(
        choices=SpotCheckCampaign.Status.choices, label=_("Status")
    )
    drawn_from = django_filters.DateFilter(
        field_name="drawn_at", lookup_expr="date__gte", widget=DateInput, label=_("Drawn from")
    )
    drawn_to = django_filters.DateFilter(
        field_name="drawn_at", lookup_expr="date__lte", widget=DateInput, label=_("Drawn until")
    )

    class Meta:
        model = SpotCheckCampaign
        fields = ["q", "rule", "status", "drawn_from", "drawn_to"]

    def search_q(self, term: str) -> Q:
        return holding_case_q(SampleItem.objects.all(), "campaign_id", term)


class BatchRunFilter(SearchFilterSet):
    """Batch comparison runs: a term finds the runs that found something about the case
    it names."""

    kind = django_filters.ChoiceFilter(choices=BatchRun.Kind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=BatchRun.Status.choices, label=_("Status"))
    finding = django_filters.ChoiceFilter(
        choices=BatchFinding.Kind.choices, method="filter_finding", label=_("Found")
    )
    started_from = django_filters.DateFilter(
        field_name="started_at", lookup_expr="date__gte", widget=DateInput, label=_("Started from")
    )
    started_to = django_filters.DateFilter(
        field_name="started_at", lookup_expr="date__lte", widget=DateInput, label=_("Started until")
    )

    class Meta:
        model = BatchRun
        fields = ["q", "kind", "status", "finding", "started_from", "started_to"]

    def search_q(self, term: str) -> Q:
        return holding_case_q(BatchFinding.objects.all(), "run_id", term)

    def filter_finding(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Runs that found at least one of this kind (their counts by kind, kept on the run).
        return queryset.filter(**{f"counts__{value}__gt": 0})


class QuarantinedRowFilter(SearchFilterSet):
    """An import's bad rows; the page fixes ``snapshot`` from its URL.

    A bad row belongs to no case and its identity number is kept masked: a full
    identity number is looked up through the row's blind index; another term is read as
    a line number (digits) or as text in its cells or its reasons.
    """

    snapshot = django_filters.NumberFilter(field_name="snapshot_id", label=_("Import"))

    class Meta:
        model = QuarantinedRow
        fields = ["q", "snapshot"]

    def search_q(self, term: str) -> Q:
        if number := identity_number_in(term):
            return Q(identity_hash=blind_index(number))
        text = Q(raw__icontains=term) | Q(reasons__icontains=term)
        return Q(line=int(term)) | text if term.isdigit() else text


class SnapshotFilter(SearchFilterSet):
    """A feed's upload history; the page fixes ``feed`` from its URL.

    An import belongs to no case, so a term is read as part of the file's name, of the
    uploader's name or login, or of the reason it was not loaded.
    """

    feed = django_filters.NumberFilter(field_name="feed_id", label=_("Data feed"))
    status = django_filters.ChoiceFilter(choices=Snapshot.Status.choices, label=_("Status"))
    uploaded_from = django_filters.DateFilter(
        field_name="uploaded_at",
        lookup_expr="date__gte",
        widget=DateInput,
        label=_("Uploaded from"),
    )
    uploaded_to = django_filters.DateFilter(
        field_name="uploaded_at",
        lookup_expr="date__lte",
        widget=DateInput,
        label=_("Uploaded until"),
    )
    with_bad_rows = django_filters.BooleanFilter(
        method="filter_with_bad_rows", label=_("Only with bad rows")
    )

    class Meta:
        model = Snapshot
        fields = ["q", "feed", "status", "uploaded_from", "uploaded_to", "with_bad_rows"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["with_bad_rows"].widget = FlagInput()

    def search_q(self, term: str) -> Q:
        return (
            Q(original_name__icontains=term)
            | Q(uploaded_by__full_name__icontains=term)
            | Q(uploaded_by__username__icontains=term)
            | Q(error__icontains=term)
        )

    def filter_with_bad_rows(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(rows_quarantined__gt=0) if value else queryset
