"""Reads of the case overview. Each starts from the user's jurisdiction for the overview
(permissions.READ_CASE_OVERVIEW: the county auditor's county, the township approver's
township) and costs one grouped query, however many townships and months it covers.

A case's township is its village's parent in the region tree; a day or a month is the
portal's local one (Asia/Shanghai), so a case decided at 00:30 on the 1st belongs to the
new month although it is still the old one in UTC.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.records import Application

S = Application.State
# The states a case moves through once filed: a draft is nobody's business but its
# author's until it is submitted.
FILED_STATES = [value for value, _label in S.choices if value != S.DRAFT]
OPEN_FILED_STATES = Application.OPEN_STATES - {S.DRAFT}
MONTHS_SHOWN = 12


def applications_for_overview(*, user: User) -> QuerySet[Application]:
    return access.restrict(
        Application.objects.all(),
        user,
        region_field="village",
        roles=permissions.READ_CASE_OVERVIEW,
    )


def _township_values(queryset: QuerySet) -> QuerySet:
    return queryset.values(
        "village__parent", code=F("village__parent__code"), name=F("village__parent__name")
    )


def _township(row: dict) -> Region:
    return Region(
        pk=row["village__parent"], code=row["code"], name=row["name"], level=Region.Level.TOWNSHIP
    )


def local_start(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the portal's time zone."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def next_month(first: datetime.date) -> datetime.date:
    return (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def months_back(today: datetime.date, months: int) -> list[datetime.date]:
    """The first days of the ``months`` months up to ``today``'s, oldest first."""
    first = today.replace(day=1)
    out = [first]
    for _i in range(months - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        out.append(first)
    return out[::-1]


# --- cases by state and township ------------------------------------------------------------


@dataclass
class TownshipStates:
    township: Region
    counts: list[int]  # one per column of the table

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class StatesTable:
    states: list[tuple[str, str]]  # (state, label): the states any case here is in
    rows: list[TownshipStates]

    @property
    def totals(self) -> list[int]:
        return [sum(r.counts[i] for r in self.rows) for i in range(len(self.states))]

    @property
    def total(self) -> int:
        return sum(self.totals)


def case_states_by_township(*, user: User) -> StatesTable:
    """The filed cases of the user's places by township and state: one grouped query.
    The columns are the states at least one case is in, in the order of the path."""
    rows = list(
        _township_values(applications_for_overview(user=user).filter(state__in=FILED_STATES))
        .annotate(state_value=F("state"), n=Count("id"))
        .order_by("code", "state_value")
    )
    present = {r["state_value"] for r in rows}
    states = [(value, label) for value, label in S.choices if value in present]
    column = {value: i for i, (value, _label) in enumerate(states)}
    by_township: dict[int, TownshipStates] = {}
    for r in rows:
        entry = by_township.setdefault(
            r["village__parent"], TownshipStates(_township(r), [0] * len(states))
        )
        entry.counts[column[r["state_value"]]] += r["n"]
    return StatesTable(states=states, rows=list(by_township.values()))


# --- deadlines met --------------------------------------------------------------------------


@dataclass
class MonthDecisions:
    month: datetime.date  # its first day
    in_time: int  # decided on or before the day due (local time)
    late: int  # decided after it
    undated: int  # decided without a due date (never accepted with one)

    @property
    def total(self) -> int:
        return self.in_time + self.late + self.undated

    @property
    def share_in_time(self) -> float | None:
        dated = self.in_time + self.late
        return round(100 * self.in_time / dated, 1) if dated else None


@dataclass
class DecisionsByMonth:
    rows: list[MonthDecisions] = field(default_factory=list)

    @property
    def in_time(self) -> int:
        return sum(r.in_time for r in self.rows)

    @property
    def late(self) -> int:
        return sum(r.late for r in self.rows)

    @property
    def undated(self) -> int:
        return sum(r.undated for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)


def decisions_in_time_by_month(
    *, user: User, today: datetime.date | None = None, months: int = MONTHS_SHOWN
) -> DecisionsByMonth:
    """Of the cases decided in each of the last ``months`` months (local time), how many
    were decided by their due date (Application.due_on): one grouped query. Every month
    is there, with zeros."""
    today = today or timezone.localdate()
    month_list = months_back(today, months)
    rows = (
        applications_for_overview(user=user)
        .filter(
            decided_at__gte=local_start(month_list[0]),
            decided_at__lt=local_start(next_month(month_list[-1])),
        )
        .annotate(month=TruncMonth("decided_at"))
        .values("month")
        .annotate(
            in_time=Count("id", filter=Q(decided_at__date__lte=F("due_on"))),
            late=Count("id", filter=Q(decided_at__date__gt=F("due_on"))),
            undated=Count("id", filter=Q(due_on__isnull=True)),
        )
        .order_by()
    )
    at = {m: MonthDecisions(m, 0, 0, 0) for m in month_list}
    for r in rows:
        entry = at[timezone.localtime(r["month"]).date()]
        entry.in_time, entry.late, entry.undated = r["in_time"], r["late"], r["undated"]
    return DecisionsByMonth(rows=list(at.values()))


@dataclass
class TownshipOverdue:
    township: Region
    past_due: int  # open cases whose decision was due before today
    not_due: int  # open cases still in time, or not yet accepted (no due date)

    @property
    def total(self) -> int:
        return self.past_due + self.not_due


def open_cases_past_due_by_township(
    *, user: User, today: datetime.date | None = None
) -> list[TownshipOverdue]:
    """The open (filed, undecided) cases of the user's places by township, and how many
    are past their due date now: one grouped query."""
    today = today or timezone.localdate()
    past_due = Q(due_on__lt=today)
    rows = (
        _township_values(applications_for_overview(user=user).filter(state__in=OPEN_FILED_STATES))
        .annotate(past_due=Count("id", filter=past_due), not_due=Count("id", filter=~past_due))
        .order_by("code")
    )
    return [TownshipOverdue(_township(r), r["past_due"], r["not_due"]) for r in rows]


# --- the counts the county watches ----------------------------------------------------------


@dataclass(frozen=True)
class MonthCounts:
    month: datetime.date  # its first day
    received: int  # applications submitted this month
    approved: int  # decided this month, approved
    rejected: int  # decided this month, rejected
    in_payment: int  # in payment now
    awaiting_decision: int  # awaiting a decision now


def month_counts(*, user: User, today: datetime.date | None = None) -> MonthCounts:
    """This month's applications and decisions, and the cases in payment and awaiting a
    decision now, in the user's places: one aggregate query."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    start, end = local_start(first), local_start(next_month(first))
    decided = Q(decided_at__gte=start, decided_at__lt=end)
    counts = applications_for_overview(user=user).aggregate(
        received=Count("id", filter=Q(submitted_at__gte=start, submitted_at__lt=end)),
        # A decision is an approval unless it rejected the case: an approved case may be
        # in payment or stopped by now.
        approved=Count("id", filter=decided & ~Q(state=S.REJECTED)),
        rejected=Count("id", filter=decided & Q(state=S.REJECTED)),
        in_payment=Count("id", filter=Q(state=S.IN_PAYMENT)),
        awaiting_decision=Count("id", filter=Q(state=S.AWAITING_DECISION)),
    )
    return MonthCounts(month=first, **counts)
