"""Every list page: its search box, its filters, its pages of rows and its exports.

A feature declares each list once as a :class:`ListSpec`: the rows the user may see
(a selector that starts from their jurisdiction and checks their role), the FilterSet
that the page *and* its API list use (so the two cannot differ), and the columns of its
export. :func:`list_page` then gives the page its filter form with the search box, the
page of rows and the export links; an export is exactly the filtered rows, with identity
numbers masked unless the user's role may unmask them and they say why (audited).

An export of more than ``settings.EXPORT_ASYNC_ROWS`` rows is built by a Celery task
(``aid_portal.export_build``) into an :class:`~aid_portal.models.ExportJob`: the task finds
the list by its name in :data:`REGISTRY`, so the specs register themselves when their
app is ready.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import django_filters
from celery import shared_task
from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.celery import enqueue_on_commit
from aid_portal.exports import CSV_TYPE, XLSX_TYPE, Sheet, csv_bytes, xlsx_bytes
from aid_portal.identity import mask_identity_number
from aid_portal.models import ExportJob, User
from aid_portal.unmask import UnmaskLimitReached, unmask_check

PAGE_SIZE = 50
FORMATS = {"xlsx": "xlsx", "csv": "csv"}
# Query fields that ask for an export rather than filter the rows.
EXPORT_FIELDS = ("export", "unmask", "purpose", "page")
EXPORT_DAYS = 1  # how long a built export may be downloaded


@dataclass(frozen=True)
class Column:
    label: Promise | str
    value: Callable[[Any], Any]
    # The value is a full identity number: masked unless the export is unmasked.
    identity: bool = False

    def cell(self, row: Any, *, unmask: bool) -> Any:
        value = self.value(row)
        if self.identity and not unmask:
            return mask_identity_number(value or "")
        return value


@dataclass(frozen=True)
class ListSpec:
    name: str  # registry key and the export's file name
    title: Promise | str
    rows: Callable[[User], QuerySet]  # checks the role; starts from the jurisdiction
    filterset: type[django_filters.FilterSet]
    columns: Sequence[Column]
    # What the search box takes, where it is not a case's name, numbers or village.
    search_hint: Promise | str | None = None

    @property
    def has_identity(self) -> bool:
        return any(column.identity for column in self.columns)


REGISTRY: dict[str, ListSpec] = {}


def register(spec: ListSpec) -> ListSpec:
    REGISTRY[spec.name] = spec
    return spec


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with the search box ``q``; subclasses say what a term matches."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        return queryset.filter(self.search_q(term)) if term else queryset

    def search_q(self, term: str) -> Q:
        raise NotImplementedError


class UnmaskForm(forms.Form):
    purpose = forms.CharField(
        label=_("Why you need the full number"),
        max_length=200,
        min_length=4,
        help_text=_("Recorded in the audit log with your name."),
    )


@dataclass
class ListPage:
    spec: ListSpec
    filter: django_filters.FilterSet
    page: Any
    query: str  # the filters, for links that keep them
    may_unmask: bool
    unmask_form: UnmaskForm | None
    status: int = 200
    scope: tuple[str, ...] = ()  # filters fixed by the page's URL, not offered

    def export_url(self, fmt: str) -> str:
        return f"?{self.query}&export={fmt}" if self.query else f"?export={fmt}"

    @property
    def xlsx_url(self) -> str:
        return self.export_url("xlsx")

    @property
    def csv_url(self) -> str:
        return self.export_url("csv")

    @property
    def filter_fields(self) -> list:
        hidden = {"q", *self.scope}
        return [field for field in self.filter.form if field.name not in hidden]

    @property
    def search_field(self):
        return self.filter.form["q"] if "q" in self.filter.form.fields else None

    @property
    def hidden_filters(self) -> list[tuple[str, str]]:
        """The filters as hidden fields of the unmask form."""
        return list(QueryDict(self.query).items())


def filtered(spec: ListSpec, data: QueryDict | None, *, user: User, queryset=None):
    """The FilterSet and the rows it keeps; an invalid filter keeps no rows."""
    rows = queryset if queryset is not None else spec.rows(user)
    filterset = spec.filterset(data or None, queryset=rows, request=SimpleNamespace(user=user))
    if filterset.is_bound and not filterset.is_valid():
        return filterset, rows.none()
    return filterset, filterset.qs


class CappedPaginator(Paginator):
    """Counts at most ``LIST_COUNT_CAP`` rows. Django's Paginator counts every row the
    filters match on every page view; a county's list at a province's size is tens of
    thousands of rows, and nobody pages that far. ``COUNT(*)`` over a ``LIMIT`` reads at
    most the cap and one row more; past the cap the pager says "more than" and the user
    narrows the search."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: settings.LIST_COUNT_CAP + 1].count()

    @property
    def cap(self) -> int:
        return settings.LIST_COUNT_CAP

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        # The pages of the rows counted: a capped list ends at the cap's last page.
        if self.capped:
            return -(-self.cap // self.per_page)
        return super().num_pages


def list_page(
    request: HttpRequest,
    spec: ListSpec,
    *,
    queryset: QuerySet | None = None,
    page_size=None,
    scope: dict[str, str] | None = None,
) -> ListPage | HttpResponse:
    """What a list page shows, or the export it asked for (a file, or a job's page).

    ``scope``: filters the page's URL fixes (a campaign's cases: its id), applied like
    the others and kept with a queued export, so its worker exports the same rows; the
    form does not offer them and the page's links need not repeat them.
    """
    data = request.GET.copy()
    for name in EXPORT_FIELDS:
        data.pop(name, None)
    query = data.urlencode()
    for name, value in (scope or {}).items():
        data[name] = value
    filterset, rows = filtered(spec, data, user=request.user, queryset=queryset)
    may_unmask = spec.has_identity and access.has_role(
        request.user, permissions.UNMASK_IDENTITY_NUMBERS
    )
    listing = ListPage(
        spec=spec,
        filter=filterset,
        page=CappedPaginator(rows, page_size or PAGE_SIZE).get_page(request.GET.get("page")),
        query=query,
        may_unmask=may_unmask,
        unmask_form=UnmaskForm() if may_unmask else None,
        scope=tuple(scope or ()),
    )
    fmt = request.GET.get("export")
    if not fmt:
        return listing
    if fmt not in FORMATS:
        raise Http404(_("No such export format."))
    unmask = request.GET.get("unmask") == "1"
    reason = ""
    if unmask:
        access.require_role(request.user, permissions.UNMASK_IDENTITY_NUMBERS)
        form = UnmaskForm(request.GET)
        if not form.is_valid():
            listing.unmask_form, listing.status = form, 400
            return listing
        try:
            unmask_check(request.user)  # an unmasked export counts like any other unmasking
        except UnmaskLimitReached as exc:
            form.add_error("purpose", exc.message)
            listing.unmask_form, listing.status = form, exc.status_code
            return listing
        reason = form.cleaned_data["purpose"]
    return export_start(
        user=request.user,
        spec=spec,
        rows=rows,
        params=data.urlencode(),
        fmt=fmt,
        unmask=unmask,
        reason=reason,
    )


def export_start(
    *, user: User, spec: ListSpec, rows: QuerySet, params: str, fmt: str, unmask: bool, reason: str
) -> HttpResponse:
    """Audit the export, then hand over the file, or queue it when it is large."""
    count = rows.count()
    with transaction.atomic():
        audit_record(
            actor=user,
            action="sensitive.export" if unmask else "list.export",
            region=_home_region(user),
            new={"list": spec.name, "format": fmt, "rows": count, "filters": params},
            reason=reason,
        )
        if count > settings.EXPORT_ASYNC_ROWS:
            job = ExportJob.objects.create(
                user=user,
                list_name=spec.name,
                format=fmt,
                params=params,
                unmasked=unmask,
                total=count,
                expires_at=timezone.now() + datetime.timedelta(days=EXPORT_DAYS),
            )
            enqueue_on_commit("aid_portal.export_build", job.pk)
            return redirect("export-job", job_id=job.pk)
    content = export_bytes(spec, rows, fmt=fmt, unmask=unmask)
    response = HttpResponse(content, content_type=content_type(fmt))
    response["Content-Disposition"] = f'attachment; filename="{export_filename(spec, fmt)}"'
    return response


def export_bytes(
    spec: ListSpec,
    rows: Iterable,
    *,
    fmt: str,
    unmask: bool,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    header = [column.label for column in spec.columns]
    table = _table(spec, rows, unmask=unmask, progress=progress)
    if fmt == "csv":
        return csv_bytes(header=header, rows=table)
    return xlsx_bytes(sheets=[Sheet(title=str(spec.title)[:31], header=header, rows=table)])


def _table(spec, rows, *, unmask, progress) -> Iterator[list]:
    for n, row in enumerate(rows, start=1):
        yield [column.cell(row, unmask=unmask) for column in spec.columns]
        if progress is not None and n % 500 == 0:
            progress(n)


def export_filename(spec: ListSpec, fmt: str) -> str:
    return f"{spec.name}-{timezone.localdate():%Y%m%d}.{fmt}"


def content_type(fmt: str) -> str:
    return CSV_TYPE if fmt == "csv" else XLSX_TYPE


@shared_task(name="aid_portal.export_build", acks_late=True, time_limit=1800, soft_time_limit=1700)
def export_build(job_id: int) -> None:
    export_job_build(job_id=job_id)


def export_job_build(*, job_id: int) -> None:
    """Build the file of a queued export, as its user, from the filters they had.

    Claimed with a conditional UPDATE, so a task delivered twice builds it once.
    """
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.PENDING).update(
        state=ExportJob.State.RUNNING
    )
    if claimed != 1:
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    spec = REGISTRY[job.list_name]
    try:
        _filterset, rows = filtered(spec, QueryDict(job.params), user=job.user)
        content = export_bytes(
            spec,
            rows.iterator(chunk_size=500),
            fmt=job.format,
            unmask=job.unmasked,
            progress=lambda n: ExportJob.objects.filter(pk=job_id).update(done=n),
        )
    except Exception as exc:  # the user sees that it failed; the worker logs the rest
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportJob.State.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job_id).update(
        state=ExportJob.State.DONE,
        content=content,
        done=job.total,
        filename=export_filename(spec, job.format),
        finished_at=timezone.now(),
    )
    # Expired files go when the next one is built: nothing else needs a schedule.
    ExportJob.objects.filter(expires_at__lt=timezone.now()).delete()


def export_job_get_for_user(*, user: User, job_id: int) -> ExportJob:
    """The user's own export while it lasts; anyone else's, or an expired one, is not found."""
    try:
        return ExportJob.objects.get(pk=job_id, user=user, expires_at__gt=timezone.now())
    except ExportJob.DoesNotExist:
        raise Http404(_("This export does not exist or has expired.")) from None


def _home_region(user: User):
    """The region an export is filed under, so the user's county auditors see it."""
    assignments = access.role_assignments_of(user)
    return assignments[0].region if assignments else None
