"""The public roster: the reads. The public ones find only published, not withdrawn
rosters and answer 404 for anything else, whether the place exists or not; the staff
ones start from the user's jurisdiction (``permissions.READ_PUBLICITY``)."""

from __future__ import annotations

import datetime
import re

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Sum
from django.http import Http404

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.payments.models import Roster
from cases.publicity.models import PublicReport, PublicRoster, PublicRosterEntry

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CODE = re.compile(r"^\d{12}$")


def month_parse(text: str) -> datetime.date:
    """``YYYY-MM`` as the month's first day; anything else is not found."""
    found = _MONTH.match(text or "")
    if not found:
        raise Http404
    try:
        return datetime.date(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise Http404 from None


def _published() -> QuerySet[PublicRoster]:
    return PublicRoster.objects.filter(withdrawn_at__isnull=True).select_related("village")


def published_for_village(village_code: str, month: str) -> PublicRoster:
    if not _CODE.match(village_code or ""):
        raise Http404
    roster = (
        _published()
        .filter(
            village__code=village_code,
            village__level=Region.Level.VILLAGE,
            month=month_parse(month),
        )
        .first()
    )
    if roster is None:
        raise Http404
    return roster


def published_for_township(township_code: str, month: str) -> tuple[Region, list[PublicRoster]]:
    if not _CODE.match(township_code or ""):
        raise Http404
    township = Region.objects.filter(code=township_code, level=Region.Level.TOWNSHIP).first()
    if township is None:
        raise Http404
    rosters = list(
        _published()
        .filter(village__code__startswith=township.prefix, month=month_parse(month))
        .order_by("village__code")
    )
    if not rosters:
        raise Http404
    return township, rosters


def report_entries(roster: PublicRoster) -> list[PublicRosterEntry]:
    """The entries the report form offers, in the order the page lists them: this
    month's and those stopped since last month."""
    return list(roster.entries.order_by("programme", "id"))


def public_rows(roster: PublicRoster) -> dict:
    """What the public page shows of a roster, as plain values (no ids): the entries
    paid this month, and the month's changes."""
    entries = list(roster.entries.order_by("programme", "id"))
    labels = dict(PublicRosterEntry.Change.choices)

    def row(entry: PublicRosterEntry) -> dict:
        return {
            "name": entry.shown_name,
            "size": entry.household_size,
            "programme": entry.get_programme_display(),
            "amount": entry.amount,
        }

    paid = [row(e) for e in entries if e.change != PublicRosterEntry.Change.STOPPED]
    changes = [
        row(e) | {"change": labels[e.change], "previous": e.previous_amount}
        for e in entries
        if e.change != PublicRosterEntry.Change.UNCHANGED
    ]
    return {
        "village": roster.village.name,
        "month": roster.month,
        "rows": paid,
        "total": sum((r["amount"] for r in paid), 0),
        "changes": changes,
        "changes_listed": roster.changes_listed,
        "contact": roster.contact,
    }


# --- staff ------------------------------------------------------------------------------------


def public_rosters_for_user(*, user: User) -> QuerySet[PublicRoster]:
    return access.restrict(
        PublicRoster.objects.select_related("village", "published_by", "withdrawn_by"),
        user,
        region_field="village",
        roles=permissions.READ_PUBLICITY,
    )


def public_roster_get(*, user: User, public_roster_id: int) -> PublicRoster:
    return access.get_object_or_404(
        PublicRoster.objects.select_related("village", "published_by", "withdrawn_by"),
        user,
        region_field="village",
        roles=permissions.READ_PUBLICITY,
        pk=public_roster_id,
    )


def villages_for_user(*, user: User) -> QuerySet[Region]:
    return access.restrict(
        Region.objects.filter(level=Region.Level.VILLAGE),
        user,
        region_field=None,
        roles=permissions.READ_PUBLICITY,
    ).order_by("code")


def village_month_published(month: datetime.date) -> QuerySet[PublicRoster]:
    """The village's (OuterRef ``pk``) published roster of ``month``, for subqueries."""
    return PublicRoster.objects.filter(
        village=OuterRef("pk"), month=month, withdrawn_at__isnull=True
    )


def village_month_frozen(month: datetime.date) -> Exists:
    """Whether the village's township (its parent) has ``month``'s regular roster frozen."""
    return Exists(
        Roster.objects.filter(
            township_id=OuterRef("parent_id"),
            month=month,
            kind=Roster.Kind.REGULAR,
            state__in=Roster.FROZEN_STATES,
        )
    )


def villages_with_month(villages: QuerySet[Region], month: datetime.date) -> QuerySet[Region]:
    """The publicity grid's rows: each village with ``month``'s published roster (its
    id, when, its entries paid and their total) and whether the township's payment roster
    of the month is frozen, all in the one query of the page."""
    published = village_month_published(month)
    paid = (
        PublicRosterEntry.objects.filter(
            public_roster__village=OuterRef("pk"),
            public_roster__month=month,
            public_roster__withdrawn_at__isnull=True,
        )
        .exclude(change=PublicRosterEntry.Change.STOPPED)
        .order_by()
        .values("public_roster_id")
    )
    return villages.annotate(
        published_id=Subquery(published.values("pk")[:1]),
        published_at=Subquery(published.values("published_at")[:1]),
        published_contact=Subquery(published.values("contact")[:1]),
        entries_paid=Subquery(paid.annotate(n=Count("id")).values("n")[:1]),
        total_paid=Subquery(paid.annotate(total=Sum("amount")).values("total")[:1]),
        frozen=village_month_frozen(month),
    )


def reports_for_user(*, user: User) -> QuerySet[PublicReport]:
    return access.restrict(
        PublicReport.objects.select_related("village", "public_roster", "entry", "handled_by"),
        user,
        region_field="village",
        roles=permissions.READ_PUBLICITY,
    ).order_by("state", "-received_at")


def report_get(*, user: User, report_id: int) -> PublicReport:
    return access.get_object_or_404(
        PublicReport.objects.select_related("village"),
        user,
        region_field="village",
        roles=permissions.READ_PUBLICITY,
        pk=report_id,
    )
