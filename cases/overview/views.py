"""The case overview page and its tables' exports (issue 15 item 9)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.exports import Sheet, csv_response, xlsx_response
from cases.overview import charts, selectors
from cases.records import Application

AWAITING = Application.State.AWAITING_DECISION


def _decisions_url(township=None) -> str:
    """The decisions list filtered to what a count of cases awaiting a decision counts."""
    query = {"state": AWAITING}
    if township is not None:
        query["village"] = township.prefix
    return reverse("cases:decisions") + "?" + urlencode(query)


def _audit_urls(user, today) -> dict[str, str | None]:
    """This month's submissions, approvals and rejections in the audit log, which lists
    each case's step with its time: the county auditor's list of them (no case list
    filters by the day of a step)."""
    if not access.has_role(user, permissions.READ_AUDIT_LOG):
        return {"received": None, "approved": None, "rejected": None}
    since = today.replace(day=1).isoformat()

    def url(step: str) -> str:
        query = {"action": f"application.{step}", "since": since, "until": today.isoformat()}
        return reverse("audit-list") + "?" + urlencode(query)

    return {"received": url("submit"), "approved": url("approve"), "rejected": url("reject")}


@login_required
def overview(request):
    """Cases by state and township, the deadlines met, and the counts the county watches,
    for the places where the user reads the overview."""
    access.require_role(request.user, permissions.READ_CASE_OVERVIEW)
    user, today = request.user, timezone.localdate()
    states = selectors.case_states_by_township(user=user)
    monthly = selectors.decisions_in_time_by_month(user=user, today=today)
    overdue = selectors.open_cases_past_due_by_township(user=user, today=today)
    awaiting = next((i for i, (v, _label) in enumerate(states.states) if v == AWAITING), None)
    return render(
        request,
        "cases/overview/overview.html",
        {
            "counts": selectors.month_counts(user=user, today=today),
            "count_urls": _audit_urls(user, today),
            "states": states,
            "state_rows": [
                (
                    row,
                    [
                        (n, _decisions_url(row.township) if i == awaiting and n else None)
                        for i, n in enumerate(row.counts)
                    ],
                )
                for row in states.rows
            ],
            "state_totals": [
                (n, _decisions_url() if i == awaiting and n else None)
                for i, n in enumerate(states.totals)
            ],
            "states_chart": charts.case_states_chart(states),
            "monthly": monthly,
            "monthly_chart": charts.decisions_chart(monthly),
            "overdue": overdue,
            "overdue_total": selectors.TownshipOverdue(None, *_overdue_totals(overdue)),
            "overdue_chart": charts.overdue_chart(overdue),
            "decisions_url": _decisions_url(),
            "today": today,
        },
    )


def _overdue_totals(rows) -> tuple[int, int]:
    return sum(r.past_due for r in rows), sum(r.not_due for r in rows)


def _states_table(user):
    table = selectors.case_states_by_township(user=user)
    header = [_("Township"), *[label for _value, label in table.states], _("Total")]
    rows = [[r.township.name, *r.counts, r.total] for r in table.rows]
    rows.append([_("Total"), *table.totals, table.total])
    return _("Cases by state and township"), header, rows


def _months_table(user):
    monthly = selectors.decisions_in_time_by_month(user=user)
    header = [
        _("Month"),
        _("decided in time"),
        _("decided late"),
        _("without a due date"),
        _("Cases decided"),
        _("Share in time (%)"),
    ]
    rows = [
        [r.month.strftime("%Y-%m"), r.in_time, r.late, r.undated, r.total, r.share_in_time]
        for r in monthly.rows
    ]
    rows.append([_("Total"), monthly.in_time, monthly.late, monthly.undated, monthly.total, None])
    return _("Decisions in time by month"), header, rows


def _overdue_table(user):
    found = selectors.open_cases_past_due_by_township(user=user)
    header = [_("Township"), _("past due"), _("not yet due"), _("Open cases")]
    rows = [[r.township.name, r.past_due, r.not_due, r.total] for r in found]
    past_due, not_due = _overdue_totals(found)
    rows.append([_("Total"), past_due, not_due, past_due + not_due])
    return _("Open cases past due by township"), header, rows


TABLES = {"states": _states_table, "decisions": _months_table, "overdue": _overdue_table}
FORMATS = ("xlsx", "csv")


@login_required
def overview_export(request, table: str, fmt: str):
    """One table of the overview as XLSX or CSV: the figures of the page, no person."""
    access.require_role(request.user, permissions.READ_CASE_OVERVIEW)
    if table not in TABLES or fmt not in FORMATS:
        raise Http404(_("Not found."))
    title, header, rows = TABLES[table](request.user)
    filename = f"case-overview-{table}-{timezone.localdate():%Y%m%d}.{fmt}"
    facts = [[_("As of"), timezone.localdate()]]
    if fmt == "csv":
        return csv_response(filename=filename, header=header, rows=rows)
    return xlsx_response(filename=filename, sheets=[Sheet(title, header, rows, facts=facts)])
