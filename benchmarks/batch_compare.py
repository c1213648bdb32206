"""Benchmark of the batch comparison (issue 4, "Speed"): a county-scale data set, the
comparison run, and a plain SQL join over the same tables for reference.

Not a test. Run it from the project folder:

    .venv/bin/python benchmarks/batch_compare.py                 # 100,000 people, 1,000,000 rows
    .venv/bin/python benchmarks/batch_compare.py --people 20000 --records 200000

It works in a database of its own (``<name>_batch_benchmark`` on the same server),
created and migrated at the start and dropped at the end, so it leaves nothing behind.
People, households, members, applications and the department records are loaded with
COPY and committed, then VACUUM ANALYZE runs, as autovacuum would have on a real server.
The comparison is verification.batch.services.batch_run, exactly as the scheduled task runs it:
each run is its own transaction and its time includes the commit. The join and the
comparison are timed in pairs (five by default), and the ratio printed is the median of
the pairs' ratios.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from itertools import groupby
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from aid_portal.crypto import blind_index, encrypt  # noqa: E402
from aid_portal.models import Region, User  # noqa: E402
from cases.models import Application, Household, Member, Person, Policy  # noqa: E402
from verification.batch.models import BatchRun  # noqa: E402
from verification.batch.services import batch_run  # noqa: E402
from verification.feeds.catalogue import load_catalogue  # noqa: E402
from verification.feeds.models import DataItem, Feed, Snapshot, SnapshotRecord  # noqa: E402
from verification.feeds.services import (  # noqa: E402
    records_table_attach,
    records_table_create,
    records_table_index,
)

COUNTY = "659901000000"  # a county code no real data uses
TOWNSHIPS = 10
VILLAGES_PER_TOWNSHIP = 10
PEOPLE_PER_HOUSEHOLD = 2.5
# The share of each department's rows that concern enrolled people (the rest are the
# county's other residents). Most enrolled people have a household registration, many a
# small deposit or a pension record; few a car, a house, a business or a public salary,
# and fewer still a death record. Everything else is the county's other residents.
ENROLLED_SHARE = {
    "information": 0.5,
    "monthly_income": 0.3,
    "deposit": 0.3,
    "securities": 0.01,
    "vehicle": 0.03,
    "real_estate": 0.03,
    "business": 0.01,
    "public_salary": 0.005,
    "death": 0.002,
}


def use_fresh_database(suffix: str = "_batch_benchmark") -> tuple[str, str]:
    """Switch the default connection to a new ``<name><suffix>``, migrated; return the
    names of the original database and the new one."""
    original = connection.settings_dict["NAME"]
    name = original + suffix
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


def copy_rows(model: type[models.Model], rows: list[dict], table: str | None = None) -> None:
    """COPY ``rows`` into ``model``'s table (or ``table``). Columns a row leaves out get
    the field's default (Django defaults live in Python, not in the database)."""
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
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_cell(row.get(c, fallback[c])) for c in columns))
        buffer.write("\n")
    buffer.seek(0)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table or model._meta.db_table} ({column_list}) FROM STDIN", buffer
        )


def _ids(model, **filters) -> list[int]:
    return list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))


def generate(people: int, records: int, seed: int) -> dict:
    rng = random.Random(seed)
    county = Region.objects.create(code=COUNTY, name="基准县", level=Region.Level.COUNTY)
    villages = []
    for t in range(TOWNSHIPS):
        township = Region.objects.create(
            code=Region.code_from_prefix(f"{county.prefix}{100 + t:03d}"),
            name=f"基准镇{t}",
            level=Region.Level.TOWNSHIP,
            parent=county,
        )
        for v in range(VILLAGES_PER_TOWNSHIP):
            villages.append(
                Region.objects.create(
                    code=f"{township.prefix}{200 + v:03d}",
                    name=f"基准村{t}-{v}",
                    level=Region.Level.VILLAGE,
                    parent=township,
                )
            )
    Policy.objects.create(
        county=county,
        effective_from=datetime.date(2020, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
    )
    user = User.objects.create(username="benchmark")
    load_catalogue()

    started = time.perf_counter()
    # People: one encrypted token for all (nothing here reads the number back), a real
    # blind index each.
    token = encrypt("640422197001010011")
    hashes = [blind_index(f"bench-{seed}-{i}") for i in range(people)]
    copy_rows(
        Person,
        [
            {
                "identity_number": token,
                "identity_hash": h,
                "name": f"人{i}",
                "birth_date": "1970-01-01",
                "sex": "M",
            }
            for i, h in enumerate(hashes)
        ],
    )
    person_ids = _ids(Person)[-people:]  # the benchmark database holds only these
    households = int(people / PEOPLE_PER_HOUSEHOLD)
    copy_rows(
        Household,
        [
            {"village_id": villages[i % len(villages)].pk, "address": f"基准{i}号"}
            for i in range(households)
        ],
    )
    household_ids = _ids(Household)[-households:]
    village_of = {hid: villages[i % len(villages)].pk for i, hid in enumerate(household_ids)}
    copy_rows(
        Member,
        [
            {
                "household_id": household_ids[i % households],
                "person_id": pid,
                "relation": "self" if i < households else "child",
                "active": True,
            }
            for i, pid in enumerate(person_ids)
        ],
    )
    # One person in a hundred moved here from another enrolled household and is still
    # on its member list, no longer active: the two-households finding.
    moved = rng.sample(range(people), people // 100)
    copy_rows(
        Member,
        [
            {
                "household_id": household_ids[(i + 1) % households],
                "person_id": person_ids[i],
                "relation": "other",
                "active": False,
            }
            for i in moved
            if household_ids[(i + 1) % households] != household_ids[i % households]
        ],
    )
    decided = timezone.now() - datetime.timedelta(days=120)
    copy_rows(
        Application,
        [
            {
                "household_id": hid,
                "village_id": village_of[hid],
                "assistance_type": "dibao_rural",
                "state": "in_payment",
                "decided_at": decided,
                "monthly_amount": Decimal("600"),
                "created_by_id": user.pk,
            }
            for hid in household_ids
        ],
    )
    # One household in a hundred also has temporary assistance in payment: the
    # two-programmes finding.
    copy_rows(
        Application,
        [
            {
                "household_id": hid,
                "village_id": village_of[hid],
                "assistance_type": "temporary_expenditure",
                "state": "in_payment",
                "decided_at": decided,
                "monthly_amount": Decimal("600"),
                "created_by_id": user.pk,
            }
            for hid in rng.sample(household_ids, households // 100)
        ],
    )
    # Department records: the snapshot in use of every snapshot department, one snapshot
    # per department holding the rows of each of its items, as an import of the
    # department's file does (a department with two items has one snapshot in use, not
    # one per item: the civil affairs file carries the deaths beside other assistance).
    items = list(
        DataItem.objects.filter(department__feed__isnull=False)
        .select_related("department")
        .order_by("department_id", "pk")
    )
    per_item = records // len(items)
    residents = 5 * people  # the county's other residents, unknown to the portal
    value_of = {
        "death": lambda: None,
        "vehicle": lambda: rng.randint(5000, 200000),
        "real_estate": lambda: rng.randint(50000, 900000),
        "deposit": lambda: rng.randint(100, 60000),
        "public_salary": lambda: rng.randint(2000, 9000),
    }
    total = 0
    for department_id, department_items in groupby(items, key=lambda item: item.department_id):
        feed = Feed.objects.get(department_id=department_id)
        snapshot = Snapshot.objects.create(
            feed=feed,
            status=Snapshot.Status.COMPLETE,
            file=f"feeds/bench-{feed.pk}.csv",
            original_name=f"bench-{feed.pk}.csv",
            uploaded_by=user,
        )
        Feed.objects.filter(pk=feed.pk).update(current=snapshot)
        rows = []
        for item in department_items:
            share = ENROLLED_SHARE[item.compare_as]
            value = value_of.get(item.compare_as, lambda: rng.randint(100, 5000))
            for _ in range(per_item):
                if rng.random() < share:
                    identity_hash = hashes[rng.randrange(people)]
                else:
                    identity_hash = blind_index(f"resident-{rng.randrange(residents)}")
                rows.append(
                    {
                        "snapshot_id": snapshot.pk,
                        "identity_hash": "\\x" + identity_hash,  # bytea, in hexadecimal
                        "item_id": item.pk,
                        "value": value(),
                        "record_date": "2026-01-01",
                    }
                )
        # As an import stores them: a table of the snapshot's own, indexed after the
        # load and attached as a partition.
        records_table_create(snapshot.pk)
        copy_rows(SnapshotRecord, rows, table=f"{SnapshotRecord._meta.db_table}_{snapshot.pk}")
        records_table_index(snapshot.pk)
        records_table_attach(snapshot.pk)
        total += len(rows)
    load_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"county": county, "records": total, "households": households, "load": load_seconds}


PLAIN_JOIN = """
SELECT count(*), count(DISTINCT a.id)
FROM cases_application a
JOIN aid_portal_region v ON v.id = a.village_id
JOIN cases_member m ON m.household_id = a.household_id AND NOT m.is_supporter
JOIN cases_person p ON p.id = m.person_id
JOIN verification_snapshotrecord r ON r.identity_hash = decode(p.identity_hash, 'hex')
JOIN verification_feed f ON f.current_id = r.snapshot_id
JOIN verification_dataitem i ON i.id = r.item_id
WHERE a.state IN ('approved', 'in_payment') AND v.code LIKE %s
"""


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="pairs of timings")
    args = parser.parse_args()

    original, database = use_fresh_database()
    print(f"database {database}: {args.people:,} enrolled people, {args.records:,} records")
    try:
        with transaction.atomic():
            data = generate(args.people, args.records, args.seed)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"generated {data['households']:,} households and {data['records']:,} "
            f"department records with COPY in {data['load']:.1f} s"
        )
        county = data["county"]

        def plain():
            with connection.cursor() as cursor:
                cursor.execute(PLAIN_JOIN, [county.prefix + "%"])
                return cursor.fetchone()

        def compare():
            return batch_run(county=county, kind=BatchRun.Kind.ON_DEMAND)

        # The join and the comparison are timed in pairs, one right after the other:
        # this machine's speed drifts by tens of percent within minutes, and a ratio of
        # two timings taken minutes apart would measure the drift as much as the code.
        pairs = []
        for _ in range(args.repeat):
            plain_seconds, (matches, applications) = timed(plain)
            compare_seconds, run = timed(compare)
            pairs.append((plain_seconds, compare_seconds))
        plains = sorted(p for p, _c in pairs)
        compares = sorted(c for _p, c in pairs)
        ratios = sorted(c / p for p, c in pairs)
        print(
            f"plain join:       {plains[0]:7.2f} s best, {statistics.median(plains):.2f} s "
            f"median  ({matches:,} person-records of {applications:,} applications)"
        )
        print(
            f"batch comparison: {compares[0]:7.2f} s best, {statistics.median(compares):.2f} s "
            f"median  ({run.total:,} findings: "
            + ", ".join(f"{k} {n}" for k, n in run.counts.items() if n)
            + ")"
        )
        print(
            f"ratio:            {statistics.median(ratios):7.2f} × the plain join, the median "
            f"of {len(pairs)} pairs (each: "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f"); best against best {compares[0] / plains[0]:.2f}"
        )
    finally:
        drop_database(original, database)
        print(f"dropped {database}")


if __name__ == "__main__":
    main()
