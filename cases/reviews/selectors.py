"""Reads of reviews, adjustment proposals and the county's monthly checks, through
the access gate."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from aid_portal import access, permissions
from aid_portal.models import User
from cases.casework.selectors import with_applicant
from cases.models import (
    AdjustmentProposal,
    Application,
    Member,
    MonthlyFileCheck,
    MonthlyFileCheckItem,
    PeriodicReview,
)
from cases.reviews.services import R

# --- reads ----------------------------------------------------------------------------


def review_list_for_user(*, user: User) -> QuerySet[PeriodicReview]:
    """Open reviews of cases in the user's places, the longest due first."""
    reviews = access.restrict(
        with_applicant(
            PeriodicReview.objects.select_related("application__village", "application__household"),
            through="application__",
        ),
        user,
        region_field="application__village",
    )
    return reviews.exclude(state=R.DECIDED).order_by("due_on", "id")


def review_gate_for_user(*, user: User, review_id: int) -> PeriodicReview:
    """The review without the declaration: what a step needs before calling its service."""
    return access.get_object_or_404(
        PeriodicReview.objects.select_related("application__village"),
        user,
        region_field="application__village",
        pk=review_id,
    )


def review_get_for_user(*, user: User, review_id: int) -> PeriodicReview:
    return access.get_object_or_404(
        PeriodicReview.objects.select_related(
            "application__village",
            "application__household",
            "verification",
            "opened_by",
            "redeclared_by",
            "outcome_by",
            "decided_by",
        ).prefetch_related(
            Prefetch(
                "application__household__members",
                queryset=Member.objects.select_related("person").prefetch_related("incomes"),
            ),
            "application__household__assets",
        ),
        user,
        region_field="application__village",
        pk=review_id,
    )


def adjustment_list_with_applicants(*, user: User) -> QuerySet:
    """The open adjustment proposals of the user's places (cases.selectors) with each
    case's applicant, for the lists."""
    return with_applicant(adjustment_list_for_user(user=user), through="application__")


def review_list_for_application(application: Application) -> list[PeriodicReview]:
    """Newest first; from the rows read with the case when they were (no query)."""
    reviews = list(application.periodic_reviews.all())
    return sorted(reviews, key=lambda review: (review.opened_at, review.pk), reverse=True)


def monthly_check_list_for_user(*, user: User) -> QuerySet[MonthlyFileCheck]:
    return access.restrict(
        MonthlyFileCheck.objects.select_related("county", "done_by").annotate(
            files=Count("items", distinct=True),
            checked=Count("items", filter=Q(items__checked_at__isnull=False), distinct=True),
        ),
        user,
        region_field="county",
        roles=permissions.CHECK_CASES_FOR_COUNTY,
    ).order_by("-month", "county__code")


def monthly_check_get_for_user(*, user: User, check_id: int) -> MonthlyFileCheck:
    applicants = Member.objects.filter(relation=Member.Relation.SELF).select_related("person")
    return access.get_object_or_404(
        MonthlyFileCheck.objects.select_related("county", "done_by").prefetch_related(
            Prefetch(
                "items",
                queryset=MonthlyFileCheckItem.objects.select_related(
                    "application__village", "checked_by"
                ).prefetch_related(
                    Prefetch(
                        "application__household__members",
                        queryset=applicants,
                        to_attr="applicants",
                    )
                ),
            )
        ),
        user,
        region_field="county",
        roles=permissions.CHECK_CASES_FOR_COUNTY,
        pk=check_id,
    )


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
