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
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aid_portal import access, uploads
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.exports import XLSX_TYPE, Sheet, csv_cell, xlsx_bytes
from aid_portal.models import User
from cases.models import AssistanceType
from cases.payments.models import Bank, BankReturn, Roster, RosterLine
from cases.payments.services import roster_content_hash, roster_lock
from cases.payments.steps import ROSTER

Outcome = RosterLine.Outcome
REFERENCE = re.compile(r"^R(\d+)-L(\d+)$")
# A return of a million payments is about 30 MB.
RETURN_MAX_BYTES = 256 * 2**20
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
            # Banks' clerks open the file in a spreadsheet too: a name that starts like
            # a formula is written as text there (aid_portal.exports).
            writer.writerow([csv_cell(value) for value in columns])
            writer.writerows([csv_cell(value) for value in row] for row in rows)
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
    *, actor: User, roster_id: int, bank_id: int, file_name: str, content: bytes | IO[bytes]
) -> tuple[BankReturn, bool]:
    """Apply a bank's return to a roster, whole or not at all. Returns the return and
    whether it changed anything (False: this very file was applied before).

    ``content`` is the file's bytes or a binary file (an upload): it is read line by
    line into a temporary table and checked and applied there, so memory does not grow
    with the lines of the file."""
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    size = len(content) if isinstance(content, bytes) else getattr(content, "size", None)
    if size is not None and size > RETURN_MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)s MB.") % {"mb": RETURN_MAX_BYTES // 2**20},
            field="file",
        )
    if uploads.is_binary(uploads.head_of(stream)):
        raise DomainError(
            _("The file's content does not match its name: a return file must be text (CSV)."),
            field="file",
        )
    digest = _sha256(stream)
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
        # The roster's lock (above) is what every change of its lines takes first, so
        # the lines the return answers cannot change under it.
        with connection.cursor() as cursor:
            _return_load(cursor, stream, bank)
            _return_check(cursor, roster, bank)
            paid_total, answered, failed = _return_write(cursor, roster)
        bank_return = BankReturn.objects.create(
            roster=roster,
            bank=bank,
            sha256=digest,
            file_name=uploads.display_name(file_name),
            line_count=answered,
            paid_count=answered - failed,
            failed_count=failed,
            paid_total=paid_total,
            imported_by=actor,
        )
        facts = {"bank": bank.code, "lines": answered, "failed": failed, "paid_total": paid_total}
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


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _decoded_lines(stream: IO[bytes], bank: Bank) -> Iterator[str]:
    """The file's lines as text, one at a time. Splitting the bytes at newlines is safe
    for every encoding a bank may use (UTF-8, GBK, GB18030: no byte of a multi-byte
    character is a newline), and it names the line that is not in the encoding."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode(bank.file_encoding)
        except UnicodeDecodeError:
            raise DomainError(
                _(
                    "The file is not in %(encoding)s (line %(line)s): save it in the bank's "
                    "encoding."
                )
                % {"encoding": bank.get_file_encoding_display(), "line": number},
                field="file",
            ) from None
        yield text.lstrip("\ufeff") if number == 1 else text


# The answers of the file as the database sees them: one row a line that names a payment
# (its line number, the error the line has on its own, if any), and the control line.
_RETURN_TABLE = """
    CREATE TEMPORARY TABLE bank_return_lines (
        number integer NOT NULL,
        roster_id bigint,
        line_id bigint,
        reference text NOT NULL,
        result text NOT NULL,
        reason text NOT NULL,
        amount numeric,
        amount_text text NOT NULL,
        note text NOT NULL,
        error text
    ) ON COMMIT DROP
"""
# Rows go to the database this many at a time: the memory one load takes.
COPY_BATCH = 10_000


def _return_load(cursor, stream: IO[bytes], bank: Bank) -> None:
    """Read the file into ``bank_return_lines``, checking what each line can say of
    itself; what needs the roster is checked in SQL by ``_return_check``."""
    # Dropped first as well as on commit: two returns applied in one transaction (a
    # caller's outer atomic block) must not meet the first one's rows.
    cursor.execute(
        "DROP TABLE IF EXISTS pg_temp.bank_return_lines, pg_temp.bank_return_errors, "
        "pg_temp.bank_return_control"
    )
    cursor.execute(_RETURN_TABLE)
    cursor.execute(
        "CREATE TEMPORARY TABLE bank_return_errors (number integer, message text) ON COMMIT DROP"
    )
    failures = set(RosterLine.Failure.values)
    batch: list[tuple] = []
    errors: list[tuple[int, str]] = []
    control = None
    for number, row in enumerate(csv.reader(_decoded_lines(stream, bank)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() == "reference":
            continue
        if control is not None:
            errors.append(
                (number, _("Line %(n)s: nothing may follow the control line.") % {"n": number})
            )
            continue
        if cells[0].upper() == "TOTAL":
            control = (number, cells)
            continue
        cells += [""] * (5 - len(cells))
        reference, result, reason, amount, note = cells[:5]
        match = REFERENCE.match(reference)
        if match is None:
            errors.append(
                (
                    number,
                    _("Line %(n)s: “%(ref)s” is not a payment reference.")
                    % {"n": number, "ref": reference},
                )
            )
            continue
        error = None
        if result not in ("paid", "failed"):
            error = _("Line %(n)s: the result must be “paid” or “failed”.") % {"n": number}
        elif result == "failed" and reason not in failures:
            error = _("Line %(n)s: a failed payment needs its reason (%(reasons)s).") % {
                "n": number,
                "reasons": ", ".join(sorted(failures)),
            }
        try:
            value = Decimal(amount)
            if not value.is_finite():
                value = None
        except InvalidOperation:
            value = None
        batch.append(
            (
                number,
                int(match[1]),
                int(match[2]),
                reference,
                result,
                reason if result == "failed" else "",
                value,
                amount,
                note[:200],
                error,
            )
        )
        if len(batch) >= COPY_BATCH:
            _copy(cursor, "bank_return_lines", batch)
            batch = []
        if len(errors) >= COPY_BATCH:
            _copy(cursor, "bank_return_errors", errors)
            errors = []
    _copy(cursor, "bank_return_lines", batch)
    _copy(cursor, "bank_return_errors", errors)
    cursor.execute("CREATE INDEX ON bank_return_lines (line_id, number)")
    cursor.execute("ANALYZE bank_return_lines")
    cursor.execute(
        "CREATE TEMPORARY TABLE bank_return_control (number integer, cells text[]) ON COMMIT DROP"
    )
    if control is not None:
        cursor.execute("INSERT INTO bank_return_control VALUES (%s, %s)", list(control))


def _copy(cursor, table: str, rows: list[tuple]) -> None:
    """COPY the rows in: NULL is the unquoted empty field, every text is quoted (so an
    empty note stays an empty text, not NULL)."""
    if not rows:
        return
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join(_csv_field(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", buffer)


def _csv_field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)


# Each line's first error, in the order the checks apply: the roster it names, a payment
# sent to this bank on this roster, answered once, its own errors, then the amount.
# {expected} is the SQL of payable_lines (the one rule of what a bank is sent), its
# parameters already bound: ids of this roster and bank, never text from the file.
_LINE_ERRORS = """
    WITH expected AS ({expected}),
    answers AS (
        SELECT r.*, e.net_amount AS sent, e.id IS NOT NULL AS known,
               min(r.number) OVER (PARTITION BY r.line_id, e.id IS NOT NULL) AS first
        FROM bank_return_lines r
        LEFT JOIN expected e ON r.roster_id = %(roster)s AND e.id = r.line_id
    ),
    errors AS (
        SELECT number, 'text' AS code, message AS reference, NULL::text AS detail
        FROM bank_return_errors
        UNION ALL
        SELECT number,
               CASE WHEN roster_id = ANY(%(other_county)s) THEN 'county'
                    WHEN roster_id <> %(roster)s THEN 'roster'
                    WHEN NOT known THEN 'unexpected'
                    WHEN number <> first THEN 'twice'
                    WHEN error IS NOT NULL THEN 'own'
                    WHEN amount IS DISTINCT FROM sent THEN 'amount'
               END,
               CASE WHEN error IS NOT NULL AND known AND number = first THEN error
                    ELSE reference END,
               CASE WHEN number <> first THEN first::text ELSE sent::text END
               || '|' || amount_text
        FROM answers
    )
    SELECT number, code, reference, detail, count(*) OVER ()
    FROM errors WHERE code IS NOT NULL
    ORDER BY number
    LIMIT %(shown)s
"""

_MISSING = """
    WITH expected AS ({expected})
    SELECT e.id, count(*) OVER () FROM expected e
    WHERE NOT EXISTS (
        SELECT 1 FROM bank_return_lines r WHERE r.roster_id = %(roster)s AND r.line_id = e.id
    )
    ORDER BY e.id LIMIT 10
"""

_SEEN = """
    WITH expected AS ({expected})
    SELECT count(*), coalesce(sum(e.net_amount), 0) FROM expected e
    WHERE EXISTS (
        SELECT 1 FROM bank_return_lines r WHERE r.roster_id = %(roster)s AND r.line_id = e.id
    )
"""


def _return_check(cursor, roster: Roster, bank: Bank) -> None:
    """Every line checked against the payments sent; any error refuses the whole file,
    with the first errors listed by line and the count of the rest."""
    expected_sql, expected_params = (
        payable_lines(roster, bank).order_by().values("id", "net_amount").query.sql_with_params()
    )
    if expected_params:
        # payable_lines' own parameters go in as literals of their SQL: they are ids and
        # fixed values of this module, never text from the file.
        expected_sql = cursor.mogrify(expected_sql, expected_params).decode()
    params = {
        "roster": roster.pk,
        "other_county": _rosters_of_other_counties(cursor, roster),
        "shown": ERRORS_SHOWN + 1,
    }
    cursor.execute(_LINE_ERRORS.format(expected=expected_sql), params)
    rows = cursor.fetchall()
    errors = [_line_error(row, bank) for row in rows]
    total = rows[0][4] if rows else 0
    cursor.execute(_MISSING.format(expected=expected_sql), params)
    missing = cursor.fetchall()
    if missing:
        total += 1
        errors.append(
            _("%(count)s payments sent to %(bank)s are not answered: %(refs)s")
            % {
                "count": missing[0][1],
                "bank": bank.name,
                "refs": ", ".join(f"R{roster.pk}-L{line_id}" for line_id, _count in missing),
            }
        )
    cursor.execute("SELECT number, cells FROM bank_return_control")
    control = cursor.fetchone()
    if control is None:
        total += 1
        errors.append(_("The control line (TOTAL,<count>,<total>) is missing."))
    else:
        cursor.execute(_SEEN.format(expected=expected_sql), params)
        count, amount = cursor.fetchone()
        number, cells = control
        try:
            ok = int(cells[1]) == count and Decimal(cells[2]) == amount
        except (IndexError, ValueError, InvalidOperation):
            ok = False
        if not ok:
            total += 1
            errors.append(
                _(
                    "Line %(n)s: the control line does not match the file: %(count)s "
                    "lines, %(total)s yuan."
                )
                % {"n": number, "count": count, "total": amount}
            )
    if total:
        shown = errors[:ERRORS_SHOWN]
        if total > len(shown):
            shown.append(_("… and %(more)s more.") % {"more": total - len(shown)})
        raise DomainError(
            _("The return was not applied: %(count)s errors. Nothing was changed.")
            % {"count": total},
            field="file",
            errors=shown,
        )


def _rosters_of_other_counties(cursor, roster: Roster) -> list[int]:
    """The other rosters the file names that belong to another county (few: a file
    names its own roster, or by mistake a neighbour's)."""
    cursor.execute(
        "SELECT DISTINCT roster_id FROM bank_return_lines WHERE roster_id <> %s", [roster.pk]
    )
    others = [row[0] for row in cursor.fetchall()]
    county = roster.township.county_code
    return [
        other.pk
        for other in Roster.objects.filter(pk__in=others).select_related("township")
        if other.township.county_code != county
    ]


def _line_error(row: tuple, bank: Bank) -> str:
    number, code, reference, detail, _count = row
    if code in ("text", "own"):
        return reference  # the error the line has on its own, as the file was read
    first_or_sent, amount_text = (detail or "|").split("|", 1)
    values = {"n": number, "ref": reference, "bank": bank.name}
    if code == "county":
        return _("Line %(n)s: %(ref)s is another county's payment.") % values
    if code == "roster":
        return _("Line %(n)s: %(ref)s belongs to another roster.") % values
    if code == "unexpected":
        return _("Line %(n)s: %(ref)s matches no payment sent to %(bank)s on this roster.") % values
    if code == "twice":
        return _("Line %(n)s: %(ref)s was already answered on line %(first)s.") % {
            **values,
            "first": first_or_sent,
        }
    return _("Line %(n)s: the amount %(amount)s is not the %(sent)s sent.") % {
        "n": number,
        "amount": amount_text or "—",
        "sent": first_or_sent,
    }


def _return_write(cursor, roster: Roster) -> tuple[Decimal, int, int]:
    """Each answered line takes its outcome; a recovery deducted from a payment shares
    its fate. Returns the paid total, the lines answered and those failed."""
    cursor.execute(
        """
        WITH answered AS (
            UPDATE cases_rosterline l
            SET outcome = r.result, failure = r.reason, failure_note = r.note
            FROM bank_return_lines r
            WHERE r.roster_id = %(roster)s AND l.id = r.line_id
            RETURNING l.outcome, l.net_amount
        )
        SELECT coalesce(sum(net_amount) FILTER (WHERE outcome = %(paid)s), 0),
               count(*), count(*) FILTER (WHERE outcome = %(failed)s)
        FROM answered
        """,
        {"roster": roster.pk, "paid": Outcome.PAID, "failed": Outcome.FAILED},
    )
    paid_total, answered, failed = cursor.fetchone()
    cursor.execute(
        """
        UPDATE cases_rosterline recovery SET outcome = payment.outcome
        FROM cases_rosterline payment
        JOIN bank_return_lines r ON r.roster_id = %(roster)s AND r.line_id = payment.id
        WHERE recovery.roster_id = %(roster)s AND recovery.kind = %(recovery)s
          AND recovery.deducted_from_id = payment.id
        """,
        {"roster": roster.pk, "recovery": RosterLine.Kind.RECOVERY},
    )
    return paid_total, answered, failed
