"""Reads the cases API needs beyond cases.selectors, each starting from the jurisdiction.

A row of a household (member, income, asset, expenditure, document) is inside the
user's places when its household's village is, so every selector here filters on that
village through aid_portal.access; outside is "not found".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch, Q, QuerySet

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.models import (
    Application,
    Asset,
    Document,
    Household,
    Income,
    Member,
    RigidExpenditure,
)


def application_gate_for_user(*, user: User, application_id: int) -> Application:
    """The application without its file: what an action needs before calling its service."""
    return access.get_object_or_404(
        Application.objects.select_related("village", "household__village"),
        user,
        region_field="village",
        pk=application_id,
    )


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


def document_get_for_user(*, user: User, document_id: int) -> Document:
    return access.get_object_or_404(
        Document.objects.select_related("household__village"),
        user,
        region_field="household__village",
        pk=document_id,
    )


# Rows of a household the caller has already fetched through the gate: what an input
# may refer to (a member, a scan, an application of *this* household only).


def members_of_household(*, household: Household) -> QuerySet[Member]:
    return Member.objects.filter(household=household).select_related("household__village")


def documents_of_household(*, household: Household) -> QuerySet[Document]:
    return Document.objects.filter(household=household)


def applications_of_household(*, household: Household) -> QuerySet[Application]:
    return Application.objects.filter(household=household).select_related("village")


def investigators_for_village(*, village: Region, identifiers: Iterable[str]) -> dict[str, User]:
    """Staff who may visit a home in ``village``, by the id or username given for each.

    Only active people holding a case role over the village can be named, so that an
    identifier never confirms that someone elsewhere exists.
    """
    identifiers = [str(i).strip() for i in identifiers]
    ids = [int(i) for i in identifiers if i.isdigit()]
    names = [i for i in identifiers if not i.isdigit()]
    users = (
        User.objects.filter(Q(pk__in=ids) | Q(username__in=names), is_active=True)
        .filter(
            role_assignments__role__in=permissions.READ_CASES,
            role_assignments__region__code__in=Region.enclosing_codes(village.code),
        )
        .distinct()
    )
    found: dict[str, User] = {}
    for user in users:
        found[str(user.pk)] = user
        found[user.username] = user
    return {i: found[i] for i in identifiers if i in found}
