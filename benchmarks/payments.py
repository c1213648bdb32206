"""Benchmark of the payments (issue 14, item 9, "Scale"): the month's rosters of a county,
its bank return and its four-ledger reconciliation, each beside a plain SQL baseline.

Not a test. Run it from the project folder:

    .venv/bin/python benchmarks/payments.py                        # 1,000,000 households
    .venv/bin/python benchmarks/payments.py --households 20000 --repeat 2

It works in a database of its own (``<name>_payments_benchmark`` on the same server),
created and migrated at the start and dropped at the end, so it leaves nothing behind.
One county of 20 townships × 20 villages; every household has an applicant (member and
person), a dibao case in payment with an award in force, a current account at the ABC
(a valid 19-digit Luhn number) and an entry on its village's public roster of the month.
They are loaded with COPY and committed, then VACUUM ANALYZE runs, as autovacuum would
have on a real server. The encrypted fields (identity and account numbers) share one
token each, as in batch_compare.py; the checks still decrypt every line's two numbers,
as they would with a token per row (Fernet's cost does not depend on the token).

Three measurements, each timed in pairs with its baseline, one right after the other
(this machine's speed drifts by a third within minutes), each run its own committed
transaction; the medians and the median of the pairs' ratios are printed:

1. Rosters: ``roster_prepare`` for every township, one after the other in this one
   process (as a scheduled task would), against one plain ``INSERT … SELECT`` of the
   same lines for the whole county. Its parts: the SQL insert, the SQL checks, the
   Python checks (identity and account numbers, decrypted) and the totals. The rosters
   of the last pair are kept, approved by the county (auditor) and reviewed by finance
   (another user) with the real step services.
2. The bank return: one CSV per roster (one bank), ``TOTAL`` line included, one line
   in a hundred failed, applied with ``bankfiles.return_apply`` roster by roster, against
   a COPY of the same lines into a temporary table and one ``UPDATE … FROM``. Between
   runs the lines are set back to pending and the returns removed. Memory: the peak
   resident size of the process (``ru_maxrss``) before and after, and in a further
   pass, not timed, the peak of Python's allocations (tracemalloc) per file.
3. The reconciliation: ``reconciliation_run`` for the county-month, against the plain
   anti-join of what is due and what was rostered.

The load average is printed at the start and after each part: the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

import django
from stdnum import luhn

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from aid_portal import crypto  # noqa: E402
from aid_portal.crypto import blind_index, encrypt  # noqa: E402
from aid_portal.identity import validate_identity_number  # noqa: E402
from aid_portal.models import Region, Role, RoleAssignment, User  # noqa: E402
from cases.models import Application, Household, Member, Person  # noqa: E402
from cases.payments import bankfiles, services  # noqa: E402
from cases.payments.models import Award, Bank, PaymentAccount, Roster, RosterLine  # noqa: E402
from cases.payments.reconciliation import reconciliation_run  # noqa: E402
from cases.publicity.models import PublicRoster, PublicRosterEntry  # noqa: E402

COUNTY = "659902000000"  # a county code no real data uses
TOWNSHIPS = 20
VILLAGES_PER_TOWNSHIP = 20
AMOUNT = Decimal("600.00")
IDENTITY_NUMBER = "640422197001010018"
FAILED_EVERY = 100  # one line in a hundred fails at the bank
CHUNK = 100_000  # rows per COPY buffer


def loadavg() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def use_fresh_database() -> tuple[str, str]:
    """Switch the default connection to a new ``<name>_payments_benchmark``, migrated;
    return the names of the original database and the new one."""
    original = connection.settings_dict["NAME"]
    name = original + "_payments_benchmark"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)
    return original, name


def drop_database(original: str, name: str) -> None:
    connection.close()
    connections["default"].settings_dict["NAME"] = original
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}"')


def _cell(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_rows(model: type[models.Model], rows) -> None:
    """COPY ``rows`` (an iterable of dicts) into ``model``'s table, CHUNK rows per
    buffer. Columns a row leaves out get the field's default (Django defaults live in
    Python, not in the database)."""
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    fallback = {}
    for f in fields:
        if f.has_default():
            fallback[f.attname] = f.get_default()
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fallback[f.attname] = now
        elif f.null:
            fallback[f.attname] = None
        else:
            fallback[f.attname] = ""
    columns = [f.attname for f in fields]
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {model._meta.db_table} ({column_list}) FROM STDIN"

    def flush(buffer: io.StringIO) -> None:
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer)

    buffer = io.StringIO()
    for count, row in enumerate(rows, start=1):
        buffer.write("\t".join(_cell(row.get(c, fallback[c])) for c in columns))
        buffer.write("\n")
        if count % CHUNK == 0:
            flush(buffer)
            buffer = io.StringIO()
    flush(buffer)


def _ids(model) -> list[int]:
    return list(model.objects.order_by("pk").values_list("pk", flat=True))


def luhn_number(prefix: str, length: int = 19) -> str:
    body = prefix.ljust(length - 1, "7")
    return body + luhn.calc_check_digit(body)


def generate(households: int, month: datetime.date) -> dict:
    county = Region.objects.create(code=COUNTY, name="基准县", level=Region.Level.COUNTY)
    townships, villages = [], []
    for t in range(TOWNSHIPS):
        township = Region.objects.create(
            code=Region.code_from_prefix(f"{county.prefix}{100 + t:03d}"),
            name=f"基准镇{t}",
            level=Region.Level.TOWNSHIP,
            parent=county,
        )
        townships.append(township)
        for v in range(VILLAGES_PER_TOWNSHIP):
            villages.append(
                Region.objects.create(
                    code=f"{township.prefix}{200 + v:03d}",
                    name=f"基准村{t}-{v}",
                    level=Region.Level.VILLAGE,
                    parent=township,
                )
            )
    # Three people, three roles: the township caseworker prepares, the county auditor
    # approves (and applies returns, and reconciles), the finance reviewer freezes.
    caseworker = User.objects.create(username="bench-caseworker")
    auditor = User.objects.create(username="bench-auditor")
    finance = User.objects.create(username="bench-finance")
    for township in townships:
        RoleAssignment.objects.create(
            user=caseworker, role=Role.TOWNSHIP_CASEWORKER, region=township
        )
    RoleAssignment.objects.create(user=auditor, role=Role.COUNTY_AUDITOR, region=county)
    RoleAssignment.objects.create(user=finance, role=Role.FINANCE_REVIEWER, region=county)
    bank = Bank.objects.get(code="abc")
    account_number = luhn_number("6228480")
    validate_identity_number(IDENTITY_NUMBER)
    assert services.account_well_formed(bank, account_number)

    started = time.perf_counter()
    identity_token = encrypt(IDENTITY_NUMBER)
    account_token = encrypt(account_number)
    copy_rows(
        Person,
        (
            {
                "identity_number": identity_token,
                "identity_hash": blind_index(f"bench-{i}"),
                "name": f"人{i}",
                "birth_date": "1970-01-01",
                "sex": "M",
            }
            for i in range(households)
        ),
    )
    person_ids = _ids(Person)
    copy_rows(
        Household,
        (
            {"village_id": villages[i % len(villages)].pk, "address": f"基准{i}号"}
            for i in range(households)
        ),
    )
    household_ids = _ids(Household)
    village_ids = [villages[i % len(villages)].pk for i in range(households)]
    copy_rows(
        Member,
        (
            {"household_id": hid, "person_id": pid, "relation": "self", "active": True}
            for hid, pid in zip(household_ids, person_ids, strict=True)
        ),
    )
    decided = timezone.now() - datetime.timedelta(days=120)
    copy_rows(
        Application,
        (
            {
                "household_id": hid,
                "village_id": vid,
                "assistance_type": "dibao_rural",
                "state": "in_payment",
                "decided_at": decided,
                "monthly_amount": AMOUNT,
                "created_by_id": caseworker.pk,
            }
            for hid, vid in zip(household_ids, village_ids, strict=True)
        ),
    )
    application_ids = _ids(Application)
    first_month = (month - datetime.timedelta(days=100)).replace(day=1)
    copy_rows(
        Award,
        (
            {
                "application_id": aid,
                "programme": "dibao_rural",
                "monthly_amount": AMOUNT,
                "one_off": False,
                "from_month": first_month,
                "until_month": None,
                "decision": "approval",
                "decided_on": first_month,
            }
            for aid in application_ids
        ),
    )
    copy_rows(
        PaymentAccount,
        (
            {
                "household_id": hid,
                "bank_id": bank.pk,
                "number": account_token,
                "last4": account_number[-4:],
                "holder_name": f"人{i}",
                "created_by_id": caseworker.pk,
            }
            for i, hid in enumerate(household_ids)
        ),
    )
    # The fourth ledger: each village published its public roster of the month.
    public = {}
    for village in villages:
        public[village.pk] = PublicRoster.objects.create(
            village=village, month=month, published_by=caseworker
        ).pk
    copy_rows(
        PublicRosterEntry,
        (
            {
                "public_roster_id": public[vid],
                "household_id": hid,
                "shown_name": f"人{i}"[:2] + "*",
                "household_size": 1,
                "programme": "dibao_rural",
                "amount": AMOUNT,
                "change": "unchanged",
            }
            for i, (hid, vid) in enumerate(zip(household_ids, village_ids, strict=True))
        ),
    )
    load_seconds = time.perf_counter() - started
    return {
        "county": county,
        "townships": townships,
        "bank": bank,
        "caseworker": caseworker,
        "auditor": auditor,
        "finance": finance,
        "load": load_seconds,
    }


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def committed(function):
    """``function`` in a transaction of its own, committed; (seconds, value)."""

    def run():
        with transaction.atomic():
            return function()

    return timed(run)


def sql(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def vacuum(*tables: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE " + ", ".join(tables))


def pair_report(label: str, baseline_label: str, pairs: list[tuple[float, float]]) -> str:
    bases = sorted(b for b, _s in pairs)
    subjects = sorted(s for _b, s in pairs)
    ratios = sorted(s / b for b, s in pairs)
    return (
        f"{baseline_label:<30} {bases[0]:8.2f} s best, {statistics.median(bases):8.2f} s median\n"
        f"{label:<30} {subjects[0]:8.2f} s best, {statistics.median(subjects):8.2f} s median\n"
        f"{'ratio':<30} {statistics.median(ratios):8.2f} × the baseline, the median of "
        f"{len(pairs)} pairs (each: " + ", ".join(f"{r:.2f}" for r in ratios) + ")"
    )


def goal(seconds: float, limit: float) -> str:
    return f"goal ≤ {limit:.0f} s: {'met' if seconds <= limit else 'NOT met'}"


# --- 1. rosters -------------------------------------------------------------------------------

# The same lines as the roster's entitlement, in one statement for the county: what is in
# force, the applicant and the current account, nothing checked. On a roster of its own
# (withdrawn, so no check of the code under test sees it), removed after each run.
PLAIN_INSERT = f"""
    INSERT INTO cases_rosterline ({services._LINE_COLUMNS})
    SELECT %(roster)s, a.id, a.household_id, a.village_id, aw.programme, 'monthly',
           aw.monthly_amount, aw.monthly_amount, %(month)s, %(month)s, '',
           aw.id, NULL, NULL, NULL, p.id, p.name, p.identity_hash, acc.id, '[]'::jsonb,
           'pending', '', ''
    FROM cases_award aw
    JOIN cases_application a ON a.id = aw.application_id
    JOIN aid_portal_region v ON v.id = a.village_id
    JOIN cases_member m ON m.household_id = a.household_id AND m.relation = 'self'
    JOIN cases_person p ON p.id = m.person_id
    LEFT JOIN cases_paymentaccount acc
      ON acc.household_id = a.household_id AND acc.replaced_at IS NULL
    WHERE v.code LIKE %(prefix)s AND aw.from_month <= %(month)s
      AND (aw.until_month IS NULL OR aw.until_month >= %(month)s)
"""  # noqa: S608 - constants of this script only


def rosters_remove() -> None:
    """Every roster and line gone (nothing else refers to them yet), and the tables'
    statistics as autovacuum would leave them."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_rosterline, cases_rosterevent")
        cursor.execute("DELETE FROM cases_roster")
    vacuum("cases_rosterline", "cases_roster", "cases_rosterevent")


class Parts:
    """The parts of roster_prepare, from the statements it sends and two of its
    functions, wrapped by name in their module (no change to what they do)."""

    def __init__(self):
        self.insert = self.sql_checks = self.lines_check = self.totals = 0.0

    def execute(self, execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            if "UPDATE cases_rosterline l SET problems" in statement:
                self.sql_checks += seconds
            elif (
                statement.lstrip().startswith("INSERT INTO cases_rosterline")
                or "WITH pick AS" in statement
                or "DELETE FROM cases_rosterline WHERE roster_id" in statement
            ):
                self.insert += seconds

    @contextmanager
    def watching(self):
        lines_check, totals_save = services.lines_check, services._totals_save

        def timed_lines_check(roster):
            started = time.perf_counter()
            try:
                return lines_check(roster)
            finally:
                self.lines_check += time.perf_counter() - started

        def timed_totals_save(roster):
            started = time.perf_counter()
            try:
                return totals_save(roster)
            finally:
                self.totals += time.perf_counter() - started

        services.lines_check, services._totals_save = timed_lines_check, timed_totals_save
        try:
            with connection.execute_wrapper(self.execute):
                yield self
        finally:
            services.lines_check, services._totals_save = lines_check, totals_save


def python_checks_split(roster: Roster) -> dict:
    """The Python checks of one roster taken apart, not timed with the rest: the lines
    read as lines_check reads them (with the decryption of both numbers, counted
    separately), then the identity numbers checked, then the account numbers."""
    decrypt = crypto.decrypt
    spent = {"decrypt": 0.0, "decrypted": 0}

    def timed_decrypt(token):
        started = time.perf_counter()
        try:
            return decrypt(token)
        finally:
            spent["decrypt"] += time.perf_counter() - started
            spent["decrypted"] += 1

    lines = (
        RosterLine.objects.filter(roster=roster)
        .exclude(kind=RosterLine.Kind.RECOVERY)
        .exclude(outcome=RosterLine.Outcome.HELD)
        .select_related("payee", "account__bank")
    )
    crypto.decrypt = timed_decrypt
    try:
        read, rows = timed(lambda: list(lines))
    finally:
        crypto.decrypt = decrypt
    identity, _ = timed(lambda: [validate_identity_number(r.payee.identity_number) for r in rows])
    account, _ = timed(
        lambda: [services.account_well_formed(r.account.bank, r.account.number) for r in rows]
    )
    return {
        "lines": len(rows),
        "read": read,
        "decrypt": spent["decrypt"],
        "decrypted": spent["decrypted"],
        "identity": identity,
        "account": account,
    }


def rosters(data: dict, month: datetime.date, repeat: int) -> list[Roster]:
    county, townships = data["county"], data["townships"]
    caseworker = data["caseworker"]
    pairs, parts_of = [], []
    prepared = []
    for run in range(repeat):
        plain_roster = Roster.objects.create(
            township=townships[0],
            month=month,
            kind=Roster.Kind.SUPPLEMENTARY,
            state=Roster.State.WITHDRAWN,
            prepared_by=caseworker,
            due_on=month.replace(day=15),
        )
        params = {"roster": plain_roster.pk, "month": month, "prefix": county.prefix + "%"}
        plain_seconds, _ = committed(lambda params=params: sql(PLAIN_INSERT, params))
        plain_lines = RosterLine.objects.filter(roster=plain_roster).count()
        rosters_remove()

        parts = Parts()

        def prepare_all():
            return [
                services.roster_prepare(actor=caseworker, township_id=t.pk, month=month)
                for t in townships
            ]

        with parts.watching():
            seconds, prepared = timed(prepare_all)  # each roster_prepare commits its own
        pairs.append((plain_seconds, seconds))
        parts_of.append((seconds, parts))
        lines = sum(r.line_count for r in prepared)
        problems = sum(r.problem_count for r in prepared)
        print(
            f"  pair {run + 1}: plain INSERT … SELECT {plain_seconds:6.2f} s "
            f"({plain_lines:,} lines), roster_prepare × {len(prepared)} {seconds:6.2f} s "
            f"({lines:,} lines, {problems} with problems)",
            flush=True,
        )
        if run < repeat - 1:
            rosters_remove()
    print(pair_report("roster_prepare, all townships", "plain INSERT … SELECT", pairs))
    # The parts of the median run.
    seconds, parts = sorted(parts_of, key=lambda x: x[0])[len(parts_of) // 2]
    python = parts.lines_check - parts.sql_checks - parts.totals
    rest = seconds - parts.lines_check - parts.insert
    print(
        f"  parts of the median run ({seconds:.2f} s): SQL insert {parts.insert:.2f} s, "
        f"SQL checks {parts.sql_checks:.2f} s, Python checks {python:.2f} s, "
        f"totals {parts.totals:.2f} s, the rest (locks, roster row, event, audit, "
        f"commit) {rest:.2f} s"
    )
    split = python_checks_split(prepared[0])
    n = split["lines"]
    scale = sum(r.line_count for r in prepared) / n
    print(
        f"  Python checks of one roster ({n:,} lines), apart: reading the lines "
        f"{split['read']:.2f} s (of which decrypting {split['decrypted']:,} numbers "
        f"{split['decrypt']:.2f} s, {1e6 * split['decrypt'] / max(split['decrypted'], 1):.1f} "
        f"µs each), identity numbers {split['identity']:.2f} s, account numbers "
        f"{split['account']:.2f} s; × {scale:.0f} for the county: reading "
        f"{scale * split['read']:.1f} s (decrypting {scale * split['decrypt']:.1f} s), "
        f"identity {scale * split['identity']:.1f} s, account {scale * split['account']:.1f} s"
    )
    print(
        f"  {goal(statistics.median(s for _b, s in pairs), 30)}; within 2× of the plain "
        f"insert: {'met' if statistics.median(s / b for b, s in pairs) <= 2 else 'NOT met'}"
    )
    return prepared


def approve(data: dict, prepared: list[Roster]) -> list[Roster]:
    auditor, finance = data["auditor"], data["finance"]
    county_seconds, _ = timed(
        lambda: [services.roster_county_approve(actor=auditor, roster_id=r.pk) for r in prepared]
    )
    finance_seconds, frozen = timed(
        lambda: [services.roster_finance_approve(actor=finance, roster_id=r.pk) for r in prepared]
    )
    print(
        f"approved with the step services: county (auditor) {county_seconds:.2f} s, "
        f"finance review and freeze (content hash) {finance_seconds:.2f} s, "
        f"{len(frozen)} rosters"
    )
    return frozen


# --- 2. the bank return -----------------------------------------------------------------------


def return_files(frozen: list[Roster], bank: Bank) -> dict[int, bytes]:
    """Each roster's return, as the bank would send it: every payment answered, one in
    FAILED_EVERY failed, the control line last."""
    files = {}
    for roster in frozen:
        rows = sql(
            "SELECT id, net_amount FROM cases_rosterline WHERE roster_id = %s "
            "AND kind <> 'recovery' AND outcome <> 'held' AND net_amount > 0 ORDER BY id",
            [roster.pk],
        )
        out = io.StringIO()
        out.write("reference,result,reason,amount,note\r\n")
        total = Decimal("0")
        for i, (line_id, amount) in enumerate(rows):
            if i % FAILED_EVERY == FAILED_EVERY - 1:
                out.write(f"R{roster.pk}-L{line_id},failed,account_closed,{amount:.2f},销户\r\n")
            else:
                out.write(f"R{roster.pk}-L{line_id},paid,,{amount:.2f},\r\n")
            total += amount
        out.write(f"TOTAL,{len(rows)},{total:.2f}\r\n")
        files[roster.pk] = out.getvalue().encode(bank.file_encoding)
    return files


def returns_undo(frozen: list[Roster]) -> None:
    ids = [r.pk for r in frozen]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_rosterline SET outcome = 'pending', failure = '', failure_note = '' "
            "WHERE roster_id = ANY(%s) AND outcome IN ('paid', 'failed')",
            [ids],
        )
        cursor.execute("DELETE FROM cases_bankreturn WHERE roster_id = ANY(%s)", [ids])
        cursor.execute(
            "DELETE FROM cases_rosterevent WHERE roster_id = ANY(%s) "
            "AND action IN ('return_apply', 'paid')",
            [ids],
        )
        cursor.execute("UPDATE cases_roster SET state = 'approved' WHERE id = ANY(%s)", [ids])
    vacuum("cases_rosterline", "cases_roster", "cases_bankreturn")


def plain_return(files: dict[int, bytes], bank: Bank) -> int:
    """The baseline: the same lines COPYed into a temporary table, one UPDATE … FROM."""
    body = io.BytesIO()
    for content in files.values():
        text = content.decode(bank.file_encoding)
        start = text.index("\n") + 1
        end = text.rindex("TOTAL,")
        body.write(text[start:end].encode())
    body.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_return (reference text, result text, reason text, "
            "amount numeric, note text) ON COMMIT DROP"
        )
        cursor.cursor.copy_expert("COPY bench_return FROM STDIN WITH (FORMAT csv)", body)
        cursor.execute(
            """
            UPDATE cases_rosterline l
            SET outcome = CASE WHEN t.result = 'paid' THEN 'paid' ELSE 'failed' END,
                failure = coalesce(t.reason, ''), failure_note = coalesce(t.note, '')
            FROM bench_return t
            WHERE l.id = split_part(t.reference, '-L', 2)::bigint
              AND l.net_amount = t.amount
            """
        )
        return cursor.rowcount


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bank_return(data: dict, frozen: list[Roster], repeat: int) -> None:
    bank, auditor = data["bank"], data["auditor"]
    files_seconds, files = timed(lambda: return_files(frozen, bank))
    lines = sum(content.count(b"\n") - 2 for content in files.values())
    size = sum(len(c) for c in files.values())
    print(
        f"bank return: {len(files)} files (one per roster), {lines:,} lines, "
        f"{size / 2**20:.1f} MiB, written in {files_seconds:.1f} s (not timed below)"
    )

    def apply_all():
        results = []
        for roster_id, content in files.items():
            results.append(
                bankfiles.return_apply(
                    actor=auditor,
                    roster_id=roster_id,
                    bank_id=bank.pk,
                    file_name=f"return-{roster_id}.csv",
                    content=content,
                )
            )
        return results

    pairs = []
    rss = []
    for run in range(repeat):
        plain_seconds, updated = committed(lambda: plain_return(files, bank))
        returns_undo(frozen)
        before = maxrss_mib()
        seconds, results = timed(apply_all)  # each return_apply commits its own
        after = maxrss_mib()
        rss.append((before, after))
        applied = [r for r, changed in results if changed]
        failed = sum(r.failed_count for r in applied)
        pairs.append((plain_seconds, seconds))
        print(
            f"  pair {run + 1}: COPY + UPDATE … FROM {plain_seconds:6.2f} s ({updated:,} lines), "
            f"return_apply × {len(applied)} {seconds:6.2f} s "
            f"({sum(r.line_count for r in applied):,} lines, {failed:,} failed); "
            f"peak resident size {before:.0f} → {after:.0f} MiB",
            flush=True,
        )
        returns_undo(frozen)
    print(pair_report("return_apply, all rosters", "COPY + UPDATE … FROM", pairs))
    print(
        f"  {goal(statistics.median(s for _b, s in pairs), 30)} (import only: the "
        "reconciliation of the month is timed below)"
    )

    # Memory, not timed: Python's peak allocation while each file is applied.
    # The first two files are traced (tracing slows Python down twofold), the rest are
    # applied untraced: the reconciliation below needs the whole month paid.
    peaks = []
    for index, (roster_id, content) in enumerate(files.items()):
        if index < 2:
            tracemalloc.start()
        bankfiles.return_apply(
            actor=auditor,
            roster_id=roster_id,
            bank_id=bank.pk,
            file_name=f"return-{roster_id}.csv",
            content=content,
        )
        if index < 2:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            peaks.append((peak, len(content), content.count(b"\n") - 2))
    largest = max(peaks)
    print(
        f"  memory (tracemalloc, a pass of its own): peak {largest[0] / 2**20:.1f} MiB for a "
        f"file of {largest[1] / 2**20:.1f} MiB and {largest[2]:,} lines "
        f"({largest[0] / largest[2] / 1024:.1f} KiB a line); peaks of {len(peaks)} files "
        f"{min(p for p, *_ in peaks) / 2**20:.1f} – {largest[0] / 2**20:.1f} MiB: one file "
        f"is held whole, the county's files one after the other; resident size now "
        f"{maxrss_mib():.0f} MiB"
    )


# --- 3. the reconciliation --------------------------------------------------------------------

PLAIN_ANTI_JOIN = """
    SELECT count(*) FROM cases_award aw
    JOIN cases_application a ON a.id = aw.application_id
    JOIN aid_portal_region v ON v.id = a.village_id
    WHERE v.code LIKE %(prefix)s AND aw.from_month <= %(month)s
      AND (aw.until_month IS NULL OR aw.until_month >= %(month)s)
      AND NOT EXISTS (
          SELECT 1 FROM cases_rosterline l JOIN cases_roster r ON r.id = l.roster_id
          WHERE l.award_id = aw.id AND r.month = %(month)s AND r.state IN ('approved', 'paid'))
"""


def reconciliation(data: dict, month: datetime.date, repeat: int) -> None:
    county, auditor = data["county"], data["auditor"]
    params = {"prefix": county.prefix + "%", "month": month}
    pairs = []
    for run in range(repeat):
        plain_seconds, rows = committed(lambda: sql(PLAIN_ANTI_JOIN, params))
        seconds, result = timed(
            lambda: reconciliation_run(actor=auditor, county_id=county.pk, month=month)
        )
        pairs.append((plain_seconds, seconds))
        counts = {}
        for kind in result.exceptions.values_list("kind", flat=True):
            counts[kind] = counts.get(kind, 0) + 1
        print(
            f"  pair {run + 1}: anti-join {plain_seconds:6.2f} s ({rows[0][0]:,} due and not "
            f"rostered), reconciliation_run {seconds:6.2f} s (rate {result.rate}; "
            + ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items()))
            + ")",
            flush=True,
        )
    print(pair_report("reconciliation_run", "plain anti-join", pairs))
    print(f"  {goal(statistics.median(s for _b, s in pairs), 20)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of timings")
    args = parser.parse_args()

    month = timezone.localdate().replace(day=1)
    print(f"{os.cpu_count()} cores, {loadavg()}", flush=True)
    original, database = use_fresh_database()
    print(f"database {database}: {args.households:,} households, month {month:%Y-%m}")
    try:
        with transaction.atomic():
            data = generate(args.households, month)
        vacuum_seconds, _ = timed(lambda: sql("VACUUM ANALYZE"))
        print(
            f"generated {args.households:,} households in {TOWNSHIPS} townships × "
            f"{VILLAGES_PER_TOWNSHIP} villages with COPY in {data['load']:.1f} s, "
            f"VACUUM ANALYZE {vacuum_seconds:.1f} s; {loadavg()}",
            flush=True,
        )
        print("1. rosters (townships one after the other, in this one process)")
        prepared = rosters(data, month, args.repeat)
        print(f"  {loadavg()}", flush=True)
        frozen = approve(data, prepared)
        vacuum("cases_rosterline", "cases_roster")
        print("2. the bank return")
        bank_return(data, frozen, args.repeat)
        vacuum("cases_rosterline", "cases_roster", "cases_bankreturn")
        print(f"  {loadavg()}", flush=True)
        print("3. the reconciliation of the month")
        reconciliation(data, month, args.repeat)
        print(f"  {loadavg()}", flush=True)
    finally:
        drop_database(original, database)
        print(f"dropped {database}")


if __name__ == "__main__":
    main()
