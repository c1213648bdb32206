"""Per-capita income, the eligibility line and the monthly amount, the income rule of
"basically consistent" and the conditions of extreme poverty: computed once, here.

At app level because casework decides on them, reviews re-compute them, verification
compares its findings with them and payments pays them.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import (
    Application,
    AssistanceType,
    Member,
    Policy,
    SelfCareLevel,
)
from cases.policy import policy_for_case
from cases.transitions import _require

# --- the decision ----------------------------------------------------------------------


@dataclass(frozen=True)
class CareShare:
    """One member's care allowance in an extreme-poverty amount: the level the
    assessment gives and the policy's monthly figure for it."""

    name: str
    level: str
    failed: int | None
    allowance: Decimal

    @property
    def level_label(self) -> str:
        return str(SelfCareLevel(self.level).label)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "level": self.level,
            "failed": self.failed,
            "allowance": str(self.allowance),
        }


@dataclass(frozen=True)
class AmountBasis:
    """The arithmetic behind a monthly amount, shown on the page as it was computed."""

    assistance_type: str
    members: int
    monthly_income: Decimal
    monthly_rigid_expenditure: Decimal
    per_capita_income: Decimal
    standard: Decimal
    threshold: Decimal
    eligible: bool
    monthly_amount: Decimal
    rule: str
    policy_from: datetime.date
    # Extreme poverty: each member's care allowance, and their sum (in monthly_amount).
    care: tuple[CareShare, ...] = ()
    care_amount: Decimal = Decimal("0.00")

    def as_dict(self) -> dict:
        data = {
            k: (str(v) if isinstance(v, (Decimal, datetime.date)) else v)
            for k, v in self.__dict__.items()
        }
        data["care"] = [share.as_dict() for share in self.care]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AmountBasis:
        """The basis as the decision stored it (Application.amount_basis), so a printed
        notice shows the arithmetic of the day it was decided, not of today's policy."""
        values = {}
        for item in dataclasses.fields(cls):
            if item.name not in data:
                continue  # decided before the field existed: its default
            value = data[item.name]
            if item.name == "care":
                value = tuple(
                    CareShare(**(share | {"allowance": Decimal(share["allowance"])}))
                    for share in value
                )
            elif item.type == "Decimal":
                value = Decimal(value)
            elif item.type == "datetime.date":
                value = datetime.date.fromisoformat(value)
            values[item.name] = value
        return cls(**values)


def _yuan(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Eligibility:
    """A household's per-capita income against the line it must stay below."""

    per_capita_income: Decimal
    standard: Decimal
    threshold: Decimal
    eligible: bool


def eligibility_compute(
    *,
    policy: Policy,
    assistance_type: str,
    members: int,
    monthly_income: Decimal,
    monthly_rigid_expenditure: Decimal,
) -> Eligibility:
    """Per-capita counted income net of rigid expenditure, in yuan, and the eligibility
    line: the dibao standard, or standard × the edge multiple for a low-income edge
    household (domain.md §8). The amount and the verification report both judge by it.
    """
    per_capita = _yuan(max(monthly_income - monthly_rigid_expenditure, Decimal("0")) / members)
    standard = policy.dibao_standard(assistance_type)
    threshold = standard
    if assistance_type == AssistanceType.LOW_INCOME_EDGE:
        threshold = _yuan(standard * policy.edge_multiple)
    return Eligibility(
        per_capita_income=per_capita,
        standard=standard,
        threshold=threshold,
        eligible=per_capita < threshold,
    )


def care_allowance(policy: Policy, level: str) -> Decimal:
    """The policy's monthly care allowance for a self-care level (none unassessed)."""
    return {
        SelfCareLevel.SELF_SUFFICIENT: policy.care_allowance_self_sufficient,
        SelfCareLevel.PARTLY_DEPENDENT: policy.care_allowance_partly_dependent,
        SelfCareLevel.FULLY_DEPENDENT: policy.care_allowance_fully_dependent,
    }.get(level, Decimal("0"))


def amount_compute(*, application: Application, on: datetime.date | None = None) -> AmountBasis:
    """The monthly amount by the policy in force (domain.md §8).

    Dibao: (standard − per-capita counted income net of rigid expenditure) × members.
    Low-income edge: recognition only, eligible below standard × edge multiple.
    Extreme poverty: the basic living allowance, standard × its multiple × members, plus
    each member's care allowance by self-care level (an unassessed member counts none
    here; the approval refuses them). Temporary: a one-off of the
    standard × the policy's months × members.
    """
    on = on or timezone.localdate()
    policy = policy_for_case(application, on=on)
    members = [m for m in application.household.members.all() if not m.is_supporter]
    count = len(members)
    _require(count > 0, _("The household has no members."))
    income = sum((i.monthly for m in members for i in m.incomes.all() if i.counted), Decimal("0"))
    rigid = sum((e.monthly_amount for e in application.household.expenditures.all()), Decimal("0"))
    kind = application.assistance_type
    line = eligibility_compute(
        policy=policy,
        assistance_type=kind,
        members=count,
        monthly_income=income,
        monthly_rigid_expenditure=rigid,
    )
    per_capita, standard = line.per_capita_income, line.standard
    care, care_amount = (), Decimal("0.00")
    if kind in AssistanceType.dibao():
        amount = _yuan(max(standard - per_capita, Decimal("0")) * count)
        rule = "(standard - per_capita) * members"
    elif kind == AssistanceType.LOW_INCOME_EDGE:
        amount = Decimal("0.00")
        rule = "recognition: per_capita < standard * edge_multiple"
    elif kind == AssistanceType.EXTREME_POVERTY:
        care = tuple(
            CareShare(
                name=m.person.name,
                level=m.self_care_level,
                failed=None if m.self_care_failed is None else len(m.self_care_failed),
                allowance=_yuan(care_allowance(policy, m.self_care_level)),
            )
            for m in members
        )
        care_amount = sum((share.allowance for share in care), Decimal("0.00"))
        amount = _yuan(standard * policy.extreme_poverty_multiple * count) + care_amount
        rule = "standard * extreme_poverty_multiple * members + care allowances"
    else:
        amount = _yuan(standard * policy.temporary_months * count)
        rule = "one-off: standard * temporary_months * members"
    return AmountBasis(
        assistance_type=kind,
        members=count,
        monthly_income=_yuan(income),
        monthly_rigid_expenditure=_yuan(rigid),
        per_capita_income=per_capita,
        standard=standard,
        threshold=line.threshold,
        eligible=line.eligible,
        monthly_amount=amount,
        rule=rule,
        policy_from=policy.effective_from,
        care=care,
        care_amount=_yuan(care_amount),
    )


# --- "basically consistent": the income rule of the verification report ---------------------


def income_beyond_tolerance(*, policy: Policy, declared: Decimal, verified: Decimal) -> bool:
    """The departments' figure lies beyond the policy's tolerance (a share of the verified
    value) from the declared one, in the direction the policy counts: by default only
    more found than declared (domain.md §8), or either way where the county says so."""
    excess = verified - declared
    if policy.income_gap_direction == Policy.IncomeGapDirection.EITHER:
        excess = abs(excess)
    return excess > policy.income_tolerance * verified


@dataclass(frozen=True)
class IncomeComparison:
    """Declared against verified household income, judged once for the report."""

    declared: Eligibility
    verified: Eligibility
    beyond_tolerance: bool
    same_side: bool
    declared_more: bool
    clear_gap: bool


def income_compare(
    *,
    policy: Policy,
    assistance_type: str,
    members: int,
    declared_income: Decimal,
    verified_income: Decimal,
    monthly_rigid_expenditure: Decimal,
) -> IncomeComparison:
    """A clear gap in income is one that could change the decision or the amount: the
    departments found more than declared beyond the tolerance (in the policy's
    direction), or the verified figures fall on the other side of the eligibility line.
    A family that declared more than the departments see is otherwise consistent; the
    amount is computed from the income as investigated (domain.md §8)."""
    declared, verified = (
        eligibility_compute(
            policy=policy,
            assistance_type=assistance_type,
            members=members,
            monthly_income=total,
            monthly_rigid_expenditure=monthly_rigid_expenditure,
        )
        for total in (declared_income, verified_income)
    )
    beyond = income_beyond_tolerance(
        policy=policy, declared=declared_income, verified=verified_income
    )
    same_side = declared.eligible == verified.eligible
    return IncomeComparison(
        declared=declared,
        verified=verified,
        beyond_tolerance=beyond,
        same_side=same_side,
        declared_more=declared_income > verified_income,
        clear_gap=beyond or not same_side,
    )


# --- extreme poverty: the three conditions -------------------------------------------------

# Disabilities that make a person unable to work (特困人员认定办法 art. 7): the worst
# grade of each kind that counts (grade 1 is the most severe).
LISTED_DISABILITIES = {
    Member.Disability.INTELLECTUAL: 3,
    Member.Disability.MENTAL: 3,
    Member.Disability.PHYSICAL: 2,
    Member.Disability.VISUAL: 1,
}


class Condition:
    UNABLE_TO_WORK = "unable_to_work"
    NO_INCOME = "no_income"
    NO_ABLE_SUPPORTER = "no_able_supporter"

    ALL = (UNABLE_TO_WORK, NO_INCOME, NO_ABLE_SUPPORTER)


CONDITION_LABELS = {
    Condition.UNABLE_TO_WORK: gettext_lazy(
        "unable to work (aged 60 or more or under 16, or a listed disability)"
    ),
    Condition.NO_INCOME: gettext_lazy("no income source (own income below the standard)"),
    Condition.NO_ABLE_SUPPORTER: gettext_lazy("no supporter able to support them"),
}


@dataclass(frozen=True)
class ConditionCheck:
    """One condition: met or not, and who fails it (names, for the page and the API)."""

    code: str
    met: bool
    failing: tuple[str, ...]
    excepted: bool = False

    @property
    def label(self) -> str:
        return str(CONDITION_LABELS[self.code])

    @property
    def passes(self) -> bool:
        return self.met or self.excepted


def _age(birth: datetime.date, on: datetime.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _unable_to_work(member: Member, policy: Policy, on: datetime.date) -> bool:
    age = _age(member.person.birth_date, on)
    if age >= policy.extreme_poverty_age_from or age < policy.extreme_poverty_age_under:
        return True
    worst = LISTED_DISABILITIES.get(member.disability)
    return (
        worst is not None
        and member.disability_grade is not None
        and (member.disability_grade <= worst)
    )


def _own_income(member: Member) -> Decimal:
    return sum((i.monthly for i in member.incomes.all() if i.counted), Decimal("0"))


def extreme_poverty_conditions(
    *, application: Application, on: datetime.date | None = None
) -> list[ConditionCheck]:
    """The three conditions of extreme-poverty support (domain.md §8), for every member:
    unable to work (by the policy's ages, or a listed disability), no income source (own
    counted income below the standard), no supporter able to support them (a legally
    bound supporter is unable only when unable to work and with own income below the
    standard). A condition the county has excepted (ExtremePovertyException) passes.

    Reads the prefetched members and incomes; the approval, the case page and the API
    all judge by it.
    """
    on = on or timezone.localdate()
    policy = policy_for_case(application, on=on)
    standard = policy.dibao_standard(application.assistance_type)
    everyone = list(application.household.members.all())
    members = [m for m in everyone if not m.is_supporter]
    supporters = [m for m in everyone if m.is_supporter]
    failing = {
        Condition.UNABLE_TO_WORK: [m for m in members if not _unable_to_work(m, policy, on)],
        Condition.NO_INCOME: [m for m in members if _own_income(m) >= standard],
        Condition.NO_ABLE_SUPPORTER: [
            s
            for s in supporters
            if not (_unable_to_work(s, policy, on) and _own_income(s) < standard)
        ],
    }
    excepted = {
        code
        for exception in application.extreme_poverty_exceptions.all()
        for code in exception.conditions
    }
    return [
        ConditionCheck(
            code=code,
            met=not failing[code],
            failing=tuple(m.person.name for m in failing[code]),
            excepted=bool(failing[code]) and code in excepted,
        )
        for code in Condition.ALL
    ]


def extreme_poverty_unmet(
    *, application: Application, on: datetime.date | None = None
) -> list[ConditionCheck]:
    """The conditions the case fails and the county has not excepted; empty for any other
    kind of assistance."""
    if application.assistance_type != AssistanceType.EXTREME_POVERTY:
        return []
    return [
        check
        for check in extreme_poverty_conditions(application=application, on=on)
        if not check.passes
    ]


def self_care_unassessed(*, application: Application) -> list[str]:
    """The members (supporters aside) of an extreme-poverty case whose self-care has not
    been assessed: their care allowance cannot be set, so the case cannot be approved.
    Empty for any other kind of assistance."""
    if application.assistance_type != AssistanceType.EXTREME_POVERTY:
        return []
    return [
        m.person.name
        for m in application.household.members.all()
        if not m.is_supporter and m.self_care_failed is None
    ]
