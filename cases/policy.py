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


def policy_for_case(application: Application, *, on: datetime.date) -> Policy:
    """policy_in_force for the case's county, in one query (the county by its code, not
    read first), and read once per case object and day: the case page asks who
    decides, what the amount would be and how long a notice lasts."""
    cache = application.__dict__.setdefault("_policy_in_force", {})
    if on not in cache:
        policy = (
            Policy.objects.filter(
                county__code=application.village.county_code, effective_from__lte=on
            )
            .order_by("-effective_from")
            .first()
        )
        cache[on] = policy
    if cache[on] is None:
        return policy_in_force(county=application.village.county(), on=on)  # its refusal
    return cache[on]


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
        policy = policy_for_case(app, on=timezone.localdate())
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


# The figures of a policy row (all but who entered it, where and from when).
POLICY_VALUE_FIELDS = [
    f.name
    for f in Policy._meta.concrete_fields
    if f.name not in {"id", "county", "effective_from", "created_by", "created_at"}
]


def _policy_checked(policy: Policy) -> None:
    try:
        policy.full_clean()
    except ValidationError as exc:
        errors = {
            field: " ".join(messages)
            for field, messages in exc.message_dict.items()
            if field != "__all__"
        }
        if "__all__" in exc.message_dict:
            raise DomainError(" ".join(exc.message_dict["__all__"]), field_errors=errors) from None
        raise DomainError.of_fields(errors) from None


def policy_create(
    *, actor: User, county: Region, effective_from: datetime.date, **values
) -> Policy:
    """A new policy row for ``county`` from ``effective_from`` (earlier rows stay)."""
    access.require_role(actor, {Role.FEED_ADMIN}, county)
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("A policy belongs to a county."), field="county")
    policy = Policy(county=county, effective_from=effective_from, created_by=actor, **values)
    _policy_checked(policy)
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


def policy_is_in_force(policy: Policy, *, today: datetime.date | None = None) -> bool:
    """In force from its date on (until a later row supersedes it): from then on it is
    history that decisions were made with, and never changes."""
    return policy.effective_from <= (today or timezone.localdate())


def _policy_not_yet_in_force(*, actor: User, policy_id: int) -> Policy:
    """The row, locked, for a change by a data-feed admin of its county; refused once it
    is in force (a new dated row supersedes it instead)."""
    policy = (
        Policy.objects.select_for_update().select_related("county").filter(pk=policy_id).first()
    )
    if policy is None:
        raise DomainError(_("No such policy."))
    access.require_role(actor, permissions.MANAGE_POLICIES, policy.county)
    if policy_is_in_force(policy):
        raise DomainError(
            _(
                "This policy is in force since %(date)s and can no longer change: enter a "
                "new dated policy to supersede it."
            )
            % {"date": policy.effective_from}
        )
    return policy


def policy_update(
    *, actor: User, policy_id: int, effective_from: datetime.date, **values
) -> Policy:
    """Change a policy that is not yet in force (its date may move, but not into force:
    a row in force from today or earlier is a new policy, entered as such)."""
    with transaction.atomic():
        policy = _policy_not_yet_in_force(actor=actor, policy_id=policy_id)
        if effective_from <= timezone.localdate():
            raise DomainError(
                _(
                    "A policy being changed must still start after today; to put figures "
                    "in force now, enter a new policy."
                ),
                field="effective_from",
            )
        old = {"effective_from": policy.effective_from}
        old |= {name: getattr(policy, name) for name in POLICY_VALUE_FIELDS}
        unknown = set(values) - set(POLICY_VALUE_FIELDS)
        if unknown:
            raise DomainError(_("Unknown policy fields: %(names)s.") % {"names": sorted(unknown)})
        policy.effective_from = effective_from
        for name, value in values.items():
            setattr(policy, name, value)
        _policy_checked(policy)
        policy.save()
        new = {"effective_from": policy.effective_from}
        new |= {name: getattr(policy, name) for name in POLICY_VALUE_FIELDS}
        changed = [name for name in new if new[name] != old[name]]
        audit_record(
            actor=actor,
            action="policy.update",
            obj=policy,
            region=policy.county,
            old={name: old[name] for name in changed},
            new={name: new[name] for name in changed},
        )
    return policy


def policy_withdraw(*, actor: User, policy_id: int, reason: str = "") -> None:
    """Withdraw a policy that is not yet in force: the row goes, its figures stay in the
    audit row, and the policy before it stays in force."""
    with transaction.atomic():
        policy = _policy_not_yet_in_force(actor=actor, policy_id=policy_id)
        old = {"effective_from": policy.effective_from}
        old |= {name: getattr(policy, name) for name in POLICY_VALUE_FIELDS}
        audit_record(
            actor=actor,
            action="policy.withdraw",
            obj=policy,
            region=policy.county,
            old=old,
            reason=reason,
        )
        policy.delete()


def policy_initial(*, county: Region, today: datetime.date | None = None) -> dict:
    """The figures of the policy in force in ``county``, for a new row to start from
    (empty where the county has none yet)."""
    try:
        policy = policy_in_force(county=county, on=today or timezone.localdate())
    except DomainError:
        return {}
    return {name: getattr(policy, name) for name in POLICY_VALUE_FIELDS}
