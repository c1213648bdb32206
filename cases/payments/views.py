"""Pages of the payment feature: rosters, their steps, bank files and returns, failed
payments, accounts and the funds ledger. Thin: parse, call one service, show."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import DomainError
from aid_portal.exports import Sheet, xlsx_response
from aid_portal.forms import add_domain_error
from aid_portal.steps import step_page
from aid_portal.unmask import UnmaskLimitReached, unmask_record
from cases import lists as case_lists
from cases.models import AssistanceType, Household
from cases.payments import bankfiles, reconciliation, selectors, services
from cases.payments import forms as f
from cases.payments.models import (
    Bank,
    MonthlyStatistics,
    PaymentAccount,
    Reconciliation,
    ReconciliationException,
    Roster,
    RosterLine,
)
from cases.payments.steps import ROSTER

# --- how the roster page takes each step (cases.payments.steps.ROSTER) ---------------------


def _problem_lines(roster: Roster):
    return (
        roster.lines.exclude(problems=[])
        .exclude(outcome=RosterLine.Outcome.HELD)
        .exclude(kind=RosterLine.Kind.RECOVERY)
    )


def _run_recheck(request, roster, form):
    roster = services.roster_recheck(actor=request.user, roster_id=roster.pk)
    return _("Checked again: %(count)s lines with problems.") % {"count": roster.problem_count}


def _run_line_hold(request, roster, form):
    data = form.cleaned_data
    services.line_hold(
        actor=request.user, roster_id=roster.pk, line_id=data["line"], reason=data["reason"]
    )
    return _("The line is held back; it is due again on a later roster.")


def _run_county_approve(request, roster, form):
    services.roster_county_approve(actor=request.user, roster_id=roster.pk)
    return _("Approved for the county; the finance bureau reviews it next.")


def _run_finance_approve(request, roster, form):
    roster = services.roster_finance_approve(actor=request.user, roster_id=roster.pk)
    return _("Reviewed for finance. The roster is frozen: %(hash)s") % {
        "hash": roster.content_hash[:16]
    }


def _run_send_back(request, roster, form):
    services.roster_send_back(
        actor=request.user, roster_id=roster.pk, reason=form.cleaned_data["reason"]
    )
    return _("Sent back: the township prepares the month again.")


def _run_return_apply(request, roster, form):
    upload = form.cleaned_data["file"]
    applied, changed = bankfiles.return_apply(
        actor=request.user,
        roster_id=roster.pk,
        bank_id=form.cleaned_data["bank"].pk,
        file_name=upload.name,
        content=upload,
    )
    if not changed:
        return _("This return was applied before; nothing changed.")
    return _("Return applied: %(paid)s paid, %(failed)s failed.") % {
        "paid": applied.paid_count,
        "failed": applied.failed_count,
    }


bind = ROSTER.bind_page
bind("recheck", form=f.ConfirmForm, run=_run_recheck)
bind(
    "line_hold",
    form=f.LineHoldForm,
    run=_run_line_hold,
    form_kwargs=lambda request, roster: {"lines": _problem_lines(roster)},
    when=lambda roster: roster.problem_count > 0,
)
bind("county_approve", form=f.ConfirmForm, run=_run_county_approve)
bind("finance_approve", form=f.ConfirmForm, run=_run_finance_approve)
bind("send_back", form=f.ReasonForm, run=_run_send_back)
bind(
    "return_apply",
    form=f.ReturnForm,
    run=_run_return_apply,
    form_kwargs=lambda request, roster: {"banks": bankfiles.banks_of(roster)},
)

EVENT_LABELS = ROSTER.event_labels()


# --- rosters ------------------------------------------------------------------------------------


def _prepare_form(request, data=None):
    townships = selectors.townships_for_user(user=request.user, roles=permissions.PREPARE_ROSTERS)
    if not townships.exists():
        return None
    initial = {"month": timezone.localdate().replace(day=1)}
    return f.RosterPrepareForm(data, townships=townships, initial=initial)


@login_required
def roster_list(request):
    access.require_role(request.user, permissions.READ_PAYMENTS)
    form = _prepare_form(request, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form is None:
            access.require_role(request.user, permissions.PREPARE_ROSTERS)
        if form.is_valid():
            try:
                roster = services.roster_prepare(
                    actor=request.user,
                    township_id=form.cleaned_data["township"].pk,
                    month=form.cleaned_data["month"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Roster prepared: %(lines)s lines, %(total)s yuan, %(problems)s "
                        "with problems."
                    )
                    % {
                        "lines": roster.line_count,
                        "total": roster.total,
                        "problems": roster.problem_count,
                    },
                )
                return redirect("cases:roster", roster_id=roster.pk)
        status = 400
    result = listing.list_page(request, case_lists.ROSTERS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "cases/payments/list.html",
        {"page": result.page, "listing": result, "form": form, "today": timezone.localdate()},
        status=max(status, result.status),
    )


def _render_roster(request, roster: Roster, *, bound=None, status: int = 200) -> HttpResponse:
    lines = listing.list_page(request, case_lists.ROSTER_LINES, scope={"roster": str(roster.pk)})
    if isinstance(lines, HttpResponse):
        return lines
    steps = ROSTER.page_forms(request, roster, bound)
    states = dict(Roster.State.choices)
    history = [
        {
            "event": event,
            "label": str(EVENT_LABELS.get(event.action, event.action)),
            "to": states.get(event.to_state) if event.to_state != event.from_state else None,
        }
        for event in roster.events.select_related("actor")
    ]
    exchange = access.has_role(request.user, permissions.EXCHANGE_BANK_FILES, roster.township)
    return render(
        request,
        "cases/payments/detail.html",
        {
            "roster": roster,
            "steps": steps,
            "lines": lines.page,
            "listing": lines,
            "history": history,
            "banks": bankfiles.banks_of(roster) if roster.frozen and exchange else [],
            "returns": roster.returns.select_related("bank", "imported_by"),
            "shortfall": [
                (AssistanceType(programme).label, amount)
                for programme, amount in selectors.funds_shortfall(roster).items()
            ]
            if not roster.frozen
            else [],
            "problem_labels": services.PROBLEMS,
            "supplementary": roster.supplementary_rosters.all(),
        },
        status=max(status, lines.status),
    )


@login_required
def roster_detail(request, roster_id: int):
    access.require_role(request.user, permissions.READ_PAYMENTS)
    roster = selectors.roster_get(user=request.user, roster_id=roster_id)
    return _render_roster(request, roster)


@login_required
@require_POST
def roster_act(request, roster_id: int, step: str):
    access.require_role(request.user, permissions.READ_PAYMENTS)
    roster = selectors.roster_get(user=request.user, roster_id=roster_id)

    def again(request, roster, bound, status):
        fresh = selectors.roster_get(user=request.user, roster_id=roster.pk)
        return _render_roster(request, fresh, bound=bound, status=status)

    return step_page(
        request,
        table=ROSTER,
        obj=roster,
        name=step,
        render=again,
        done_url=reverse("cases:roster", kwargs={"roster_id": roster.pk}),
    )


@login_required
def bank_file(request, roster_id: int, bank_code: str, form: str):
    """The file for one bank (audited: it carries full account numbers)."""
    access.require_role(request.user, permissions.READ_PAYMENTS)
    roster = selectors.roster_get(user=request.user, roster_id=roster_id)
    access.require_role(request.user, permissions.EXCHANGE_BANK_FILES, roster.township)
    bank = get_object_or_404(Bank, code=bank_code)
    try:
        content, kind, name = bankfiles.bank_file(
            actor=request.user, roster=roster, bank=bank, form=form
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("cases:roster", roster_id=roster.pk)
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- failed payments and accounts ---------------------------------------------------------------


@login_required
def failed_lines(request):
    """Failed payments of the user's townships; re-issue the chosen ones in a
    supplementary roster of their month."""
    access.require_role(request.user, permissions.READ_PAYMENTS)
    failed = selectors.failed_lines_for_user(user=request.user)
    townships = selectors.townships_for_user(user=request.user, roles=permissions.PREPARE_ROSTERS)
    form = None
    status = 200
    if townships.exists():
        form = f.SupplementaryForm(
            request.POST if request.method == "POST" else None,
            townships=townships,
            failed=failed,
            initial={"month": timezone.localdate().replace(day=1)},
        )
    if request.method == "POST":
        access.require_role(request.user, permissions.PREPARE_ROSTERS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                roster = services.supplementary_prepare(
                    actor=request.user,
                    township_id=data["township"].pk,
                    month=data["month"],
                    reissue_line_ids=[line.pk for line in data["lines"]],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Supplementary roster prepared."))
                return redirect("cases:roster", roster_id=roster.pk)
        status = 400
    result = listing.list_page(request, case_lists.FAILED_PAYMENTS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "cases/payments/failed.html",
        {"page": result.page, "listing": result, "form": form},
        status=max(status, result.status),
    )


@login_required
def account_edit(request, household_id: int):
    """The household's payment account: the current one masked, its history, and a
    correction (the full number is shown only here, to those who correct it; audited)."""
    access.require_role(request.user, permissions.READ_PAYMENTS)
    household = access.get_object_or_404(
        Household.objects.select_related("village"),
        request.user,
        region_field="village",
        roles=permissions.READ_PAYMENTS,
        pk=household_id,
    )
    may_change = access.has_role(request.user, permissions.PREPARE_ROSTERS, household.village)
    accounts = PaymentAccount.objects.filter(household=household).select_related("bank")
    unmasking = request.method == "POST" and request.POST.get("action") == "unmask"
    form = f.AccountForm(request.POST if request.method == "POST" and not unmasking else None)
    purpose_form = f.UnmaskForm(request.POST if unmasking else None)
    status = 200
    unmasked = None
    if request.method == "POST" and not may_change:
        raise Http404
    if unmasking:
        # The full number only with a stated purpose, recorded with the read.
        current = accounts.filter(replaced_at__isnull=True).first()
        status = 400
        if purpose_form.is_valid() and current is not None:
            try:
                unmask_record(
                    actor=request.user,
                    obj=current,
                    field="number",
                    region=household.village,
                    purpose=purpose_form.cleaned_data["purpose"],
                )
            except UnmaskLimitReached as exc:
                purpose_form.add_error("purpose", exc.message)
                status = exc.status_code
            else:
                unmasked, status = current.number, 200
    elif request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.account_set(
                    actor=request.user,
                    household_id=household.pk,
                    bank_id=data["bank"].pk,
                    number=data["number"],
                    holder_name=data["holder_name"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The account is recorded; the old one is kept."))
                return redirect("cases:payment-account", household_id=household.pk)
        status = 400
    return render(
        request,
        "cases/payments/account.html",
        {
            "household": household,
            "accounts": accounts,
            "form": form if may_change else None,
            "purpose_form": purpose_form if may_change else None,
            "unmasked": unmasked,
        },
        status=status,
    )


# --- funds --------------------------------------------------------------------------------------


@login_required
def funds(request):
    access.require_role(request.user, permissions.READ_PAYMENTS)
    counties = selectors.counties_for_user(user=request.user, roles=permissions.READ_PAYMENTS)
    month_field = f.MonthField()
    try:
        month = month_field.clean(
            request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
        )
    except ValidationError:  # a bad month shows this month
        month = timezone.localdate().replace(day=1)
    allocating = selectors.counties_for_user(user=request.user, roles=permissions.ALLOCATE_FUNDS)
    form = None
    status = 200
    if allocating.exists():
        form = f.AllocationForm(
            request.POST if request.method == "POST" else None,
            counties=allocating,
            initial={"month": month},
        )
    if request.method == "POST":
        access.require_role(request.user, permissions.ALLOCATE_FUNDS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.funds_allocate(
                    actor=request.user,
                    county_id=data["county"].pk,
                    programme=data["programme"],
                    month=data["month"],
                    amount=data["amount"],
                    note=data["note"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Allocation recorded."))
                return redirect(f"{reverse('cases:funds')}?month={data['month']:%Y-%m}")
        status = 400
    ledgers = [
        {"county": county, "rows": selectors.funds_ledger(county=county, month=month)}
        for county in counties
    ]
    return render(
        request,
        "cases/payments/funds.html",
        {"ledgers": ledgers, "month": month, "form": form},
        status=status,
    )


# --- four-ledger reconciliation and the statistics table ----------------------------------------


@login_required
def reconciliations(request):
    """The county's months compared: rates per township, the chart of the last 12
    months, and (for the county) comparing a month."""
    access.require_role(request.user, permissions.READ_PAYMENTS)
    counties = selectors.counties_for_user(user=request.user, roles=permissions.READ_PAYMENTS)
    comparing = selectors.counties_for_user(user=request.user, roles=permissions.RECONCILE_PAYMENTS)
    form = None
    status = 200
    if comparing.exists():
        form = f.ReconcileForm(
            request.POST if request.method == "POST" else None,
            counties=comparing,
            initial={"month": timezone.localdate().replace(day=1)},
        )
    if request.method == "POST":
        access.require_role(request.user, permissions.RECONCILE_PAYMENTS)
        if form.is_valid():
            try:
                done = reconciliation.reconciliation_run(
                    actor=request.user,
                    county_id=form.cleaned_data["county"].pk,
                    month=form.cleaned_data["month"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Compared: %(count)s exceptions.") % {"count": done.exceptions.count()},
                )
                return redirect("cases:reconciliation", reconciliation_id=done.pk)
        status = 400
    charts = []
    for county in counties:
        history = reconciliation.agreement_history(county=county)
        charts.append(
            {
                "county": county,
                "history": history[::-1],
                "chart": {
                    "labels": [f"{r.month:%Y-%m}" for r in history],
                    "rates": [float(r.percent) if r.rate is not None else None for r in history],
                },
            }
        )
    return render(
        request,
        "cases/payments/reconciliations.html",
        {"charts": charts, "form": form},
        status=status,
    )


@login_required
def reconciliation_detail(request, reconciliation_id: int):
    access.require_role(request.user, permissions.READ_PAYMENTS)
    done = selectors.reconciliation_get(user=request.user, reconciliation_id=reconciliation_id)
    exceptions = listing.list_page(
        request, case_lists.RECONCILIATION_EXCEPTIONS, scope={"reconciliation": str(done.pk)}
    )
    if isinstance(exceptions, HttpResponse):
        return exceptions
    may_close = access.has_role(request.user, permissions.RECONCILE_PAYMENTS, done.county)
    return render(
        request,
        "cases/payments/reconciliation.html",
        {
            "done": done,
            "exceptions": exceptions.page,
            "listing": exceptions,
            "may_close": may_close and done.state == Reconciliation.State.OPEN,
            "may_build": may_close and done.state == Reconciliation.State.CLOSED,
            "statistics": MonthlyStatistics.objects.filter(
                county=done.county, month=done.month
            ).first(),
            "handle_form": f.ExceptionForm(),
            "rates": [{"code": code, **row} for code, row in sorted(done.rates.items())],
        },
        status=exceptions.status,
    )


@login_required
@require_POST
def exception_handle(request, exception_id: int):
    """Explain or resolve one exception (htmx swaps its row)."""
    access.require_role(request.user, permissions.EXPLAIN_EXCEPTIONS)
    exception = access.get_object_or_404(
        ReconciliationException.objects.select_related("reconciliation"),
        request.user,
        region_field="township",
        roles=permissions.READ_PAYMENTS,
        pk=exception_id,
    )
    form = f.ExceptionForm(request.POST)
    error = None
    if form.is_valid():
        try:
            exception = reconciliation.exception_handle(
                actor=request.user,
                exception_id=exception.pk,
                note=form.cleaned_data["note"],
                resolved=form.cleaned_data["resolved"],
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "cases/payments/_exception.html",
            {"exception": exception, "error": error, "handle_form": f.ExceptionForm()},
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("cases:reconciliation", reconciliation_id=exception.reconciliation_id)


@login_required
@require_POST
def reconciliation_close(request, reconciliation_id: int):
    done = selectors.reconciliation_get(user=request.user, reconciliation_id=reconciliation_id)
    access.require_role(request.user, permissions.RECONCILE_PAYMENTS, done.county)
    try:
        reconciliation.reconciliation_close(actor=request.user, reconciliation_id=done.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The month is closed."))
    return redirect("cases:reconciliation", reconciliation_id=done.pk)


@login_required
@require_POST
def statistics_build(request, reconciliation_id: int):
    done = selectors.reconciliation_get(user=request.user, reconciliation_id=reconciliation_id)
    access.require_role(request.user, permissions.RECONCILE_PAYMENTS, done.county)
    try:
        table = reconciliation.statistics_build(
            actor=request.user, county_id=done.county_id, month=done.month
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("cases:reconciliation", reconciliation_id=done.pk)
    return redirect("cases:statistics", statistics_id=table.pk)


@login_required
def statistics_detail(request, statistics_id: int):
    access.require_role(request.user, permissions.READ_PAYMENTS)
    table = selectors.statistics_get(user=request.user, statistics_id=statistics_id)
    if request.method == "POST":
        access.require_role(request.user, permissions.RECONCILE_PAYMENTS, table.county)
        try:
            reconciliation.statistics_submit(actor=request.user, statistics_id=table.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Submitted to the city; the table is frozen."))
        return redirect("cases:statistics", statistics_id=table.pk)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            filename=f"statistics-{table.county.code}-{table.month:%Y%m}.xlsx",
            sheets=[
                Sheet(
                    f"{table.month:%Y-%m}",
                    STATISTICS_HEADER,
                    [_statistics_cells(row) for row in table.rows],
                    facts=[[table.county.name, f"{table.month:%Y-%m}", table.get_state_display()]],
                )
            ],
        )
    return render(
        request,
        "cases/payments/statistics.html",
        {
            "table": table,
            "rows": [
                {**row, "label": AssistanceType(row["programme"]).label} for row in table.rows
            ],
            "may_submit": table.state == MonthlyStatistics.State.DRAFT
            and access.has_role(request.user, permissions.RECONCILE_PAYMENTS, table.county),
        },
    )


STATISTICS_HEADER = [
    _lazy("Township"),
    _lazy("Programme"),
    _lazy("Households"),
    _lazy("People"),
    _lazy("Aged 60 or more"),
    _lazy("Minors"),
    _lazy("With a disability"),
    _lazy("Paid (yuan)"),
    _lazy("Average per person (yuan)"),
    _lazy("New this month"),
    _lazy("Stopped this month"),
]


def _statistics_cells(row: dict) -> list:
    return [
        row["township_name"],
        AssistanceType(row["programme"]).label,
        row["households"],
        row["people"],
        row["elderly"],
        row["minors"],
        row["disabled"],
        Decimal(row["paid"]),
        Decimal(row["average_per_person"]),
        row["new"],
        row["stopped"],
    ]
