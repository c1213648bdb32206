"""Bank file out, bank return in (domain.md §7: the paying bank checks name, identity
number and account, and returns the lines that failed with their reasons).

The file out: one per paying bank of a frozen roster, in the bank's columns and encoding
(``Bank.file_columns``, ``Bank.file_encoding``), as CSV or XLSX, ending with a control
line ``TOTAL,<count>,<total>``; or as JSON lines for a bank's HTTP interface, ending with
``{"control": {"count": …, "total": …}}``. Writing it is audited: it carries full account
and identity numbers.

The return in (``return_apply``), CSV in the bank's encoding, one line per payment::

    reference,result,reason,amount,note
    R12-L345,paid,,640.00,
    R12-L346,failed,account_closed,980.00,销户
    TOTAL,2,1620.00

``result`` is ``paid`` or ``failed``; a failed line gives its reason (``account_closed``,
``name_mismatch``, ``id_mismatch``, ``frozen``, ``other``). Every payment sent to that
bank must be answered once; any error refuses the whole file, with its line numbers, and
nothing changes. The same file applied twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aid_portal import access
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.exports import XLSX_TYPE, Sheet, xlsx_bytes
from aid_portal.models import User
from cases.models import AssistanceType
from cases.payments.models import Bank, BankReturn, Roster, RosterLine
from cases.payments.services import roster_content_hash, roster_lock
from cases.payments.steps import ROSTER

Outcome = RosterLine.Outcome
REFERENCE = re.compile(r"^R(\d+)-L(\d+)$")
# The most errors a refused file lists; the count says how many more there were.
ERRORS_SHOWN = 50


def payable_lines(roster: Roster, bank: Bank) -> QuerySet[RosterLine]:
    """The payments of a roster that go to ``bank``: not recoveries, not held, and paying
    something (a recovery deducted from a line pays through it)."""
    return (
        roster.lines.filter(account__bank=bank, net_amount__gt=0)
        .exclude(kind=RosterLine.Kind.RECOVERY)
        .exclude(outcome=Outcome.HELD)
        .select_related("account", "payee", "village")
        .order_by("id")
    )


def banks_of(roster: Roster) -> QuerySet[Bank]:
    return Bank.objects.filter(
        pk__in=roster.lines.exclude(kind=RosterLine.Kind.RECOVERY).values("account__bank")
    ).order_by("code")


def _frozen(roster: Roster) -> None:
    if not roster.frozen:
        raise Conflict(_("Only a frozen roster (reviewed by finance) goes to the bank."))
    if roster_content_hash(roster) != roster.content_hash:
        # The lines no longer hash to what finance reviewed: refuse rather than pay them.
        raise Conflict(_("The roster's lines changed after it was frozen: nothing is exported."))


def _row(line: RosterLine, roster: Roster, columns: list[str]) -> list:
    values = {
        "line": line.pk,
        "reference": line.reference,
        "name": line.payee_name,
        "identity_number": line.payee.identity_number if line.payee else "",
        "account": line.account.number,
        "amount": f"{line.net_amount:.2f}",
        "programme": AssistanceType(line.programme).label,
        "month": roster.month.strftime("%Y-%m"),
        "township": roster.township.name,
    }
    return [values[column] for column in columns]


def bank_file(*, actor: User, roster: Roster, bank: Bank, form: str) -> tuple[bytes, str, str]:
    """The file for ``bank`` as (content, content type, file name); ``form`` is ``csv``,
    ``xlsx`` or ``jsonl``. The caller came through the gate with the exchange role."""
    if form not in ("csv", "xlsx", "jsonl"):
        raise DomainError(_("Choose CSV, XLSX or JSON lines."), field="form")
    with transaction.atomic():
        roster = Roster.objects.select_for_update().select_related("township").get(pk=roster.pk)
        _frozen(roster)
        columns = bank.columns()
        lines = list(payable_lines(roster, bank))
        count, total = len(lines), sum((line.net_amount for line in lines), Decimal("0"))
        rows = [_row(line, roster, columns) for line in lines]
        name = f"roster-{roster.pk}-{roster.month:%Y%m}-{bank.code}.{form}"
        if form == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(columns)
            writer.writerows(rows)
            writer.writerow(["TOTAL", count, f"{total:.2f}"])
            content = buffer.getvalue().encode(bank.file_encoding)
            kind = f"text/csv; charset={bank.file_encoding}"
        elif form == "xlsx":
            content = xlsx_bytes(
                sheets=[Sheet(bank.name, columns, [*rows, ["TOTAL", count, f"{total:.2f}"]])]
            )
            kind = XLSX_TYPE
        else:
            out = [
                json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) for row in rows
            ]
            out.append(json.dumps({"control": {"count": count, "total": f"{total:.2f}"}}))
            content = ("\n".join(out) + "\n").encode()
            kind = "application/x-ndjson"
        audit_record(
            actor=actor,
            action="roster.bank_file",
            obj=roster,
            region=roster.township,
            new={"bank": bank.code, "form": form, "lines": count, "total": total},
        )
        return content, kind, name


def return_apply(
    *, actor: User, roster_id: int, bank_id: int, file_name: str, content: bytes
) -> tuple[BankReturn, bool]:
    """Apply a bank's return to a roster, whole or not at all. Returns the return and
    whether it changed anything (False: this very file was applied before)."""
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        roster = roster_lock(roster_id, actor, None)
        try:
            bank = Bank.objects.get(pk=bank_id)
        except Bank.DoesNotExist:
            raise DomainError(_("Choose the bank that sent the return."), field="bank") from None
        done = BankReturn.objects.filter(roster=roster, bank=bank).first()
        if done is None:
            ROSTER.check("return_apply", roster, actor)
        else:
            # The same file again changes nothing, even once the roster is paid; asking
            # still takes the step's role.
            access.require_role(actor, ROSTER["return_apply"].roles_for(roster), roster.township)
        if done is not None:
            if done.sha256 == digest:
                return done, False
            raise Conflict(
                _("A different return of %(bank)s was already applied to this roster.")
                % {"bank": bank.name}
            )
        expected = {
            line.pk: line for line in payable_lines(roster, bank).select_for_update(of=("self",))
        }
        answers = _parse_return(content, bank, roster, expected)
        paid_total = Decimal("0")
        changed = []
        for line_id, (result, reason, note) in answers.items():
            line = expected[line_id]
            line.outcome = Outcome.PAID if result == "paid" else Outcome.FAILED
            line.failure = "" if result == "paid" else reason
            line.failure_note = note[:200]
            if result == "paid":
                paid_total += line.net_amount
            changed.append(line)
        _outcomes_save(changed)
        # A recovery deducted from a payment shares its fate.
        for outcome in (Outcome.PAID, Outcome.FAILED):
            roster.lines.filter(
                kind=RosterLine.Kind.RECOVERY,
                deducted_from__in=[line for line in changed if line.outcome == outcome],
            ).update(outcome=outcome)
        failed = sum(1 for line in changed if line.outcome == Outcome.FAILED)
        bank_return = BankReturn.objects.create(
            roster=roster,
            bank=bank,
            sha256=digest,
            file_name=file_name[:200],
            line_count=len(changed),
            paid_count=len(changed) - failed,
            failed_count=failed,
            paid_total=paid_total,
            imported_by=actor,
        )
        facts = {
            "bank": bank.code,
            "lines": len(changed),
            "failed": failed,
            "paid_total": paid_total,
        }
        still_open = (
            roster.lines.filter(outcome=Outcome.PENDING, net_amount__gt=0)
            .exclude(kind=RosterLine.Kind.RECOVERY)
            .exists()
        )
        if still_open:
            ROSTER.note(roster, actor, "return_apply", data=facts)
        else:
            ROSTER.move(roster, actor, "return_apply", Roster.State.PAID, data=facts)
        return bank_return, True


def _outcomes_save(lines: list[RosterLine]) -> None:
    """Write each line's outcome, failure and note in one statement. (bulk_update writes
    CASE WHEN id = … THEN … for every line of a batch, which the database evaluates for
    every row it updates: time grows with the square of the batch.)"""
    if not lines:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_rosterline l
            SET outcome = v.outcome, failure = v.failure, failure_note = v.failure_note
            FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])
                 AS v(id, outcome, failure, failure_note)
            WHERE l.id = v.id
            """,
            [
                [line.pk for line in lines],
                [line.outcome for line in lines],
                [line.failure for line in lines],
                [line.failure_note for line in lines],
            ],
        )


def _parse_return(
    content: bytes, bank: Bank, roster: Roster, expected: dict[int, RosterLine]
) -> dict[int, tuple[str, str, str]]:
    """Every line read and checked; any error refuses the file with all errors listed."""
    try:
        text = content.decode(bank.file_encoding)
    except UnicodeDecodeError as exc:
        line_number = content[: exc.start].count(b"\n") + 1
        raise DomainError(
            _("The file is not in %(encoding)s (line %(line)s): save it in the bank's encoding.")
            % {"encoding": bank.get_file_encoding_display(), "line": line_number},
            field="file",
        ) from None
    text = text.lstrip("\ufeff")
    errors: list[str] = []
    answers: dict[int, tuple[str, str, str]] = {}
    seen: dict[int, int] = {}
    control = None
    failures = set(RosterLine.Failure.values)
    reader = csv.reader(io.StringIO(text))
    for number, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() == "reference":
            continue
        if control is not None:
            errors.append(_("Line %(n)s: nothing may follow the control line.") % {"n": number})
            continue
        if cells[0].upper() == "TOTAL":
            control = (number, cells)
            continue
        cells += [""] * (5 - len(cells))
        reference, result, reason, amount, note = cells[:5]
        match = REFERENCE.match(reference)
        if match is None:
            errors.append(
                _("Line %(n)s: “%(ref)s” is not a payment reference.")
                % {"n": number, "ref": reference}
            )
            continue
        roster_id, line_id = int(match[1]), int(match[2])
        if roster_id != roster.pk:
            other = Roster.objects.filter(pk=roster_id).select_related("township").first()
            if other is not None and other.township.county_code != roster.township.county_code:
                errors.append(
                    _("Line %(n)s: %(ref)s is another county's payment.")
                    % {"n": number, "ref": reference}
                )
            else:
                errors.append(
                    _("Line %(n)s: %(ref)s belongs to another roster.")
                    % {"n": number, "ref": reference}
                )
            continue
        if line_id not in expected:
            errors.append(
                _("Line %(n)s: %(ref)s matches no payment sent to %(bank)s on this roster.")
                % {"n": number, "ref": reference, "bank": bank.name}
            )
            continue
        if line_id in seen:
            errors.append(
                _("Line %(n)s: %(ref)s was already answered on line %(first)s.")
                % {"n": number, "ref": reference, "first": seen[line_id]}
            )
            continue
        seen[line_id] = number
        if result not in ("paid", "failed"):
            errors.append(_("Line %(n)s: the result must be “paid” or “failed”.") % {"n": number})
            continue
        if result == "failed" and reason not in failures:
            errors.append(
                _("Line %(n)s: a failed payment needs its reason (%(reasons)s).")
                % {"n": number, "reasons": ", ".join(sorted(failures))}
            )
            continue
        try:
            value = Decimal(amount)
        except InvalidOperation:
            value = None
        if value != expected[line_id].net_amount:
            errors.append(
                _("Line %(n)s: the amount %(amount)s is not the %(sent)s sent.")
                % {"n": number, "amount": amount or "—", "sent": expected[line_id].net_amount}
            )
            continue
        answers[line_id] = (result, reason if result == "failed" else "", note)
    missing = [line.reference for pk, line in expected.items() if pk not in seen]
    if missing:
        errors.append(
            _("%(count)s payments sent to %(bank)s are not answered: %(refs)s")
            % {"count": len(missing), "bank": bank.name, "refs": ", ".join(missing[:10])}
        )
    if control is None:
        errors.append(_("The control line (TOTAL,<count>,<total>) is missing."))
    else:
        number, cells = control
        count = len(seen)
        total = sum((expected[pk].net_amount for pk in seen if pk in expected), Decimal("0"))
        try:
            ok = int(cells[1]) == count and Decimal(cells[2]) == total
        except (IndexError, ValueError, InvalidOperation):
            ok = False
        if not ok:
            errors.append(
                _(
                    "Line %(n)s: the control line does not match the file: %(count)s "
                    "lines, %(total)s yuan."
                )
                % {"n": number, "count": count, "total": total}
            )
    if errors:
        shown = errors[:ERRORS_SHOWN]
        if len(errors) > ERRORS_SHOWN:
            shown.append(_("… and %(more)s more.") % {"more": len(errors) - ERRORS_SHOWN})
        raise DomainError(
            _("The return was not applied: %(count)s errors. Nothing was changed.")
            % {"count": len(errors)},
            field="file",
            errors=shown,
        )
    return answers
