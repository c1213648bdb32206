"""Benchmark of a snapshot file import (issue 4, "Speed": at least 100,000 rows/s).

Not a test. Run it from the project folder:

    .venv/bin/python benchmarks/feed_import.py               # 1,000,000 rows
    .venv/bin/python benchmarks/feed_import.py --rows 200000

It generates a CSV of N person-records for one department (two items per person, as a
social-insurance bureau sends them), then imports it through
verification.feeds.services.snapshot_import exactly as the Celery task does: decoding, checking
every row (identity number, item code, amount, date, duplicates), COPY in batches, the
swap. It works in a database of its own (``<name>_feedbench`` on the same server,
migrated on first use), writes the file to a temporary folder, and removes its snapshot
and records at the end.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import random
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
from django.db import connection, connections  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from aid_portal.models import User  # noqa: E402
from verification.feeds import services as feeds  # noqa: E402
from verification.feeds.catalogue import load_catalogue  # noqa: E402
from verification.feeds.models import Feed, Snapshot, SnapshotRecord  # noqa: E402
from verification.feeds.services import records_drop, snapshot_import  # noqa: E402

DEPARTMENT = "hrss"
ITEMS = ("pension", "social_insurance_wage")
AREA = "640422"


def use_benchmark_database() -> str:
    name = connection.settings_dict["NAME"] + "_feedbench"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connections["default"].settings_dict["NAME"] = name
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
        function = getattr(feeds, name)

        def timed(*args, _function=function, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started

        setattr(feeds, name, timed)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    database = use_benchmark_database()
    load_catalogue()
    feed = Feed.objects.get(department__code=DEPARTMENT)
    user = User.objects.filter(username="benchmark").first() or User.objects.create(
        username="benchmark", full_name="benchmark"
    )
    with tempfile.TemporaryDirectory() as folder:
        settings.MEDIA_ROOT = folder
        path = Path(folder) / "feeds" / "benchmark.csv"
        path.parent.mkdir(parents=True)
        started = time.perf_counter()
        write_file(path, args.rows, args.seed)
        generated = time.perf_counter() - started
        size = path.stat().st_size
        print(f"database {database}: {args.rows:,} rows generated in {generated:.1f} s")
        print(f"file {size / 1e6:.1f} MB")

        snapshot = Snapshot.objects.create(
            feed=feed, original_name="benchmark.csv", uploaded_by=user, file="feeds/benchmark.csv"
        )
        spent = time_phases()
        started = time.perf_counter()
        snapshot_import(snapshot_id=snapshot.pk)
        elapsed = time.perf_counter() - started
        snapshot.refresh_from_db()
        loaded = SnapshotRecord.objects.filter(snapshot=snapshot).count()
        print(f"status {snapshot.status}: {snapshot.rows_loaded:,} loaded, {loaded:,} counted")
        if snapshot.error:
            print(snapshot.error[:500])
        print(f"import: {elapsed:.1f} s, {args.rows / elapsed:,.0f} rows/s")
        rest = elapsed - sum(spent.values())
        print(f"  reading, checking and COPY: {rest:.1f} s")
        for name, label in PHASES.items():
            print(f"  {label}: {spent[name]:.1f} s")

        # Leave nothing behind: the feed goes back to having no snapshot.
        ids = list(Snapshot.objects.filter(feed=feed).values_list("pk", flat=True))
        Feed.objects.filter(pk=feed.pk).update(current=None)
        for snapshot_id in ids:
            records_drop(snapshot_id)
        Snapshot.objects.filter(pk__in=ids).delete()


if __name__ == "__main__":
    main()
