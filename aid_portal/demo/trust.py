"""The demo's trust data: a control group like the Xiji pilot's (大滩村, 148 households:
14 untrustworthy, 9.5%, falling to 4, 2.7%), trust records, rewards, and the stored
yearly results of 2024 and 2025 computed by the real SQL (credit.trust.services).

The control group's past is *imported history*: households enrolled since 2023, and the
findings of 2024 and 2025 already repaired early in the following year, written with
the ORM because the steps that made them happened before the portal. Everything done
"now" (trust records, rewards, the yearly results) goes through the services.

Idempotent: a group already present is left alone, and so are results already stored.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from aid_portal.crypto import blind_index
from aid_portal.models import Region, User
from cases.intake import services as case_services
from cases.models import Application, ApplicationEvent, Household, Member, Person
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour, Finding, Level
from credit.trust import services as trust
from credit.trust.models import Reward, TrustRecord, YearlyResult

COUNTY = "640422000000"


@dataclass(frozen=True)
class Group:
    village: str
    caseworker: str
    approver: str
    households: int
    # (year, moderate findings, light findings)
    years: tuple[tuple[int, int, int], ...]


GROUPS = [
    # 杨河村 (吉强镇) stands in for the pilot's 大滩村, which is not on the demo's map.
    Group("640422100202", "caseworker_a", "approver_a", 148, ((2024, 14, 6), (2025, 4, 3))),
    Group("640422101203", "caseworker_b", "approver_b", 60, ((2024, 5, 2), (2025, 2, 1))),
]
FAMILY_NAMES = "马李杨王张田苏何周海虎金"
GIVEN_NAMES = "秀兰建国文华海燕志强玉梅明丽斌德福永平"


def _identity(day: datetime.date, sequence: int) -> str:
    first17 = f"642222{day:%Y%m%d}{sequence:03d}"  # born before 2001: the old area code
    return first17 + ric.calc_check_digit(first17 + "0")


def _address(group: Group, n: int, village: Region) -> str:
    return f"{village.name}诚信对照组{n}号"


def _households(group: Group, village: Region, caseworker: User, approver: User) -> list[Household]:
    """The group's households, each with an applicant and an application enrolled since
    2023 (imported history), created once."""
    existing = list(
        Household.objects.filter(
            village=village, address__startswith=f"{village.name}诚信对照组"
        ).order_by("id")
    )
    if len(existing) >= group.households:
        return existing[: group.households]
    households, start = list(existing), len(existing)
    born = datetime.date(1958, 3, 1)
    sequence = 900
    for n in range(start + 1, group.households + 1):
        household = case_services.household_create(
            actor=caseworker, village=village, address=_address(group, n, village)
        )
        while True:
            number = _identity(born + datetime.timedelta(days=37 * n), sequence)
            sequence = sequence + 1 if sequence < 998 else 900
            if not Person.objects.filter(identity_hash=blind_index(number)).exists():
                break
        name = FAMILY_NAMES[n % len(FAMILY_NAMES)] + GIVEN_NAMES[(3 * n) % len(GIVEN_NAMES)]
        name += GIVEN_NAMES[(7 * n + 1) % len(GIVEN_NAMES)]
        case_services.member_add(
            actor=caseworker,
            household=household,
            identity_number=number,
            name=name,
            relation=Member.Relation.SELF,
        )
        households.append(household)
    decided = timezone.make_aware(datetime.datetime(2023, 6, 20, 10, 0))
    basis = {
        "members": 1,
        "per_capita_income": "220.00",
        "standard": "640.00",
        "monthly_amount": "420.00",
        "rule": "(standard - per_capita) * members",
        "eligible": True,
    }
    created = Application.objects.bulk_create(
        [
            Application(
                household=household,
                village=village,
                assistance_type="dibao_rural",
                state=Application.State.IN_PAYMENT,
                path=Application.Path.NORMAL,
                accepted_on=datetime.date(2023, 5, 10),
                decided_at=decided,
                decided_by=approver,
                monthly_amount=Decimal("420.00"),
                amount_basis=basis,
                start_month=datetime.date(2023, 7, 1),
                next_review_on=datetime.date(2027, 6, 1),
                created_by=caseworker,
            )
            for household in households[start:]
        ]
    )
    imported = "历史数据导入：2023年审批确认，此后按月发放"
    ApplicationEvent.objects.bulk_create(
        [
            ApplicationEvent(
                application=app,
                actor=approver,
                action=action,
                from_state=old,
                to_state=new,
                reason=imported,
            )
            for app in created
            for action, old, new in (
                ("approve", Application.State.AWAITING_DECISION, Application.State.APPROVED),
                ("payment_start", Application.State.APPROVED, Application.State.IN_PAYMENT),
            )
        ]
    )
    return households


def _history(group: Group, households: list[Household], caseworker: User, approver: User):
    """The findings of each year, repaired in March of the next (imported history)."""
    catalogue_load(Behaviour)  # normally there already (a data migration): adds what is missing
    behaviours = {
        Level.MODERATE: Behaviour.objects.get(code="xj-false-material-refuses"),
        Level.LIGHT: Behaviour.objects.get(code="xj-false-material-minor"),
    }
    offset = 0
    rows = []
    for year, moderate, light in group.years:
        found = datetime.date(year, 9, 15)
        repaired = datetime.date(year + 1, 3, 15)
        # A different slice of the group each year: the pilot's rate fell as families
        # learned, not because the same ones were counted again.
        chosen = households[offset : offset + moderate + light]
        offset += moderate + light
        for i, household in enumerate(chosen):
            level = Level.MODERATE if i < moderate else Level.LIGHT
            if Finding.objects.filter(household=household, found_on=found).exists():
                continue
            rows.append(
                Finding(
                    household=household,
                    village=household.village,
                    behaviour=behaviours[level],
                    level_recorded=level,
                    level=level,
                    facts=f"{year}年诚信机制试点入户复核：自主申报与核查结果不一致（历史数据导入）",
                    found_by=caseworker,
                    found_on=found,
                    source_kind=Finding.SourceKind.REVIEW,
                    state=Finding.State.REPAIRED,
                    proposed_by=caseworker,
                    decided_by=approver,
                    effective_on=found,
                    objection_deadline=found + datetime.timedelta(days=15),
                    ended_on=repaired,
                )
            )
    Finding.objects.bulk_create(rows)


def _trust(group: Group, households: list[Household], caseworker: User, approver: User) -> None:
    """Trust records of 2025 and this year for the households with no finding, and the
    rewards of 2025 for the first of them."""
    today = timezone.localdate()
    kinds = list(TrustRecord.Kind.values)
    clean = [h for h in households if not h.credit_findings.exists()][:24]
    for i, household in enumerate(clean):
        for year in (2025, today.year):
            day = datetime.date(year, 1 + i % 10, 10)
            if (
                day > today
                or TrustRecord.objects.filter(household=household, recorded_on=day).exists()
            ):
                continue
            trust.trust_record(
                actor=caseworker,
                household_id=household.pk,
                kind=kinds[i % len(kinds)],
                facts="入户核查时家庭人口、收入、财产与自主申报一致，主动签订诚信承诺书",
                recorded_on=day,
            )
    for i, household in enumerate(clean[:8]):
        kind = (Reward.Kind.HONOUR_ROLL, Reward.Kind.HOLIDAY_VISIT, Reward.Kind.WELFARE_JOB)[i % 3]
        if not Reward.objects.filter(household=household, year=2025, kind=kind).exists():
            trust.reward_grant(
                actor=approver,
                household_id=household.pk,
                year=2025,
                kind=kind,
                note="2025年度诚信家庭",
            )


def load_trust_demo() -> dict[int, dict[str, int]]:
    """Load the control groups and store the county's results of 2024 and 2025."""
    county = Region.objects.filter(code=COUNTY).first()
    if county is None:
        return {}
    for group in GROUPS:
        village = Region.objects.get(code=group.village)
        caseworker = User.objects.get(username=group.caseworker)
        approver = User.objects.get(username=group.approver)
        with transaction.atomic():
            households = _households(group, village, caseworker, approver)
            _history(group, households, caseworker, approver)
            _trust(group, households, caseworker, approver)
    stored = {}
    for year in (2024, 2025):
        # Computed once: a reload leaves the stored results (and the audit log) alone.
        if not YearlyResult.objects.filter(
            year=year, village__code__startswith=county.prefix
        ).exists():
            stored[year] = trust.yearly_results_compute(county=county, year=year)
    return stored
