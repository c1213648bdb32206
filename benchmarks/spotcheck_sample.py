"""Benchmark of the spot-check draw (issue 5, "Speed"): a stratified 30% sample of
100,000 newly confirmed cases must be drawn in under 2 seconds.

Not a test. Run it from the project folder:

    .venv/bin/python benchmarks/spotcheck_sample.py                # 100,000 cases
    .venv/bin/python benchmarks/spotcheck_sample.py --cases 20000 --ratio 0.5

It works in the database of benchmarks/batch_compare.py (``<name>_benchmark``, created
and migrated on first use) inside one transaction rolled back at the end. Households
and applications are loaded with COPY; the draw is verification.spotcheck.services.campaign_draw
exactly as the page and the schedule call it: the population read, the sample drawn,
the items written with bulk_create and the audit row with population, seed and sample.
Each timing runs in a savepoint rolled back afterwards, so every run draws afresh.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_compare import Rolledback, copy_rows, use_benchmark_database
from django.db import connection, transaction
from django.utils import timezone

from aid_portal.models import Region, Role, RoleAssignment, User
from cases.models import Application, Household, Policy
from verification.spotcheck.models import SampleItem
from verification.spotcheck.services import campaign_draw

COUNTY = "659902000000"  # a county code no real data uses (batch_compare uses ...01)
TOWNSHIPS = 12
VILLAGES_PER_TOWNSHIP = 8
WINDOW = (datetime.date(2026, 9, 1), datetime.date(2026, 9, 30))


class Undo(Exception):
    pass


def generate(cases: int) -> tuple[Region, list[User]]:
    county = Region.objects.create(code=COUNTY, name="抽查基准县", level=Region.Level.COUNTY)
    villages = []
    for t in range(TOWNSHIPS):
        township = Region.objects.create(
            code=Region.code_from_prefix(f"{county.prefix}{100 + t:03d}"),
            name=f"抽查基准镇{t}",
            level=Region.Level.TOWNSHIP,
            parent=county,
        )
        villages += [
            Region.objects.create(
                code=f"{township.prefix}{200 + v:03d}",
                name=f"抽查基准村{t}-{v}",
                level=Region.Level.VILLAGE,
                parent=township,
            )
            for v in range(VILLAGES_PER_TOWNSHIP)
        ]
    Policy.objects.create(
        county=county,
        effective_from=datetime.date(2020, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
    )
    user = User.objects.create(username="spotcheck-benchmark")
    auditors = []
    for n in range(3):
        auditor = User.objects.create(username=f"spotcheck-auditor-{n}")
        RoleAssignment.objects.create(user=auditor, role=Role.COUNTY_AUDITOR, region=county)
        auditors.append(auditor)
    # Townships of uneven size (the first holds the most), as real ones are.
    weights = [TOWNSHIPS - t for t in range(TOWNSHIPS)]
    village_of = []
    for t, weight in enumerate(weights):
        share = cases * weight // sum(weights)
        village_of += [
            villages[t * VILLAGES_PER_TOWNSHIP + i % VILLAGES_PER_TOWNSHIP] for i in range(share)
        ]
    village_of += villages[: cases - len(village_of)]  # what the rounding left over
    copy_rows(
        Household, [{"village_id": v.pk, "address": f"基准{i}号"} for i, v in enumerate(village_of)]
    )
    households = list(
        Household.objects.filter(village__code__startswith=county.prefix)
        .order_by("pk")
        .values_list("pk", "village_id")
    )
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(WINDOW[0], datetime.time(9), tzinfo=tz)
    copy_rows(
        Application,
        [
            {
                "household_id": household_id,
                "village_id": village_id,
                "assistance_type": "dibao_rural",
                "state": "in_payment",
                "decided_at": start + datetime.timedelta(minutes=i % (29 * 24 * 60)),
                "monthly_amount": Decimal("600"),
                "created_by_id": user.pk,
            }
            for i, (household_id, village_id) in enumerate(households)
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return county, auditors


def timed(function, repeat: int):
    """Best of ``repeat`` runs, each rolled back to a savepoint afterwards."""
    best, result = None, None
    for _ in range(repeat):
        try:
            with transaction.atomic():
                started = time.perf_counter()
                value = function()
                seconds = time.perf_counter() - started
                result = value
                raise Undo
        except Undo:
            pass
        best = seconds if best is None else min(best, seconds)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--ratio", default="0.30")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = parser.parse_args()

    database = use_benchmark_database()
    print(f"database {database}: {args.cases:,} newly confirmed cases, ratio {args.ratio}")
    try:
        with transaction.atomic():
            started = time.perf_counter()
            county, auditors = generate(args.cases)
            print(f"generated with COPY in {time.perf_counter() - started:.1f} s")

            def draw(assign_to=()):
                campaign = campaign_draw(
                    actor=None,
                    county=county,
                    rule="new_cases",
                    window_start=WINDOW[0],
                    window_end=WINDOW[1],
                    ratio=args.ratio,
                    assign_to=assign_to,
                    today=datetime.date(2026, 10, 15),
                )
                return campaign, SampleItem.objects.filter(campaign=campaign).count()

            seconds, (campaign, items) = timed(draw, args.repeat)
            print(
                f"draw:              {seconds:6.2f} s  ({items:,} of "
                f"{campaign.population_size:,} cases in {TOWNSHIPS} townships)"
            )
            seconds, (campaign, items) = timed(lambda: draw(auditors), args.repeat)
            print(f"draw + 3 auditors: {seconds:6.2f} s  (with the per-object grants)")
            raise Rolledback
    except Rolledback:
        print("rolled back: the benchmark database is as it was")


if __name__ == "__main__":
    main()
