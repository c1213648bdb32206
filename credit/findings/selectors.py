"""Reads of credit discipline. Reads by staff start from the user's jurisdiction
(aid_portal.access); the lookups other apps make (blocks, the watch list, bad records)
take ids and dates."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Model, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from aid_portal import access
from aid_portal.errors import DomainError
from aid_portal.models import User
from credit.findings.models import (
    Block,
    Finding,
    FindingEvent,
    Interview,
    Objection,
    OutboxMessage,
    Repair,
    RepaymentOrder,
    Sanction,
)

F = Finding.State


# --- for other apps -----------------------------------------------------------------------


def block_in_force(*, identity_hashes: Iterable[str], on: datetime.date) -> Block | None:
    """The block in force on ``on`` for any of these people, the one ending last."""
    hashes = [h for h in identity_hashes if h]
    if not hashes:
        return None
    return (
        Block.objects.filter(Sanction.q_in_force(on), person__identity_hash__in=hashes)
        .select_related("finding__behaviour", "person")
        .order_by("-ends_on", "-id")
        .first()
    )


def household_is_watched(*, household_id: int, on: datetime.date) -> bool:
    """On the watch list (a light finding in force): its reviews come more often."""
    return Sanction.objects.filter(
        Sanction.q_in_force(on), kind=Sanction.Kind.WATCH_LIST, finding__household_id=household_id
    ).exists()


def watched_household_ids(*, on: datetime.date) -> set[int]:
    return set(
        Sanction.objects.filter(Sanction.q_in_force(on), kind=Sanction.Kind.WATCH_LIST).values_list(
            "finding__household_id", flat=True
        )
    )


def bad_record_exists(*, household_id: int, on: datetime.date) -> bool:
    """A finding in force on ``on`` (took effect, not withdrawn, not repaired by then)."""
    return Finding.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=on),
        household_id=household_id,
        effective_on__lte=on,
        state__in=Finding.TOOK_EFFECT,
    ).exists()


# --- for staff ----------------------------------------------------------------------------


def finding_list_for_user(
    *, user: User, state: str = "", level: str = "", household_id: int | None = None
) -> QuerySet[Finding]:
    """Findings in the user's places, with what a list row shows."""
    queryset = access.restrict(
        Finding.objects.select_related("village", "behaviour", "person", "found_by"),
        user,
        region_field="village",
    )
    if state:
        queryset = queryset.filter(state=state)
    if level:
        queryset = queryset.filter(level=level)
    if household_id is not None:
        queryset = queryset.filter(household_id=household_id)
    return queryset.order_by("-found_on", "-id")


def finding_gate_for_user(*, user: User, finding_id: int) -> Finding:
    """The finding without its history: what a step needs before calling its service."""
    return access.get_object_or_404(
        Finding.objects.select_related("village", "repayment_order"),
        user,
        region_field="village",
        pk=finding_id,
    )


def finding_get_for_user(*, user: User, finding_id: int) -> Finding:
    """One finding with its history, sanctions, interviews, objections and repairs, or 404."""
    queryset = Finding.objects.select_related(
        "village",
        "behaviour",
        "person",
        "household",
        "application",
        "found_by",
        "decided_by",
        "repayment_order",
    ).prefetch_related(
        Prefetch("events", queryset=FindingEvent.objects.select_related("actor")),
        Prefetch("sanctions", queryset=Sanction.objects.select_related("person", "application")),
        "interviews__held_by",
        Prefetch(
            "objections",
            queryset=Objection.objects.select_related(
                "reviewed_by", "recorded_by"
            ).prefetch_related("evidence"),
        ),
        Prefetch("repairs", queryset=Repair.objects.select_related("decided_by", "recorded_by")),
        "evidence",
        "outbox",
        "repayment_order__payments",
        "repayment_order__recoveries",
        "repayment_order__refunds",
        "household__members__person",
    )
    return access.get_object_or_404(queryset, user, region_field="village", pk=finding_id)


# The rows a step of a finding acts on: the input's field that names one, and the answer
# when it names none of the finding's.
FINDING_ROWS = {
    Interview: ("interview", _("No such interview.")),
    RepaymentOrder: (None, _("No such repayment order.")),
    Objection: ("objection", _("No such objection.")),
    Repair: ("repair", _("No such repair application.")),
}


def finding_row_get(*, finding: Finding, model: type[Model], pk: int | None = None) -> Model:
    """The row of ``finding`` that one of its steps acts on, by its id (the repayment
    order: the finding's only one). A row of another finding is "no such" (DomainError),
    so the step never acts on a finding other than the one its page or URL names."""
    field, missing = FINDING_ROWS[model]
    rows = model.objects.filter(finding=finding)
    row = rows.filter(pk=pk).first() if pk is not None else rows.first()
    if row is None:
        raise DomainError(str(missing), field=field)
    return row


def interviews_due_for_user(*, user: User) -> QuerySet[Interview]:
    return access.restrict(
        Interview.objects.filter(held_on__isnull=True, finding__state__in=Finding.IN_FORCE)
        .select_related("finding__behaviour", "finding__village", "finding__person")
        .order_by("scheduled_for", "id"),
        user,
        region_field="finding__village",
    )


def objections_pending_for_user(*, user: User) -> QuerySet[Objection]:
    return access.restrict(
        Objection.objects.filter(state=Objection.State.PENDING)
        .select_related("finding__behaviour", "finding__village", "finding__found_by")
        .order_by("review_due_on", "id"),
        user,
        region_field="finding__village",
    )


def repairs_pending_for_user(*, user: User) -> QuerySet[Repair]:
    return access.restrict(
        Repair.objects.filter(state=Repair.State.PENDING)
        .select_related("finding__behaviour", "finding__village")
        .order_by("applied_on", "id"),
        user,
        region_field="finding__village",
    )


def outbox_for_user(*, user: User) -> QuerySet[OutboxMessage]:
    return access.restrict(
        OutboxMessage.objects.select_related("finding__behaviour", "finding__village").order_by(
            "-created_at", "-id"
        ),
        user,
        region_field="finding__village",
    )
