"""Batch comparisons: a county's enrolled people against the departments' current
snapshots, in set-based SQL (domain.md §4; NC Hubei's flags).

A run is two statements. The first joins the enrolled population once with the records
of each department's snapshot in use (``Feed.current``) into a temporary table (a plain
query, which PostgreSQL may run on several cores); the second writes every finding in
one INSERT ... SELECT, each kind of finding one branch of a UNION ALL. A run computed
again adds only what is new (``ON CONFLICT DO NOTHING`` on the finding's unique key).
Findings are then resolved one by one by the township's caseworker, with a reason.

The reads of the pages are here too, each starting from the user's jurisdiction.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, charts, permissions
from aid_portal.audit import audit_record
from aid_portal.celery import enqueue_on_commit
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Region, User
from cases.models import Application, Asset, Member, Person
from cases.policy import policy_in_force
from verification.batch.models import BatchFinding, BatchRun
from verification.feeds.models import DataItem, Department, Feed, SnapshotRecord

# Who starts runs and reads their summaries: the county's auditor, verification officer
# and data-feed admin.
COMPARE_WORK_MEM = "256MB"
K = BatchFinding.Kind


# --- the comparison ----------------------------------------------------------------------


def batch_period(kind: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period a run covers: last month (monthly), the half-year that just ended
    (half-yearly), or the day itself (on demand)."""
    if kind == BatchRun.Kind.MONTHLY_NEW:
        end = today.replace(day=1) - datetime.timedelta(days=1)
        return end.replace(day=1), end
    if kind == BatchRun.Kind.HALF_YEARLY_ALL:
        if today.month > 6:
            return datetime.date(today.year, 1, 1), datetime.date(today.year, 6, 30)
        return datetime.date(today.year - 1, 7, 1), datetime.date(today.year - 1, 12, 31)
    return today, today


def _tables() -> dict[str, str]:
    models = {
        "application": Application,
        "member": Member,
        "person": Person,
        "asset": Asset,
        "region": Region,
        "feed": Feed,
        "record": SnapshotRecord,
        "item": DataItem,
        "department": Department,
        "finding": BatchFinding,
    }
    return {name: connection.ops.quote_name(m._meta.db_table) for name, m in models.items()}


# Kinds of data item a run compares.
COMPARED = ("death", "public_salary", "vehicle", "real_estate", "business", "deposit")

# Step 1: what the snapshots in use say about the enrolled people, in a table of the
# transaction's own. A query that only reads, so PostgreSQL may run it in parallel (an
# INSERT ... SELECT never is), and it joins the records with the person table itself, so
# that the planner knows how many distinct people there are (see migration 0004's
# statistics on the decoded blind index) and hashes the people, not the records. Only
# the partitions of the snapshots in use that supply a compared item are read, and their
# rows are filtered by item id: the item and its department are joined to the few rows
# that match a person, not to every row read.
# Parameters: snapshots, compared items, county prefix, enrolled states, decided window
# (NULLs for "everyone").
RECORDS_SQL = """
CREATE TEMPORARY TABLE batch_records ON COMMIT DROP AS
SELECT a.id AS application_id, a.household_id, m.person_id, i.compare_as, i.code AS item,
       jsonb_build_object(
           'department', d.code, 'item', i.code, 'value', r.value,
           'text', r.text, 'date', r.record_date
       ) AS record,
       r.value
FROM {record} r
JOIN {item} i ON i.id = r.item_id
JOIN {department} d ON d.id = i.department_id
JOIN {person} p ON decode(p.identity_hash, 'hex') = r.identity_hash
JOIN {member} m ON m.person_id = p.id AND NOT m.is_supporter
JOIN {application} a ON a.household_id = m.household_id
JOIN {region} v ON v.id = a.village_id
WHERE r.snapshot_id = ANY(%(snapshots)s)
  AND r.item_id = ANY(%(items)s)
  AND a.state = ANY(%(states)s)
  AND v.code LIKE %(prefix)s
  AND (%(decided_from)s::timestamptz IS NULL OR a.decided_at >= %(decided_from)s)
  AND (%(decided_to)s::timestamptz IS NULL OR a.decided_at < %(decided_to)s)
"""

# Step 2: the findings of the run, from those records and the enrolled applications.
# Each branch starts from few rows: the records of step 1, the people with a membership
# no longer active, the households with more than one enrolled application.
# Parameters: run, county prefix, enrolled states, decided window, deposit limit per
# person.
FINDINGS_SQL = """
WITH enrolled AS NOT MATERIALIZED (
    -- The applications the run covers. Inlined into each branch that uses it, which
    -- reaches them by index from a few households.
    SELECT a.id, a.household_id, a.assistance_type
    FROM {application} a
    JOIN {region} v ON v.id = a.village_id
    WHERE a.state = ANY(%(states)s)
      AND v.code LIKE %(prefix)s
      AND (%(decided_from)s::timestamptz IS NULL OR a.decided_at >= %(decided_from)s)
      AND (%(decided_to)s::timestamptz IS NULL OR a.decided_at < %(decided_to)s)
),
over_limit AS (
    -- Households whose deposits are above the limit per member: first above one
    -- member's limit (no household with fewer members can be over it), then their
    -- members counted (from the index on household and supporter alone).
    SELECT d.application_id, d.total, count(*) AS members
    FROM (
        SELECT application_id, household_id, sum(value) AS total
        FROM batch_records WHERE compare_as = 'deposit'
        GROUP BY application_id, household_id
        HAVING sum(value) > %(deposit_limit)s
    ) d
    JOIN {member} m ON m.household_id = d.household_id AND NOT m.is_supporter
    GROUP BY d.application_id, d.total
    HAVING d.total > %(deposit_limit)s * count(*)
),
found AS (
    -- Personal records: death, public salary, and assets the household did not declare.
    -- (Item codes are ASCII: the "C" collation sorts them as any other would, faster.)
    SELECT CASE r.compare_as WHEN 'death' THEN 'dead_but_paid' ELSE r.compare_as END AS kind,
           r.application_id, r.person_id,
           jsonb_build_object('records', jsonb_agg(r.record ORDER BY r.item COLLATE "C"))
               AS detail
    FROM batch_records r
    WHERE r.compare_as IN ('death', 'public_salary')
       OR (r.compare_as IN ('vehicle', 'real_estate', 'business') AND NOT EXISTS (
               SELECT 1 FROM {asset} s
               WHERE s.household_id = r.household_id AND s.kind = r.compare_as))
    GROUP BY r.compare_as, r.application_id, r.person_id

    UNION ALL
    -- Deposits of the whole household above the limit per member.
    SELECT 'deposit_over_limit', o.application_id, NULL AS person_id,
           jsonb_build_object(
               'total', o.total, 'limit', %(deposit_limit)s * o.members, 'members', o.members,
               'records', jsonb_agg(r.record ORDER BY r.item COLLATE "C"))
    FROM over_limit o
    JOIN batch_records r ON r.application_id = o.application_id AND r.compare_as = 'deposit'
    GROUP BY o.application_id, o.total, o.members

    UNION ALL
    -- The same person a member of another household that is also enrolled. A person is
    -- an active member of one household at most (cases.Member's
    -- one_active_household_per_person), so such a person has a membership no longer
    -- active: the branch starts from those few people and goes by index from there.
    SELECT 'two_households', e.id, em.person_id,
           jsonb_build_object('others', jsonb_agg(DISTINCT jsonb_build_object(
               'application', oa.id, 'household', oa.household_id,
               'village', ov.code, 'village_name', ov.name)))
    FROM (
        SELECT DISTINCT person_id FROM {member} WHERE NOT is_supporter AND NOT active
    ) moved
    JOIN {member} em ON em.person_id = moved.person_id AND NOT em.is_supporter
    JOIN enrolled e ON e.household_id = em.household_id
    JOIN {member} om ON om.person_id = em.person_id AND NOT om.is_supporter
                    AND om.household_id <> em.household_id
    JOIN {application} oa ON oa.household_id = om.household_id AND oa.state = ANY(%(states)s)
    JOIN {region} ov ON ov.id = oa.village_id
    GROUP BY e.id, em.person_id

    UNION ALL
    -- The same household enrolled in another kind of assistance at the same time.
    SELECT 'two_programmes', p.id, NULL AS person_id,
           jsonb_build_object('others', jsonb_agg(jsonb_build_object(
               'application', p.other, 'assistance_type', p.other_type) ORDER BY p.other))
    FROM (
        -- Households with more than one enrolled application, counted in order from
        -- the partial index of enrolled applications.
        SELECT household_id FROM {application}
        WHERE state = ANY(%(states)s)
        GROUP BY household_id HAVING count(*) > 1
    ) h
    CROSS JOIN LATERAL (
        -- Their applications of different kinds, looked up household by household.
        -- OFFSET 0 keeps it a lookup: the planner cannot know how few the households
        -- are (it guesses a third of them pass HAVING) and would otherwise hash every
        -- enrolled application twice.
        SELECT e.id, o.id AS other, o.assistance_type AS other_type
        FROM enrolled e
        JOIN {application} o ON o.household_id = e.household_id AND o.id <> e.id
                            AND o.state = ANY(%(states)s)
                            AND o.assistance_type <> e.assistance_type
        WHERE e.household_id = h.household_id
        OFFSET 0
    ) p
    GROUP BY p.id
)
INSERT INTO {finding} (run_id, kind, application_id, person_id, detail, resolution,
                       resolution_reason)
SELECT %(run)s, kind, application_id, person_id, detail, 'open', ''
FROM found
{on_conflict}
"""


def _decided_window(
    kind: str, period: tuple[datetime.date, datetime.date]
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    if kind != BatchRun.Kind.MONTHLY_NEW:
        return None, None
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(period[0], datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(
        period[1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return start, end


def _compare(run: BatchRun, today: datetime.date) -> dict[str, int]:
    """Write the run's findings in one statement; return the counts by kind.

    The deposit limit is the county policy's in force on the day of the run: the
    snapshots compared are today's too."""
    policy = policy_in_force(county=run.county, on=today)
    decided_from, decided_to = _decided_window(run.kind, (run.period_start, run.period_end))
    snapshots = list(
        Feed.objects.filter(current__isnull=False, department__items__compare_as__in=COMPARED)
        .values_list("current_id", flat=True)
        .distinct()
    )
    parameters = {
        "run": run.pk,
        "snapshots": snapshots,
        "items": list(
            DataItem.objects.filter(compare_as__in=COMPARED).values_list("id", flat=True)
        ),
        "prefix": run.county.prefix + "%",
        "states": sorted(Application.ENROLLED_STATES),
        "decided_from": decided_from,
        "decided_to": decided_to,
        "deposit_limit": policy.deposit_limit_per_person,
    }
    # A run computed again adds only what it did not find before; the first time there
    # is nothing to collide with (the run's row is locked) and the plain INSERT is the
    # cheaper one. The unique constraint holds either way.
    again = run.findings.exists()
    tables = _tables()
    with connection.cursor() as cursor:
        # One big join and a few sorts: in memory, not in temporary files (for this
        # transaction only).
        cursor.execute(f"SET LOCAL work_mem = '{COMPARE_WORK_MEM}'")
        cursor.execute("DROP TABLE IF EXISTS pg_temp.batch_records")
        # The records step on every core: the planner's default costs keep this join
        # (a few hundred thousand rows once pruned) on one.
        cursor.execute("SET LOCAL parallel_setup_cost = 0")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0")
        cursor.execute(RECORDS_SQL.format(**tables), parameters)
        cursor.execute("SET LOCAL parallel_setup_cost TO DEFAULT")
        cursor.execute("SET LOCAL parallel_tuple_cost TO DEFAULT")
        # Step 2 goes by index from a few people and households; the tables it reads
        # are in memory, where a probe by index costs about what the next page of a
        # sequential read does (the default of 4 assumes spinning disks).
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        # Step 2's plans need the size of each kind; a small sample tells it.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute("ANALYZE pg_temp.batch_records (compare_as, application_id)")
        cursor.execute(
            FINDINGS_SQL.format(**tables, on_conflict="ON CONFLICT DO NOTHING" if again else ""),
            parameters,
        )
        cursor.execute("DROP TABLE pg_temp.batch_records")
    counts = dict.fromkeys(K.values, 0)
    for row in run.findings.values("kind").annotate(n=Count("id")).order_by():
        counts[row["kind"]] = row["n"]
    return counts


def batch_run(
    *,
    county: Region,
    kind: str,
    actor: User | None = None,
    today: datetime.date | None = None,
    run_id: int | None = None,
) -> BatchRun:
    """Compare ``county``'s enrolled people with the current snapshots.

    Scheduled kinds reuse the run of their period if the task is delivered twice;
    ``run_id`` names a run opened beforehand (on demand, by batch_run_request). Running
    it again adds only what is new (ON CONFLICT DO NOTHING).
    """
    if kind not in BatchRun.Kind.values:
        raise DomainError(_("Unknown kind of batch comparison."), field="kind")
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("A batch comparison covers a county."), field="county")
    today = today or timezone.localdate()
    start, end = batch_period(kind, today)
    with transaction.atomic():
        if run_id is not None:
            run = BatchRun.objects.select_for_update().get(pk=run_id, county=county, kind=kind)
        elif kind == BatchRun.Kind.ON_DEMAND:
            run = BatchRun.objects.create(
                county=county, kind=kind, period_start=start, period_end=end, started_by=actor
            )
        else:
            run, _created = BatchRun.objects.get_or_create(
                county=county,
                kind=kind,
                period_start=start,
                period_end=end,
                defaults={"started_by": actor},
            )
            run = BatchRun.objects.select_for_update().get(pk=run.pk)
        try:
            with transaction.atomic():
                counts = _compare(run, today)
        except DomainError as exc:
            # No policy in force, say: the run is recorded as failed with the reason.
            BatchRun.objects.filter(pk=run.pk).update(
                status=BatchRun.Status.FAILED, error=exc.message, finished_at=timezone.now()
            )
            run.refresh_from_db()
            return run
        BatchRun.objects.filter(pk=run.pk).update(
            status=BatchRun.Status.FINISHED, counts=counts, finished_at=timezone.now(), error=""
        )
        audit_record(
            actor=actor,
            action="batch.run",
            obj=run,
            region=county,
            new={"kind": kind, "counts": counts},
        )
    run.refresh_from_db()
    return run


def batch_run_request(*, actor: User, county: Region) -> BatchRun:
    """Open an on-demand run of ``county`` and hand it to the batch queue."""
    access.require_role(actor, permissions.READ_BATCH_RUNS, county)
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("A batch comparison covers a county."), field="county")
    today = timezone.localdate()
    with transaction.atomic():
        run = BatchRun.objects.create(
            county=county,
            kind=BatchRun.Kind.ON_DEMAND,
            period_start=today,
            period_end=today,
            started_by=actor,
        )
        audit_record(actor=actor, action="batch.request", obj=run, region=county)
        enqueue_on_commit("verification.batch_run", county.pk, BatchRun.Kind.ON_DEMAND, run.pk)
    return run


def finding_resolve(
    *, actor: User, finding: BatchFinding, resolution: str, reason: str
) -> BatchFinding:
    """The township caseworker dismisses a finding or opens a review, with a reason."""
    village = finding.application.village
    if not access.has_role(actor, permissions.WORK_CASES, village):
        raise PermissionDenied(_("Only a caseworker of the case's township resolves findings."))
    if resolution not in {BatchFinding.Resolution.DISMISSED, BatchFinding.Resolution.REVIEW_OPENED}:
        raise DomainError(_("Choose: dismissed or review opened."), field="resolution")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the resolution."), field="reason")
    with transaction.atomic():
        now = timezone.now()
        updated = BatchFinding.objects.filter(
            pk=finding.pk, resolution=BatchFinding.Resolution.OPEN
        ).update(
            resolution=resolution, resolved_by=actor, resolved_at=now, resolution_reason=reason
        )
        if updated != 1:
            raise Conflict(_("This finding has already been resolved."))
        audit_record(
            actor=actor,
            action="batch_finding.resolve",
            obj=finding,
            region=village,
            old={"resolution": BatchFinding.Resolution.OPEN},
            new={"resolution": resolution},
            reason=reason,
        )
        if resolution == BatchFinding.Resolution.REVIEW_OPENED:
            from cases.reviews.services import review_open  # the review is the case's (cases app)

            review_open(
                actor=actor,
                application_id=finding.application_id,
                trigger="batch_finding",
                trigger_id=finding.pk,
                reason=reason,
            )
    finding.refresh_from_db()
    return finding


# --- reads -------------------------------------------------------------------------------


def batch_county_list_for_user(*, user: User) -> QuerySet[Region]:
    """Counties where the user may start runs (their own role, not cover grants)."""
    jurisdiction = access.jurisdiction_for(
        user, roles=permissions.READ_BATCH_RUNS, include_grants=False
    )
    return Region.objects.filter(level=Region.Level.COUNTY).filter(jurisdiction.q(None))


def batch_run_list_for_user(*, user: User) -> QuerySet[BatchRun]:
    return access.restrict(
        BatchRun.objects.select_related("county", "started_by"),
        user,
        region_field="county",
        roles=permissions.READ_BATCH_RUNS,
    )


def batch_run_get_for_user(*, user: User, run_id: int) -> BatchRun:
    return access.get_object_or_404(
        BatchRun.objects.select_related("county", "started_by"),
        user,
        region_field="county",
        roles=permissions.READ_BATCH_RUNS,
        pk=run_id,
    )


@dataclass
class RunSummary:
    kinds: list[tuple[str, str]]  # (kind, label) in display order
    townships: list[tuple[Region, list[int], int]]  # township, counts per kind, total
    totals: list[int]
    total: int


def batch_run_summary(*, run: BatchRun) -> RunSummary:
    """Counts by kind × township (one grouped query and one for the township names)."""
    rows = (
        run.findings.annotate(
            township=Substr(
                "application__village__code", 1, Region.PREFIX_LENGTH[Region.Level.TOWNSHIP]
            )
        )
        .values("township", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    kinds = list(K.choices)
    index = {value: i for i, (value, _label) in enumerate(kinds)}
    by_township: dict[str, list[int]] = {}
    for row in rows:
        by_township.setdefault(row["township"], [0] * len(kinds))[index[row["kind"]]] += row["n"]
    names = {
        r.township_prefix: r
        for r in Region.objects.filter(
            code__in=[Region.code_from_prefix(p) for p in by_township]
        ).order_by("code")
    }
    townships = [
        (
            names.get(prefix) or Region(code=Region.code_from_prefix(prefix), name=prefix),
            counts,
            sum(counts),
        )
        for prefix, counts in sorted(by_township.items())
    ]
    totals = [sum(counts[i] for _t, counts, _n in townships) for i in range(len(kinds))]
    return RunSummary(kinds=kinds, townships=townships, totals=totals, total=sum(totals))


@dataclass
class MonthlyFindings:
    kinds: list[tuple[str, str]]  # (kind, label) in display order
    months: list[datetime.date]  # the first day of each month, oldest first
    counts: list[list[int]]  # per month, one count per kind
    totals: list[int]  # per kind, over the months

    @property
    def total(self) -> int:
        return sum(self.totals)

    @property
    def rows(self) -> list[tuple[datetime.date, list[int], int]]:
        return [(m, c, sum(c)) for m, c in zip(self.months, self.counts, strict=True)]


def _months_back(today: datetime.date, months: int) -> list[datetime.date]:
    first = today.replace(day=1)
    out = []
    for _i in range(months):
        out.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return out[::-1]


def finding_counts_by_month_for_user(
    *, user: User, months: int = 12, today: datetime.date | None = None
) -> MonthlyFindings:
    """Findings by kind of the runs started in each of the last ``months`` months (local
    time) in the user's counties: one grouped query. Every month is there, with zeros."""
    today = today or timezone.localdate()
    month_list = _months_back(today, months)
    since = timezone.make_aware(datetime.datetime.combine(month_list[0], datetime.time()))
    rows = (
        access.restrict(
            BatchFinding.objects.filter(run__started_at__gte=since),
            user,
            region_field="run__county",
            roles=permissions.READ_BATCH_RUNS,
        )
        .annotate(month=TruncMonth("run__started_at"))
        .values("month", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    kinds = list(K.choices)
    index = {value: i for i, (value, _label) in enumerate(kinds)}
    at = {month: i for i, month in enumerate(month_list)}
    counts = [[0] * len(kinds) for _m in month_list]
    for row in rows:
        month = timezone.localtime(row["month"]).date()
        if month in at:  # a run started after ``today`` (a test's clock) is not shown
            counts[at[month]][index[row["kind"]]] += row["n"]
    totals = [sum(c[i] for c in counts) for i in range(len(kinds))]
    return MonthlyFindings(kinds=kinds, months=month_list, counts=counts, totals=totals)


def finding_counts_chart(monthly: MonthlyFindings) -> charts.Chart:
    """The monthly counts as stacked bars, one colour and hatching per kind."""
    caption = _("Findings by kind and month")
    series = [
        charts.Series(label, [c[i] for c in monthly.counts])
        for i, (_value, label) in enumerate(monthly.kinds)
    ]
    return charts.chart(
        caption=caption,
        summary=caption + _(": ") + charts.listing([(s.label, sum(s.values)) for s in series]),
        labels=[m.strftime("%Y-%m") for m in monthly.months],
        series=series,
        y_title=_("Number of findings"),
        stacked=True,
    )


def batch_finding_list_for_run(*, run: BatchRun) -> QuerySet[BatchFinding]:
    """The findings of a run already read through the gate, for the XLSX download."""
    return run.findings.select_related("application__village", "person", "resolved_by").order_by(
        "application__village__code", "kind", "application_id", "person_id"
    )


def finding_list_for_user(*, user: User, open_only: bool = True) -> QuerySet[BatchFinding]:
    """Findings on applications of the caseworker's township, newest run first."""
    queryset = BatchFinding.objects.select_related(
        "run", "application__village", "person"
    ).order_by("-run__started_at", "application__village__code", "application_id", "kind")
    if open_only:
        queryset = queryset.filter(resolution=BatchFinding.Resolution.OPEN)
    return access.restrict(
        queryset, user, region_field="application__village", roles=permissions.WORK_CASES
    )


def finding_get_for_user(*, user: User, finding_id: int) -> BatchFinding:
    return access.get_object_or_404(
        BatchFinding.objects.select_related("application__village", "person"),
        user,
        region_field="application__village",
        roles=permissions.WORK_CASES,
        pk=finding_id,
    )
