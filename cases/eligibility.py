"""Per-capita income, the eligibility line and the monthly amount: computed once,
here.

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

from cases.models import (
    Application,
    AssistanceType,
    Policy,
)
from cases.policy import policy_in_force
from cases.transitions import _require

# --- the decision ----------------------------------------------------------------------


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

    def as_dict(self) -> dict:
        return {
            k: (str(v) if isinstance(v, (Decimal, datetime.date)) else v)
            for k, v in self.__dict__.items()
        }

    @classmethod
    def from_dict(cls, data: dict) -> AmountBasis:
        """The basis as the decision stored it (Application.amount_basis), so a printed
        notice shows the arithmetic of the day it was decided, not of today's policy."""
        values = {}
        for item in dataclasses.fields(cls):
            value = data[item.name]
            if item.type == "Decimal":
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


def amount_compute(*, application: Application, on: datetime.date | None = None) -> AmountBasis:
    """The monthly amount by the policy in force (domain.md §8).

    Dibao: (standard − per-capita counted income net of rigid expenditure) × members.
    Low-income edge: recognition only, eligible below standard × edge multiple.
    Extreme poverty: standard × its multiple × members. Temporary: a one-off of the
    standard × the policy's months × members.
    """
    on = on or timezone.localdate()
    policy = policy_in_force(county=application.village.county(), on=on)
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
    if kind in AssistanceType.dibao():
        amount = _yuan(max(standard - per_capita, Decimal("0")) * count)
        rule = "(standard - per_capita) * members"
    elif kind == AssistanceType.LOW_INCOME_EDGE:
        amount = Decimal("0.00")
        rule = "recognition: per_capita < standard * edge_multiple"
    elif kind == AssistanceType.EXTREME_POVERTY:
        amount = _yuan(standard * policy.extreme_poverty_multiple * count)
        rule = "standard * extreme_poverty_multiple * members"
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
    )
