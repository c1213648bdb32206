"""Benchmark of a snapshot file import (issue 16: speed, and memory that stays flat).

Not a test. Run it from the project folder:

    .venv/bin/python benchmarks/feed_import.py               # 1,000,000 rows, 3 pairs
    .venv/bin/python benchmarks/feed_import.py --rows 3000000 --pairs 1

It generates a CSV of N person-records for one department (two items per person, as a
social-insurance bureau sends them), then, in pairs, one right after the other:

- imports it through verification.feeds.services.snapshot_import exactly as the Celery
  task does (decoding, checking every row, COPY, duplicates, index, swap), in a fresh
  Python process whose peak RSS (ru_maxrss) it prints;
- a raw COPY of the same file into a table of text columns;
- a plain-SQL import of the same file (see plain_sql_import: COPY into a staging table,
  then the checks, hash, casts, duplicate count and index that SQL can do).

Every step is committed. It prints the load average before and after (the machine is
shared), each pair, the medians of the pairs and the median of the pairs' ratios. It
works in a database of its own (``<name>_feedbench`` on the same server, migrated on
first use), writes the file to a temporary folder, and removes its snapshots, records
and tables at the end of each step.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from aid_portal.models import User  # noqa: E402
from verification.feeds import services as feeds  # noqa: E402
from verification.feeds.catalogue import load_catalogue  # noqa: E402
from verification.feeds.models import Feed, Snapshot, SnapshotRecord  # noqa: E402
from verification.feeds.services import records_drop, snapshot_import  # noqa: E402

DEPARTMENT = "hrss"
ITEMS = ("pension", "social_insurance_wage")
AREA = "640422"


def use_benchmark_database(*, migrate: bool = True) -> str:
    name = connection.settings_dict["NAME"] + "_feedbench"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connections["default"].settings_dict["NAME"] = name
    if migrate:
        call_command("migrate", verbosity=0)
    return name


def write_file(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    first_day = datetime.date(1940, 1, 1)
    as_of = "2026-01-31"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["身份证号", "姓名", "项目", "数值", "日期"])
        person = 0
        written = 0
        while written < rows:
            # A distinct number per person: the day of birth and the sequence from a counter.
            birth = first_day + datetime.timedelta(days=person % 25_000)
            first17 = f"{AREA}{birth:%Y%m%d}{person // 25_000 % 1000:03d}"
            number = first17 + ric.calc_check_digit(first17 + "0")
            person += 1
            for item in ITEMS:
                if written == rows:
                    break
                amount = f"{rng.randrange(50_000, 600_000) / 100:.2f}"
                writer.writerow([number, f"居民{person}", item, amount, as_of])
                written += 1


PHASES = {
    "records_table_index": "index and statistics",
    "_swap_in": "swap (attach, feed, audit, drop the replaced)",
}


def time_phases() -> dict[str, float]:
    """Time the import's later phases by wrapping the functions that run them; the rest
    of the import time is reading, checking and COPY (which overlap)."""
    spent = dict.fromkeys(PHASES, 0.0)
    for name in PHASES:
        function = getattr(feeds, name, None)
        if function is None:
            continue

        def timed(*args, _function=function, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started

        setattr(feeds, name, timed)
    return spent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_import(folder: str, rows: int) -> dict:
    """One import, in this (fresh) process: its time, phases and the process's peak RSS."""
    settings.MEDIA_ROOT = folder
    feed = Feed.objects.get(department__code=DEPARTMENT)
    user = User.objects.get(username="benchmark")
    snapshot = Snapshot.objects.create(
        feed=feed, original_name="benchmark.csv", uploaded_by=user, file="feeds/benchmark.csv"
    )
    spent = time_phases()
    before = peak_rss_mb()
    started = time.perf_counter()
    snapshot_import(snapshot_id=snapshot.pk)
    elapsed = time.perf_counter() - started
    peak = peak_rss_mb()
    snapshot.refresh_from_db()
    loaded = SnapshotRecord.objects.filter(snapshot=snapshot).count()
    result = {
        "seconds": elapsed,
        "rss_before": before,
        "rss_peak": peak,
        "status": snapshot.status,
        "rows_loaded": snapshot.rows_loaded,
        "counted": loaded,
        "error": snapshot.error[:500],
        "phases": spent,
    }
    # Leave nothing behind: the feed goes back to having no snapshot.
    ids = list(Snapshot.objects.filter(feed=feed).values_list("pk", flat=True))
    Feed.objects.filter(pk=feed.pk).update(current=None)
    for snapshot_id in ids:
        records_drop(snapshot_id)
    Snapshot.objects.filter(pk__in=ids).delete()
    return result


def import_in_child(folder: str, rows: int) -> dict:
    """Run the import in a fresh Python process, so that its peak RSS is the import's."""
    output = subprocess.run(
        [sys.executable, __file__, "--rows", str(rows), "--child", folder],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


STAGE_COLUMNS = "identity text, name text, item text, value text, record_date text"
# The check character of an identity number, from the weighted sum of its 17 digits.
CHECK_SUM = " + ".join(
    f"substr(identity, {i + 1}, 1)::int * {2 ** (17 - i) % 11}" for i in range(17)
)


def raw_copy(path: Path) -> float:
    """COPY of the file as it is into a table of text columns, committed."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, path.open("rb") as handle:
        cursor.execute(f"CREATE TABLE bench_raw ({STAGE_COLUMNS})")
        cursor.cursor.copy_expert("COPY bench_raw FROM STDIN (FORMAT csv, HEADER)", handle)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def plain_sql_import(path: Path, department_id: int) -> float:
    """What SQL alone does of the import, in one transaction: COPY into a staging table;
    one INSERT ... SELECT into a table shaped like the records that keeps the rows whose
    identity number has 18 characters and a right check character, whose item is one of
    the department's codes, whose amount has at most 12 digits and 2 decimals and whose
    date is YYYY-MM-DD, with the HMAC-SHA256 blind index (pgcrypto), the amount cast to
    numeric and the date to date; the duplicates counted (GROUP BY person, item, date);
    the index on the person, ANALYZE, commit. Not done (SQL has no table for them):
    area codes, birth dates, the other date formats, a message per bad row."""
    key = settings.FIELD_HASH_KEY
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, path.open("rb") as handle:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{feeds.INDEX_BUILD_MEMORY}'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"CREATE TEMP TABLE bench_stage ({STAGE_COLUMNS}) ON COMMIT DROP")
        cursor.cursor.copy_expert("COPY bench_stage FROM STDIN (FORMAT csv, HEADER)", handle)
        cursor.execute(f"CREATE TABLE bench_plain (LIKE {feeds.RECORDS} INCLUDING DEFAULTS)")
        cursor.execute(
            f"""
            INSERT INTO bench_plain (identity_hash, name, item_id, value, text, record_date,
                                     snapshot_id)
            SELECT hmac(s.identity, %s, 'sha256'), s.name, i.id, s.value::numeric(14, 2), '',
                   s.record_date::date, 0
            FROM bench_stage s
            JOIN verification_dataitem i ON i.department_id = %s AND i.code = s.item
            WHERE s.identity ~ '^[0-9]{{17}}[0-9X]$'
              AND substr('10X98765432', ({CHECK_SUM}) %% 11 + 1, 1) = substr(s.identity, 18, 1)
              AND s.value ~ '^[0-9]{{1,12}}(\\.[0-9]{{1,2}})?$'
              AND s.record_date ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'
            """,  # noqa: S608 - constants of this script; values go as parameters
            [key, department_id],
        )
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM bench_plain "
            "GROUP BY identity_hash, item_id, record_date HAVING count(*) > 1) d"
        )
        cursor.execute("CREATE INDEX ON bench_plain (identity_hash)")
        cursor.execute("ANALYZE bench_plain")
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    return elapsed


def median(values):
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", "--repeat", type=int, default=3, help="import/baseline rounds")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the folder: run one import
    args = parser.parse_args()

    if args.child:
        use_benchmark_database(migrate=False)
        print(json.dumps(run_import(args.child, args.rows)))
        return

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    database = use_benchmark_database()
    load_catalogue()
    feed = Feed.objects.get(department__code=DEPARTMENT)
    if not User.objects.filter(username="benchmark").exists():
        User.objects.create(username="benchmark", full_name="benchmark")
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        cursor.execute("DROP TABLE IF EXISTS bench_raw, bench_plain")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feeds" / "benchmark.csv"
        path.parent.mkdir(parents=True)
        started = time.perf_counter()
        write_file(path, args.rows, args.seed)
        generated = time.perf_counter() - started
        size = path.stat().st_size
        print(f"database {database}: {args.rows:,} rows generated in {generated:.1f} s")
        print(f"file {size / 1e6:.1f} MB")

        pairs = []
        for number in range(1, args.pairs + 1):
            result = import_in_child(folder, args.rows)
            raw = raw_copy(path)
            plain = plain_sql_import(path, feed.department_id)
            pairs.append((result, raw, plain))
            phases = ", ".join(
                f"{PHASES[name]} {seconds:.2f} s" for name, seconds in result["phases"].items()
            )
            print(
                f"pair {number}: import {result['seconds']:.2f} s "
                f"({args.rows / result['seconds']:,.0f} rows/s; status {result['status']}, "
                f"{result['rows_loaded']:,} loaded, {result['counted']:,} counted; {phases}; "
                f"peak RSS {result['rss_peak']:.0f} MB, {result['rss_before']:.0f} MB before), "
                f"raw COPY {raw:.2f} s, plain SQL {plain:.2f} s, "
                f"import/plain {result['seconds'] / plain:.2f}, "
                f"import/raw {result['seconds'] / raw:.2f}"
            )
            if result["error"]:
                print(result["error"])

    seconds = median([r["seconds"] for r, _raw, _plain in pairs])
    print(
        f"medians of {len(pairs)} pairs, {args.rows:,} rows: import {seconds:.2f} s "
        f"({args.rows / seconds:,.0f} rows/s), "
        f"raw COPY {median([raw for _r, raw, _p in pairs]):.2f} s, "
        f"plain SQL {median([plain for _r, _raw, plain in pairs]):.2f} s; "
        f"median ratio import/plain {median([r['seconds'] / p for r, _raw, p in pairs]):.2f}, "
        f"import/raw {median([r['seconds'] / raw for r, raw, _p in pairs]):.2f}; "
        f"peak RSS of the import process {max(r['rss_peak'] for r, _raw, _p in pairs):.0f} MB"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
