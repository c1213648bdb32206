"""Demo snapshots: every snapshot department with a file loaded for the demo county.

What the departments say mostly agrees with what the families declared (pensions and
wages as declared, the declared deposits, vehicles and homes), with a few deliberate
findings: undeclared vehicles, real estate, public salaries, deposits above 50,000,
business registrations and securities, and the death of a person still enrolled. Each
file is written as CSV in memory and goes through the same import as an uploaded one.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from collections import defaultdict
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from aid_portal.demo.base import COUNTY_CODE
from aid_portal.models import Region, User
from cases.models import Application, Asset, Income, Member
from verification.feeds.catalogue import DEFAULT_COLUMN_MAPPING, load_catalogue
from verification.feeds.models import Department, Feed, Snapshot
from verification.feeds.services import snapshot_import

SEED = 4422
FINDINGS = 3  # undeclared records of each kind
ASSET_ITEMS = {
    Asset.Kind.VEHICLE: ("public_security", "vehicle"),
    Asset.Kind.REAL_ESTATE: ("housing", "real_estate"),
    Asset.Kind.DEPOSIT: ("bank", "deposit"),
    Asset.Kind.SECURITIES: ("financial_office", "securities"),
    Asset.Kind.BUSINESS: ("market", "business_registration"),
}
INCOME_ITEMS = {
    Income.Source.PENSION: ("hrss", "pension"),
    Income.Source.WAGES: ("hrss", "social_insurance_wage"),
    Income.Source.BUSINESS: ("tax", "business_tax"),
}


def load_feeds_demo() -> int:
    """Import a demo file for every snapshot department that has had none; returns how
    many. (A department with no rows for the county gets its file rejected as empty.)"""
    load_catalogue()
    feeds = list(
        Feed.objects.filter(
            department__channel=Department.Channel.SNAPSHOT, snapshots__isnull=True
        ).select_related("department")
    )
    if not feeds:
        return 0
    uploader = (
        User.objects.filter(username="feedadmin").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )
    if uploader is None:
        raise RuntimeError("load aid_portal.demo.load_demo() first: no feed admin, no superuser")
    rows = _records(Region.objects.get(code=COUNTY_CODE))
    loaded = 0
    for feed in feeds:
        mapping = {**DEFAULT_COLUMN_MAPPING, **feed.column_mapping}
        columns = [mapping[key] for key in ("identity_number", "name", "item", "value", "date")]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows(rows.get(feed.department.code, []))
        name = f"{feed.department.code}-demo.csv"
        snapshot = Snapshot(feed=feed, original_name=name, uploaded_by=uploader)
        snapshot.file.save(name, ContentFile(buffer.getvalue().encode("utf-8")), save=False)
        snapshot.save()
        snapshot_import(snapshot_id=snapshot.pk)
        loaded += 1
    return loaded


def _records(county: Region) -> dict[str, list[tuple]]:
    """Rows per department: (identity number, name, item code, value, date)."""
    rng = random.Random(SEED)
    today = timezone.localdate()
    as_of = today.replace(day=1) - datetime.timedelta(days=1)  # end of last month
    members = list(
        Member.objects.filter(household__village__code__startswith=county.prefix)
        .select_related("person", "household")
        .prefetch_related("incomes")
        .order_by("pk")
    )
    assets = defaultdict(list)
    for asset in Asset.objects.filter(household__village__code__startswith=county.prefix).order_by(
        "pk"
    ):
        assets[asset.household_id].append(asset)
    enrolled_households = set(
        Application.objects.filter(
            village__code__startswith=county.prefix, state__in=Application.ENROLLED_STATES
        ).values_list("household_id", flat=True)
    )

    rows: dict[str, list[tuple]] = defaultdict(list)
    people: dict[int, Member] = {}  # one row set per person, whatever their households
    declared: dict[int, set[str]] = defaultdict(set)  # person -> asset kinds declared
    applicants = {m.household_id: m for m in members if m.relation == Member.Relation.SELF}
    by_pk = {m.pk: m for m in members}
    for member in members:
        people.setdefault(member.person_id, member)
    for household_assets in assets.values():
        for asset in household_assets:
            owner = (
                by_pk.get(asset.member_id)
                if asset.member_id
                else applicants.get(asset.household_id)
            )
            if owner is None:
                continue
            declared[owner.person_id].add(asset.kind)
            if asset.kind in ASSET_ITEMS:
                department, item = ASSET_ITEMS[asset.kind]
                rows[department].append(_row(owner, item, asset.value, as_of))

    for member in people.values():
        person = member.person
        rows["public_security"].append(
            _row(member, "household_registration", None, person.birth_date)
        )
        for income in member.incomes.all():
            if income.source in INCOME_ITEMS:
                department, item = INCOME_ITEMS[income.source]
                rows[department].append(_row(member, item, income.monthly, as_of))
        if rng.random() < 0.05:
            rows["civil_affairs"].append(
                _row(member, "other_assistance", Decimal(rng.choice([200, 300, 500])), as_of)
            )
        if not member.is_supporter and rng.random() < 0.03:
            rows["provident_fund"].append(
                _row(member, "provident_fund", Decimal(rng.randrange(2, 40) * 1000), as_of)
            )

    # The findings: adults who declared nothing of the kind.
    adults = [
        m
        for m in people.values()
        if not m.is_supporter and (today - m.person.birth_date).days > 20 * 365
    ]
    rng.shuffle(adults)
    pool = iter(adults)

    def undeclared(kind: str):
        for member in pool:
            if kind not in declared[member.person_id]:
                return member
        return None

    def securities_value():
        return rng.randrange(5, 50) * 1000

    # department, item, the asset kind that would have declared it, the amount
    findings = [
        ("public_security", "vehicle", Asset.Kind.VEHICLE, lambda: rng.randrange(30, 120) * 1000),
        ("housing", "real_estate", Asset.Kind.REAL_ESTATE, lambda: rng.randrange(20, 60) * 10000),
        ("finance", "public_salary", None, lambda: rng.randrange(38, 65) * 100),
        ("bank", "deposit", Asset.Kind.DEPOSIT, lambda: rng.randrange(60, 200) * 1000),
        ("market", "business_registration", Asset.Kind.BUSINESS, lambda: 100000),
        ("financial_office", "securities", Asset.Kind.SECURITIES, securities_value),
    ]
    for department, item, kind, value in findings:
        for _ in range(FINDINGS):
            member = undeclared(kind or "public_salary")
            if member is not None:
                rows[department].append(_row(member, item, Decimal(value()), as_of))

    deceased = next(
        (
            m
            for m in people.values()
            if m.household_id in enrolled_households and not m.is_supporter
        ),
        None,
    )
    if deceased is not None:
        rows["civil_affairs"].append(
            _row(deceased, "death", None, today - datetime.timedelta(days=45))
        )
    return {department: _merged(department_rows) for department, department_rows in rows.items()}


def _merged(rows: list[tuple]) -> list[tuple]:
    """One row per person, item and date: two declared deposits are one bank record."""
    merged: dict[tuple, tuple] = {}
    for number, name, item, value, day in rows:
        key = (number, item, day)
        if key in merged and value:
            previous = merged[key][3]
            value = f"{Decimal(previous or 0) + Decimal(value):.2f}"
        merged[key] = (number, name, item, value, day)
    return list(merged.values())


def _row(member: Member, item: str, value, day: datetime.date) -> tuple:
    person = member.person
    amount = "" if value is None else f"{Decimal(value):.2f}"
    return (person.identity_number, person.name, item, amount, day.isoformat())
