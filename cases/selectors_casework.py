"""Reads for the casework pages beyond cases.selectors, each starting from the jurisdiction."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Prefetch, Q, QuerySet

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.models import Application, Member, Policy

# Who may read the county policies: everyone who reads cases, and the admins who set them.
# Who goes on a home visit: the staff of the township and of its villages.


def with_applicant(queryset: QuerySet, *, through: str = "") -> QuerySet:
    """Adds ``applicants`` (a list of at most one member) to each application: one query
    a page. ``through`` leads from the rows to their application ("application__")."""
    return queryset.prefetch_related(
        Prefetch(
            f"{through}household__members",
            queryset=Member.objects.filter(relation=Member.Relation.SELF).select_related("person"),
            to_attr="applicants",
        )
    )


def village_list_for_user(*, user: User) -> QuerySet[Region]:
    """The villages inside the places where ``user`` reads cases (for queue filters)."""
    return access.restrict(
        Region.objects.filter(level=Region.Level.VILLAGE), user, region_field=None
    ).order_by("code")


def investigator_list_for_application(*, user: User, application: Application) -> QuerySet[User]:
    """Staff who may sign a home-visit record: those of the case's township or village.

    ``application`` comes from selectors.application_get_for_user, so ``user`` may read it.
    """
    township_code = application.village.township_code
    return (
        User.objects.filter(
            is_active=True,
            role_assignments__role__in=permissions.VISIT_HOMES,
            role_assignments__region__code__in=[township_code, application.village.code],
        )
        .distinct()
        .order_by("full_name", "username")
    )


def _counties_q(user: User) -> Q:
    """The counties that hold any part of ``user``'s places (a township's county too)."""
    jurisdiction = access.jurisdiction_for(user, roles=permissions.READ_POLICIES)
    if jurisdiction.everything:
        return Q()
    if not jurisdiction.prefixes:
        return Q(pk__in=[])
    parts = [
        Q(county__code=Region.enclosing_code(prefix, Region.Level.COUNTY))
        if len(prefix) >= Region.PREFIX_LENGTH[Region.Level.COUNTY]
        else Q(county__code__startswith=prefix)
        for prefix in jurisdiction.prefixes
    ]
    return reduce(or_, parts)


def policy_list_for_user(*, user: User) -> QuerySet[Policy]:
    """The policy rows of every county that holds part of the user's places."""
    return (
        Policy.objects.filter(_counties_q(user))
        .select_related("county", "created_by")
        .order_by("county__code", "-effective_from")
    )


def policy_county_list_for_admin(*, user: User) -> QuerySet[Region]:
    """The counties where ``user`` is a data-feed admin (may add policy rows)."""
    return access.restrict(
        Region.objects.filter(level=Region.Level.COUNTY),
        user,
        region_field=None,
        roles=permissions.MANAGE_STAFF,
    ).order_by("code")
