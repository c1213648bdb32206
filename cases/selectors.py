"""Reads of case data. Every one starts from the user's jurisdiction (aid_portal.access)."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from aid_portal import access
from aid_portal.models import User
from aid_portal.onequery import Rows, rows_place, with_rows
from cases.models import (
    AdjustmentProposal,
    Application,
    ApplicationEvent,
    Asset,
    DemocraticReview,
    Document,
    ExtremePovertyException,
    HomeVisit,
    Household,
    Income,
    Member,
    MemberDeath,
    NearRelativeFiling,
    NoticeObjection,
    PeriodicReview,
    ProofStatus,
    PublicNotice,
    RigidExpenditure,
    Suspension,
    VerificationOutcome,
)

S = Application.State


def application_list_for_user(*, user: User) -> QuerySet[Application]:
    """Applications in the user's places, with what a list row shows."""
    # The members are counted per row shown, not joined and grouped: a join with GROUP BY
    # made PostgreSQL count every case of the jurisdiction before it could take a page.
    members = (
        Member.objects.filter(household=OuterRef("household_id"), is_supporter=False)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return access.restrict(
        Application.objects.select_related("village", "household").annotate(
            member_count=Coalesce(Subquery(members), 0),
        ),
        user,
        region_field="village",
    )


def _case_rows() -> tuple[Rows, ...]:
    """Everything the case page shows of a case, read in the case's own query
    (aid_portal.onequery): one query instead of one per relation (was 16, then more
    for the page's sections)."""
    of_case = {"link": "application"}
    # verification sits above cases: its models are reached through their relations.
    verification_request = Application._meta.get_field("verification_requests").related_model
    department_query = verification_request._meta.get_field("queries").related_model
    return (
        Rows(
            "household__members",
            Member.objects.order_by("id"),
            link="household",
            root_field="household_id",
            related=("person", "authorisation"),
        ),
        Rows(
            "household__members__incomes",
            Income.objects.order_by("id"),
            link="member__household",
            root_field="household_id",
        ),
        Rows("household__assets", Asset.objects.all(), link="household", root_field="household_id"),
        Rows(
            "household__expenditures",
            RigidExpenditure.objects.all(),
            link="household",
            root_field="household_id",
        ),
        Rows("events", ApplicationEvent.objects.all(), related=("actor",), **of_case),
        Rows("proofs", ProofStatus.objects.all(), related=("item",), **of_case),
        Rows(
            "near_relative_filings",
            NearRelativeFiling.objects.all(),
            related=("member__person",),
            **of_case,
        ),
        Rows("verification_outcomes", VerificationOutcome.objects.all(), **of_case),
        Rows("verification_requests", verification_request.objects.all(), **of_case),
        Rows(
            "verification_requests__queries",
            department_query.objects.order_by("id"),
            link="verification__application",
        ),
        Rows("home_visits", HomeVisit.objects.all(), **of_case),
        Rows(
            "home_visits__investigators",
            HomeVisit.investigators.through.objects.order_by("id"),
            link="homevisit__application",
            related=("user",),
            holder="homevisit_id",
            pick="user",
        ),
        Rows("notices", PublicNotice.objects.all(), **of_case),
        Rows("notices__objections", NoticeObjection.objects.all(), link="notice__application"),
        Rows("reviews", DemocraticReview.objects.all(), **of_case),
        Rows("documents", Document.objects.all(), **of_case),
        Rows(
            "extreme_poverty_exceptions",
            ExtremePovertyException.objects.all(),
            related=("confirmed_by",),
            **of_case,
        ),
        Rows("periodic_reviews", PeriodicReview.objects.order_by("-opened_at", "-id"), **of_case),
        Rows("suspensions", Suspension.objects.order_by("started_at", "id"), **of_case),
        Rows(
            "member_deaths",
            MemberDeath.objects.order_by("died_on", "id"),
            related=("person",),
            **of_case,
        ),
        Rows(
            "adjustment_proposals",
            AdjustmentProposal.objects.order_by("-proposed_at", "-id"),
            related=("proposed_by", "handled_by"),
            **of_case,
        ),
    )


def application_get_for_user(*, user: User, application_id: int) -> Application:
    """One application with its household, members, timeline and every other list the
    case page shows (read with it: no further query for them), or 404."""
    rows = _case_rows()
    queryset = with_rows(
        Application.objects.select_related(
            "village", "household__registration_region", "decided_by", "created_by"
        ),
        *rows,
    )
    app = access.get_object_or_404(queryset, user, region_field="village", pk=application_id)
    return rows_place(app, *rows)


def household_get_for_user(*, user: User, household_id: int) -> Household:
    return access.get_object_or_404(
        Household.objects.select_related("village"),
        user,
        region_field="village",
        pk=household_id,
    )
