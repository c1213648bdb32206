"""Money: the writes (domain.md §7). Reads are in cases.payments.selectors.

One service per change, each in one transaction with its event and audit rows:

- ``award_open`` / ``award_close``: the casework services report every decision that
  changes what a case is due (approval, adjustment, gradual exit, stop);
- ``back_pay_record`` / ``recovery_record``: back pay and recovery, lines of their own;
- ``roster_prepare``: the month's roster from the entitlement, in set-based SQL, then
  checked; ``supplementary_prepare``: failed lines re-issued and lines still due;
- the roster's steps (cases.payments.steps.ROSTER): recheck, hold a line, county
  approval, finance review (frozen with its content hash), send back, the bank return;
- ``account_correct``: a new account for a household, the old one kept;
- ``funds_allocate``: the finance bureau's allocation.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.identity import validate_identity_number
from aid_portal.models import Region, User
from cases.models import Application, AssistanceType, Household, Suspension
from cases.payments.models import (
    Award,
    Bank,
    FundAllocation,
    PaymentAccount,
    PaymentAdjustment,
    Roster,
    RosterLine,
)
from cases.payments.selectors import funds_shortfall
from cases.payments.steps import ROSTER
from cases.transitions import _require, add_months

R = Roster.State
L = RosterLine.Kind
ONE_OFF_PROGRAMMES = frozenset(
    {AssistanceType.TEMPORARY_EMERGENCY, AssistanceType.TEMPORARY_EXPENDITURE}
)
# The day of the month a roster is due (domain.md §7: payments made by the 15th).
ROSTER_DUE_DAY = 15

# What the checks before export find, by code (RosterLine.problems holds the codes).
PROBLEMS = {
    "no_account": _("no payment account on file"),
    "name_mismatch": _("the payee's name is not the account holder's"),
    "identity_invalid": _("the payee's identity number is not valid"),
    "account_malformed": _("the account number is not well formed for its bank"),
    "paid_twice": _("the same person is paid twice this month"),
    "payee_dead": _("the payee has died"),
    "payee_blocked": _("the payee is blocked by a credit sanction"),
}


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return add_months(month_of(month), 1)


def previous_month(month: datetime.date) -> datetime.date:
    return add_months(month_of(month), -1)


# --- awards: what each decision makes a case due --------------------------------------------


def award_open(
    *,
    application: Application,
    decision: str,
    monthly_amount: Decimal,
    from_month: datetime.date,
    on: datetime.date,
) -> Award:
    """A decision puts a new amount in force from ``from_month``: the award in force
    before it ends the month before. Called inside the deciding service's transaction
    (the case row is locked)."""
    from_month = month_of(from_month)
    one_off = application.assistance_type in ONE_OFF_PROGRAMMES
    Award.objects.filter(application=application, from_month__gte=from_month).filter(
        Q(until_month__isnull=True) | Q(until_month__gte=from_month)
    ).delete()  # a decision replaced before its month came: it never was in force
    Award.objects.filter(application=application, until_month__isnull=True).update(
        until_month=previous_month(from_month)
    )
    return Award.objects.create(
        application=application,
        programme=application.assistance_type,
        monthly_amount=monthly_amount,
        one_off=one_off,
        from_month=from_month,
        until_month=from_month if one_off else None,
        decision=decision,
        decided_on=on,
    )


def award_close(*, application: Application, last_month: datetime.date) -> int:
    """Nothing is due after ``last_month`` (a stop: the month of the stop; a gradual exit:
    its last month). Awards that would start later are dropped."""
    last_month = month_of(last_month)
    Award.objects.filter(application=application, from_month__gt=last_month).delete()
    return (
        Award.objects.filter(application=application)
        .filter(Q(until_month__isnull=True) | Q(until_month__gt=last_month))
        .update(until_month=last_month)
    )


# --- back pay and recovery ---------------------------------------------------------------------


def _adjustment_record(
    *,
    actor: User | None,
    application_id: int,
    kind: str,
    amount,
    months_from: datetime.date,
    months_to: datetime.date,
    reason: str,
    source: str,
) -> PaymentAdjustment:
    _require(reason.strip(), _("Say why."), field="reason")
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise DomainError(_("Enter an amount in yuan."), field="amount") from None
    _require(amount > 0, _("The amount must be more than zero."), field="amount")
    _require(months_from <= months_to, _("The months run backwards."), field="months_to")
    with transaction.atomic():
        app = (
            Application.objects.select_for_update().select_related("village").get(pk=application_id)
        )
        if actor is not None:
            access.require_role(actor, permissions.PREPARE_ROSTERS, app.village)
        if source:
            done = PaymentAdjustment.objects.filter(
                application=app, kind=kind, source=source
            ).first()
            if done is not None:
                return done  # reported twice: the first stands
        adjustment = PaymentAdjustment.objects.create(
            application=app,
            kind=kind,
            amount=amount,
            months_from=month_of(months_from),
            months_to=month_of(months_to),
            reason=reason.strip()[:200],
            source=source,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action=f"payment.{kind}",
            obj=adjustment,
            region=app.village,
            new={"amount": amount, "from": months_from, "to": months_to, "source": source},
            reason=reason,
        )
        return adjustment


def back_pay_record(*, actor: User | None, application_id: int, **details) -> PaymentAdjustment:
    """Back pay (补发): months that were due and not paid, paid on the next roster."""
    return _adjustment_record(
        actor=actor, application_id=application_id, kind=PaymentAdjustment.Kind.BACK_PAY, **details
    )


def recovery_record(*, actor: User | None, application_id: int, **details) -> PaymentAdjustment:
    """Recovery (追回): money paid wrongly, deducted on a roster as a line of its own."""
    return _adjustment_record(
        actor=actor, application_id=application_id, kind=PaymentAdjustment.Kind.RECOVERY, **details
    )


def monthly_payment(application_id: int, month: datetime.date | None = None) -> Decimal:
    """What the household is paid a month now: its monthly awards in force and not held.
    Zero when it is not being paid (ended, suspended, nothing awarded)."""
    month = month_of(month or timezone.localdate())
    if Suspension.objects.filter(application_id=application_id, ended_at__isnull=True).exists():
        return Decimal("0")
    total = (
        Award.objects.filter(application_id=application_id, one_off=False, from_month__lte=month)
        .filter(Q(until_month__isnull=True) | Q(until_month__gte=month))
        .aggregate(total=Sum("monthly_amount"))["total"]
    )
    return total or Decimal("0")


def recovery_from_payments(
    *, actor: User, application_id: int, amount, reason: str, source: str
) -> PaymentAdjustment:
    """A recovery (追回) another part of the portal asks for (a repayment order of a credit
    finding): deducted from the household's payments on the next roster, as its own line.

    The roster deducts a recovery only from a payment that covers it (_DEDUCT_SQL), so a
    household not being paid, or an amount above its monthly payment, would wait for
    ever: both are refused here. ``source`` names the asker; the same source is taken once.
    """
    _require(source, _("Say what the recovery is for."))
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise DomainError(_("Enter an amount in yuan."), field="amount") from None
    monthly = monthly_payment(application_id)
    _require(
        monthly > 0,
        _("The household is not being paid: nothing can be deducted; record repayments by hand."),
    )
    _require(
        value <= monthly,
        _("The household is paid %(monthly)s yuan a month: recover at most that much at once.")
        % {"monthly": monthly},
        field="amount",
    )
    month = month_of(timezone.localdate())
    return _adjustment_record(
        actor=actor,
        application_id=application_id,
        kind=PaymentAdjustment.Kind.RECOVERY,
        amount=value,
        months_from=month,
        months_to=month,
        reason=reason,
        source=source,
    )


def back_pay_for_over_recovery(
    *, application_id: int, amount: Decimal, reason: str, source: str
) -> PaymentAdjustment:
    """Back pay (补发) another part of the portal asks for when a recovery it asked for
    took more than was owed (a credit repayment order repaid by hand meanwhile, or
    cancelled): paid on the next roster as a line of its own, whether or not the
    household is still being paid. The portal makes it, so no user's role is checked;
    ``source`` names the asker and the same source is paid once."""
    _require(source, _("Say what the back pay is for."))
    month = month_of(timezone.localdate())
    return _adjustment_record(
        actor=None,
        application_id=application_id,
        kind=PaymentAdjustment.Kind.BACK_PAY,
        amount=amount,
        months_from=month,
        months_to=month,
        reason=reason,
        source=source,
    )


def recovery_lines_paid(sources: Iterable[str]) -> dict[str, RosterLine]:
    """For each source, the roster line of its recovery that the bank return shows paid
    (the deduction made): what the asker may count as repaid. A payment that failed and
    was re-issued is re-issued net of the deduction (_reissue_lines), so the recovery
    counts once that re-issue is paid, though its own line stays failed."""
    paid = Q(outcome=RosterLine.Outcome.PAID, roster__state=Roster.State.PAID)
    reissued_paid = Q(
        outcome=RosterLine.Outcome.FAILED,
        deducted_from__reissues__outcome=RosterLine.Outcome.PAID,
        deducted_from__reissues__roster__state=Roster.State.PAID,
    )
    lines = (
        RosterLine.objects.filter(
            adjustment__source__in=list(sources),
            adjustment__kind=PaymentAdjustment.Kind.RECOVERY,
            deducted_from__isnull=False,
        )
        .filter(paid | reissued_paid)
        .select_related("adjustment", "roster")
        .order_by("id")
        .distinct()
    )
    return {line.adjustment.source: line for line in lines}


def back_pay_for_hold(
    *, application: Application, held_from: datetime.datetime, reason: str, source: str
) -> PaymentAdjustment | None:
    """A hold lifted because it was wrong (an upheld objection): the months it kept from
    the family are paid back. Called inside the service that lifts the hold."""
    first = next_month(timezone.localdate(held_from))
    last = month_of(timezone.localdate())
    if first > last:
        return None  # lifted in the month it began: nothing was withheld
    rows = _withheld_months(application.pk, first, last)
    total = sum((amount for _month, amount in rows), Decimal("0"))
    if not total:
        return None
    return _adjustment_record(
        actor=None,
        application_id=application.pk,
        kind=PaymentAdjustment.Kind.BACK_PAY,
        amount=total,
        months_from=rows[0][0],
        months_to=rows[-1][0],
        reason=reason,
        source=source,
    )


def _withheld_months(application_id: int, first: datetime.date, last: datetime.date):
    """Each month in [first, last] with the amount in force and no line paid or pending."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT m::date, aw.monthly_amount
            FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') m
            JOIN cases_award aw ON aw.application_id = %(app)s AND NOT aw.one_off
             AND aw.from_month <= m AND (aw.until_month IS NULL OR aw.until_month >= m)
            WHERE NOT EXISTS (
                SELECT 1 FROM cases_rosterline l JOIN cases_roster r ON r.id = l.roster_id
                WHERE l.award_id = aw.id AND l.months_from = m AND r.state <> 'withdrawn'
                  AND l.outcome <> 'held'
            )
            ORDER BY m
            """,
            {"app": application_id, "first": first, "last": last},
        )
        return cursor.fetchall()


# --- the roster ---------------------------------------------------------------------------------

_LINE_COLUMNS = """
    roster_id, application_id, household_id, village_id, programme, kind, amount,
    net_amount, months_from, months_to, reason, award_id, adjustment_id, refers_to_id,
    deducted_from_id, payee_id, payee_name, identity_hash, account_id, problems, outcome,
    failure, failure_note
"""

# The applicant and the household's current account, for every line.
_PAYEE_JOINS = """
    LEFT JOIN LATERAL (
        SELECT p.id, p.name, p.identity_hash FROM cases_member m
        JOIN cases_person p ON p.id = m.person_id
        WHERE m.household_id = a.household_id AND m.relation = 'self'
        ORDER BY m.id LIMIT 1
    ) payee ON true
    LEFT JOIN cases_paymentaccount acc
      ON acc.household_id = a.household_id AND acc.replaced_at IS NULL
"""

# Due in the month: an award in force, no hold at the month's first moment, somebody of
# the household still alive at the start of the month. The one statement of "who is due
# what" (domain.md §7): the roster takes it, and the reconciliation compares against it.
DUE_FROM = """
    FROM cases_award aw
    JOIN cases_application a ON a.id = aw.application_id
    JOIN aid_portal_region v ON v.id = a.village_id
"""
DUE_WHERE = """
    WHERE v.code LIKE %(prefix)s
      AND aw.from_month <= %(month)s
      AND (aw.until_month IS NULL OR aw.until_month >= %(month)s)
      AND aw.monthly_amount > 0
      AND NOT EXISTS (
          SELECT 1 FROM cases_suspension s
          WHERE s.application_id = a.id AND s.started_at < %(month_starts)s
            AND (s.ended_at IS NULL OR s.ended_at >= %(month_starts)s)
      )
      AND EXISTS (
          SELECT 1 FROM cases_member m
          WHERE m.household_id = a.household_id AND NOT m.is_supporter
            AND NOT EXISTS (
                SELECT 1 FROM cases_memberdeath d
                WHERE d.application_id = a.id AND d.person_id = m.person_id
                  AND d.died_on < %(month)s
            )
      )
"""

# The roster takes what is due and not already on a roster of this month that was not
# sent back, nor held back there (never pay twice).
_ENTITLEMENT_SQL = f"""
    INSERT INTO cases_rosterline ({_LINE_COLUMNS})
    SELECT %(roster)s, a.id, a.household_id, a.village_id, aw.programme,
           CASE WHEN aw.one_off THEN 'one_off' ELSE 'monthly' END,
           aw.monthly_amount, aw.monthly_amount, %(month)s, %(month)s, '',
           aw.id, NULL, NULL, NULL, payee.id, coalesce(payee.name, ''),
           coalesce(payee.identity_hash, ''), acc.id, '[]'::jsonb, 'pending', '', ''
    {DUE_FROM}
    {_PAYEE_JOINS}
    {DUE_WHERE}
      AND NOT EXISTS (
          SELECT 1 FROM cases_rosterline l JOIN cases_roster r ON r.id = l.roster_id
          WHERE l.award_id = aw.id AND l.months_from = %(month)s AND r.state <> 'withdrawn'
            AND l.outcome <> 'held'
      )
"""  # noqa: S608 - the SQL of this module only: every value goes as a parameter

# Back pay and recoveries of the township not yet on a roster that was not sent back.
_ADJUSTMENT_SQL = f"""
    INSERT INTO cases_rosterline ({_LINE_COLUMNS})
    SELECT %(roster)s, a.id, a.household_id, a.village_id, a.assistance_type, adj.kind,
           CASE WHEN adj.kind = 'recovery' THEN -adj.amount ELSE adj.amount END,
           CASE WHEN adj.kind = 'recovery' THEN -adj.amount ELSE adj.amount END,
           adj.months_from, adj.months_to, adj.reason, NULL, adj.id, NULL, NULL,
           payee.id, coalesce(payee.name, ''), coalesce(payee.identity_hash, ''), acc.id,
           '[]'::jsonb, 'pending', '', ''
    FROM cases_paymentadjustment adj
    JOIN cases_application a ON a.id = adj.application_id
    JOIN aid_portal_region v ON v.id = a.village_id
    {_PAYEE_JOINS}
    WHERE v.code LIKE %(prefix)s
      AND NOT EXISTS (
          SELECT 1 FROM cases_rosterline l JOIN cases_roster r ON r.id = l.roster_id
          WHERE l.adjustment_id = adj.id AND r.state <> 'withdrawn' AND l.outcome <> 'held'
      )
"""  # noqa: S608 - the SQL of this module only: every value goes as a parameter

# A recovery is deducted from the household's largest payment of the same programme in
# the roster, when that payment covers it; otherwise it waits for a later roster.
_DEDUCT_SQL = """
    WITH pick AS (
        SELECT DISTINCT ON (rec.id) rec.id AS recovery_id, pay.id AS line_id
        FROM cases_rosterline rec
        JOIN cases_rosterline pay
          ON pay.roster_id = rec.roster_id AND pay.application_id = rec.application_id
         AND pay.kind <> 'recovery' AND pay.net_amount + rec.amount >= 0
        WHERE rec.roster_id = %(roster)s AND rec.kind = 'recovery'
        ORDER BY rec.id, pay.net_amount DESC, pay.id
    ), linked AS (
        UPDATE cases_rosterline rec SET deducted_from_id = pick.line_id
        FROM pick WHERE rec.id = pick.recovery_id
        RETURNING rec.deducted_from_id, rec.amount
    )
    UPDATE cases_rosterline pay SET net_amount = pay.net_amount + d.amount
    FROM (SELECT deducted_from_id, sum(amount) AS amount FROM linked
          GROUP BY deducted_from_id) d
    WHERE pay.id = d.deducted_from_id
"""


def _lock_township(actor: User, township_id: int) -> Region:
    """Lock the township's row: one roster is prepared at a time per township, so two
    clerks preparing at once cannot both put a line on."""
    try:
        township = Region.objects.select_for_update().get(
            pk=township_id, level=Region.Level.TOWNSHIP
        )
    except Region.DoesNotExist:
        raise DomainError(_("No such township."), field="township") from None
    if not access.jurisdiction_for(actor).contains(township):
        raise DomainError(_("No such township."), field="township")
    access.require_role(actor, permissions.PREPARE_ROSTERS, township)
    return township


def roster_prepare(
    *, actor: User, township_id: int, month: datetime.date, today: datetime.date | None = None
) -> Roster:
    """The township's monthly roster: every line due in ``month``, then the checks."""
    today = today or timezone.localdate()
    month = month_of(month)
    _require(
        month <= next_month(today),
        _("A roster can be prepared at most one month ahead."),
        field="month",
    )
    with transaction.atomic():
        township = _lock_township(actor, township_id)
        if (
            Roster.objects.filter(township=township, month=month, kind=Roster.Kind.REGULAR)
            .exclude(state=R.WITHDRAWN)
            .exists()
        ):
            raise Conflict(
                _("The roster of %(month)s is already prepared: use a supplementary roster.")
                % {"month": month.strftime("%Y-%m")}
            )
        roster = Roster.objects.create(
            township=township,
            month=month,
            kind=Roster.Kind.REGULAR,
            prepared_by=actor,
            due_on=month.replace(day=ROSTER_DUE_DAY),
        )
        _fill(roster, entitlement=True, adjustments=True)
        ROSTER.note(roster, actor, "prepare", data=_totals(roster))
        return roster


def supplementary_prepare(
    *,
    actor: User,
    township_id: int,
    month: datetime.date,
    reissue_line_ids: Iterable[int] = (),
) -> Roster:
    """A supplementary roster (补充名册) for a month whose roster is frozen: the failed
    lines chosen, re-issued to the household's current account, and every line due that
    month and on no roster yet."""
    month = month_of(month)
    reissue_line_ids = sorted(set(reissue_line_ids))
    with transaction.atomic():
        township = _lock_township(actor, township_id)
        original = (
            Roster.objects.filter(
                township=township,
                month=month,
                kind=Roster.Kind.REGULAR,
                state__in=Roster.FROZEN_STATES,
            )
            .order_by("id")
            .first()
        )
        _require(
            original is not None,
            _(
                "A supplementary roster corrects a frozen roster: the roster of this "
                "month is not frozen yet."
            ),
            field="month",
        )
        failed = list(
            RosterLine.objects.select_for_update()
            .filter(pk__in=reissue_line_ids, roster__township=township)
            .select_related("roster")
        )
        _require(
            len(failed) == len(reissue_line_ids),
            _("Some of the chosen lines are not this township's."),
            field="reissue_line_ids",
        )
        for line in failed:
            _reissuable(line)
        roster = Roster.objects.create(
            township=township,
            month=month,
            kind=Roster.Kind.SUPPLEMENTARY,
            supplements=original,
            prepared_by=actor,
            due_on=max(month.replace(day=ROSTER_DUE_DAY), timezone.localdate()),
        )
        if failed:
            _reissue_lines(roster, failed)
        _fill(roster, entitlement=True, adjustments=False)
        _require(
            roster.lines.exists(),
            _("Nothing to put on a supplementary roster: no line chosen and nothing else due."),
        )
        ROSTER.note(
            roster,
            actor,
            "prepare",
            data={**_totals(roster), "supplements": original.pk, "reissued": reissue_line_ids},
        )
        return roster


def _reissuable(line: RosterLine) -> None:
    _require(
        line.outcome == RosterLine.Outcome.FAILED,
        _("Line %(ref)s did not fail: only a failed payment is re-issued.")
        % {"ref": line.reference},
        field="reissue_line_ids",
    )
    if (
        RosterLine.objects.filter(refers_to=line, kind=L.REISSUE)
        .exclude(roster__state=R.WITHDRAWN)
        .exists()
    ):
        raise Conflict(_("Line %(ref)s is already re-issued.") % {"ref": line.reference})


def _reissue_lines(roster: Roster, failed: list[RosterLine]) -> None:
    """Each failed line again, to the household's account now (a correction may have
    replaced it), referring to the failed line. The unique constraint on ``refers_to``
    is the last guard against re-issuing one line twice."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO cases_rosterline ({_LINE_COLUMNS})
            SELECT %(roster)s, f.application_id, f.household_id, f.village_id, f.programme,
                   'reissue', f.net_amount, f.net_amount, f.months_from, f.months_to,
                   f.reason, f.award_id, NULL, f.id, NULL, payee.id,
                   coalesce(payee.name, ''), coalesce(payee.identity_hash, ''), acc.id,
                   '[]'::jsonb, 'pending', '', ''
            FROM cases_rosterline f
            JOIN cases_application a ON a.id = f.application_id
            {_PAYEE_JOINS}
            WHERE f.id = ANY(%(ids)s)
            """,  # noqa: S608 - the SQL of this module only: every value is a parameter
            {"roster": roster.pk, "ids": [line.pk for line in failed]},
        )


def due_params(month: datetime.date, region: Region) -> dict:
    """The parameters of DUE_WHERE for a month and a region (township or county)."""
    return {
        "month": month,
        "month_starts": timezone.make_aware(datetime.datetime.combine(month, datetime.time.min)),
        "prefix": region.prefix + "%",
    }


def _fill(roster: Roster, *, entitlement: bool, adjustments: bool) -> None:
    params = {"roster": roster.pk, **due_params(roster.month, roster.township)}
    with connection.cursor() as cursor:
        if entitlement:
            cursor.execute(_ENTITLEMENT_SQL, params)
        if adjustments:
            cursor.execute(_ADJUSTMENT_SQL, params)
            cursor.execute(_DEDUCT_SQL, params)
            # A recovery nothing in this roster can cover waits for a later one.
            cursor.execute(
                "DELETE FROM cases_rosterline WHERE roster_id = %(roster)s "
                "AND kind = 'recovery' AND deducted_from_id IS NULL",
                params,
            )
    lines_check(roster)


def lines_check(roster: Roster) -> None:
    """The checks the portal can do itself before a file goes to the bank (three-party
    checks, domain.md §7), written to each line's ``problems``; then the totals.

    The set-based part runs in SQL (names, twice in a month, dead, blocked); identity and
    account numbers are encrypted, so their form is checked here in Python, a township's
    lines at a time.
    """
    # Only the lines whose problems change are written: rewriting every line (most have
    # none, before and after) wrote each row and all its indexes a second time.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH found AS (
                SELECT l.id, l.problems AS was, coalesce((
                    SELECT jsonb_agg(code ORDER BY code) FROM (
                        SELECT 'no_account' AS code WHERE l.account_id IS NULL
                        UNION ALL
                        SELECT 'name_mismatch' FROM cases_paymentaccount acc
                        WHERE acc.id = l.account_id AND acc.holder_name <> l.payee_name
                        UNION ALL
                        SELECT 'paid_twice' WHERE l.kind IN ('monthly', 'reissue')
                          AND l.identity_hash <> '' AND EXISTS (
                            SELECT 1 FROM cases_rosterline o
                            JOIN cases_roster r ON r.id = o.roster_id
                            WHERE o.identity_hash = l.identity_hash AND o.id <> l.id
                              AND o.kind IN ('monthly', 'reissue')
                              AND o.months_from = l.months_from
                              AND r.state <> 'withdrawn' AND o.outcome NOT IN ('held', 'failed')
                              AND (o.refers_to_id IS DISTINCT FROM l.id)
                              AND (l.refers_to_id IS DISTINCT FROM o.id)
                        )
                        UNION ALL
                        SELECT 'payee_dead' FROM cases_memberdeath d
                        WHERE d.person_id = l.payee_id
                          AND d.died_on < %(month)s + interval '1 month'
                        UNION ALL
                        SELECT 'payee_blocked' FROM cases_creditrestriction cr
                        WHERE cr.person_id = l.payee_id AND cr.kind = 'block'
                          AND cr.starts_on <= %(month)s
                          AND coalesce(cr.ended_on, cr.ends_on, 'infinity'::date) > %(month)s
                    ) codes
                ), '[]'::jsonb) AS problems
                FROM cases_rosterline l
                WHERE l.roster_id = %(roster)s AND l.kind <> 'recovery' AND l.outcome <> 'held'
            )
            UPDATE cases_rosterline l SET problems = found.problems
            FROM found WHERE l.id = found.id AND found.problems <> found.was
            """,
            {"roster": roster.pk, "month": roster.month},
        )
    # Only the columns the checks read: a whole line with its payee, account and bank
    # for each of a county's lines costs far more than the checks themselves.
    banks = {bank.pk: bank for bank in Bank.objects.all()}
    lines = (
        RosterLine.objects.filter(roster=roster)
        .exclude(kind=L.RECOVERY)
        .exclude(outcome=RosterLine.Outcome.HELD)
        .values_list("pk", "problems", "payee__identity_number", "account__number", "account__bank")
    )
    today = timezone.localdate()
    changed = []
    for pk, problems, identity_number, account_number, bank_id in lines.iterator(chunk_size=5000):
        found = set(problems)
        if identity_number is not None:
            try:
                validate_identity_number(identity_number, today=today)
            except ValidationError:
                found.add("identity_invalid")
        if account_number is not None and not account_well_formed(banks[bank_id], account_number):
            found.add("account_malformed")
        if found != set(problems):
            changed.append(RosterLine(pk=pk, problems=sorted(found)))
    RosterLine.objects.bulk_update(changed, ["problems"], batch_size=1000)
    _totals_save(roster)


def account_well_formed(bank: Bank, number: str) -> bool:
    """Digits only, a length the bank issues, and its Luhn check digit where it uses one."""
    if not number.isdigit():
        return False
    if bank.account_lengths and len(number) not in bank.account_lengths:
        return False
    return not bank.luhn or luhn.is_valid(number)


def _totals_save(roster: Roster) -> None:
    """The roster's counts and total, in one pass over its lines."""
    held = Q(outcome=RosterLine.Outcome.HELD)
    figures = RosterLine.objects.filter(roster=roster).aggregate(
        total=Sum("amount", filter=~held),
        lines=Count("pk", filter=~Q(kind=L.RECOVERY)),
        problems=Count("pk", filter=~Q(problems=[]) & ~held),
    )
    roster.line_count = figures["lines"]
    roster.total = figures["total"] or Decimal("0")
    roster.problem_count = figures["problems"]
    roster.save(update_fields=["line_count", "total", "problem_count"])


def _totals(roster: Roster) -> dict:
    return {
        "lines": roster.line_count,
        "total": str(roster.total),
        "problems": roster.problem_count,
    }


def roster_lock(roster_id: int, actor: User | None, step: str | None) -> Roster:
    """Lock the roster, then check the step (its role, its states) against ROSTER; with no
    step, the caller checks it after what must come first."""
    try:
        roster = (
            Roster.objects.select_for_update(of=("self",))
            .select_related("township")
            .get(pk=roster_id)
        )
    except Roster.DoesNotExist:
        raise DomainError(_("No such roster.")) from None
    if actor is not None and not access.jurisdiction_for(
        actor, roles=permissions.READ_PAYMENTS
    ).contains(roster.township):
        raise DomainError(_("No such roster."))
    if step is not None:
        ROSTER.check(step, roster, actor)
    return roster


def roster_recheck(*, actor: User, roster_id: int) -> Roster:
    """Check the lines again after accounts were corrected."""
    with transaction.atomic():
        roster = roster_lock(roster_id, actor, "recheck")
        # Accounts corrected since: each line takes the household's current account.
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE cases_rosterline l SET account_id = acc.id
                FROM cases_paymentaccount acc
                WHERE l.roster_id = %s AND acc.household_id = l.household_id
                  AND acc.replaced_at IS NULL AND l.account_id IS DISTINCT FROM acc.id
                """,
                [roster.pk],
            )
        lines_check(roster)
        ROSTER.note(roster, actor, "recheck", data=_totals(roster))
        return roster


def line_hold(*, actor: User, roster_id: int, line_id: int, reason: str) -> RosterLine:
    """Hold one line back from this roster (it stays on the roster, marked, unpaid); its
    money is due again and goes on a later roster once the problem is solved."""
    _require(reason.strip(), _("Say why the line is held back."), field="reason")
    with transaction.atomic():
        roster = roster_lock(roster_id, actor, "line_hold")
        line = roster.lines.select_for_update().filter(pk=line_id).exclude(kind=L.RECOVERY).first()
        _require(line is not None, _("No such line on this roster."), field="line_id")
        _require(line.outcome != RosterLine.Outcome.HELD, _("This line is already held back."))
        # A recovery deducted from it waits for a later roster as well.
        roster.lines.filter(deducted_from=line).delete()
        line.outcome = RosterLine.Outcome.HELD
        line.failure_note = reason.strip()[:200]
        line.net_amount = line.amount
        line.save(update_fields=["outcome", "failure_note", "net_amount"])
        _totals_save(roster)
        ROSTER.note(
            roster, actor, "line_hold", reason=reason, data={"line": line.pk, **_totals(roster)}
        )
        return line


def roster_county_approve(*, actor: User, roster_id: int) -> Roster:
    """The county civil-affairs bureau approves: no line with a problem left, and the
    approver did not prepare it."""
    with transaction.atomic():
        roster = roster_lock(roster_id, actor, "county_approve")
        _require(
            roster.prepared_by_id != actor.pk, _("The preparer of a roster cannot approve it.")
        )
        _require(
            roster.problem_count == 0,
            _("%(count)s lines still have problems: correct them or hold them back first.")
            % {"count": roster.problem_count},
        )
        _require(roster.line_count > 0, _("The roster has no line to pay."))
        return ROSTER.move(
            roster,
            actor,
            "county_approve",
            fields={"county_approved_by": actor},
            data=_totals(roster),
        )


def roster_finance_approve(*, actor: User, roster_id: int) -> Roster:
    """The finance bureau reviews; the roster is frozen and its content hash recorded.
    When the roster needs more than the funds left, the step records the shortfall (the
    page shows it before): finance decides, the portal does not refuse."""
    with transaction.atomic():
        roster = roster_lock(roster_id, actor, "finance_approve")
        _require(
            actor.pk not in (roster.prepared_by_id, roster.county_approved_by_id),
            _("The finance review is by someone other than the preparer and the county approver."),
        )
        content_hash = roster_content_hash(roster)
        shortfall = funds_shortfall(roster)
        return ROSTER.move(
            roster,
            actor,
            "finance_approve",
            fields={"finance_approved_by": actor, "content_hash": content_hash},
            data={
                **_totals(roster),
                "content_hash": content_hash,
                "shortfall": {k: str(v) for k, v in shortfall.items()},
            },
        )


def roster_send_back(*, actor: User, roster_id: int, reason: str) -> Roster:
    """Send the roster back with reasons: it is withdrawn and its lines become due again;
    the township prepares the month anew."""
    _require(len(reason.strip()) >= 5, _("Write why the roster is sent back."), field="reason")
    with transaction.atomic():
        roster = roster_lock(roster_id, actor, "send_back")
        return ROSTER.move(roster, actor, "send_back", reason=reason)


_HASHED = (
    "pk",
    "application_id",
    "programme",
    "kind",
    "amount",
    "net_amount",
    "months_from",
    "months_to",
    "payee_name",
    "identity_hash",
    "account_id",
    "outcome",
    "refers_to_id",
    "deducted_from_id",
)
_OUTCOME = _HASHED.index("outcome")


def roster_content_hash(roster: Roster) -> str:
    """SHA-256 over the lines as they go out: what a frozen roster is, in one value.

    The bank's answer (paid, failed) is not content: an answered line counts as it went
    out, pending, so that the roster stays exportable after one bank's return."""
    answered = {RosterLine.Outcome.PAID, RosterLine.Outcome.FAILED}
    digest = hashlib.sha256()
    rows = roster.lines.order_by("pk").values_list(*_HASHED)
    for row in rows.iterator(chunk_size=5000):
        values = [str(v) for v in row]
        if row[_OUTCOME] in answered:
            values[_OUTCOME] = RosterLine.Outcome.PENDING
        digest.update(json.dumps(values).encode())
        digest.update(b"\n")
    return digest.hexdigest()


# --- accounts -----------------------------------------------------------------------------------


def account_set(
    *,
    actor: User | None,
    household_id: int,
    bank_id: int,
    number: str,
    holder_name: str,
    reason: str = "",
) -> PaymentAccount:
    """Record the household's account, replacing the current one (which stays, marked
    replaced). The number is checked against the bank's form."""
    number = "".join((number or "").split())
    holder_name = (holder_name or "").strip()
    _require(holder_name, _("Give the account holder's name."), field="holder_name")
    try:
        bank = Bank.objects.get(pk=bank_id, active=True)
    except Bank.DoesNotExist:
        raise DomainError(_("Choose a paying bank."), field="bank") from None
    _require(
        account_well_formed(bank, number),
        _("This is not a well-formed account number of %(bank)s.") % {"bank": bank.name},
        field="number",
    )
    with transaction.atomic():
        household = (
            Household.objects.select_for_update().select_related("village").get(pk=household_id)
        )
        if actor is not None:
            if not access.jurisdiction_for(actor).contains(household.village):
                raise DomainError(_("No such household."))
            access.require_role(actor, permissions.PREPARE_ROSTERS, household.village)
        current = PaymentAccount.objects.filter(
            household=household, replaced_at__isnull=True
        ).first()
        if current is not None:
            _require(reason.strip(), _("Say why the account is replaced."), field="reason")
            current.replaced_at = timezone.now()
            current.replace_reason = reason.strip()[:200]
            current.save(update_fields=["replaced_at", "replace_reason"])
        account = PaymentAccount.objects.create(
            household=household,
            bank=bank,
            number=number,
            last4=number[-4:],
            holder_name=holder_name,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="payment.account_set",
            obj=account,
            region=household.village,
            old={"account": current.pk, "bank": current.bank_id, "last4": current.last4}
            if current
            else None,
            new={"account": account.pk, "bank": bank.pk, "last4": account.last4},
            reason=reason,
        )
        return account


# --- funds --------------------------------------------------------------------------------------


def funds_allocate(
    *, actor: User, county_id: int, programme: str, month: datetime.date, amount, note: str = ""
) -> FundAllocation:
    """The finance bureau enters money allocated to a county for a programme and month."""
    _require(programme in AssistanceType.values, _("Choose a programme."), field="programme")
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise DomainError(_("Enter an amount in yuan."), field="amount") from None
    _require(amount > 0, _("The amount must be more than zero."), field="amount")
    with transaction.atomic():
        try:
            county = Region.objects.get(pk=county_id, level=Region.Level.COUNTY)
        except Region.DoesNotExist:
            raise DomainError(_("No such county."), field="county") from None
        if not access.jurisdiction_for(actor, roles=permissions.ALLOCATE_FUNDS).contains(county):
            raise DomainError(_("No such county."), field="county")
        access.require_role(actor, permissions.ALLOCATE_FUNDS, county)
        allocation = FundAllocation.objects.create(
            county=county,
            programme=programme,
            month=month_of(month),
            amount=amount,
            note=note.strip()[:200],
            entered_by=actor,
        )
        audit_record(
            actor=actor,
            action="payment.funds_allocate",
            obj=allocation,
            region=county,
            new={"programme": programme, "month": allocation.month, "amount": amount},
        )
        return allocation
