"""Pages of the public roster.

The public pages (no login): a village's month and a township's month, printable on A4
for the notice board, marked ``noindex``, throttled per client address, showing only
the name, household size, programme and amount of each entry and the month's changes;
and the report form (举报), whose reports land in the township's queue, each about one
listed household (chosen by the entry shown) or about the roster as a whole.

The staff pages (login): the villages × month with publish and withdraw, one public
roster as published, and the reports queue. Thin: parse, call one service, show.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import DomainError
from aid_portal.forms import add_domain_error
from cases import lists as case_lists
from cases.publicity import forms as f
from cases.publicity import selectors, services, throttle
from cases.publicity.models import PublicReport

ROBOTS = "noindex, nofollow"

# --- public ------------------------------------------------------------------------------------


def _public(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = ROBOTS
    response["Cache-Control"] = "no-store"
    return response


def _too_many() -> HttpResponse:
    response = HttpResponse(
        _("Too many requests from your address; please try again later."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(throttle.limits("page")[1])
    return _public(response)


def _village_page(request, roster, *, form=None, status=200) -> HttpResponse:
    return _public(
        render(
            request,
            "cases/publicity/public_village.html",
            {
                "roster": selectors.public_rows(roster),
                "form": form or f.ReportForm(entries=selectors.report_entries(roster)),
                "report_url": reverse(
                    "public-report", args=[roster.village.code, f"{roster.month:%Y-%m}"]
                ),
            },
            status=status,
        )
    )


@require_GET
def public_village(request, village_code: str, month: str):
    if not throttle.allow(request, "page"):
        return _too_many()
    roster = selectors.published_for_village(village_code, month)
    return _village_page(request, roster)


@require_GET
def public_township(request, township_code: str, month: str):
    if not throttle.allow(request, "page"):
        return _too_many()
    township, rosters = selectors.published_for_township(township_code, month)
    return _public(
        render(
            request,
            "cases/publicity/public_township.html",
            {
                "township": township.name,
                "month": rosters[0].month,
                "rosters": [
                    selectors.public_rows(roster)
                    | {
                        "url": reverse(
                            "public-roster", args=[roster.village.code, f"{roster.month:%Y-%m}"]
                        )
                    }
                    for roster in rosters
                ],
            },
        )
    )


@require_http_methods(["GET", "POST"])
def public_report(request, village_code: str, month: str):
    """The report form of a village's published month (GET), and sending it (POST)."""
    if not throttle.allow(request, "page"):
        return _too_many()
    roster = selectors.published_for_village(village_code, month)
    if request.method == "GET":
        return _village_page(request, roster)
    form = f.ReportForm(request.POST, entries=selectors.report_entries(roster))
    if not form.is_valid():
        return _village_page(request, roster, form=form, status=400)
    if not throttle.allow(request, "report"):
        return _too_many()
    try:
        services.public_report_receive(
            public_roster=roster,
            text=form.cleaned_data["text"],
            contact=form.cleaned_data["contact"],
            name=form.cleaned_data["name"],
            entry=form.entry(),
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _village_page(request, roster, form=form, status=400)
    return _public(
        render(
            request,
            "cases/publicity/public_thanks.html",
            {"roster": selectors.public_rows(roster)},
        )
    )


# --- staff -------------------------------------------------------------------------------------


def _month_from(request):
    text = request.GET.get("month", "")
    try:
        return selectors.month_parse(text)
    except Http404:
        return timezone.localdate().replace(day=1)


@login_required
def publicity_list(request):
    """The villages of the user's places × a month: what is published, what can be; with
    the lists' search, filters (the month among them), pages and exports."""
    access.require_role(request.user, permissions.READ_PUBLICITY)
    if request.method == "POST":
        access.require_role(request.user, permissions.PUBLISH_ROSTERS)
        form = f.PublishForm(request.POST)
        if form.is_valid():
            try:
                public = services.public_roster_publish(
                    actor=request.user,
                    village_id=form.cleaned_data["village"],
                    month=form.cleaned_data["month"],
                    contact=form.cleaned_data["contact"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Published: %(village)s, %(month)s.")
                    % {"village": public.village.name, "month": f"{public.month:%Y-%m}"},
                )
                return redirect("cases:public-roster", public_roster_id=public.pk)
        else:
            messages.error(request, _("Choose a village and a month."))
        month = form.cleaned_data.get("month") if form.is_valid() else None
        return redirect(
            f"{reverse('cases:publicity')}?month={(month or _month_from(request)):%Y-%m}"
        )
    result = listing.list_page(request, case_lists.PUBLICITY_GRID)
    if isinstance(result, HttpResponse):
        return result
    rows = [
        {
            "village": village,
            "may_publish": access.has_role(request.user, permissions.PUBLISH_ROSTERS, village),
        }
        for village in result.page
    ]
    return render(
        request,
        "cases/publicity/list.html",
        {
            "rows": rows,
            "month": result.filter.month_value(),
            "page": result.page,
            "listing": result,
        },
        status=result.status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def public_roster_detail(request, public_roster_id: int):
    """One public roster as published, its history, and withdrawing it."""
    access.require_role(request.user, permissions.READ_PUBLICITY)
    public = selectors.public_roster_get(user=request.user, public_roster_id=public_roster_id)
    form = f.WithdrawForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.public_roster_withdraw(
                    actor=request.user,
                    public_roster_id=public.pk,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Withdrawn: the public page is gone."))
                return redirect("cases:public-roster", public_roster_id=public.pk)
        status = 400
    may_withdraw = not public.withdrawn and access.has_role(
        request.user, permissions.PUBLISH_ROSTERS, public.village
    )
    return render(
        request,
        "cases/publicity/detail.html",
        {
            "public": public,
            "shown": selectors.public_rows(public),
            "public_url": reverse(
                "public-roster", args=[public.village.code, f"{public.month:%Y-%m}"]
            ),
            "form": form if may_withdraw else None,
            "reports": public.reports.count(),
        },
        status=status,
    )


@login_required
def public_reports(request):
    """The township's queue of the public's objections and reports, open ones first."""
    access.require_role(request.user, permissions.READ_PUBLICITY)
    result = listing.list_page(request, case_lists.PUBLIC_REPORTS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "cases/publicity/reports.html",
        {
            "page": result.page,
            "listing": result,
            "reports": [
                {
                    "report": report,
                    "form": f.HandleForm(prefix=f"r{report.pk}")
                    if report.state == PublicReport.State.OPEN
                    and access.has_role(
                        request.user, permissions.HANDLE_PUBLIC_REPORTS, report.village
                    )
                    else None,
                }
                for report in result.page
            ],
        },
        status=result.status,
    )


@login_required
@require_POST
def public_report_handle(request, report_id: int):
    report = selectors.report_get(user=request.user, report_id=report_id)
    form = f.HandleForm(request.POST, prefix=f"r{report.pk}")
    if not form.is_valid():
        messages.error(request, _("Write how the report was handled."))
        return redirect("cases:public-reports")
    try:
        services.public_report_handle(
            actor=request.user, report_id=report.pk, note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The report is marked handled."))
    return redirect("cases:public-reports")
