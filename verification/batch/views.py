"""Batch comparison pages: the runs (start one on demand), a run's summary with its XLSX
download, and the township caseworker's queue of open findings.

Thin views: a form parses, one service acts, the page redirects. Reads go through the
selectors of verification.batch.services, which start from the user's jurisdiction.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import Conflict, DomainError
from aid_portal.exports import Sheet, xlsx_response
from verification import lists as verification_lists
from verification.batch import services as batch
from verification.batch.models import BatchFinding

RUNS_PAGE_SIZE = 50


class BatchStartForm(forms.Form):
    county = forms.ModelChoiceField(queryset=None, label=gettext_lazy("County"))

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties
        only = list(counties[:2])
        if len(only) == 1:
            self.fields["county"].initial = only[0]


class FindingResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=gettext_lazy("Resolution"),
        choices=[
            (BatchFinding.Resolution.DISMISSED, gettext_lazy("dismissed")),
            (BatchFinding.Resolution.REVIEW_OPENED, gettext_lazy("review opened")),
        ],
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- runs --------------------------------------------------------------------------------


def _render_runs(request, form: BatchStartForm, *, status: int = 200) -> HttpResponse:
    result = listing.list_page(request, verification_lists.BATCH_RUNS, page_size=RUNS_PAGE_SIZE)
    if isinstance(result, HttpResponse):
        return result
    page = result.page
    kinds = list(BatchFinding.Kind.choices)
    rows = [(run, [run.counts.get(value, 0) for value, _label in kinds]) for run in page]
    monthly = batch.finding_counts_by_month_for_user(user=request.user)
    return render(
        request,
        "verification/batch/runs.html",
        {
            "form": form,
            "page": page,
            "listing": result,
            "rows": rows,
            "kinds": kinds,
            "monthly": monthly,
            "monthly_chart": batch.finding_counts_chart(monthly),
        },
        status=max(status, result.status),
    )


@login_required
def runs(request):
    """Runs of the user's counties, newest first; a form starts one on demand."""
    access.require_role(request.user, permissions.READ_BATCH_RUNS)
    counties = batch.batch_county_list_for_user(user=request.user)
    if request.method != "POST":
        return _render_runs(request, BatchStartForm(counties=counties))
    form = BatchStartForm(request.POST, counties=counties)
    if not form.is_valid():
        messages.error(request, _("Choose the county to compare."))
        return _render_runs(request, form, status=400)
    try:
        batch.batch_run_request(actor=request.user, county=form.cleaned_data["county"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return _render_runs(request, form, status=400)
    messages.success(request, _("The comparison has started; refresh this page to see it finish."))
    return redirect("verification:batch-runs")


@login_required
def run_detail(request, run_id: int):
    access.require_role(request.user, permissions.READ_BATCH_RUNS)
    run = batch.batch_run_get_for_user(user=request.user, run_id=run_id)
    return render(
        request,
        "verification/batch/run.html",
        {"run": run, "summary": batch.batch_run_summary(run=run)},
    )


@login_required
def run_xlsx(request, run_id: int):
    """Sheet 1: counts by township × kind; sheet 2: the findings (identity numbers masked)."""
    access.require_role(request.user, permissions.READ_BATCH_RUNS)
    run = batch.batch_run_get_for_user(user=request.user, run_id=run_id)
    summary = batch.batch_run_summary(run=run)
    names = {t.township_prefix: t.name for t, _row, _n in summary.townships}
    findings = (
        [
            names.get(finding.application.village.township_prefix, ""),
            finding.application.village.name,
            finding.application.number,
            finding.get_kind_display(),
            finding.person.name if finding.person else "",
            finding.person.masked_identity_number if finding.person else "",
            finding.get_resolution_display(),
            finding.resolution_reason,
        ]
        for finding in batch.batch_finding_list_for_run(run=run)
    )
    stamp = timezone.localtime(run.started_at).strftime("%Y%m%d")
    return xlsx_response(
        filename=f"batch-{run.county.code}-{stamp}-{run.pk}.xlsx",
        sheets=[
            Sheet(
                _("Counts"),
                [_("Township"), *[label for _value, label in summary.kinds], _("Total")],
                [
                    *([township.name, *row, total] for township, row, total in summary.townships),
                    [_("Total"), *summary.totals, summary.total],
                ],
            ),
            Sheet(
                pgettext("batch", "Findings"),
                [
                    _("Township"),
                    _("Village"),
                    _("Application"),
                    _("Kind"),
                    _("Name"),
                    _("Identity number"),
                    _("Resolution"),
                    _("Reason"),
                ],
                findings,
            ),
        ],
    )


# --- the caseworker's queue --------------------------------------------------------------


def _form_ids(finding_id: int) -> str:
    return f"id_finding{finding_id}_%s"  # one form per row: ids must not repeat


def _render_findings(request, *, bound=None, status: int = 200) -> HttpResponse:
    result = listing.list_page(request, verification_lists.BATCH_FINDINGS)
    if isinstance(result, HttpResponse):
        return result
    page = result.page
    rows = [
        (
            finding,
            bound[1]
            if bound and bound[0] == finding.pk
            else FindingResolveForm(auto_id=_form_ids(finding.pk)),
        )
        for finding in page
    ]
    return render(
        request,
        "verification/batch/findings.html",
        {"page": page, "rows": rows, "listing": result},
        status=max(status, result.status),
    )


@login_required
def findings(request):
    """Open findings on the cases of the caseworker's township, newest run first."""
    access.require_role(request.user, permissions.WORK_BATCH_FINDINGS)
    return _render_findings(request)


@login_required
@require_POST
def finding_resolve(request, finding_id: int):
    access.require_role(request.user, permissions.WORK_BATCH_FINDINGS)
    finding = batch.finding_get_for_user(user=request.user, finding_id=finding_id)
    form = FindingResolveForm(request.POST, auto_id=_form_ids(finding.pk))
    if not form.is_valid():
        messages.error(request, _("Choose a resolution and give the reason."))
        return _render_findings(request, bound=(finding.pk, form), status=400)
    try:
        batch.finding_resolve(
            actor=request.user,
            finding=finding,
            resolution=form.cleaned_data["resolution"],
            reason=form.cleaned_data["reason"],
        )
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        messages.error(request, exc.message)
        return _render_findings(request, bound=(finding.pk, form), status=400)
    else:
        messages.success(request, _("Finding resolved."))
    return redirect("verification:findings")
