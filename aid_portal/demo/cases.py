"""Demo cases: a lived-in Xiji county, three townships, nine villages, ~300 households.

Every household, member, declaration and step of every application is made through
the services (and cases.casework.documents for the scans), so the demo holds exactly what
real use would: events, audit rows, deadlines. The same seed gives the same families
every time; dates are placed relative to the day the demo is loaded.

Run after aid_portal.demo.load_demo() (regions and staff). Idempotent: a county that
already holds the demo cases is left alone.
"""

from __future__ import annotations

import datetime
import random
import struct
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

import chinese_calendar
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from aid_portal.demo.base import COUNTY_CODE
from aid_portal.models import Region, User
from aid_portal.workdays import add_working_days
from cases import eligibility
from cases import policy as case_policy
from cases.casework import documents
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import (
    Application,
    ApplicationEvent,
    AssistanceType,
    DailyAbility,
    Household,
    Member,
    Policy,
    ProofItem,
)
from verification.requests import services as verification_services

S = Application.State
SEED = 640422
HOUSEHOLDS = 300
DONE_WHEN = 200  # applications in the county: the demo is already there

POLICY_FROM = datetime.date(2026, 1, 1)
STANDARD = {"dibao_urban": Decimal("820"), "dibao_rural": Decimal("640")}
# Extreme poverty's monthly care allowance by self-care level (yuan per person).
CARE_ALLOWANCE = {
    "care_allowance_self_sufficient": Decimal("0"),
    "care_allowance_partly_dependent": Decimal("200"),
    "care_allowance_fully_dependent": Decimal("600"),
}

# The published catalogue (告知承诺 items). Reference data with no service of its
# own (it is kept in the admin), so it is created here directly.
PROOF_CATALOGUE = [
    ("id_card", "身份证", [], False),
    ("household_register", "户口簿", [], True),
    ("income_proof", "收入证明", [], True),
    ("disability_card", "残疾证", [AssistanceType.EXTREME_POVERTY], True),
    (
        "housing_proof",
        "房产证明",
        [AssistanceType.DIBAO_URBAN, AssistanceType.DIBAO_RURAL, AssistanceType.LOW_INCOME_EDGE],
        True,
    ),
]

# Who does what in each township. 平峰镇 has no staff of its own in the demo: the
# superuser stands in for its caseworker and approver.
TOWNSHIP_STAFF = {
    "640422100": {"caseworker": "caseworker_a", "decider": "approver_a", "second": "approver_a"},
    "640422101": {"caseworker": "caseworker_b", "decider": "approver_b", "second": "approver_b"},
    "640422102": {"caseworker": "admin", "decider": "admin", "second": "auditor"},
}
VILLAGE_ASSISTANTS = {"640422100201": "assistant_a", "640422101201": "assistant_b"}

SURNAMES = "马马马李王张杨田苏何周海马李"


def _names(text: str) -> list[str]:
    return text.split()


MALE = _names("建国 志强 文华 海军 明 永福 德成 小虎 耀祖 忠 国庆 学军 伟 刚 福海 玉林 金山 春生")
FEMALE = _names("秀兰 玉梅 海燕 丽 桂花 秀英 春花 红梅 晓燕 芳 静 雪梅 淑珍 兰英 小花 彩霞 凤琴")
BOY = _names("浩然 宇航 俊杰 子豪 博文 天佑 家乐 明轩 晨阳 一鸣")
GIRL = _names("子涵 梓萱 欣怡 思雨 一诺 佳怡 雨桐 诗涵 梦瑶 可馨")

# Target states and how many households end in each (sums to HOUSEHOLDS).
TARGETS = {
    S.DRAFT: 22,
    S.RETURNED: 14,
    S.SUBMITTED: 10,
    S.ACCEPTED: 18,
    S.UNDER_VERIFICATION: 24,
    S.FEEDBACK: 14,
    S.HOME_VISIT: 20,
    S.DEMOCRATIC_REVIEW: 12,
    S.PUBLIC_NOTICE: 24,
    S.AWAITING_DECISION: 24,
    S.APPROVED: 16,
    S.IN_PAYMENT: 66,
    S.STOPPED: 4,
    S.REJECTED: 18,
    S.WITHDRAWN: 14,
}

# Days between one step and the one before it (min, max).
GAPS = {
    "near_relative": (0, 0),
    "submit": (0, 3),
    "return": (0, 2),
    "accept": (0, 2),
    "extend": (1, 6),
    "verify": (0, 3),
    "consistent": (5, 10),
    "gap": (5, 10),
    "objection_evidence": (2, 9),
    "objection_plain": (2, 9),
    "feedback_close": (0, 2),
    "home_visit": (2, 6),
    "review": (3, 7),
    "notice": (1, 4),
    "notice_objection": (1, 4),
    "reinvestigate": (7, 9),
    "close": (7, 10),
    "county_check": (1, 4),
    "approve": (1, 5),
    "approve_now": (1, 5),
    "reject": (1, 5),
    "withdraw": (1, 10),
    "stop": (30, 90),
}

PREFIX = ["submit", "accept", "verify"]
SIMPLIFIED = ["consistent", "notice", "close"]
GAP_REVIEW = ["gap", "objection_evidence", "home_visit", "review", "notice", "close"]
GAP_PLAIN = ["gap", "objection_plain", "feedback_close", "home_visit", "notice", "close"]
NEAR_RELATIVE = ["consistent", "home_visit", "notice", "close"]

HOME_VISIT_FINDINGS = [
    "房屋为土木结构，家具陈旧，无大件家电，情况与申报一致。",
    "家中仅有电视机一台、三轮车一辆（生产必需），未发现其他财产。",
    "申请人长期患病卧床，配偶在家照料，无稳定收入。",
    "子女在县城上学，家庭主要靠零星务工维持生活。",
    "邻居反映其子在外务工，经核实已分户另居，不属共同生活成员。",
]
GAP_ITEMS = [
    [{"item": "银行存款", "declared": "3000", "verified": "28600"}],
    [{"item": "机动车辆", "declared": "无", "verified": "小型轿车一辆（2019年登记）"}],
    [{"item": "工资性收入", "declared": "800", "verified": "2650"}],
    [{"item": "工商登记", "declared": "无", "verified": "个体工商户（餐饮）一户"}],
]
REJECTIONS = [
    "经核对，家庭成员名下登记小型轿车一辆（非生产经营必需），不符合家庭财产规定。",
    "经核对，家庭存款超过当地规定标准（每人20000元），不符合低保条件。",
    "申请人子女为财政供养人员，具有赡养能力，家庭经济状况不符合条件。",
]
STOPS = [
    "复核发现家庭成员已稳定就业，人均收入超过当地低保标准，停发。",
    "户主已去世，家庭其他成员迁出本县，停发。",
]
WITHDRAWALS = [
    "申请人外出务工，收入已改善，主动撤回申请。",
    "户籍已迁往原州区，改在户籍地申请。",
    "家庭成员已就业，收入超过标准，主动撤回。",
]


def _png() -> bytes:
    """A valid 1×1 grey PNG: a stand-in for every scanned page."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


PNG = _png()


def _is_working_day(day: datetime.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package does not know: weekdays
        return day.weekday() < 5


def _working_day(day: datetime.date, *, step: int, limit: datetime.date) -> datetime.date:
    """The nearest working day from ``day`` in the direction of ``step`` (±1 day), but
    never past ``limit``; backwards if forwards would pass it."""
    moved = day
    while not _is_working_day(moved):
        moved += datetime.timedelta(days=step)
        if moved > limit:
            return _working_day(day, step=-1, limit=limit)
    return moved


def load_case_demo() -> int:
    """Create the demo cases once; returns how many applications were created."""
    county = Region.objects.get(code=COUNTY_CODE)
    in_county = Application.objects.filter(village__code__startswith=county.prefix)
    if in_county.count() >= DONE_WHEN:
        return 0
    with transaction.atomic():
        builder = _Builder(county)
        builder.catalogue()
        builder.households()
        builder.backdate()
    return len(builder.cases)


# --- people ----------------------------------------------------------------------------


@dataclass
class PersonSpec:
    name: str
    identity_number: str
    relation: str
    age: int
    work_ability: str = Member.WorkAbility.FULL
    disability: str = ""
    disability_grade: int | None = None
    health: str = Member.Health.HEALTHY
    health_note: str = ""
    is_student: bool = False
    is_supporter: bool = False
    self_care_failed: list[str] | None = None  # None: not assessed
    earns: bool = False  # may carry the family's counted income
    other_incomes: list[tuple[str, int]] = field(default_factory=list)  # not the counted share


@dataclass
class Plan:
    """One household's application: its kind, the steps it goes through, the dates."""

    village: Region
    kind: str
    target: str
    steps: list[str]
    near_relative: bool = False
    complete: bool = True
    dates: list[datetime.date] = field(default_factory=list)  # one per event
    app: Application | None = None
    members: list[Member] = field(default_factory=list)


class _Builder:
    def __init__(self, county: Region):
        self.rng = random.Random(SEED)
        self.today = timezone.localdate()
        self.county = county
        self.users = {u.username: u for u in User.objects.all()}
        missing = {"caseworker_a", "caseworker_b", "approver_a", "approver_b", "admin"} - set(
            self.users
        )
        if missing:
            raise RuntimeError(
                f"load aid_portal.demo.load_demo() first: no user {', '.join(sorted(missing))}"
            )
        self.villages = list(
            Region.objects.filter(
                level=Region.Level.VILLAGE, code__startswith=county.prefix
            ).order_by("code")
        )
        self.used_numbers: set[str] = set()
        self.cases: list[Plan] = []
        self.proofs: list[ProofItem] = []

    # --- reference data ---

    def catalogue(self) -> None:
        if not Policy.objects.filter(county=self.county, effective_from=POLICY_FROM).exists():
            case_policy.policy_create(
                actor=self.users["feedadmin"],
                county=self.county,
                effective_from=POLICY_FROM,
                dibao_standard_urban=STANDARD["dibao_urban"],
                dibao_standard_rural=STANDARD["dibao_rural"],
                **CARE_ALLOWANCE,
            )
        for code, name, required_for, committable in PROOF_CATALOGUE:
            item, _created = ProofItem.objects.get_or_create(
                code=code,
                defaults={"name": name, "required_for": required_for, "committable": committable},
            )
            self.proofs.append(item)

    # --- the households ---

    def households(self) -> None:
        targets = [state for state, count in TARGETS.items() for _ in range(count)]
        self.rng.shuffle(targets)
        near_relative_left = {
            S.HOME_VISIT: 2,
            S.PUBLIC_NOTICE: 1,
            S.AWAITING_DECISION: 2,
            S.IN_PAYMENT: 2,
            S.REJECTED: 1,
        }
        for number, target in enumerate(targets):
            village = self.villages[number % len(self.villages)]
            near = near_relative_left.get(target, 0) > 0
            if near:
                near_relative_left[target] -= 1
            plan = self.plan(village, target, near_relative=near)
            self.cases.append(plan)
            self.run(plan)
        casework_services.payments_start()

    def plan(self, village: Region, target: str, *, near_relative: bool) -> Plan:
        rng = self.rng
        kind = rng.choices(
            [
                AssistanceType.DIBAO_RURAL,
                AssistanceType.DIBAO_URBAN,
                AssistanceType.EXTREME_POVERTY,
                AssistanceType.TEMPORARY_EMERGENCY,
                AssistanceType.TEMPORARY_EXPENDITURE,
                AssistanceType.LOW_INCOME_EDGE,
            ],
            weights=[70, 6 if village.code.startswith("640422100") else 0, 10, 4, 4, 6],
        )[0]
        if near_relative:
            kind = AssistanceType.DIBAO_RURAL
        decided = {S.APPROVED, S.IN_PAYMENT, S.REJECTED, S.STOPPED}
        middle = (
            NEAR_RELATIVE
            if near_relative
            else rng.choices([SIMPLIFIED, GAP_REVIEW, GAP_PLAIN], weights=[60, 22, 18])[0]
        )
        full = [*PREFIX, *middle]
        if target in decided:
            if near_relative:
                full = [*full, "county_check"]
            last = {
                S.APPROVED: ["approve"],
                S.IN_PAYMENT: ["approve_now"],
                S.REJECTED: ["reject"],
                S.STOPPED: ["approve", "stop"],
            }
            steps = [*full, *last[target]]
        elif target == S.AWAITING_DECISION:
            # Some near-relative cases still wait for the county's key check.
            checked = near_relative and rng.random() < 0.5
            steps = [*full, "county_check"] if checked else full
        elif target == S.WITHDRAWN:
            steps = [*full[: rng.randint(0, 4)], "withdraw"]
        else:
            steps = self.open_steps(target, middle, near_relative)
        steps = list(steps)  # never the module's lists themselves
        if "accept" in steps and rng.random() < 0.08:
            steps.insert(steps.index("accept") + 1, "extend")
        if near_relative:
            steps.insert(0, "near_relative")
        return Plan(
            village=village,
            kind=kind,
            target=target,
            steps=steps,
            near_relative=near_relative,
            complete=target != S.RETURNED and not (target == S.DRAFT and rng.random() < 0.5),
        )

    def open_steps(self, target: str, middle: list[str], near_relative: bool) -> list[str]:
        rng = self.rng
        if target == S.DRAFT:
            return []
        if target == S.RETURNED:
            return ["submit", "return"]
        if target == S.SUBMITTED:
            return ["submit"]
        if target == S.ACCEPTED:
            return ["submit", "accept"]
        if target == S.UNDER_VERIFICATION:
            return PREFIX
        if target == S.FEEDBACK:
            return [*PREFIX, "gap"]
        if target == S.HOME_VISIT:
            if near_relative:
                return [*PREFIX, "consistent"]
            return [
                *PREFIX,
                *rng.choice(
                    [
                        ["gap", "objection_evidence"],
                        ["gap", "objection_plain", "feedback_close"],
                        ["consistent", "notice", "notice_objection", "reinvestigate"],
                    ]
                ),
            ]
        if target == S.DEMOCRATIC_REVIEW:
            return [*PREFIX, "gap", "objection_evidence", "home_visit"]
        if target == S.PUBLIC_NOTICE:
            path = middle[: middle.index("notice") + 1]
            if rng.random() < 0.2:
                path = [*path, "notice_objection"]
            return [*PREFIX, *path]
        raise ValueError(target)

    # --- one household through the services ---

    def run(self, plan: Plan) -> None:
        rng = self.rng
        staff = TOWNSHIP_STAFF[plan.village.township_prefix]
        caseworker = self.users[staff["caseworker"]]
        intake = self.intake_for(plan)
        dates = self.schedule(plan)
        created = dates[0]
        household = intake_services.household_create(
            actor=intake,
            village=plan.village,
            address=f"{plan.village.name}{rng.randint(1, 9)}组{rng.randint(1, 80)}号",
            phone=f"1{rng.choice('35789')}{rng.randint(0, 999_999_999):09d}",
        )
        people = self.family(plan.kind)
        for spec in people:
            member = intake_services.member_add(
                actor=intake,
                household=household,
                identity_number=spec.identity_number,
                name=spec.name,
                relation=spec.relation,
                is_supporter=spec.is_supporter,
                work_ability=spec.work_ability,
                disability=spec.disability,
                disability_grade=spec.disability_grade,
                health=spec.health,
                health_note=spec.health_note,
                is_student=spec.is_student,
                self_care_failed=spec.self_care_failed,
            )
            plan.members.append(member)
        self.declare(plan, household, people)
        app = intake_services.application_create(
            actor=intake, household=household, assistance_type=plan.kind
        )
        plan.app = app
        plan.dates = [created]
        self.upload(intake, household, app, "id_card")
        self.commit(plan, intake, household, created)
        for step, day in zip(plan.steps, dates[1:], strict=True):
            self.step(plan, step, day, intake=intake, caseworker=caseworker, staff=staff)
            plan.dates.append(day)

    def schedule(self, plan: Plan) -> list[datetime.date]:
        """The date of the creation and of each step, counted back from the last one."""
        rng = self.rng
        gaps = [rng.randint(*GAPS[step]) for step in plan.steps]
        if plan.target == S.IN_PAYMENT:
            # Decided in an earlier month, but under the demo policy (from 2026-01-01).
            since_policy = (self.today - POLICY_FROM).days - sum(gaps)
            lag = rng.randint(self.today.day, max(self.today.day, min(300, since_policy)))
        elif plan.target in {S.REJECTED, S.WITHDRAWN}:
            lag = rng.randint(1, 150)
        elif plan.target == S.STOPPED:
            lag = rng.randint(1, 40)
        elif plan.target == S.APPROVED:
            lag = rng.randint(0, self.today.day - 1)  # decided this month
        elif plan.target in {S.PUBLIC_NOTICE, S.FEEDBACK}:
            lag = rng.randint(0, 2)
        elif rng.random() < 0.15:
            lag = rng.randint(8, 25)  # a stalled case, close to or past its deadline
        else:
            lag = rng.randint(0, 3)
        day = self.today - datetime.timedelta(days=lag)
        dates = [day]
        for gap in reversed(gaps):
            day -= datetime.timedelta(days=gap)
            dates.append(day)
        dates.reverse()
        # Offices work on working days. Closing a notice and deciding keep their dates:
        # moving them back could end a notice early or move a decision to another month.
        placed = self.place(plan.steps, dates, forward_too=True)
        if not self.notices_last(plan.steps, placed):
            placed = self.place(plan.steps, dates, forward_too=False)
        return placed

    def place(self, steps: list[str], dates: list[datetime.date], *, forward_too: bool):
        """Each date on a working day nearby, in order. Closing a notice and deciding
        keep their dates: moving them could end a notice early or change the month."""
        placed = [_working_day(dates[0], step=-1, limit=self.today)]
        for step, day in zip(steps, dates[1:], strict=True):
            if step not in {"close", "reinvestigate", "approve", "approve_now"}:
                direction = self.rng.choice([-1, 1]) if forward_too else -1
                day = _working_day(day, step=direction, limit=self.today)
            placed.append(max(day, placed[-1]))
        return placed

    @staticmethod
    def notices_last(steps: list[str], placed: list[datetime.date]) -> bool:
        """Every notice is closed at least seven days after it was posted."""
        posted = None
        for step, day in zip(steps, placed[1:], strict=True):
            if step == "notice":
                posted = day
            elif step in {"close", "reinvestigate"} and day < posted + datetime.timedelta(7):
                return False
        return True

    def family(self, kind: str) -> list[PersonSpec]:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        people: list[PersonSpec] = []

        def person(relation: str, age: int, sex: str, *, family_name: str | None = None, **kw):
            given = {
                "M": BOY if age < 18 else MALE,
                "F": GIRL if age < 18 else FEMALE,
            }[sex]
            name = (family_name or rng.choice(SURNAMES)) + rng.choice(given)
            spec = PersonSpec(
                name=name,
                identity_number=self.identity_number(age, sex),
                relation=relation,
                age=age,
                **kw,
            )
            people.append(spec)
            return spec

        if kind == AssistanceType.EXTREME_POVERTY:
            age = rng.randint(62, 88)
            grade = rng.choice([None, None, 1, 2])
            person(
                Member.Relation.SELF,
                age,
                rng.choice("MF"),
                family_name=surname,
                work_ability=Member.WorkAbility.NONE,
                disability=rng.choice(["physical", "visual"]) if grade else "",
                disability_grade=grade,
                health=rng.choice([Member.Health.CHRONIC, Member.Health.HEALTHY]),
                other_incomes=[("basic_pension", 153)],
                # Assessed, as approval requires: the older, the more abilities lost
                # (62-88: none to five), from the age so the random draws stay as they were.
                self_care_failed=DailyAbility.values[: (age - 60) // 5],
            )
            return people
        shape = rng.choices(
            ["young_family", "elderly_couple", "single_disabled", "widow", "three_generations"],
            weights=[40, 15, 10, 15, 20],
        )[0]
        if shape == "elderly_couple":
            age = rng.randint(62, 80)
            person(
                "self",
                age,
                "M",
                family_name=surname,
                work_ability="partial",
                other_incomes=[("basic_pension", 153)],
            )
            person(
                "spouse",
                age - rng.randint(0, 5),
                "F",
                work_ability="none",
                health=rng.choice(["chronic", "serious"]),
                health_note="高血压、冠心病",
                other_incomes=[("basic_pension", 153)],
            )
            self.supporter(person, surname, age)
            return people
        if shape == "single_disabled":
            grade = rng.choice([1, 2, 2, 3])
            person(
                "self",
                rng.randint(25, 55),
                rng.choice("MF"),
                family_name=surname,
                work_ability="none",
                disability=rng.choice(["intellectual", "mental", "physical"]),
                disability_grade=grade,
                other_incomes=[("social_assistance", 90)],
            )
            return people
        parent_age = rng.randint(30, 52)
        if shape == "widow":
            person("self", parent_age, "F", family_name=rng.choice(SURNAMES), earns=True)
        else:
            head = person("self", parent_age, "M", family_name=surname, earns=True)
            if rng.random() < 0.15:
                head.health, head.health_note = "serious", "尿毒症，每周透析两次"
                head.work_ability, head.earns = "none", False
            person(
                "spouse",
                parent_age - rng.randint(0, 4),
                "F",
                earns=rng.random() < 0.4,
                work_ability=rng.choice(["full", "full", "partial"]),
            )
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            child_age = rng.randint(max(1, parent_age - 40), min(22, parent_age - 18))
            student = 6 <= child_age <= 22
            person(
                "child",
                child_age,
                rng.choice("MF"),
                family_name=surname,
                work_ability="none",
                is_student=student,
                other_incomes=[("scholarship", rng.choice([0, 0, 125, 200]))]
                if student and child_age >= 15
                else [],
            )
        if shape == "three_generations":
            grade = rng.choice([None, None, 2, 3])
            person(
                "parent",
                parent_age + rng.randint(22, 32),
                rng.choice("MF"),
                family_name=surname,
                work_ability="none",
                disability="physical" if grade else "",
                disability_grade=grade,
                other_incomes=[("basic_pension", 153)],
            )
        return people

    def supporter(self, person, surname: str, parent_age: int) -> None:
        if self.rng.random() < 0.6:
            person(
                "child",
                parent_age - self.rng.randint(22, 30),
                "M",
                family_name=surname,
                is_supporter=True,
                earns=False,
                other_incomes=[("wages", self.rng.randint(2200, 4500))],
            )

    def identity_number(self, age: int, sex: str) -> str:
        rng = self.rng
        while True:
            birth = self.today - datetime.timedelta(days=age * 365 + rng.randint(10, 350))
            area = "642222" if birth.year < 2001 else "640422"
            sequence = rng.randrange(1 if sex == "M" else 2, 999, 2)
            first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
            number = first17 + ric.calc_check_digit(first17 + "0")
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def declare(self, plan: Plan, household: Household, people: list[PersonSpec]) -> None:
        """Incomes, assets and rigid expenditures to fit the outcome the plan leads to."""
        rng = self.rng
        actor = self.intake_for(plan)
        standard = STANDARD.get(plan.kind, STANDARD["dibao_rural"])
        count = sum(1 for p in people if not p.is_supporter)
        rigid = Decimal("0")
        for spec, member in zip(people, plan.members, strict=True):
            if spec.health == "serious":
                amount = rng.randint(300, 900)
                intake_services.expenditure_add(
                    actor=actor,
                    household=household,
                    kind="medical",
                    monthly_amount=amount,
                    member=member,
                    description="门诊、住院自付部分",
                )
                rigid += amount
            if spec.disability_grade and spec.disability_grade <= 2:
                amount = rng.randint(150, 400)
                intake_services.expenditure_add(
                    actor=actor,
                    household=household,
                    kind="disability_care",
                    monthly_amount=amount,
                    member=member,
                    description="护理费用",
                )
                rigid += amount
            if spec.is_student and spec.age >= 15 and rng.random() < 0.5:
                amount = rng.randint(100, 350)
                intake_services.expenditure_add(
                    actor=actor,
                    household=household,
                    kind="education",
                    monthly_amount=amount,
                    member=member,
                    description="高中/大学学杂费",
                )
                rigid += amount
            for source, amount in spec.other_incomes:
                if amount:
                    intake_services.income_add(
                        actor=actor, member=member, source=source, monthly_average=amount
                    )
        if plan.kind == AssistanceType.EXTREME_POVERTY:
            ratio = 0
        elif plan.kind == AssistanceType.LOW_INCOME_EDGE:
            ratio = rng.uniform(1.05, 1.4)
        elif plan.target == S.REJECTED and rng.random() < 0.5:
            ratio = rng.uniform(1.15, 1.8)
        else:
            ratio = rng.uniform(0.0, 0.8)
        counted = int(float(standard) * ratio * count) + int(rigid if ratio else 0)
        earners = [(s, m) for s, m in zip(people, plan.members, strict=True) if s.earns]
        if counted > 0 and earners:
            self.income(actor, earners, counted)
        elif counted > 0:
            intake_services.income_add(
                actor=actor,
                member=plan.members[0],
                source="transfer",
                monthly_average=counted,
                note="亲属接济",
            )
        if rng.random() < 0.85:
            intake_services.asset_add(
                actor=actor,
                household=household,
                kind="real_estate",
                description="自建房（土木/砖木结构）",
                value=rng.randint(3, 12) * 10_000,
                exempt=True,
            )
        if rng.random() < 0.5:
            intake_services.asset_add(
                actor=actor,
                household=household,
                kind="deposit",
                description="农村信用社活期存款",
                value=rng.randint(2, 60) * 100,
            )
        if rng.random() < 0.25:
            intake_services.asset_add(
                actor=actor,
                household=household,
                kind="vehicle",
                description="农用三轮车",
                value=rng.randint(2, 6) * 1000,
                exempt=True,
            )

    def income(self, actor: User, earners: list, total: int) -> None:
        rng = self.rng
        shares = [rng.random() + 0.2 for _ in earners]
        for (spec, member), share in zip(earners, shares, strict=True):
            amount = int(total * share / sum(shares))
            if amount <= 0:
                continue
            source = "pension" if spec.age >= 60 else rng.choice(["wages", "wages", "business"])
            if source == "wages" and rng.random() < 0.4:
                # Seasonal work: the same yearly total over a few months, the rest nothing.
                months = rng.randint(4, 8)
                on = amount * 12 // months
                figures = [on if i < months else 0 for i in range(12)]
                rng.shuffle(figures)
                intake_services.income_add(
                    actor=actor,
                    member=member,
                    source="wages",
                    monthly_amounts=figures,
                    note="季节性务工",
                )
            elif source == "business":
                intake_services.income_add(
                    actor=actor,
                    member=member,
                    source="business",
                    monthly_average=amount + 150,
                    job_costs=150,
                    note="经营小卖部/养殖",
                )
            else:
                intake_services.income_add(
                    actor=actor, member=member, source=source, monthly_average=amount
                )

    def intake_for(self, plan: Plan) -> User:
        staff = TOWNSHIP_STAFF[plan.village.township_prefix]
        return self.users.get(
            VILLAGE_ASSISTANTS.get(plan.village.code, ""), self.users[staff["caseworker"]]
        )

    def commit(self, plan: Plan, actor: User, household: Household, day: datetime.date) -> None:
        """Authorisations, commitment and proofs; an incomplete file leaves some out."""
        rng = self.rng
        app = plan.app
        skip_member = rng.randrange(len(plan.members)) if not plan.complete else None
        for index, member in enumerate(plan.members):
            if index == skip_member:
                continue
            scan = None
            if index == 0:
                scan = self.upload(actor, household, app, "authorisation")
            intake_services.authorisation_record(
                actor=actor, member=member, signed_on=day, scan=scan
            )
        if plan.complete or rng.random() < 0.5:
            intake_services.declaration_commit(
                actor=actor, application=app, signed_on=day, informed_on=day
            )
        for item in self.proofs:
            if not item.applies_to(plan.kind):
                continue
            if not plan.complete and item.committable and rng.random() < 0.5:
                continue
            status = "committed" if item.committable and rng.random() < 0.35 else "provided"
            intake_services.proof_record(actor=actor, application=app, item=item, status=status)

    def upload(self, actor: User, household: Household, app: Application | None, kind: str):
        return documents.document_upload(
            actor=actor,
            household=household,
            application=app,
            kind=kind,
            upload=SimpleUploadedFile(f"{kind}.png", PNG, content_type="image/png"),
        )

    def step(self, plan: Plan, step: str, day: datetime.date, *, intake, caseworker, staff):
        rng = self.rng
        app_id = plan.app.pk
        household = plan.app.household
        decider = self.users[staff["decider"]]
        if step == "near_relative":
            member = plan.members[0]
            intake_services.near_relative_file(
                actor=intake,
                application=plan.app,
                member=member,
                official_name=rng.choice(SURNAMES) + rng.choice(MALE),
                position=rng.choice(["village_committee", "public_employee", "caseworker"]),
                kinship=rng.choice(["兄弟", "堂兄弟", "女婿", "舅舅"]),
            )
        elif step == "submit":
            intake_services.application_submit(actor=intake, application_id=app_id)
        elif step in {"accept", "return"}:
            also = ["申请人一卡通账户信息"] if step == "return" and rng.random() < 0.5 else []
            casework_services.application_accept(
                actor=caseworker, application_id=app_id, also_missing=also
            )
        elif step == "extend":
            casework_services.application_extend(
                actor=caseworker, application_id=app_id, reason="申请人长期在外务工，需异地调查"
            )
        elif step == "verify":
            verification_services.verification_request(actor=caseworker, application_id=app_id)
        elif step == "consistent":
            casework_services.verification_outcome_record(
                actor=self.users["verifier"],
                application_id=app_id,
                outcome="consistent",
                source="verification",
            )
        elif step == "gap":
            casework_services.verification_outcome_record(
                actor=self.users["verifier"],
                application_id=app_id,
                outcome="gap",
                source="verification",
                gap_items=rng.choice(GAP_ITEMS),
            )
        elif step in {"objection_evidence", "objection_plain"}:
            evidence = step == "objection_evidence"
            casework_services.feedback_objection_record(
                actor=intake,
                application_id=app_id,
                text="存款系亲属借款，附借条及转账记录"
                if evidence
                else "对核对结果有疑问，暂无材料",
                has_evidence=evidence,
            )
        elif step == "feedback_close":
            casework_services.feedback_close(actor=caseworker, application_id=app_id)
        elif step == "home_visit":
            second = self.users.get(VILLAGE_ASSISTANTS.get(plan.village.code, ""))
            second = second or self.users[staff["second"]]
            if second == caseworker:
                second = self.users["auditor"]
            casework_services.home_visit_record(
                actor=intake,
                application_id=app_id,
                visited_on=day,
                investigators=[caseworker, second],
                family_member_present=plan.members[0].person.name,
                findings=rng.choice(HOME_VISIT_FINDINGS),
                investigators_signature=self.upload(intake, household, plan.app, "home_visit"),
                family_signature=self.upload(intake, household, plan.app, "home_visit"),
            )
        elif step == "review":
            casework_services.democratic_review_record(
                actor=intake,
                application_id=app_id,
                held_on=day,
                participants=rng.randint(7, 15),
                opinion=rng.choice(["与会代表一致同意纳入", "多数代表同意纳入，建议加强动态管理"]),
                minutes=self.upload(intake, household, plan.app, "review_minutes"),
            )
        elif step == "notice":
            casework_services.notice_post(
                actor=intake,
                application_id=app_id,
                starts_on=day,
                place=f"{plan.village.name}村务公开栏",
            )
            if rng.random() < 0.5:
                self.upload(intake, household, plan.app, "notice_photo")
        elif step == "notice_objection":
            notice = plan.app.notices.get(closed_at__isnull=True)
            objection = casework_services.notice_objection_record(
                actor=intake,
                notice=notice,
                objector="村民（匿名）",
                content="反映其子在银川务工，收入较高",
                raised_on=day,
            )
            if "reinvestigate" in plan.steps:
                casework_services.notice_objection_handle(
                    actor=caseworker, objection=objection, handling="需重新入户调查核实"
                )
        elif step == "reinvestigate":
            casework_services.notice_close(
                actor=caseworker, application_id=app_id, reinvestigate=True
            )
        elif step == "close":
            casework_services.notice_close(actor=caseworker, application_id=app_id)
        elif step == "county_check":
            casework_services.county_check_record(
                actor=self.users["auditor"],
                application_id=app_id,
                done_on=day,
                findings="县级入户核查：家庭情况属实，亲属关系已备案",
            )
        elif step in {"approve", "approve_now"}:
            start = self.today.replace(day=1) if step == "approve_now" else None
            casework_services.application_approve(
                actor=decider, application_id=app_id, start_month=start
            )
        elif step == "reject":
            basis = eligibility.amount_compute(application=plan.app)
            reasons = (
                f"经核对，家庭人均月收入{basis.per_capita_income}元，不低于本县标准"
                f"{basis.threshold}元，不符合条件。"
                if not basis.eligible
                else rng.choice(REJECTIONS)
            )
            casework_services.application_reject(
                actor=decider, application_id=app_id, reasons=reasons
            )
        elif step == "stop":
            casework_services.application_stop(
                actor=decider, application_id=app_id, reason=rng.choice(STOPS), today=day
            )
        elif step == "withdraw":
            casework_services.application_withdraw(
                actor=intake, application_id=app_id, reason=rng.choice(WITHDRAWALS)
            )
        else:
            raise ValueError(step)

    # --- dates ---

    def backdate(self) -> None:
        """Demo realism only: the services stamp everything with today, so the steps are
        moved back to the dates the plan gave them (the timeline, acceptance and the
        deadlines counted from it, the decision). Real cases never do this; the audit
        log, being append-only, keeps the true time of loading."""
        apps, events = [], []
        for plan in self.cases:
            app = Application.objects.get(pk=plan.app.pk)
            rows = list(app.events.order_by("id"))
            payment = [e for e in rows if e.action == "payment_start"]
            rows = [e for e in rows if e.action != "payment_start"]
            if len(rows) != len(plan.dates):
                raise RuntimeError(f"demo timeline of {app.pk}: {len(rows)} events")
            minute = self.rng.randint(0, 59)
            now = timezone.now()
            for index, (event, day) in enumerate(zip(rows, plan.dates, strict=True)):
                event.at = min(self.moment(day, 9 + min(index, 7), minute), now)
                events.append(event)
                if event.action == "create":
                    app.created_at = event.at
                elif event.action == "submit":
                    app.submitted_at = event.at
                elif event.action == "accept":
                    app.accepted_on = day
                elif event.action in {"approve", "reject"}:
                    app.decided_at = event.at
            if app.accepted_on:
                total = 45 if app.extended else 20
                app.investigation_due_on = add_working_days(app.accepted_on, 3)
                app.due_on = add_working_days(app.accepted_on, total)
            if payment:
                decided = timezone.localtime(app.decided_at).date()
                start = (decided.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
                app.start_month = min(start, self.today.replace(day=1))
                payment[0].at = self.moment(app.start_month, 8, 0)
                events.append(payment[0])
            apps.append(app)
        Application.objects.bulk_update(
            apps,
            [
                "created_at",
                "submitted_at",
                "accepted_on",
                "investigation_due_on",
                "due_on",
                "decided_at",
                "start_month",
            ],
            batch_size=200,
        )
        ApplicationEvent.objects.bulk_update(events, ["at"], batch_size=500)

    @staticmethod
    def moment(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
