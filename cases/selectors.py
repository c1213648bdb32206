"""Reads of case data. Every one starts from the user's jurisdiction (aid_portal.access)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from aid_portal import access
from aid_portal.models import User
from cases.models import (
    AdjustmentProposal,
    Application,
    ApplicationEvent,
    CreditRestriction,
    Household,
    Member,
)

S = Application.State

# States a township caseworker acts on, and what an approver decides.
CASEWORKER_QUEUE_STATES = Application.OPEN_STATES - {S.DRAFT}
APPROVER_QUEUE_STATES = frozenset({S.AWAITING_DECISION})


def application_list_for_user(*, user: User) -> QuerySet[Application]:
    """Applications in the user's places, with what a list row shows."""
    return access.restrict(
        Application.objects.select_related("village", "household").annotate(
            member_count=Count(
                "household__members", filter=Q(household__members__is_supporter=False)
            ),
        ),
        user,
        region_field="village",
    )


def application_get_for_user(*, user: User, application_id: int) -> Application:
    """One application with its household, members and timeline, or 404."""
    queryset = Application.objects.select_related(
        "village", "household__registration_region", "decided_by", "created_by"
    ).prefetch_related(
        Prefetch(
            "household__members",
            queryset=Member.objects.select_related("person", "authorisation").prefetch_related(
                "incomes"
            ),
        ),
        "household__assets",
        "household__expenditures",
        Prefetch("events", queryset=ApplicationEvent.objects.select_related("actor")),
        "proofs__item",
        "near_relative_filings__member__person",
        "verification_outcomes",
        "verification_requests",
        "home_visits__investigators",
        "notices__objections",
        "reviews",
        "documents",
    )
    return access.get_object_or_404(queryset, user, region_field="village", pk=application_id)


def household_get_for_user(*, user: User, household_id: int) -> Household:
    return access.get_object_or_404(
        Household.objects.select_related("village"),
        user,
        region_field="village",
        pk=household_id,
    )


def work_queue_for_user(*, user: User, states=CASEWORKER_QUEUE_STATES) -> QuerySet[Application]:
    """Open cases, those nearest their deadline first (then the oldest)."""
    return (
        application_list_for_user(user=user)
        .filter(state__in=states)
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )


def deadline_alerts_for_user(*, user: User, within_days: int = 5) -> QuerySet[Application]:
    """Open cases past their decision deadline or due within ``within_days`` days."""
    soon = timezone.localdate() + datetime.timedelta(days=within_days)
    return work_queue_for_user(user=user).filter(due_on__lte=soon)


def adjustment_list_for_user(*, user: User) -> QuerySet[AdjustmentProposal]:
    """Open adjustment proposals on cases in the user's places, the oldest first."""
    proposals = access.restrict(
        AdjustmentProposal.objects.select_related(
            "application__village", "application__household", "proposed_by", "handled_by"
        ),
        user,
        region_field="application__village",
    )
    return proposals.filter(status=AdjustmentProposal.Status.OPEN).order_by("proposed_at", "id")


def adjustment_get_for_user(*, user: User, proposal_id: int) -> AdjustmentProposal:
    return access.get_object_or_404(
        AdjustmentProposal.objects.select_related(
            "application__village", "application__household", "proposed_by", "handled_by"
        ),
        user,
        region_field="application__village",
        pk=proposal_id,
    )


# --- credit restrictions (the credit app reports them through the services) ---------------


def credit_block_in_force(
    *, identity_hashes: Iterable[str], on: datetime.date
) -> CreditRestriction | None:
    """The block in force on ``on`` for any of these people, the one ending last."""
    hashes = [h for h in identity_hashes if h]
    if not hashes:
        return None
    return (
        CreditRestriction.objects.filter(
            CreditRestriction.q_in_force(on),
            kind=CreditRestriction.Kind.BLOCK,
            person__identity_hash__in=hashes,
        )
        .select_related("person")
        .order_by("-ends_on", "-id")
        .first()
    )


def household_is_watched(*, household_id: int, on: datetime.date) -> bool:
    """On the credit watch list (a light finding in force): reviewed more often (domain.md §6)."""
    return CreditRestriction.objects.filter(
        CreditRestriction.q_in_force(on),
        kind=CreditRestriction.Kind.WATCH_LIST,
        household_id=household_id,
    ).exists()
