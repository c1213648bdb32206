"""The case lists (aid_portal.listing): the work queue, the decisions, the reviews and
adjustments, the monthly file checks, the payment rosters, their lines and the failed
payments, the villages' public rosters of a month, and the public's reports on them.

Each names the rows its user may see, the FilterSet its page and API list share, and
the columns of its export.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.listing import Column, ListSpec, register
from cases.casework import selectors as casework_selectors
from cases.casework.filters import (
    AdjustmentFilter,
    ApplicationFilter,
    MonthlyFileCheckFilter,
    ReviewFilter,
)
from cases.casework.selectors import with_applicant
from cases.payments import selectors as payment_selectors
from cases.payments.filters import ExceptionFilter, FailedLineFilter, LineFilter, RosterFilter
from cases.payments.services import PROBLEMS
from cases.publicity import selectors as publicity_selectors
from cases.publicity.filters import PublicityGridFilter, PublicReportFilter
from cases.reviews import selectors as review_selectors


def applicant_of(app):
    """The applicant's Person (rows from with_applicant), or None."""
    applicants = getattr(app.household, "applicants", None) or []
    return applicants[0].person if applicants else None


def case_columns(to_app=lambda row: row) -> list[Column]:
    """The columns every list of cases starts with: who and where."""

    def person(row):
        return applicant_of(to_app(row))

    return [
        Column(_("Number"), lambda row: to_app(row).number),
        Column(_("Applicant"), lambda row: person(row).name if person(row) else ""),
        Column(
            _("Identity number"),
            lambda row: person(row).identity_number if person(row) else "",
            identity=True,
        ),
        Column(_("Village"), lambda row: to_app(row).village.name),
    ]


def _work_queue(user):
    access.require_role(user, permissions.READ_WORK_QUEUE)
    return with_applicant(casework_selectors.work_queue_for_user(user=user))


def _decisions(user):
    access.require_role(user, permissions.READ_DECISION_QUEUE)
    return with_applicant(
        casework_selectors.work_queue_for_user(
            user=user, states=casework_selectors.APPROVER_QUEUE_STATES
        )
    )


QUEUE_COLUMNS = [
    *case_columns(),
    Column(_("Assistance"), lambda app: app.get_assistance_type_display()),
    Column(_("State"), lambda app: app.get_state_display()),
    Column(_("Members"), lambda app: app.member_count),
    Column(_("Accepted on"), lambda app: app.accepted_on),
    Column(_("Decision due by"), lambda app: app.due_on),
]

WORK_QUEUE = register(
    ListSpec(
        name="work-queue",
        title=_("Work queue"),
        rows=_work_queue,
        filterset=ApplicationFilter,
        columns=QUEUE_COLUMNS,
    )
)
DECISIONS = register(
    ListSpec(
        name="decisions",
        title=_("Awaiting decision"),
        rows=_decisions,
        filterset=ApplicationFilter,
        columns=QUEUE_COLUMNS,
    )
)


def _reviews(user):
    access.require_role(user, permissions.READ_REVIEWS)
    return review_selectors.review_list_for_user(user=user)


REVIEWS = register(
    ListSpec(
        name="reviews",
        title=_("Periodic reviews"),
        rows=_reviews,
        filterset=ReviewFilter,
        columns=[
            *case_columns(lambda review: review.application),
            Column(_("Opened because"), lambda review: review.get_trigger_display()),
            Column(_("Step"), lambda review: review.get_state_display()),
            Column(_("Due on"), lambda review: review.due_on),
        ],
    )
)


def _adjustments(user):
    access.require_role(user, permissions.READ_REVIEWS)
    return review_selectors.adjustment_list_with_applicants(user=user)


ADJUSTMENTS = register(
    ListSpec(
        name="adjustments",
        title=_("Adjustments to act on"),
        rows=_adjustments,
        filterset=AdjustmentFilter,
        columns=[
            *case_columns(lambda proposal: proposal.application),
            Column(_("From"), lambda p: p.get_source_display()),
            Column(_("Recommended action"), lambda p: p.get_action_display()),
            Column(_("Proposed monthly amount (yuan)"), lambda p: p.proposed_amount),
            Column(_("Reasons"), lambda p: p.reasons),
            Column(_("Proposed by"), lambda p: str(p.proposed_by) if p.proposed_by else ""),
            Column(
                _("Proposed on"),
                lambda p: timezone.localtime(p.proposed_at).date() if p.proposed_at else None,
            ),
        ],
    )
)


def _file_checks(user):
    access.require_role(user, permissions.CHECK_CASES_FOR_COUNTY)
    return review_selectors.monthly_check_list_for_user(user=user)


FILE_CHECKS = register(
    ListSpec(
        name="file-checks",
        title=_("Monthly checks of new dibao files"),
        rows=_file_checks,
        filterset=MonthlyFileCheckFilter,
        columns=[
            Column(_("County"), lambda c: c.county.name),
            Column(_("Files approved in"), lambda c: f"{c.month:%Y-%m}"),
            Column(_("Files"), lambda c: c.files),
            Column(_("Checked"), lambda c: c.checked),
            Column(_("Due on"), lambda c: c.due_on),
            Column(
                _("Done on"), lambda c: timezone.localtime(c.done_at).date() if c.done_at else None
            ),
            Column(_("Done by"), lambda c: str(c.done_by) if c.done_by else ""),
            Column(_("Note"), lambda c: c.note),
        ],
    )
)


def _rosters(user):
    access.require_role(user, permissions.READ_PAYMENTS)
    return payment_selectors.roster_list_for_user(user=user).order_by("-month", "township__code")


ROSTERS = register(
    ListSpec(
        name="rosters",
        title=_("Payment rosters"),
        rows=_rosters,
        filterset=RosterFilter,
        columns=[
            Column(_("Roster"), lambda r: f"#{r.pk}"),
            Column(_("Township"), lambda r: r.township.name),
            Column(_("Month"), lambda r: f"{r.month:%Y-%m}"),
            Column(_("Kind"), lambda r: r.get_kind_display()),
            Column(_("Supplements"), lambda r: f"#{r.supplements_id}" if r.supplements_id else ""),
            Column(_("State"), lambda r: r.get_state_display()),
            Column(_("Lines"), lambda r: r.line_count),
            Column(_("Lines with problems"), lambda r: r.problem_count),
            Column(_("Total (yuan)"), lambda r: r.total),
            Column(_("Due by"), lambda r: r.due_on),
        ],
    )
)


def _months(line) -> str:
    if line.months_to != line.months_from:
        return f"{line.months_from:%Y-%m} – {line.months_to:%Y-%m}"
    return f"{line.months_from:%Y-%m}"


def _account(line) -> str:
    return f"{line.account.bank.name} {line.account.masked}" if line.account else ""


def _problems(line) -> str:
    return "; ".join(str(PROBLEMS.get(code, code)) for code in line.problems)


def _failure(line) -> str:
    return " ".join(filter(None, [line.get_failure_display(), line.failure_note]))


LINE_START = [
    Column(_("Reference"), lambda line: line.reference),
    Column(_("Month"), lambda line: f"{line.roster.month:%Y-%m}"),
    Column(_("Village"), lambda line: line.village.name),
    Column(_("Payee"), lambda line: line.payee_name),
    Column(
        _("Identity number"),
        lambda line: line.payee.identity_number if line.payee else "",
        identity=True,
    ),
]


def _lines(user):
    access.require_role(user, permissions.READ_PAYMENTS)
    return payment_selectors.line_list_for_user(user=user)


ROSTER_LINES = register(
    ListSpec(
        name="roster-lines",
        title=_("Roster lines"),
        rows=_lines,
        filterset=LineFilter,
        columns=[
            *LINE_START,
            Column(_("Programme"), lambda line: line.get_programme_display()),
            Column(_("Kind"), lambda line: line.get_kind_display()),
            Column(_("Months"), _months),
            Column(_("Amount"), lambda line: line.amount),
            Column(_("To the bank"), lambda line: line.net_amount),
            Column(_("Account"), _account),
            Column(_("Checks"), _problems),
            Column(_("Outcome"), lambda line: line.get_outcome_display()),
            Column(_("Why it failed"), _failure),
        ],
    )
)


def _failed(user):
    access.require_role(user, permissions.READ_PAYMENTS)
    return payment_selectors.failed_lines_for_user(user=user)


FAILED_PAYMENTS = register(
    ListSpec(
        name="failed-payments",
        title=_("Failed payments"),
        rows=_failed,
        filterset=FailedLineFilter,
        columns=[
            *LINE_START,
            Column(_("Amount"), lambda line: line.net_amount),
            Column(_("Why it failed"), _failure),
            Column(_("Account"), _account),
        ],
    )
)


def _exceptions(user):
    access.require_role(user, permissions.READ_PAYMENTS)
    return payment_selectors.exception_list_for_user(user=user)


RECONCILIATION_EXCEPTIONS = register(
    ListSpec(
        name="reconciliation-exceptions",
        title=_("Exceptions"),
        rows=_exceptions,
        filterset=ExceptionFilter,
        columns=[
            Column(_("Township"), lambda e: e.township.name),
            Column(_("Village"), lambda e: e.village.name if e.village else ""),
            Column(_("Kind"), lambda e: e.get_kind_display()),
            Column(_("Case"), lambda e: e.application.number if e.application else ""),
            Column(_("Programme"), lambda e: e.get_programme_display()),
            Column(_("Expected"), lambda e: e.expected),
            Column(_("Found"), lambda e: e.actual),
            Column(_("Detail"), lambda e: e.detail),
            Column(_("Status"), lambda e: e.get_status_display()),
            Column(_("Explanation"), lambda e: e.note),
            Column(_("Handled by"), lambda e: str(e.handled_by) if e.handled_by else ""),
        ],
    )
)


def _public_reports(user):
    access.require_role(user, permissions.READ_PUBLICITY)
    return publicity_selectors.reports_for_user(user=user)


PUBLIC_REPORTS = register(
    ListSpec(
        name="public-reports",
        title=_("Reports from the public"),
        rows=_public_reports,
        filterset=PublicReportFilter,
        columns=[
            Column(_("Received"), lambda r: timezone.localtime(r.received_at).replace(tzinfo=None)),
            Column(_("Village"), lambda r: r.village.name),
            Column(
                _("Month"), lambda r: f"{r.public_roster.month:%Y-%m}" if r.public_roster else ""
            ),
            Column(_("Report"), lambda r: r.text),
            Column(_("Reporter"), lambda r: r.reporter_name),
            Column(_("Contact"), lambda r: r.reporter_contact),
            Column(_("State"), lambda r: r.get_state_display()),
            Column(_("How it was handled"), lambda r: r.note),
            Column(_("Handled by"), lambda r: str(r.handled_by) if r.handled_by else ""),
            Column(
                _("About"),
                lambda r: (
                    f"{r.entry.shown_name} {r.entry.get_programme_display()}" if r.entry else ""
                ),
            ),
        ],
    )
)


def _publicity_villages(user):
    access.require_role(user, permissions.READ_PUBLICITY)
    return publicity_selectors.villages_for_user(user=user).select_related("parent")


def _grid_state(village) -> str:
    if village.published_id:
        return str(_("published"))
    if village.frozen:
        return str(_("not published; the payment roster is frozen"))
    return str(_("the payment roster is not frozen yet"))


PUBLICITY_GRID = register(
    ListSpec(
        name="public-rosters",
        title=_("Public roster"),
        rows=_publicity_villages,
        filterset=PublicityGridFilter,
        columns=[
            Column(_("Township"), lambda v: v.parent.name if v.parent else ""),
            Column(_("Village"), lambda v: v.name),
            Column(_("Division code"), lambda v: v.code),
            Column(_("Public roster"), _grid_state),
            Column(
                _("Published"),
                lambda v: (
                    timezone.localtime(v.published_at).replace(tzinfo=None)
                    if v.published_at
                    else None
                ),
            ),
            Column(_("Entries"), lambda v: v.entries_paid or 0),
            Column(_("Total (yuan)"), lambda v: v.total_paid or 0),
            Column(_("Contact for objections"), lambda v: v.published_contact or ""),
        ],
        search_hint=_("Village name or code, or a household listed this month"),
    )
)
