"""The public roster: the writes (domain.md §7; 2021 national measures art. 24).

- ``public_roster_publish``: a village's month, built from the lines of the month's
  frozen payment roster of its township and of the frozen supplementary rosters that
  correct it: monthly and one-off payments (back pay, recoveries and re-issues are not
  what a family is granted), one entry per household and programme, its name as the
  county's policy in force says (full by default, or masked), and how each changed
  since the previous month;
- ``public_roster_withdraw``: take it off the public page, with a reason;
- ``public_report_receive``: an objection or report from the public page, into the
  township's queue, about one listed household or the roster as a whole;
  ``public_report_handle``: the township's answer to it.

Each runs in one transaction with its audit row.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Region, User
from cases.models import Member, MemberDeath, Policy
from cases.payments.models import Roster, RosterLine
from cases.payments.services import ONE_OFF_PROGRAMMES, month_of, previous_month
from cases.policy import policy_in_force
from cases.publicity.models import PublicReport, PublicRoster, PublicRosterEntry

E = PublicRosterEntry.Change
# The lines a public roster shows: what the family is granted, month by month or once.
PUBLISHED_KINDS = (RosterLine.Kind.MONTHLY, RosterLine.Kind.ONE_OFF)


def mask_name(name: str) -> str:
    """The first and last character kept, each one between starred: 马*兰, 欧**明; a
    name of two characters keeps its first: 马*."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def name_display(village: Region, on: datetime.date) -> str:
    """The county's setting in force: full names (the default, art. 24) or masked."""
    try:
        policy = policy_in_force(county=village.county(), on=on)
    except DomainError:
        return Policy.PublicNameDisplay.FULL
    return policy.public_name_display


@dataclass
class _Entry:
    household_id: int
    programme: str
    name: str
    size: int
    amount: Decimal


def _require(condition, message: str, *, field: str | None = None) -> None:
    if not condition:
        raise DomainError(message, field=field)


def _frozen_roster(village: Region, month: datetime.date) -> Roster | None:
    """The month's regular roster of the village's township, if it is frozen."""
    roster = (
        Roster.objects.filter(
            township__code=village.township_code, month=month, kind=Roster.Kind.REGULAR
        )
        .exclude(state=Roster.State.WITHDRAWN)
        .first()
    )
    return roster if roster is not None and roster.frozen else None


def _household_sizes(household_ids, month: datetime.date) -> dict[int, int]:
    """Members living together (supporters elsewhere are not), less those who died
    before the month began."""
    members = Member.objects.filter(household_id__in=household_ids, is_supporter=False)
    dead = set(
        MemberDeath.objects.filter(
            application__household_id__in=household_ids, died_on__lt=month
        ).values_list("application__household_id", "person_id")
    )
    sizes: dict[int, int] = defaultdict(int)
    for household_id, person_id in members.values_list("household_id", "person_id"):
        if (household_id, person_id) not in dead:
            sizes[household_id] += 1
    return sizes


def _entries_from_payments(village: Region, roster: Roster) -> dict[tuple, _Entry]:
    """One entry per household and programme from the village's lines of the frozen
    roster and its frozen supplementary rosters. A payment of one decision counts once
    (a line held back on the roster and paid on a supplementary one is one payment)."""
    lines = (
        RosterLine.objects.filter(village=village, kind__in=PUBLISHED_KINDS)
        .filter(
            Q(roster=roster) | Q(roster__supplements=roster, roster__state__in=Roster.FROZEN_STATES)
        )
        .order_by("household_id", "id")
        .values("household_id", "programme", "payee_name", "amount", "award_id")
    )
    entries: dict[tuple, _Entry] = {}
    seen_awards: set[int] = set()
    for line in lines:
        if line["award_id"] is not None:
            if line["award_id"] in seen_awards:
                continue
            seen_awards.add(line["award_id"])
        key = (line["household_id"], line["programme"])
        if key in entries:
            entries[key].amount += line["amount"]
        else:
            entries[key] = _Entry(
                line["household_id"], line["programme"], line["payee_name"], 0, line["amount"]
            )
    sizes = _household_sizes({key[0] for key in entries}, roster.month)
    for entry in entries.values():
        entry.size = sizes.get(entry.household_id, 0)
    return entries


def _previous(village: Region, month: datetime.date):
    """What the month is compared against: the previous month's published roster, or
    else the previous month's frozen payment roster; (None, None) when neither exists."""
    before = previous_month(month)
    published = (
        PublicRoster.objects.filter(village=village, month=before, withdrawn_at__isnull=True)
        .prefetch_related("entries")
        .first()
    )
    if published is not None:
        return published, {
            (e.household_id, e.programme): _Entry(
                e.household_id, e.programme, e.shown_name, e.household_size, e.amount
            )
            for e in published.entries.all()
            if e.change != E.STOPPED
        }
    roster = _frozen_roster(village, before)
    if roster is not None:
        return None, _entries_from_payments(village, roster)
    return None, None


def public_roster_publish(
    *, actor: User, village_id: int, month: datetime.date, contact: str = ""
) -> PublicRoster:
    """Publish a village's month from its township's frozen payment roster."""
    month = month_of(month)
    with transaction.atomic():
        village = (
            Region.objects.select_for_update()
            .filter(pk=village_id, level=Region.Level.VILLAGE)
            .first()
        )
        if village is None or not access.jurisdiction_for(
            actor, roles=permissions.READ_PUBLICITY
        ).contains(village):
            raise DomainError(_("No such village."), field="village")
        access.require_role(actor, permissions.PUBLISH_ROSTERS, village)
        if PublicRoster.objects.filter(
            village=village, month=month, withdrawn_at__isnull=True
        ).exists():
            raise Conflict(
                _("The public roster of %(village)s for %(month)s is already published.")
                % {"village": village.name, "month": month.strftime("%Y-%m")}
            )
        roster = _frozen_roster(village, month)
        _require(
            roster is not None,
            _(
                "The payment roster of %(month)s is not frozen yet: the public roster is "
                "published from a roster the finance bureau has reviewed."
            )
            % {"month": month.strftime("%Y-%m")},
            field="month",
        )
        current = _entries_from_payments(village, roster)
        _require(current, _("Nobody of this village is on the month's roster."), field="village")
        display = name_display(village, timezone.localdate())

        def shown(name: str) -> str:
            return mask_name(name) if display == Policy.PublicNameDisplay.MASKED else name

        compared_with, before = _previous(village, month)
        public = PublicRoster.objects.create(
            village=village,
            month=month,
            compared_with=compared_with,
            changes_listed=before is not None,
            contact=contact.strip()[:100],
            published_by=actor,
        )
        rows = []
        for key, entry in sorted(current.items(), key=lambda item: (item[0][1], item[0][0])):
            previous_amount = None
            if before is None:
                change = E.UNCHANGED
            elif entry.programme in ONE_OFF_PROGRAMMES or key not in before:
                change = E.NEW
            elif before[key].amount != entry.amount:
                change, previous_amount = E.AMOUNT_CHANGED, before[key].amount
            else:
                change = E.UNCHANGED
            rows.append(
                PublicRosterEntry(
                    public_roster=public,
                    household_id=entry.household_id,
                    shown_name=shown(entry.name),
                    household_size=entry.size,
                    programme=entry.programme,
                    amount=entry.amount,
                    previous_amount=previous_amount,
                    change=change,
                )
            )
        for key, entry in sorted((before or {}).items(), key=lambda item: (item[0][1], item[0][0])):
            if key not in current and entry.programme not in ONE_OFF_PROGRAMMES:
                rows.append(
                    PublicRosterEntry(
                        public_roster=public,
                        household_id=entry.household_id,
                        shown_name=shown(entry.name),
                        household_size=entry.size,
                        programme=entry.programme,
                        amount=entry.amount,
                        previous_amount=entry.amount,
                        change=E.STOPPED,
                    )
                )
        PublicRosterEntry.objects.bulk_create(rows)
        counts = defaultdict(int)
        for row in rows:
            counts[row.change] += 1
        audit_record(
            actor=actor,
            action="publicity.publish",
            obj=public,
            region=village,
            new={
                "month": month,
                "roster": roster.pk,
                "names": display,
                "entries": len(rows) - counts[E.STOPPED],
                "total": sum((e.amount for e in current.values()), Decimal("0")),
                "changes": dict(counts),
            },
        )
        return public


def _lock_public_roster(actor: User, public_roster_id: int) -> PublicRoster:
    public = (
        PublicRoster.objects.select_for_update(of=("self",))
        .select_related("village")
        .filter(pk=public_roster_id)
        .first()
    )
    if public is None or not access.jurisdiction_for(
        actor, roles=permissions.READ_PUBLICITY
    ).contains(public.village):
        raise DomainError(_("No such public roster."))
    return public


def public_roster_withdraw(*, actor: User, public_roster_id: int, reason: str) -> PublicRoster:
    """Take a public roster off the public page; it stays on record, marked withdrawn,
    and the month may be published again."""
    _require(len(reason.strip()) >= 2, _("Say why it is withdrawn."), field="reason")
    with transaction.atomic():
        public = _lock_public_roster(actor, public_roster_id)
        access.require_role(actor, permissions.PUBLISH_ROSTERS, public.village)
        if public.withdrawn:
            raise Conflict(_("This public roster is already withdrawn."))
        public.withdrawn_at = timezone.now()
        public.withdrawn_by = actor
        public.withdraw_reason = reason.strip()[:200]
        public.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
        audit_record(
            actor=actor,
            action="publicity.withdraw",
            obj=public,
            region=public.village,
            old={"published_at": public.published_at},
            new={"withdrawn_at": public.withdrawn_at},
            reason=reason,
        )
        return public


def public_report_receive(
    *,
    public_roster: PublicRoster,
    text: str,
    contact: str,
    name: str = "",
    entry: PublicRosterEntry | None = None,
) -> PublicReport:
    """A report from the public page of a published roster (the view found it), about
    one of its entries or about the roster as a whole.

    A report about an entry is a complaint about that household from the moment it is
    received: the county's next 100% spot-check draws the household's cases
    (verification.spotcheck.services.population_queryset); no mark is kept beside it."""
    text, contact, name = text.strip(), contact.strip(), name.strip()
    _require(text, _("Write what you report."), field="text")
    _require(contact, _("Give a way to reach you."), field="contact")
    _require(
        entry is None or entry.public_roster_id == public_roster.pk,
        _("Choose a household listed on this roster."),
        field="about",
    )
    with transaction.atomic():
        report = PublicReport.objects.create(
            village=public_roster.village,
            public_roster=public_roster,
            entry=entry,
            text=text[:4000],
            reporter_name=name[:50],
            reporter_contact=contact[:100],
        )
        # Who reported stays out of the audit log: the row says only that one came in,
        # and which entry it is about.
        audit_record(
            actor=None,
            action="publicity.report_receive",
            obj=report,
            region=report.village,
            new={"entry": entry.pk} if entry is not None else None,
        )
        return report


def public_report_handle(*, actor: User, report_id: int, note: str) -> PublicReport:
    """The township records how it handled a report; the report leaves the open queue."""
    _require(note.strip(), _("Write how the report was handled."), field="note")
    with transaction.atomic():
        report = (
            PublicReport.objects.select_for_update(of=("self",))
            .select_related("village")
            .filter(pk=report_id)
            .first()
        )
        if report is None or not access.jurisdiction_for(
            actor, roles=permissions.READ_PUBLICITY
        ).contains(report.village):
            raise DomainError(_("No such report."))
        access.require_role(actor, permissions.HANDLE_PUBLIC_REPORTS, report.village)
        if report.state == PublicReport.State.HANDLED:
            raise Conflict(_("This report is already handled."))
        report.state = PublicReport.State.HANDLED
        report.handled_by = actor
        report.handled_at = timezone.now()
        report.note = note.strip()
        report.save(update_fields=["state", "handled_by", "handled_at", "note"])
        audit_record(
            actor=actor,
            action="publicity.report_handle",
            obj=report,
            region=report.village,
            new={"state": report.state},
            reason=report.note,
        )
        return report
