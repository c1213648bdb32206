"""Reads for the intake pages, each starting from the user's jurisdiction."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.models import (
    Application,
    Asset,
    Document,
    Household,
    Income,
    Member,
    ProofItem,
    ProofStatus,
    RigidExpenditure,
)


def intake_villages_for_user(*, user: User) -> QuerySet[Region]:
    """Villages where ``user`` may file a household: where they hold an intake role
    themselves (cover grants widen reading, never acting)."""
    jurisdiction = access.jurisdiction_for(
        user, roles=permissions.FILE_APPLICATIONS, include_grants=False
    )
    return (
        Region.objects.filter(level=Region.Level.VILLAGE)
        .filter(jurisdiction.q(None))
        .select_related("parent")
        .order_by("code")
    )


def household_documents_for_user(*, user: User, household_id: int) -> QuerySet[Document]:
    """The household file (一户一档), by kind then date; empty outside the jurisdiction."""
    return (
        access.restrict(
            Document.objects.select_related("uploaded_by"),
            user,
            region_field="household__village",
        )
        .filter(household_id=household_id)
        .order_by("kind", "uploaded_at")
    )


def proof_catalogue_for(
    application: Application,
) -> list[tuple[ProofItem, ProofStatus | None]]:
    """The catalogue items that apply to the application's type, each with its status.

    ``application`` comes from application_get_for_user (gated, proofs prefetched); the
    catalogue itself is public reference data.
    """
    statuses = {proof.item_id: proof for proof in application.proofs.all()}
    return [
        (item, statuses.get(item.pk))
        for item in ProofItem.objects.filter(active=True).order_by("code")
        if item.applies_to(application.assistance_type)
    ]


def household_detail_for_user(*, user: User, household_id: int) -> Household:
    """One household with its members, declaration, applications and documents, or 404."""
    queryset = Household.objects.select_related("village").prefetch_related(
        Prefetch(
            "members",
            queryset=Member.objects.select_related("person", "authorisation").prefetch_related(
                "incomes"
            ),
        ),
        "assets",
        "expenditures",
        Prefetch("applications", queryset=Application.objects.select_related("village")),
        "documents",
    )
    return access.get_object_or_404(queryset, user, region_field="village", pk=household_id)


def member_get_for_user(*, user: User, member_id: int) -> Member:
    return access.get_object_or_404(
        Member.objects.select_related("household__village", "person"),
        user,
        region_field="household__village",
        pk=member_id,
    )


def income_get_for_user(*, user: User, income_id: int) -> Income:
    return access.get_object_or_404(
        Income.objects.select_related("member__household__village"),
        user,
        region_field="member__household__village",
        pk=income_id,
    )


def asset_get_for_user(*, user: User, asset_id: int) -> Asset:
    return access.get_object_or_404(
        Asset.objects.select_related("household__village"),
        user,
        region_field="household__village",
        pk=asset_id,
    )


def expenditure_get_for_user(*, user: User, expenditure_id: int) -> RigidExpenditure:
    return access.get_object_or_404(
        RigidExpenditure.objects.select_related("household__village"),
        user,
        region_field="household__village",
        pk=expenditure_id,
    )


# Rows of a household the caller has already fetched through the gate: what an input
# may refer to (a member, a scan, an application of *this* household only).


def members_of_household(*, household: Household) -> QuerySet[Member]:
    return Member.objects.filter(household=household).select_related("household__village")


def documents_of_household(*, household: Household) -> QuerySet[Document]:
    return Document.objects.filter(household=household)


def applications_of_household(*, household: Household) -> QuerySet[Application]:
    return Application.objects.filter(household=household).select_related("village")
