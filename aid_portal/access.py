"""The access gate: every read of case data passes through here.

A user's *jurisdiction* for a purpose is the set of region nodes where they hold a
role that serves that purpose, plus the regions granted to them object by object
(django-guardian, ``view_region_cases``). Because division codes nest, "inside a
node" is a prefix match on the code, so a jurisdiction is a short tuple of code
prefixes and filtering by it is one indexed ``LIKE 'prefix%'`` per node.

Selectors call :func:`restrict` (lists) and :func:`get_object_or_404` (one object);
a user outside the jurisdiction gets "not found", never the object or a hint that it
exists. Lists never rely on object checks alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from aid_portal import permissions
from aid_portal.models import Region, RegionUserObjectPermission, RoleAssignment, User

# Who reads case data (households, applications, reports) and who reads the audit log.


@dataclass(frozen=True)
class Jurisdiction:
    everything: bool
    prefixes: tuple[str, ...]

    def q(self, region_field: str | None) -> Q:
        """A filter on ``<region_field>__code`` that keeps rows inside the jurisdiction.

        ``region_field=None`` filters Region rows themselves.
        """
        if self.everything:
            return Q()
        if not self.prefixes:
            return Q(pk__in=[])
        lookup = f"{region_field}__code__startswith" if region_field else "code__startswith"
        return reduce(or_, (Q(**{lookup: prefix}) for prefix in self.prefixes))

    def contains(self, region: Region | None) -> bool:
        if self.everything:
            return True
        return region is not None and region.code.startswith(self.prefixes)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.prefixes


def _minimal(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Drop prefixes already covered by a shorter one (a county covers its townships)."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not prefix.startswith(tuple(kept)):
            kept.append(prefix)
    return tuple(sorted(kept))


def jurisdiction_for(
    user: User, *, roles: frozenset[str] = permissions.READ_CASES, include_grants: bool = True
) -> Jurisdiction:
    """The regions ``user`` may read for the purpose served by ``roles``.

    Per-object grants widen what a user may *read*; ``include_grants=False`` gives the
    regions where they hold the role itself, which is what actions check. Computed
    once per user object and purpose (one or two queries).
    """
    if not user.is_authenticated or not user.is_active:
        return Jurisdiction(everything=False, prefixes=())
    if user.is_superuser:
        return Jurisdiction(everything=True, prefixes=())
    cache = user.__dict__.setdefault("_jurisdiction_cache", {})
    key = (roles, include_grants)
    if key not in cache:
        prefixes = [a.region.prefix for a in role_assignments_of(user) if a.role in roles]
        if include_grants and roles & permissions.READ_CASES:
            grants = RegionUserObjectPermission.objects.filter(
                user=user, permission__codename="view_region_cases"
            ).select_related("content_object")
            prefixes += [grant.content_object.prefix for grant in grants]
        cache[key] = Jurisdiction(everything=False, prefixes=_minimal(prefixes))
    return cache[key]


def restrict(
    queryset: QuerySet,
    user: User,
    *,
    region_field: str | None,
    roles: frozenset[str] = permissions.READ_CASES,
) -> QuerySet:
    """``queryset`` limited to rows whose region lies in the user's jurisdiction."""
    return queryset.filter(jurisdiction_for(user, roles=roles).q(region_field))


def get_object_or_404(
    queryset: QuerySet,
    user: User,
    *,
    region_field: str | None,
    roles: frozenset[str] = permissions.READ_CASES,
    **lookup,
) -> Model:
    """One object inside the jurisdiction, or 404 whether it exists elsewhere or not."""
    try:
        return restrict(queryset, user, region_field=region_field, roles=roles).get(**lookup)
    except queryset.model.DoesNotExist:
        raise NotInJurisdiction(queryset.model, lookup) from None


class NotInJurisdiction(Http404):
    """The gate's 404: it says which kind of object was asked for and by what key, so the
    record of the denial (aid_portal.denials) can name it. The user sees a plain 404."""

    def __init__(self, model: type[Model], lookup: dict):
        super().__init__(_("Not found."))
        self.object_type = model._meta.label_lower
        self.object_id = str(next(iter(lookup.values()))) if len(lookup) == 1 else ""


def role_assignments_of(user: User) -> list[RoleAssignment]:
    """The user's roles with their regions, loaded once per user object."""
    if not user.is_authenticated:
        return []
    if "_role_assignments" not in user.__dict__:
        user.__dict__["_role_assignments"] = list(
            RoleAssignment.objects.filter(user=user)
            .select_related("region")
            .order_by("role", "region__code")
        )
    return user.__dict__["_role_assignments"]


def home_region(user: User) -> Region | None:
    """The region a user's own acts (login, a refused request) are filed under, so that the
    auditors of their county see them."""
    assignments = role_assignments_of(user)
    return assignments[0].region if assignments else None


def roles_of(user: User) -> set[str]:
    return {assignment.role for assignment in role_assignments_of(user)}


def has_role(user: User, roles: Iterable[str], region: Region | None = None) -> bool:
    """Does ``user`` hold one of ``roles``, at a node containing ``region`` if given?"""
    roles = frozenset(roles)
    if user.is_superuser:
        return True
    if region is None:
        return bool(roles_of(user) & roles)
    return any(
        region.code.startswith(prefix)
        for prefix in jurisdiction_for(user, roles=roles, include_grants=False).prefixes
    )


def require_role(user: User, roles: Iterable[str], region: Region | None = None) -> None:
    """Raise PermissionDenied (403) unless ``user`` holds one of ``roles`` (over ``region``).

    For *actions*. Reads of objects use get_object_or_404, so that the existence of an
    object outside the jurisdiction is never confirmed.
    """
    if not has_role(user, roles, region):
        raise PermissionDenied(_("Your role does not allow this."))
