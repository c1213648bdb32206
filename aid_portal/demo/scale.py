"""The scale data set (issue 16): a province's worth of households for benchmarks and the
load test, generated with set-based SQL, never row by row through the ORM.

Unlike the demo (aid_portal.demo.cases), nothing here goes through the services: a
million households made step by step would take days. What the pages read is written
directly, in the shape the services leave it, so that every page opens on it:

- the region tree: one province (code 99, a code no real data uses), one city, COUNTIES
  counties of TOWNSHIPS townships of VILLAGES villages each; the households are dealt to
  the villages in turn;
- staff: per township a caseworker and an approver, per county an auditor and a
  verification officer (usernames in ``scale_users``, one password, SCALE_PASSWORD);
- people and memberships: COPY from a Python stream, because each identity number is
  encrypted (Fernet, as EncryptedTextField does it) and its blind index computed
  (``crypto.blind_index``), one per person, so that the masked number on a case page is
  the person's own and an identity search finds them. Every number is a valid GB 11643
  number (area code of a real Ningxia county, birth date, check character);
- everything else with ``INSERT … SELECT`` over ``generate_series`` or the rows already
  written: one application per household in every state (STATE_SHARES), the declaration
  (incomes, assets, expenditures), verification outcomes, home visits, democratic
  reviews, public notices, events, awards, periodic reviews and one batch comparison per
  county with its findings.

No audit rows are written: the audit log is a hash chain that only the portal's services
extend, and a benchmark data set is not an act of anyone's.

Explicit ids (the table's largest id plus the row's number) let each statement compute
the rows it points to; the sequences are moved past them at the end.
"""

from __future__ import annotations

import datetime
import io
import random
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from stdnum.cn import ric

from aid_portal.crypto import blind_index, encrypt
from aid_portal.models import Region, Role, RoleAssignment, User
from cases.models import (
    Application,
    ApplicationEvent,
    Asset,
    Award,
    DemocraticReview,
    HomeVisit,
    Household,
    Income,
    Member,
    PeriodicReview,
    Person,
    Policy,
    PublicNotice,
    RigidExpenditure,
    VerificationOutcome,
)
from verification.batch.models import BatchFinding, BatchRun

PROVINCE = "99"  # a province code no real division has
CITY = "9901"
SCALE_PASSWORD = "Scale2026!xj"  # noqa: S105 - printed for the load test on purpose
USER_PREFIX = "scale_"

# Application states in per mille: most households a province knows are enrolled or were
# once; a tenth of the rest is under way at any time (proportions of a Ningxia county's
# 2025 ledger, rounded).
STATE_SHARES = {
    "draft": 20,
    "submitted": 10,
    "returned": 10,
    "accepted": 15,
    "under_verification": 25,
    "feedback": 8,
    "home_visit": 15,
    "democratic_review": 8,
    "public_notice": 15,
    "awaiting_decision": 14,
    "approved": 20,
    "in_payment": 620,
    "stopped": 100,
    "rejected": 80,
    "withdrawn": 40,
}
assert sum(STATE_SHARES.values()) == 1000
# Assistance in per mille (temporary assistance, paid once, is left out).
TYPE_SHARES = {"dibao_rural": 700, "dibao_urban": 150, "extreme_poverty": 80, "low_income_edge": 70}
# Household sizes (members living together) in percent.
SIZE_SHARES = {1: 30, 2: 30, 3: 20, 4: 12, 5: 8}
# Identity numbers: (relation, area code of a real Ningxia county, born from, days span).
# One area code per group, and in a group one (birth date, sequence) per person, so every
# number is distinct: 500 sequences of each sex a day.
ID_GROUPS = {
    "adult": ("640422", datetime.date(1950, 1, 1), 16000),
    "child": ("640423", datetime.date(2005, 1, 1), 5400),
    "parent": ("640424", datetime.date(1928, 1, 1), 8000),
}
SURNAMES = "马李王张杨田苏何周海赵刘陈金白丁黑冯"
GIVEN = [
    *("秀兰", "玉梅", "海燕", "丽", "桂花", "建国", "志强", "文华", "海军", "明"),
    *("永福", "德成", "小虎", "忠", "国庆", "伟", "刚", "福海", "子涵", "浩然"),
]

OPEN_AFTER_VERIFICATION = (
    "feedback",
    "home_visit",
    "democratic_review",
    "public_notice",
    "awaiting_decision",
)
DECIDED = ("approved", "in_payment", "stopped", "rejected")
ENROLLED = ("approved", "in_payment")


class ScaleRefused(Exception):
    """The database holds data that is not a scale data set."""


@dataclass
class Layout:
    households: int = 1_000_000
    counties: int = 20
    townships: int = 15
    villages: int = 15
    seed: int = 16

    @property
    def village_count(self) -> int:
        return self.counties * self.townships * self.villages


@dataclass
class Loaded:
    counts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


def scale_users(layout: Layout) -> dict[str, list[str]]:
    """The usernames by role, in the order of their townships or counties."""
    townships = range(layout.counties * layout.townships)
    counties = range(layout.counties)
    return {
        "caseworker": [f"{USER_PREFIX}cw{t}" for t in townships],
        "approver": [f"{USER_PREFIX}ap{t}" for t in townships],
        "auditor": [f"{USER_PREFIX}au{c}" for c in counties],
        "verifier": [f"{USER_PREFIX}vo{c}" for c in counties],
    }


def refuse_unless_empty(*, force: bool) -> None:
    """A scale set goes into a database of its own: refuse one that holds anything else
    (households, people, applications, regions, users), unless ``force``; refuse always
    when a scale set is there already (its codes and usernames would collide)."""
    if Region.objects.filter(code__startswith=PROVINCE).exists():
        raise ScaleRefused("this database already holds a scale data set; drop and create it again")
    others = {
        "regions": Region.objects.count(),
        "users": User.objects.count(),
        "households": Household.objects.count(),
        "people": Person.objects.count(),
        "applications": Application.objects.count(),
    }
    found = {name: n for name, n in others.items() if n}
    if found and not force:
        listed = ", ".join(f"{n} {name}" for name, n in found.items())
        raise ScaleRefused(
            f"this database holds data that is not a scale data set ({listed}); "
            "load the scale set into a database of its own, or pass --force"
        )


# --- helpers ------------------------------------------------------------------------------


def _sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _max_id(model: type[models.Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}")  # noqa: S608
        return cursor.fetchone()[0]


def _defaults(model: type[models.Model], given: set[str]) -> tuple[list[str], list[str], list]:
    """The columns ``given`` leaves out, with SQL for their Django default (defaults live
    in Python, not in the database): (columns, expressions, parameters)."""
    columns, expressions, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in given:
            continue
        columns.append(f.column)
        if f.has_default():
            expressions.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            expressions.append("now()")
        elif f.null:
            expressions.append("NULL")
        else:
            expressions.append("''")
    return columns, expressions, params


def insert_select(
    model: type[models.Model], values: dict[str, str], tail: str, params: dict | None = None
) -> int:
    """``INSERT INTO model (…) SELECT <values>, <defaults> <tail>``: ``values`` maps
    columns to SQL expressions over ``tail`` (FROM …); every other column gets its
    Django default. Named parameters (%(name)s) only."""
    columns, expressions, default_params = _defaults(model, set(values))
    names = list(values) + columns
    params = dict(params or {})  # never None: the statement is always formatted (%%)
    for i, value in enumerate(default_params):
        params[f"_d{i}"] = value
        expressions[expressions.index("%s")] = f"%(_d{i})s"
    select = ", ".join([*values.values(), *expressions])
    statement = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {select} {tail}"
    return _sql(statement, params)


def _copy(table: str, columns: list[str], lines) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    buffer = io.StringIO()

    def flush():
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer)

    for count, line in enumerate(lines, start=1):
        buffer.write(line)
        if count % 50_000 == 0:
            flush()
            buffer.seek(0)
            buffer.truncate()
    flush()


def _share_case(shares: dict[str, int], roll: str, scale: int) -> str:
    """A CASE expression mapping ``roll`` (0 … scale-1) onto the keys by their shares."""
    parts, upto = [], 0
    for key, share in shares.items():
        upto += share
        parts.append(f"WHEN {roll} < {upto * scale // sum(shares.values())} THEN '{key}'")
    return "CASE " + " ".join(parts) + f" ELSE '{list(shares)[-1]}' END"


def _roll(expression: str, salt: int, modulus: int) -> str:
    """A deterministic pseudo-random 0 … modulus-1 of an integer expression."""
    return f"((hashint8(({expression})::bigint * 7919 + {salt}) & 2147483647) %% {modulus})"


def identity_number(group: str, index: int, male: bool) -> tuple[str, datetime.date]:
    area, born_from, span = ID_GROUPS[group]
    birth = born_from + datetime.timedelta(days=index % span)
    sequence = 2 * ((index // span) % 500) + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0"), birth


# --- the load ------------------------------------------------------------------------------


def regions(layout: Layout) -> tuple[list[Region], list[Region], list[Region]]:
    province = Region.objects.create(
        code=Region.code_from_prefix(PROVINCE), name="规模省", level=Region.Level.PROVINCE
    )
    city = Region.objects.create(
        code=Region.code_from_prefix(CITY), name="规模市", level=Region.Level.CITY, parent=province
    )
    counties = Region.objects.bulk_create(
        Region(
            code=Region.code_from_prefix(f"{CITY}{c + 1:02d}"),
            name=f"规模{c + 1}县",
            level=Region.Level.COUNTY,
            parent=city,
        )
        for c in range(layout.counties)
    )
    townships = Region.objects.bulk_create(
        Region(
            code=Region.code_from_prefix(f"{county.prefix}{100 + t:03d}"),
            name=f"{county.name}{t + 1}镇",
            level=Region.Level.TOWNSHIP,
            parent=county,
        )
        for county in counties
        for t in range(layout.townships)
    )
    villages = Region.objects.bulk_create(
        Region(
            code=f"{township.prefix}{200 + v:03d}",
            name=f"{township.name}{v + 1}村",
            level=Region.Level.VILLAGE,
            parent=township,
        )
        for township in townships
        for v in range(layout.villages)
    )
    return counties, townships, villages


def staff(layout: Layout, counties, townships) -> dict[str, list[int]]:
    """The scale users and their roles; the password hashed once for all of them."""
    password = make_password(SCALE_PASSWORD)
    names = scale_users(layout)
    users = User.objects.bulk_create(
        User(username=username, password=password, full_name=f"规模{role}{i}")
        for role, usernames in names.items()
        for i, username in enumerate(usernames)
    )
    by_name = {u.username: u for u in users}
    grants = []
    for role, region_list, key in (
        (Role.TOWNSHIP_CASEWORKER, townships, "caseworker"),
        (Role.TOWNSHIP_APPROVER, townships, "approver"),
        (Role.COUNTY_AUDITOR, counties, "auditor"),
        (Role.VERIFICATION_OFFICER, counties, "verifier"),
    ):
        for username, region in zip(names[key], region_list, strict=True):
            grants.append(RoleAssignment(user=by_name[username], role=role, region=region))
    RoleAssignment.objects.bulk_create(grants)
    return {key: [by_name[u].pk for u in usernames] for key, usernames in names.items()}


def people_and_members(layout: Layout, person_base: int, household_base: int) -> tuple[int, int]:
    """COPY the people (each number encrypted, its blind index beside it) and their
    memberships, household by household; returns (people, members)."""
    rng = random.Random(layout.seed)
    sizes = list(SIZE_SHARES)
    weights = list(SIZE_SHARES.values())
    counters = dict.fromkeys(ID_GROUPS, 0)
    # The memberships wait in a file (not a list: 2.5 million lines at full size) until
    # the people they point to are in.
    members = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed below
    person_id = person_base
    member_count = 0

    def person_line(group: str, relation: str, household_id: int) -> str:
        nonlocal person_id, member_count
        person_id += 1
        member_count += 1
        male = rng.random() < 0.5
        number, birth = identity_number(group, counters[group], male)
        counters[group] += 1
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        student = group == "child" and rng.random() < 0.8
        members.write(
            f"{household_id}\t{person_id}\t{relation}\t{'full' if group == 'adult' else 'none'}"
            f"\t{'t' if student else 'f'}\n"
        )
        return (
            f"{person_id}\t{encrypt(number)}\t{blind_index(number)}\t{name}\t{birth}"
            f"\t{'M' if male else 'F'}\n"
        )

    def people():
        for n in range(layout.households):
            household_id = household_base + n + 1
            size = rng.choices(sizes, weights)[0]
            yield person_line("adult", "self", household_id)
            if size >= 2:
                yield person_line("adult", "spouse", household_id)
            for k in range(2, size):
                group, relation = ("parent", "parent") if k == 4 else ("child", "child")
                yield person_line(group, relation, household_id)

    _copy(
        "cases_person",
        ["id", "identity_number", "identity_hash", "name", "birth_date", "sex"],
        people(),
    )
    # The memberships through a staging table, so that the model's defaults fill the rest.
    staged = ["household_id", "person_id", "relation", "work_ability", "is_student"]
    _sql(
        "CREATE TEMP TABLE scale_member (household_id bigint, person_id bigint, "
        "relation text, work_ability text, is_student boolean) ON COMMIT DROP"
    )
    members.seek(0)
    _copy("scale_member", staged, members)
    members.close()
    insert_select(Member, {c: c for c in staged}, "FROM scale_member")
    _sql("DROP TABLE scale_member")
    return person_id - person_base, member_count


def load_scale(layout: Layout, *, force: bool = False, progress=print) -> Loaded:
    """Load the scale set in one transaction (all or nothing)."""
    loaded = Loaded()
    clock = timezone.now()
    today = timezone.localdate()

    def step(name: str, started: datetime.datetime, rows: int | None = None) -> None:
        seconds = (timezone.now() - started).total_seconds()
        loaded.seconds[name] = seconds
        if rows is not None:
            loaded.counts[name] = rows
        progress(f"{name:<28} {'' if rows is None else f'{rows:>10,}'} {seconds:7.1f} s")

    with transaction.atomic():
        refuse_unless_empty(force=force)
        started = timezone.now()
        counties, townships, villages = regions(layout)
        for county in counties:
            Policy.objects.create(
                county=county,
                effective_from=datetime.date(today.year, 1, 1),
                dibao_standard_urban=Decimal("820"),
                dibao_standard_rural=Decimal("640"),
            )
        users = staff(layout, counties, townships)
        step("regions, staff, policies", started, len(villages))

        person_base, household_base = _max_id(Person), _max_id(Household)
        application_base = _max_id(Application)
        params = {
            "n": layout.households,
            "hb": household_base,
            "ab": application_base,
            "villages": [v.pk for v in villages],
            "cw": users["caseworker"],
            "ap": users["approver"],
            "vpt": layout.villages,
            "today": today,
            "now": clock,
        }
        started = timezone.now()
        rows = insert_select(
            Household,
            {
                "id": "%(hb)s + n",
                "village_id": "(%(villages)s::bigint[])"
                "[(n - 1) %% cardinality(%(villages)s::bigint[]) + 1]",
                "address": "'规模路' || n || '号'",
                "phone": "'139' || lpad((n %% 100000000)::text, 8, '0')",
            },
            "FROM generate_series(1, %(n)s) AS n",
            params,
        )
        step("households", started, rows)

        started = timezone.now()
        people, members = people_and_members(layout, person_base, household_base)
        step("people (encrypted, COPY)", started, people)
        loaded.counts["members"] = members

        # Applications: one per household, its state, type and dates from its number.
        started = timezone.now()
        village_index = "((n - 1) %% cardinality(%(villages)s::bigint[]))"
        township_index = f"({village_index} / %(vpt)s + 1)"
        age = f"(20 + {_roll('n', 3, 700)})"  # days since it was made
        # The first applications take each state once, so that even a small set has all.
        every = ", ".join(f"'{s}'" for s in STATE_SHARES)
        state = (
            f"CASE WHEN n <= {len(STATE_SHARES)} THEN (ARRAY[{every}])[n] ELSE "
            + _share_case(STATE_SHARES, _roll("n", 1, 1000), 1000)
            + " END"
        )
        kind = _share_case(TYPE_SHARES, _roll("n", 2, 1000), 1000)
        _sql(
            f"""CREATE TEMP TABLE scale_app ON COMMIT DROP AS
            SELECT n, %(ab)s + n AS id, %(hb)s + n AS household_id,
                   (%(villages)s::bigint[])[{village_index} + 1] AS village_id,
                   (%(cw)s::bigint[])[{township_index}] AS caseworker_id,
                   (%(ap)s::bigint[])[{township_index}] AS approver_id,
                   {state} AS state, {kind} AS kind,
                   %(now)s::timestamptz - make_interval(days => {age}) AS made_at,
                   {_roll("n", 4, 2)} = 0 AS simplified,
                   (300 + {_roll("n", 5, 500)})::numeric(10, 2) AS amount
            FROM generate_series(1, %(n)s) AS n""",  # noqa: S608 - constants of this module
            params,
        )
        submitted = "state <> 'draft'"
        accepted = "state NOT IN ('draft', 'submitted', 'returned', 'withdrawn')"
        path_known = f"state IN {OPEN_AFTER_VERIFICATION + DECIDED}"
        rows = insert_select(
            Application,
            {
                "id": "id",
                "household_id": "household_id",
                "village_id": "village_id",
                "assistance_type": "kind",
                "state": "state",
                "path": f"CASE WHEN {path_known} THEN "
                "CASE WHEN simplified AND state NOT IN ('feedback', 'home_visit', "
                "'democratic_review') THEN 'simplified' ELSE 'normal' END ELSE '' END",
                "declaration_committed_on": f"CASE WHEN {submitted} THEN made_at::date END",
                "informed_on": f"CASE WHEN {submitted} THEN made_at::date END",
                "submitted_at": f"CASE WHEN {submitted} THEN made_at + interval '1 day' END",
                "accepted_on": f"CASE WHEN {accepted} THEN (made_at + interval '3 days')::date END",
                "investigation_due_on": f"CASE WHEN {accepted} THEN "
                "(made_at + interval '10 days')::date END",
                "due_on": f"CASE WHEN {accepted} THEN (made_at + interval '45 days')::date END",
                "missing_items": "CASE WHEN state = 'returned' THEN '[\"income_proof\"]'::jsonb "
                "ELSE '[]'::jsonb END",
                "decided_at": f"CASE WHEN state IN {DECIDED} THEN made_at + interval '40 days' END",
                "decided_by_id": f"CASE WHEN state IN {DECIDED} THEN approver_id END",
                "monthly_amount": "CASE WHEN state IN ('approved', 'in_payment', 'stopped') "
                "THEN amount END",
                "start_month": "CASE WHEN state IN ('approved', 'in_payment', 'stopped') THEN "
                "date_trunc('month', made_at + interval '40 days')::date END",
                "rejection_reasons": "CASE WHEN state = 'rejected' THEN "
                "'经核对，家庭存款超过当地规定标准，不符合条件。' ELSE '' END",
                "next_review_on": f"CASE WHEN state IN {ENROLLED} THEN "
                "(made_at + interval '40 days' + interval '1 year')::date END",
                "stopped_on": "CASE WHEN state = 'stopped' THEN "
                "(made_at + interval '200 days')::date END",
                "created_by_id": "caseworker_id",
                "created_at": "made_at",
                "updated_at": "made_at + interval '40 days'",
            },
            "FROM scale_app",
            params,
        )
        step("applications", started, rows)

        started = timezone.now()
        rows = insert_select(
            ApplicationEvent,
            {
                "application_id": "id",
                "at": "made_at",
                "actor_id": "caseworker_id",
                "action": "'create'",
                "from_state": "''",
                "to_state": "'draft'",
                "reason": "''",
            },
            "FROM scale_app",
        )
        rows += insert_select(
            ApplicationEvent,
            {
                "application_id": "id",
                "at": "made_at + interval '40 days'",
                "actor_id": f"CASE WHEN state IN {DECIDED} THEN approver_id ELSE caseworker_id END",
                "action": "'scale_' || state",
                "from_state": "'draft'",
                "to_state": "state",
                "reason": "''",
            },
            "FROM scale_app WHERE state <> 'draft'",
        )
        step("events", started, rows)

        # The declaration: incomes of the adults, assets and expenditures of some households.
        started = timezone.now()
        rows = insert_select(
            Income,
            {
                "member_id": "m.id",
                "source": "(ARRAY['wages', 'business', 'pension', 'transfer'])"
                f"[{_roll('m.id', 6, 4)} + 1]",
                "monthly_average": f"({_roll('m.id', 7, 1500)})::numeric(10, 2)",
            },
            "FROM cases_member m WHERE m.household_id > %(hb)s "
            "AND m.relation IN ('self', 'spouse') "
            f"AND {_roll('m.id', 8, 10)} < 6",
            params,
        )
        rows += insert_select(
            Asset,
            {
                "household_id": "h",
                "kind": f"CASE WHEN {_roll('h', 9, 10)} = 0 THEN 'vehicle' ELSE 'deposit' END",
                "description": "'申报财产'",
                "value": f"({_roll('h', 10, 30000)})::numeric(12, 2)",
            },
            f"FROM generate_series(%(hb)s + 1, %(hb)s + %(n)s) AS h WHERE {_roll('h', 11, 2)} = 0",
            params,
        )
        rows += insert_select(
            RigidExpenditure,
            {
                "household_id": "h",
                "kind": "'medical'",
                "monthly_amount": f"({_roll('h', 12, 800)})::numeric(10, 2)",
                "description": "'慢性病门诊'",
            },
            f"FROM generate_series(%(hb)s + 1, %(hb)s + %(n)s) AS h WHERE {_roll('h', 13, 7)} = 0",
            params,
        )
        step("declarations", started, rows)

        # Verification and the steps after it.
        started = timezone.now()
        after_verification = OPEN_AFTER_VERIFICATION + DECIDED
        rows = insert_select(
            VerificationOutcome,
            {
                "application_id": "id",
                "outcome": "CASE WHEN state IN ('feedback', 'home_visit', 'democratic_review', "
                "'rejected') OR NOT simplified THEN 'gap' ELSE 'consistent' END",
                "gap_items": "CASE WHEN simplified AND state NOT IN ('feedback', 'home_visit', "
                "'democratic_review', 'rejected') THEN '[]'::jsonb ELSE "
                '\'[{"item": "银行存款", "declared": "3000", "verified": "28600"}]\'::jsonb END',
                "source": "'verification'",
                "recorded_by_id": "caseworker_id",
                "recorded_at": "made_at + interval '12 days'",
                "objection_deadline": "(made_at + interval '22 days')::date",
            },
            f"FROM scale_app WHERE state IN {after_verification}",
        )
        rows += insert_select(
            HomeVisit,
            {
                "application_id": "id",
                "visited_on": "(made_at + interval '20 days')::date",
                "family_member_present": "'户主'",
                "findings": "'房屋为土木结构，家具陈旧，情况与申报一致。'",
                "recorded_by_id": "caseworker_id",
            },
            "FROM scale_app WHERE state IN ('democratic_review', 'public_notice', "
            "'awaiting_decision', 'approved', 'in_payment', 'stopped', 'rejected') "
            "AND NOT simplified",
        )
        rows += insert_select(
            DemocraticReview,
            {
                "application_id": "id",
                "held_on": "(made_at + interval '25 days')::date",
                "participants": "9",
                "opinion": "'同意纳入。'",
            },
            "FROM scale_app WHERE state IN ('public_notice', 'awaiting_decision', 'approved', "
            "'in_payment', 'stopped', 'rejected') AND NOT simplified",
        )
        rows += insert_select(
            PublicNotice,
            {
                "application_id": "id",
                "starts_on": "(made_at + interval '28 days')::date",
                "ends_on": "(made_at + interval '35 days')::date",
                "place": "'村务公开栏'",
                "closed_at": "CASE WHEN state = 'public_notice' THEN NULL "
                "ELSE made_at + interval '36 days' END",
            },
            "FROM scale_app WHERE state IN ('public_notice', 'awaiting_decision', 'approved', "
            "'in_payment', 'stopped', 'rejected')",
        )
        step("verification and steps", started, rows)

        # Awards of the enrolled and the stopped; periodic reviews of the enrolled.
        started = timezone.now()
        rows = insert_select(
            Award,
            {
                "application_id": "id",
                "programme": "kind",
                "monthly_amount": "amount",
                "from_month": "date_trunc('month', made_at + interval '40 days')::date",
                "until_month": "CASE WHEN state = 'stopped' THEN "
                "date_trunc('month', made_at + interval '200 days')::date END",
                "decision": "'approval'",
                "decided_on": "(made_at + interval '40 days')::date",
            },
            "FROM scale_app WHERE state IN ('approved', 'in_payment', 'stopped')",
        )
        step("awards", started, rows)
        started = timezone.now()
        review_state = _share_case(
            {
                "opened": 4,
                "redeclaration": 3,
                "verification": 2,
                "awaiting_decision": 1,
                "decided": 30,
            },
            _roll("n", 14, 100),
            100,
        )
        rows = insert_select(
            PeriodicReview,
            {
                "application_id": "id",
                "state": "rs",
                "trigger": "'schedule'",
                "due_on": "(made_at + interval '40 days' + interval '1 year')::date",
                "opened_at": "made_at + interval '330 days'",
                "opened_by_id": "caseworker_id",
                "decision": "CASE WHEN rs = 'decided' THEN 'continue' ELSE '' END",
                "decision_reason": "CASE WHEN rs = 'decided' THEN '家庭情况无变化。' ELSE '' END",
                "outcome": "CASE WHEN rs IN ('awaiting_decision', 'decided') THEN 'consistent' "
                "ELSE '' END",
                "old_amount": "CASE WHEN rs = 'decided' THEN amount END",
                "new_amount": "CASE WHEN rs = 'decided' THEN amount END",
                "decided_at": "CASE WHEN rs = 'decided' THEN made_at + interval '360 days' END",
                "decided_by_id": "CASE WHEN rs = 'decided' THEN approver_id END",
            },
            # Constants of this module only.
            f"FROM (SELECT *, {review_state} AS rs FROM scale_app "  # noqa: S608
            f"WHERE state = 'in_payment' AND {_roll('n', 15, 100)} < 40) AS a",
        )
        step("periodic reviews", started, rows)

        # One finished batch comparison per county, its findings on 1.5% of the enrolled.
        started = timezone.now()
        runs = BatchRun.objects.bulk_create(
            BatchRun(
                kind=BatchRun.Kind.HALF_YEARLY_ALL,
                county=county,
                period_start=today - datetime.timedelta(days=182),
                period_end=today,
                status=BatchRun.Status.FINISHED,
                finished_at=clock,
            )
            for county in counties
        )
        params["runs"] = [run.pk for run in runs]
        params["tpc"] = layout.townships
        rows = insert_select(
            BatchFinding,
            {
                "run_id": f"(%(runs)s::bigint[])[({township_index} - 1) / %(tpc)s + 1]",
                "kind": "(ARRAY['vehicle', 'real_estate', 'business', 'deposit_over_limit', "
                f"'public_salary'])[{_roll('n', 16, 5)} + 1]",
                "application_id": "a.id",
                "person_id": "m.person_id",
                "detail": '\'{"department": "规模数据"}\'::jsonb',
                "resolution": f"CASE WHEN {_roll('n', 17, 10)} < 7 THEN 'open' "
                "ELSE 'dismissed' END",
            },
            "FROM scale_app a JOIN cases_member m ON m.household_id = a.household_id "
            "AND m.relation = 'self' "
            f"WHERE a.state IN {ENROLLED} AND {_roll('n', 18, 1000)} < 15",
            params,
        )
        _sql(
            "UPDATE verification_batchrun r SET counts = c.counts FROM ("
            "  SELECT run_id, jsonb_object_agg(kind, k) AS counts FROM ("
            "    SELECT run_id, kind, count(*) AS k FROM verification_batchfinding "
            "    WHERE run_id = ANY(%(runs)s) GROUP BY 1, 2) s GROUP BY 1) c "
            "WHERE r.id = c.run_id",
            params,
        )
        step("batch findings", started, rows)

        for model in (Person, Household, Member, Application):
            table = model._meta.db_table
            _sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
    loaded.counts["applications by state"] = dict(
        Application.objects.filter(village__code__startswith=PROVINCE)
        .values_list("state")
        .annotate(n=models.Count("id"))
        .order_by("state")
    )
    started = timezone.now()
    with connection.cursor() as cursor:
        # Without statistics the planner takes the new tables for empty, and a search over
        # them can choose nested loops that run for an hour. VACUUM cannot run inside a
        # transaction (a caller's, or a test's); ANALYZE can.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    step("vacuum analyze", started)
    return loaded
