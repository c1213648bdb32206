"""Money: the reads. Each starts from the user's jurisdiction for payments
(``permissions.READ_PAYMENTS``): village assistants read no roster, since it carries
accounts."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.models import AssistanceType
from cases.payments.models import (
    FundAllocation,
    MonthlyStatistics,
    Reconciliation,
    ReconciliationException,
    Roster,
    RosterLine,
)


def roster_list_for_user(*, user: User) -> QuerySet[Roster]:
    return access.restrict(
        Roster.objects.select_related("township", "supplements", "prepared_by"),
        user,
        region_field="township",
        roles=permissions.READ_PAYMENTS,
    )


def roster_get(*, user: User, roster_id: int) -> Roster:
    return access.get_object_or_404(
        Roster.objects.select_related(
            "township", "supplements", "prepared_by", "county_approved_by", "finance_approved_by"
        ),
        user,
        region_field="township",
        roles=permissions.READ_PAYMENTS,
        pk=roster_id,
    )


def line_list_for_user(*, user: User) -> QuerySet[RosterLine]:
    """Roster lines of the user's places, as a roster's page lists them (its list spec
    narrows them to one roster)."""
    return access.restrict(
        RosterLine.objects.select_related(
            "roster", "village", "account__bank", "refers_to", "award", "adjustment", "payee"
        ),
        user,
        region_field="village",
        roles=permissions.READ_PAYMENTS,
    ).order_by("village__code", "household_id", "id")


def exception_list_for_user(*, user: User) -> QuerySet[ReconciliationException]:
    """Reconciliation exceptions of the user's townships (a county's month is read by
    its townships, each its own exceptions); the page narrows them to one month."""
    return access.restrict(
        # An application's number reads its village's code.
        ReconciliationException.objects.select_related(
            "township", "village", "application__village", "handled_by"
        ),
        user,
        region_field="township",
        roles=permissions.READ_PAYMENTS,
    ).order_by("township__code", "kind", "id")


def failed_lines_for_user(*, user: User) -> QuerySet[RosterLine]:
    """Failed payments not yet re-issued: the township's queue (domain.md §7)."""
    # NOT EXISTS, not NOT IN: one re-issue without ``refers_to`` would empty a NOT IN.
    reissued = RosterLine.objects.filter(
        kind=RosterLine.Kind.REISSUE, refers_to=OuterRef("pk")
    ).exclude(roster__state=Roster.State.WITHDRAWN)
    return access.restrict(
        RosterLine.objects.filter(outcome=RosterLine.Outcome.FAILED)
        .exclude(Exists(reissued))
        .select_related("roster", "village", "account__bank", "household", "payee"),
        user,
        region_field="village",
        roles=permissions.READ_PAYMENTS,
    ).order_by("roster__month", "village__code", "id")


def rosters_due_for_user(*, user: User) -> QuerySet[Roster]:
    """Rosters not yet frozen, by their deadline (the 15th): the work queue's payment row."""
    return (
        roster_list_for_user(user=user)
        .filter(state__in=[Roster.State.PREPARED, Roster.State.COUNTY_APPROVED])
        .order_by("due_on", "id")
    )


# Rosters whose lines hold the county's money: approved by the county, or later.
COMMITTING_STATES = [Roster.State.COUNTY_APPROVED, Roster.State.APPROVED, Roster.State.PAID]


def _by_programme(rows: QuerySet, field: str = "amount") -> dict[str, Decimal]:
    return dict(rows.values_list("programme").annotate(total=Sum(field)))


def _allocated(county: Region, month: datetime.date) -> dict[str, Decimal]:
    return _by_programme(FundAllocation.objects.filter(county=county, month=month))


def _committed(county: Region, month: datetime.date) -> QuerySet[RosterLine]:
    """The county's lines of the month that approved rosters commit money to (not held
    back, not failed at the bank)."""
    return RosterLine.objects.filter(
        roster__township__code__startswith=county.prefix,
        roster__month=month,
        roster__state__in=COMMITTING_STATES,
    ).exclude(outcome__in=[RosterLine.Outcome.HELD, RosterLine.Outcome.FAILED])


def funds_ledger(*, county: Region, month: datetime.date) -> list[dict]:
    """Per programme of one county and month: allocated, committed by approved rosters
    (frozen or awaiting finance), paid (from the bank returns) and the balance."""
    allocated = _allocated(county, month)
    committed = _by_programme(_committed(county, month))
    paid = _by_programme(
        RosterLine.objects.filter(
            roster__township__code__startswith=county.prefix,
            roster__month=month,
            outcome=RosterLine.Outcome.PAID,
        ),
        "net_amount",
    )
    rows = []
    for programme, label in AssistanceType.choices:
        figures = {
            "allocated": allocated.get(programme) or Decimal("0"),
            "committed": committed.get(programme) or Decimal("0"),
            "paid": paid.get(programme) or Decimal("0"),
        }
        if not any(figures.values()):
            continue
        rows.append(
            {
                "programme": programme,
                "label": label,
                **figures,
                "balance": figures["allocated"] - figures["paid"],
                "over": figures["committed"] > figures["allocated"],
            }
        )
    return rows


def funds_shortfall(roster: Roster) -> dict[str, Decimal]:
    """By programme, how much more this roster needs than the county's funds left for its
    month (allocated less everything else committed); empty when it fits."""
    county = roster.township.county()
    mine = _by_programme(roster.lines.exclude(outcome=RosterLine.Outcome.HELD))
    allocated = _allocated(county, roster.month)
    others = _by_programme(_committed(county, roster.month).exclude(roster=roster))
    short = {}
    for programme, need in mine.items():
        left = (allocated.get(programme) or Decimal("0")) - (others.get(programme) or Decimal("0"))
        if need > left:
            short[programme] = need - left
    return short


def counties_for_user(*, user: User, roles: frozenset[str]) -> QuerySet[Region]:
    """The counties where the user holds one of ``roles``, at the county or anywhere in it
    (a township's staff reads its county's funds ledger and reconciliation)."""
    jurisdiction = access.jurisdiction_for(user, roles=roles)
    counties = Region.objects.filter(level=Region.Level.COUNTY).order_by("code")
    if jurisdiction.everything:
        return counties
    codes = {
        Region.enclosing_code(Region.code_from_prefix(prefix), Region.Level.COUNTY)
        for prefix in jurisdiction.prefixes
    }
    inside = jurisdiction.q(None)
    return counties.filter(inside | Q(code__in=codes))


def townships_for_user(*, user: User, roles: frozenset[str]) -> QuerySet[Region]:
    """The townships where the user holds one of ``roles`` (acting, not reading)."""
    jurisdiction = access.jurisdiction_for(user, roles=roles, include_grants=False)
    return (
        Region.objects.filter(level=Region.Level.TOWNSHIP)
        .filter(jurisdiction.q(None))
        .order_by("code")
    )


def reconciliation_get(*, user: User, reconciliation_id: int) -> Reconciliation:
    return _county_object(Reconciliation, user, reconciliation_id)


def statistics_get(*, user: User, statistics_id: int) -> MonthlyStatistics:
    return _county_object(MonthlyStatistics, user, statistics_id)


def _county_object(model, user: User, pk: int):
    """A county's object, for anyone who reads payments anywhere in that county (a
    township's staff reads its county's reconciliation; the rows they see are limited
    by township in the view)."""
    obj = model.objects.select_related("county").filter(pk=pk).first()
    jurisdiction = access.jurisdiction_for(user, roles=permissions.READ_PAYMENTS)
    if obj is None or not (
        jurisdiction.contains(obj.county)
        or any(prefix.startswith(obj.county.prefix) for prefix in jurisdiction.prefixes)
    ):
        raise Http404(_("Not found."))
    return obj
