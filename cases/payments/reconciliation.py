"""Four-ledger reconciliation (NC Hubei: 99.5% → 99.9%) and the monthly statistics table.

For a county and month the ledgers are: the case system (what is due: the awards in force,
``services.DUE_WHERE``), the rosters (what was approved: lines of frozen rosters), the
bank returns (what was paid), and what was reported (the statistics table) and published
(the public roster, where the publicity feature has published one). ``reconciliation_run``
compares them in set-based SQL and lists every disagreement by household with its kind;
comparing again keeps the explanations of exceptions still found. The month is closed
(``reconciliation_close``, audited) only when every exception is explained or resolved;
the statistics table is then built from it and submitted to the city, frozen.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Region, User
from cases.models import Member
from cases.payments.models import (
    MonthlyStatistics,
    Reconciliation,
    ReconciliationException,
    Roster,
    RosterLine,
)
from cases.payments.services import DUE_FROM, DUE_WHERE, due_params, month_of

X = ReconciliationException.Kind
# The day of the month the statistics table is due at the city (domain.md §7).
STATISTICS_DUE_DAY = 20

# The ledgers are first put in two temporary tables, each computed once: what is due
# (the case system: DUE_WHERE) and what frozen rosters carry for the month's benefit (not
# held back). Every check below is then a join between them, or with the public roster,
# so the comparison stays set-based and its cost grows with the rows, not their product.
_LEDGERS = [
    "DROP TABLE IF EXISTS recon_due, recon_rostered",
    f"""CREATE TEMP TABLE recon_due ON COMMIT DROP AS
        SELECT aw.id AS award_id, a.id AS app_id, a.household_id, a.village_id,
               v.code AS village_code, aw.programme, aw.monthly_amount
        {DUE_FROM} {DUE_WHERE}""",
    """CREATE TEMP TABLE recon_rostered ON COMMIT DROP AS
        SELECT l.id, l.roster_id, l.application_id, l.household_id, l.village_id,
               l.programme, l.kind, l.amount, l.net_amount, l.award_id, l.outcome, l.failure
        FROM cases_rosterline l JOIN cases_roster r ON r.id = l.roster_id
        JOIN aid_portal_region v ON v.id = l.village_id
        WHERE r.month = %(month)s AND r.state IN ('approved', 'paid')
          AND l.kind IN ('monthly', 'one_off', 'reissue') AND l.months_from = %(month)s
          AND l.outcome <> 'held' AND v.code LIKE %(prefix)s""",
    "ANALYZE recon_due",
    "ANALYZE recon_rostered",
]

# Each kind of disagreement: SQL selecting village id, application id, household id,
# programme, expected, actual and detail.
_CHECKS = {
    X.DUE_NOT_ROSTERED: """
        SELECT d.village_id, d.app_id, d.household_id, d.programme, d.monthly_amount,
               NULL::numeric, ''
        FROM recon_due d
        WHERE NOT EXISTS (SELECT 1 FROM recon_rostered r WHERE r.award_id = d.award_id)
    """,
    X.ROSTERED_NOT_DUE: """
        SELECT r.village_id, r.application_id, r.household_id, r.programme, NULL::numeric,
               r.amount, 'R' || r.roster_id || '-L' || r.id
        FROM recon_rostered r
        WHERE r.kind <> 'reissue'
          AND NOT EXISTS (SELECT 1 FROM recon_due d WHERE d.award_id = r.award_id)
    """,
    X.AMOUNT_DIFFERS: """
        SELECT r.village_id, r.application_id, r.household_id, r.programme,
               aw.monthly_amount, r.amount, 'R' || r.roster_id || '-L' || r.id
        FROM recon_rostered r JOIN cases_award aw ON aw.id = r.award_id
        WHERE r.kind <> 'reissue' AND r.amount <> aw.monthly_amount
    """,
    # Failed in the return, and no re-issue of it paid since.
    X.FAILED: """
        SELECT r.village_id, r.application_id, r.household_id, r.programme, r.net_amount,
               NULL::numeric, 'R' || r.roster_id || '-L' || r.id || ' ' || r.failure
        FROM recon_rostered r
        WHERE r.outcome = 'failed' AND NOT EXISTS (
            SELECT 1 FROM cases_rosterline again WHERE again.refers_to_id = r.id
              AND again.outcome = 'paid')
    """,
    # The public roster (cases.publicity) of villages that published the month.
    X.PUBLISHED_NOT_ENROLLED: """
        SELECT pr.village_id, NULL::bigint, e.household_id, e.programme, NULL::numeric,
               e.amount, ''
        FROM cases_publicrosterentry e
        JOIN cases_publicroster pr ON pr.id = e.public_roster_id
        JOIN aid_portal_region pv ON pv.id = pr.village_id
        WHERE pr.month = %(month)s AND pr.withdrawn_at IS NULL AND pv.code LIKE %(prefix)s
          AND NOT EXISTS (
              SELECT 1 FROM recon_due d
              WHERE d.household_id = e.household_id AND d.programme = e.programme)
    """,
    X.ENROLLED_NOT_PUBLISHED: """
        SELECT d.village_id, d.app_id, d.household_id, d.programme, d.monthly_amount,
               NULL::numeric, ''
        FROM recon_due d
        WHERE EXISTS (
              SELECT 1 FROM cases_publicroster pr WHERE pr.village_id = d.village_id
                AND pr.month = %(month)s AND pr.withdrawn_at IS NULL)
          AND NOT EXISTS (
              SELECT 1 FROM cases_publicrosterentry e
              JOIN cases_publicroster pr ON pr.id = e.public_roster_id
              WHERE pr.month = %(month)s AND pr.withdrawn_at IS NULL
                AND e.household_id = d.household_id AND e.programme = d.programme)
    """,
    X.UNPAID: """
        SELECT r.village_id, r.application_id, r.household_id, r.programme, r.net_amount,
               NULL::numeric, 'R' || r.roster_id || '-L' || r.id
        FROM recon_rostered r WHERE r.outcome = 'pending' AND r.net_amount > 0
    """,
}

# A village with households due and no public roster of the month.
_NOT_PUBLISHED = """
    SELECT d.village_id, count(DISTINCT d.household_id) FROM recon_due d
    WHERE NOT EXISTS (
        SELECT 1 FROM cases_publicroster pr WHERE pr.village_id = d.village_id
          AND pr.month = %(month)s AND pr.withdrawn_at IS NULL)
    GROUP BY d.village_id
"""


def _lock_county(actor: User, county_id: int) -> Region:
    try:
        county = Region.objects.get(pk=county_id, level=Region.Level.COUNTY)
    except Region.DoesNotExist:
        raise DomainError(_("No such county."), field="county") from None
    if not access.jurisdiction_for(actor, roles=permissions.READ_PAYMENTS).contains(county):
        raise DomainError(_("No such county."), field="county")
    access.require_role(actor, permissions.RECONCILE_PAYMENTS, county)
    return county


def reconciliation_run(
    *, actor: User, county_id: int, month: datetime.date, today: datetime.date | None = None
) -> Reconciliation:
    """Compare the ledgers of a county's month (again). Exceptions still found keep their
    explanation; those gone are dropped; new ones are open."""
    today = today or timezone.localdate()
    month = month_of(month)
    if month > today.replace(day=1):
        raise DomainError(_("A month is compared once it has begun."), field="month")
    with transaction.atomic():
        county = _lock_county(actor, county_id)
        reconciliation, _created = Reconciliation.objects.select_for_update().get_or_create(
            county=county, month=month
        )
        if reconciliation.state == Reconciliation.State.CLOSED:
            raise Conflict(_("This month is closed; its reconciliation no longer changes."))
        found = _compare(county, month)
        kept = {e.key: e for e in reconciliation.exceptions.all()}
        fresh = []
        for row in found:
            old = kept.pop(row.key, None)
            if old is not None and old.status != ReconciliationException.Status.OPEN:
                row.status, row.note = old.status, old.note
                row.handled_by_id, row.handled_at = old.handled_by_id, old.handled_at
            row.reconciliation = reconciliation
            fresh.append(row)
        reconciliation.exceptions.all().delete()
        ReconciliationException.objects.bulk_create(fresh, batch_size=5000)
        reconciliation.rates, reconciliation.rate = _rates(county, month, fresh)
        reconciliation.computed_at = timezone.now()
        reconciliation.computed_by = actor
        reconciliation.save()
        audit_record(
            actor=actor,
            action="reconciliation.run",
            obj=reconciliation,
            region=county,
            new={"month": month, "exceptions": len(fresh), "rate": reconciliation.rate},
        )
        return reconciliation


def _compare(county: Region, month: datetime.date) -> list[ReconciliationException]:
    params = due_params(month, county)
    townships = {
        r.code[:9]: r.pk
        for r in Region.objects.filter(level=Region.Level.TOWNSHIP, code__startswith=county.prefix)
    }
    villages = dict(
        Region.objects.filter(
            level=Region.Level.VILLAGE, code__startswith=county.prefix
        ).values_list("pk", "code")
    )
    found = []
    with connection.cursor() as cursor:
        for statement in _LEDGERS:
            cursor.execute(statement, params)
        for kind, sql in _CHECKS.items():
            cursor.execute(sql, params)
            for village_id, app_id, household_id, programme, expected, actual, detail in cursor:
                found.append(
                    ReconciliationException(
                        kind=kind,
                        township_id=townships[villages[village_id][:9]],
                        village_id=village_id,
                        application_id=app_id,
                        household_id=household_id,
                        programme=programme,
                        expected=expected,
                        actual=actual,
                        detail=(detail or "")[:200],
                    )
                )
    found += _statistics_differences(county, month, townships)
    found += _villages_not_published(params, townships, villages)
    return found


def _villages_not_published(params, townships, villages) -> list[ReconciliationException]:
    """A village with households due and no public roster of the month: one exception for
    the village (its households are not counted against the rate one by one)."""
    with connection.cursor() as cursor:
        cursor.execute(_NOT_PUBLISHED, params)
        rows = cursor.fetchall()
    return [
        ReconciliationException(
            kind=X.ENROLLED_NOT_PUBLISHED,
            township_id=townships[villages[village_id][:9]],
            village_id=village_id,
            programme="",
            detail=_("no public roster published: %(count)s households due") % {"count": count},
        )
        for village_id, count in rows
    ]


def _statistics_differences(county, month, townships) -> list[ReconciliationException]:
    """A submitted statistics table that no longer matches what was paid."""
    table = MonthlyStatistics.objects.filter(
        county=county, month=month, state=MonthlyStatistics.State.SUBMITTED
    ).first()
    if table is None:
        return []
    paid = _paid_by_township(county, month)
    found = []
    for row in table.rows:
        now = paid.get((row["township"], row["programme"]), Decimal("0"))
        reported = Decimal(str(row["paid"]))
        if now != reported:
            found.append(
                ReconciliationException(
                    kind=X.STATISTICS_DIFFER,
                    township_id=townships[row["township"]],
                    programme=row["programme"],
                    expected=now,
                    actual=reported,
                    detail=_("reported %(reported)s, paid %(paid)s")
                    % {"reported": reported, "paid": now},
                )
            )
    return found


def _paid_by_township(county: Region, month: datetime.date) -> dict:
    rows = (
        RosterLine.objects.filter(
            roster__month=month,
            roster__township__code__startswith=county.prefix,
            outcome=RosterLine.Outcome.PAID,
        )
        .values("roster__township__code", "programme")
        .annotate(total=Sum("net_amount"))
    )
    return {
        (r["roster__township__code"][:9], r["programme"]): r["total"] or Decimal("0") for r in rows
    }


def _rates(county, month, exceptions) -> tuple[dict, Decimal | None]:
    """Per township: households due, those with an exception, and the agreement rate."""
    with connection.cursor() as cursor:  # recon_due: made by _compare, same transaction
        cursor.execute(
            "SELECT left(village_code, 9), count(DISTINCT household_id) FROM recon_due GROUP BY 1"
        )
        due = dict(cursor.fetchall())
    names = dict(
        Region.objects.filter(
            level=Region.Level.TOWNSHIP, code__startswith=county.prefix
        ).values_list("code", "name")
    )
    troubled: dict[str, set] = {}
    codes = dict(
        Region.objects.filter(pk__in={e.township_id for e in exceptions}).values_list("pk", "code")
    )
    for e in exceptions:
        if e.household_id:
            troubled.setdefault(codes[e.township_id][:9], set()).add(e.household_id)
    rates = {}
    for code, name in sorted(names.items()):
        short = code[:9]
        households = due.get(short, 0)
        bad = len(troubled.get(short, ()))
        rates[short] = {
            "name": name,
            "due": households,
            "with_exceptions": bad,
            "rate": str(_rate(households, bad)) if households else None,
        }
    total_due = sum(due.values())
    total_bad = sum(len(v) for v in troubled.values())
    return rates, (_rate(total_due, total_bad) if total_due else None)


def _rate(due: int, bad: int) -> Decimal:
    return (Decimal(max(due - bad, 0)) / Decimal(due)).quantize(Decimal("0.0001"))


def exception_handle(
    *, actor: User, exception_id: int, note: str, resolved: bool
) -> ReconciliationException:
    """Explain an exception (it stands, for a reason) or mark it resolved (put right)."""
    if len(note.strip()) < 4:
        raise DomainError(_("Write what explains or resolved it."), field="note")
    with transaction.atomic():
        try:
            exception = (
                ReconciliationException.objects.select_for_update()
                .select_related("reconciliation", "township")
                .get(pk=exception_id)
            )
        except ReconciliationException.DoesNotExist:
            raise DomainError(_("No such exception.")) from None
        if not access.jurisdiction_for(actor, roles=permissions.READ_PAYMENTS).contains(
            exception.township
        ):
            raise DomainError(_("No such exception."))
        access.require_role(actor, permissions.EXPLAIN_EXCEPTIONS, exception.township)
        if exception.reconciliation.state == Reconciliation.State.CLOSED:
            raise Conflict(_("This month is closed; its reconciliation no longer changes."))
        S = ReconciliationException.Status
        exception.status = S.RESOLVED if resolved else S.EXPLAINED
        exception.note = note.strip()
        exception.handled_by = actor
        exception.handled_at = timezone.now()
        exception.save(update_fields=["status", "note", "handled_by", "handled_at"])
        audit_record(
            actor=actor,
            action="reconciliation.exception",
            obj=exception,
            region=exception.township,
            new={"kind": exception.kind, "status": exception.status},
            reason=note,
        )
        return exception


def reconciliation_close(*, actor: User, reconciliation_id: int) -> Reconciliation:
    """Close the month: nothing open is left, and no roster of the month awaits its bank."""
    with transaction.atomic():
        try:
            reconciliation = (
                Reconciliation.objects.select_for_update()
                .select_related("county")
                .get(pk=reconciliation_id)
            )
        except Reconciliation.DoesNotExist:
            raise DomainError(_("No such reconciliation.")) from None
        county = _lock_county(actor, reconciliation.county_id)
        if reconciliation.state == Reconciliation.State.CLOSED:
            raise Conflict(_("This month is already closed."))
        open_count = reconciliation.exceptions.filter(
            status=ReconciliationException.Status.OPEN
        ).count()
        if open_count:
            raise DomainError(
                _("%(count)s exceptions are neither explained nor resolved.")
                % {"count": open_count}
            )
        if reconciliation.computed_at is None:
            raise DomainError(_("Compare the ledgers first."))
        reconciliation.state = Reconciliation.State.CLOSED
        reconciliation.closed_at = timezone.now()
        reconciliation.closed_by = actor
        reconciliation.save(update_fields=["state", "closed_at", "closed_by"])
        audit_record(
            actor=actor,
            action="reconciliation.close",
            obj=reconciliation,
            region=county,
            old={"state": Reconciliation.State.OPEN},
            new={"state": Reconciliation.State.CLOSED, "rate": reconciliation.rate},
        )
        return reconciliation


# --- the monthly statistics table ------------------------------------------------------------


def statistics_build(*, actor: User, county_id: int, month: datetime.date) -> MonthlyStatistics:
    """Build (or rebuild, while a draft) the month's table from its closed reconciliation:
    per township and programme, households and people paid, with the elderly, minors and
    people with disabilities among them, the total paid, the average per person, and the
    households new and stopped this month."""
    month = month_of(month)
    with transaction.atomic():
        county = _lock_county(actor, county_id)
        closed = Reconciliation.objects.filter(
            county=county, month=month, state=Reconciliation.State.CLOSED
        ).exists()
        if not closed:
            raise DomainError(
                _("The statistics table is built from the month's closed reconciliation.")
            )
        table, _created = MonthlyStatistics.objects.select_for_update().get_or_create(
            county=county,
            month=month,
            defaults={
                "due_on": (month + datetime.timedelta(days=32)).replace(day=STATISTICS_DUE_DAY)
            },
        )
        if table.state == MonthlyStatistics.State.SUBMITTED:
            raise Conflict(_("This table was submitted to the city; it no longer changes."))
        table.rows = _statistics_rows(county, month)
        table.save()
        audit_record(
            actor=actor,
            action="statistics.build",
            obj=table,
            region=county,
            new={"month": month, "rows": len(table.rows)},
        )
        return table


def _statistics_rows(county: Region, month: datetime.date) -> list[dict]:
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    paid = (
        RosterLine.objects.filter(
            roster__month=month,
            roster__township__code__startswith=county.prefix,
            roster__state__in=[Roster.State.APPROVED, Roster.State.PAID],
            outcome=RosterLine.Outcome.PAID,
        )
        .exclude(kind=RosterLine.Kind.RECOVERY)
        .values_list("roster__township__code", "programme", "household_id", "net_amount")
    )
    before = {
        (code[:9], programme, household_id)
        for code, programme, household_id in RosterLine.objects.filter(
            roster__month=previous,
            roster__township__code__startswith=county.prefix,
            outcome=RosterLine.Outcome.PAID,
        )
        .exclude(kind=RosterLine.Kind.RECOVERY)
        .values_list("roster__township__code", "programme", "household_id")
    }
    groups: dict[tuple, dict] = {}
    for code, programme, household_id, amount in paid:
        row = groups.setdefault((code[:9], programme), {"households": set(), "paid": Decimal("0")})
        row["households"].add(household_id)
        row["paid"] += amount
    now = {(key[0], key[1], h) for key, row in groups.items() for h in row["households"]}
    stopped: dict[tuple, int] = {}
    for code, programme, _household in before - now:
        stopped[(code, programme)] = stopped.get((code, programme), 0) + 1
    households = {h for row in groups.values() for h in row["households"]}
    members = _members_by_household(households, month)
    names = {
        code[:9]: name
        for code, name in Region.objects.filter(
            level=Region.Level.TOWNSHIP, code__startswith=county.prefix
        ).values_list("code", "name")
    }
    rows = []
    for (code, programme), row in sorted(groups.items()):
        people = [p for h in row["households"] for p in members.get(h, [])]
        count = len(people)
        rows.append(
            {
                "township": code,
                "township_name": names.get(code, code),
                "programme": programme,
                "households": len(row["households"]),
                "people": count,
                "elderly": sum(1 for p in people if p["age"] >= 60),
                "minors": sum(1 for p in people if p["age"] < 18),
                "disabled": sum(1 for p in people if p["disabled"]),
                "paid": str(row["paid"]),
                "average_per_person": str((row["paid"] / count).quantize(Decimal("0.01")))
                if count
                else "0.00",
                "new": sum(1 for h in row["households"] if (code, programme, h) not in before),
                "stopped": stopped.get((code, programme), 0),
            }
        )
    # A programme a township paid last month and not at all this month: all stopped.
    for (code, programme), count in sorted(stopped.items()):
        if (code, programme) not in groups:
            rows.append(
                {
                    "township": code,
                    "township_name": names.get(code, code),
                    "programme": programme,
                    "households": 0,
                    "people": 0,
                    "elderly": 0,
                    "minors": 0,
                    "disabled": 0,
                    "paid": "0.00",
                    "average_per_person": "0.00",
                    "new": 0,
                    "stopped": count,
                }
            )
    return rows


def _members_by_household(households: set[int], month: datetime.date) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    rows = Member.objects.filter(household_id__in=households, is_supporter=False).values_list(
        "household_id", "person__birth_date", "disability"
    )
    for household_id, birth, disability in rows:
        age = month.year - birth.year - ((month.month, month.day) < (birth.month, birth.day))
        found.setdefault(household_id, []).append(
            {"age": age, "disabled": bool(disability) and disability != "none"}
        )
    return found


def statistics_submit(*, actor: User, statistics_id: int) -> MonthlyStatistics:
    """Submit the table to the city: frozen from now on."""
    with transaction.atomic():
        try:
            table = MonthlyStatistics.objects.select_for_update().get(pk=statistics_id)
        except MonthlyStatistics.DoesNotExist:
            raise DomainError(_("No such statistics table.")) from None
        county = _lock_county(actor, table.county_id)
        if table.state == MonthlyStatistics.State.SUBMITTED:
            raise Conflict(_("This table was already submitted."))
        table.state = MonthlyStatistics.State.SUBMITTED
        table.submitted_at = timezone.now()
        table.submitted_by = actor
        table.save(update_fields=["state", "submitted_at", "submitted_by"])
        audit_record(
            actor=actor,
            action="statistics.submit",
            obj=table,
            region=county,
            new={"month": table.month, "rows": len(table.rows)},
        )
        return table


def agreement_history(*, county: Region, months: int = 12) -> list[Reconciliation]:
    """The county's last ``months`` reconciliations, oldest first (the dashboard's chart)."""
    return list(
        Reconciliation.objects.filter(county=county, computed_at__isnull=False).order_by("-month")[
            :months
        ]
    )[::-1]
