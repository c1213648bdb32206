"""The county's rules in force: which dated policy row applies, and who decides.

A policy row (cases.models.Policy) holds a county's standards, multiples, time limits
and which level decides, from a date on. Services, step tables and pages read the rules
through these functions, never the rows directly.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import DomainError
from aid_portal.models import Region, Role, User
from cases.models import (
    Application,
    Policy,
)


def policy_in_force(*, county: Region, on: datetime.date) -> Policy:
    policy = (
        Policy.objects.filter(county=county, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
    if policy is None:
        raise DomainError(
            _(
                "%(county)s has no assistance policy in force on %(date)s; a county admin "
                "must enter one."
            )
            % {"county": county.name, "date": on}
        )
    return policy


def decision_roles(app: Application) -> frozenset[str]:
    """Who decides in the case's county: the township approver, or the county where the
    policy in force says so.

    The one answer for services, pages and API. With no policy in force the township
    decides: domain.md §3 has the township confirm or reject, and §8 the county only
    "where the county confirms", a setting of the policy (whose default is the
    township too). An approval still needs the policy's standard, so amount_compute
    refuses it, with the message that a county admin must enter a policy.
    """
    try:
        policy = policy_in_force(county=app.village.county(), on=timezone.localdate())
    except DomainError:
        return permissions.DECIDE_CASES
    if policy.deciding_level == Policy.DecidingLevel.COUNTY:
        return permissions.DECIDE_IN_COUNTY
    return permissions.DECIDE_CASES


def draft_days(*, county_code: str, on: datetime.date) -> tuple[int, int]:
    """The county's days after which an unfinished draft is reminded of, then withdrawn;
    the policy's defaults where the county has entered no policy yet."""
    policy = (
        Policy.objects.filter(county__code=county_code, effective_from__lte=on)
        .order_by("-effective_from")
        .only("draft_reminder_days", "draft_withdrawal_days")
        .first()
    )
    if policy is None:
        policy = Policy()
    return policy.draft_reminder_days, policy.draft_withdrawal_days


# --- policy -----------------------------------------------------------------------------


def policy_create(
    *, actor: User, county: Region, effective_from: datetime.date, **values
) -> Policy:
    """A new policy row for ``county`` from ``effective_from`` (earlier rows stay)."""
    access.require_role(actor, {Role.FEED_ADMIN}, county)
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("A policy belongs to a county."), field="county")
    policy = Policy(county=county, effective_from=effective_from, created_by=actor, **values)
    try:
        policy.full_clean()
    except ValidationError as exc:
        raise DomainError(
            "; ".join(
                f"{Policy._meta.get_field(f).verbose_name}: {' '.join(m)}"
                for f, m in exc.message_dict.items()
            ),
            field=next(iter(exc.message_dict)),
        ) from None
    with transaction.atomic():
        policy.save()
        audit_record(
            actor=actor,
            action="policy.create",
            obj=policy,
            region=county,
            new={"effective_from": effective_from, **values},
        )
    return policy
