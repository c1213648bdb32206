"""Benchmark of the spot-check draw (issue 5, "Speed"; issue 16 item 4): a stratified 30%
sample of newly confirmed cases, dealt to 3 auditors, must be drawn and committed in
under 2 seconds, for 100,000 cases and for 1,000,000.

Not a test. Run it from the project folder:

    .venv/bin/python benchmarks/spotcheck_sample.py                  # 100,000 cases
    .venv/bin/python benchmarks/spotcheck_sample.py --cases 1000000
    .venv/bin/python benchmarks/spotcheck_sample.py --cases 20000 --ratio 0.5

It works in a database of its own (``<name>_spotcheck_benchmark`` on the same server),
created and migrated at the start and dropped at the end. Households and applications
are loaded with COPY and committed, then VACUUM ANALYZE runs, as autovacuum would have
on a real server. The draw is verification.spotcheck.services.campaign_draw exactly as
the page and the schedule call it: the population read, the sample drawn, the items
written, the cases dealt to the auditors, the audit rows with population, seed and
sample. Each draw is its own transaction and its time includes the commit (so every
deferred check runs and is counted); afterwards the campaign is deleted and its tables
vacuumed, untimed, so that every draw is made afresh.

The reference is a plain SQL ``INSERT … SELECT`` of a sample of the same size: each
township's cases shuffled by ``random()`` in a window function, the first
ceil(ratio × n) of each inserted as sample items dealt in turn to the same auditors,
committed. Reference and draws are timed in rounds, one right after the other (this
machine's speed drifts by tens of percent within minutes, and other people's work runs
on it): the figures are the medians of the rounds and of their ratios. The load
average (os.getloadavg) is printed before and after.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_compare import copy_rows, drop_database, use_fresh_database
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aid_portal.models import Region, Role, RoleAssignment, User
from cases.models import Application, Household, Policy
from cases.policy import policy_in_force
from verification.spotcheck.models import SampleItem, SpotCheckCampaign
from verification.spotcheck.services import SUPERVISED_TYPES, campaign_draw

COUNTY = "659902000000"  # a county code no real data uses (batch_compare uses ...01)
TOWNSHIPS = 12
VILLAGES_PER_TOWNSHIP = 8
WINDOW = (datetime.date(2026, 9, 1), datetime.date(2026, 9, 30))
TODAY = datetime.date(2026, 10, 15)


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
            villages[t * VILLAGES_PER_TOWNSHIP + i % VILLAGES_PER_TOWNSHIP].pk for i in range(share)
        ]
    village_of += [v.pk for v in villages[: cases - len(village_of)]]  # the rounding's rest
    copy_rows(
        Household, [{"village_id": v, "address": f"基准{i}号"} for i, v in enumerate(village_of)]
    )
    households = list(Household.objects.order_by("pk").values_list("pk", "village_id"))
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
    return county, auditors


# The reference: the same population, a stratified random sample of the same size by
# plain SQL, inserted as sample items dealt in turn to the auditors.
PLAIN_INSERT = """
INSERT INTO verification_sampleitem
       (campaign_id, application_id, township_id, reason, due_on, assigned_to_id)
SELECT %(campaign)s, s.id, t.id, 'sampled',
       ((s.decided_at AT TIME ZONE %(tz)s)::date + make_interval(months => %(months)s))::date,
       (%(auditors)s::bigint[])[1 + (row_number() OVER (ORDER BY t.code, s.id))
                                    %% cardinality(%(auditors)s::bigint[])]
FROM (
    SELECT a.id, a.decided_at, left(v.code, 9) AS prefix,
           row_number() OVER (PARTITION BY left(v.code, 9) ORDER BY random()) AS n,
           count(*) OVER (PARTITION BY left(v.code, 9)) AS cases
    FROM cases_application a JOIN aid_portal_region v ON v.id = a.village_id
    WHERE v.code LIKE %(county)s AND a.state IN ('approved', 'in_payment')
      AND a.assistance_type = ANY(%(types)s) AND a.decided_at >= %(start)s
      AND a.decided_at < %(end)s
) s
JOIN aid_portal_region t ON t.code = rpad(s.prefix, 12, '0')
WHERE s.n <= ceil(s.cases * %(ratio)s::numeric)
"""


def forget(campaign_id: int) -> None:
    """Delete a campaign and its items (untimed), and vacuum their tables, as
    autovacuum would before the next draw. The audit rows stay: the log is append-only."""
    with transaction.atomic(), connection.cursor() as cursor:
        if _grant_tables():
            cursor.execute(
                "DELETE FROM verification_sampleitemuserobjectpermission "
                "WHERE content_object_id IN "
                "(SELECT id FROM verification_sampleitem WHERE campaign_id = %s)",
                [campaign_id],
            )
        cursor.execute("DELETE FROM verification_sampleitem WHERE campaign_id = %s", [campaign_id])
    vacuum()


def _grant_tables() -> list[str]:
    """The per-object grant table of sample items, while there is one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('verification_sampleitemuserobjectpermission')")
        return (
            [] if cursor.fetchone()[0] is None else ["verification_sampleitemuserobjectpermission"]
        )


def vacuum() -> None:
    with connection.cursor() as cursor:
        for table in ["verification_sampleitem", *_grant_tables()]:
            cursor.execute(f"VACUUM ANALYZE {table}")


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--ratio", default="0.30")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of timings")
    args = parser.parse_args()
    ratio = Decimal(args.ratio)

    print(f"load average before: {load()}  ({os.cpu_count()} cores)")
    original, database = use_fresh_database("_spotcheck_benchmark")
    print(f"database {database}: {args.cases:,} newly confirmed cases, ratio {ratio}")
    try:
        started = time.perf_counter()
        with transaction.atomic():
            county, auditors = generate(args.cases)
            # The reference's campaign, in a window of its own (one campaign per window).
            reference = SpotCheckCampaign.objects.create(
                county=county,
                rule=SpotCheckCampaign.Rule.NEW_CASES,
                ratio=ratio,
                window_start=datetime.date(2026, 8, 1),
                window_end=datetime.date(2026, 8, 31),
                seed=0,
                population_size=0,
                sample_size=0,
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"generated with COPY, committed and vacuumed in {time.perf_counter() - started:.1f} s"
        )
        months = policy_in_force(county=county, on=TODAY).spot_check_new_within_months
        start = datetime.datetime.combine(
            WINDOW[0], datetime.time.min, tzinfo=timezone.get_current_timezone()
        )
        end = datetime.datetime.combine(
            WINDOW[1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=start.tzinfo
        )

        def plain():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    PLAIN_INSERT,
                    {
                        "campaign": reference.pk,
                        "tz": settings.TIME_ZONE,
                        "months": months,
                        "auditors": [a.pk for a in auditors],
                        "county": county.prefix + "%",
                        "types": list(SUPERVISED_TYPES),
                        "start": start,
                        "end": end,
                        "ratio": ratio,
                    },
                )
                return cursor.rowcount

        def draw(assign_to=()):
            return campaign_draw(
                actor=None,
                county=county,
                rule="new_cases",
                window_start=WINDOW[0],
                window_end=WINDOW[1],
                ratio=ratio,
                assign_to=assign_to,
                today=TODAY,
            )

        rounds = []
        for _ in range(args.repeat):
            plain_seconds, inserted = timed(plain)
            forget(reference.pk)
            dealt_seconds, campaign = timed(lambda: draw(auditors))
            items = SampleItem.objects.filter(campaign=campaign).count()
            population = campaign.population_size
            forget(campaign.pk)
            SpotCheckCampaign.objects.filter(pk=campaign.pk).delete()
            alone_seconds, campaign = timed(draw)
            forget(campaign.pk)
            SpotCheckCampaign.objects.filter(pk=campaign.pk).delete()
            rounds.append((plain_seconds, dealt_seconds, alone_seconds))

        def line(label: str, column: int, note: str) -> None:
            seconds = sorted(r[column] for r in rounds)
            text = f"{label:<22}{statistics.median(seconds):6.2f} s median, {seconds[0]:.2f} best"
            if column:
                ratios = sorted(r[column] / r[0] for r in rounds)
                text += (
                    f"; {statistics.median(ratios):.2f} × the plain insert (rounds: "
                    + ", ".join(f"{x:.2f}" for x in ratios)
                    + ")"
                )
            print(text + note)

        line("plain INSERT … SELECT", 0, f"  ({inserted:,} rows, committed)")
        line("draw + 3 auditors", 1, f"  ({items:,} of {population:,} cases, committed)")
        line("draw, nobody assigned", 2, "")
        print(f"{len(rounds)} rounds; each time includes the commit")
    finally:
        drop_database(original, database)
        print(f"dropped {database}")
        print(f"load average after:  {load()}")


if __name__ == "__main__":
    main()
