"""Reads of case data. Every one starts from the user's jurisdiction (aid_portal.access)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from aid_portal import access
from aid_portal.models import User
from cases.models import (
    Application,
    ApplicationEvent,
    ExtremePovertyException,
    Household,
    Member,
)

S = Application.State


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
        Prefetch(
            "extreme_poverty_exceptions",
            queryset=ExtremePovertyException.objects.select_related("confirmed_by"),
        ),
    )
    return access.get_object_or_404(queryset, user, region_field="village", pk=application_id)


def household_get_for_user(*, user: User, household_id: int) -> Household:
    return access.get_object_or_404(
        Household.objects.select_related("village"),
        user,
        region_field="village",
        pk=household_id,
    )
