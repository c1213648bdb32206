"""Reads for the casework pages beyond cases.selectors, each starting from the jurisdiction."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.errors import DomainError
from aid_portal.models import Region, User
from cases.models import (
    Application,
    ApplicationEvent,
    Document,
    Member,
    Policy,
    PublicNotice,
)
from cases.selectors import application_list_for_user

S = Application.State


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


def policy_get_for_user(*, user: User, policy_id: int) -> Policy:
    """One policy row of the user's counties (404 for any other)."""
    return get_object_or_404(policy_list_for_user(user=user), pk=policy_id)


def policy_county_list_for_admin(*, user: User) -> QuerySet[Region]:
    """The counties where ``user`` is a data-feed admin (may add policy rows)."""
    return access.restrict(
        Region.objects.filter(level=Region.Level.COUNTY),
        user,
        region_field=None,
        roles=permissions.MANAGE_STAFF,
    ).order_by("code")


# States a township caseworker acts on, and what an approver decides.
CASEWORKER_QUEUE_STATES = Application.OPEN_STATES - {S.DRAFT}


APPROVER_QUEUE_STATES = frozenset({S.AWAITING_DECISION})


def work_queue_for_user(*, user: User, states=CASEWORKER_QUEUE_STATES) -> QuerySet[Application]:
    """Open cases, those nearest their deadline first (then the oldest)."""
    return (
        application_list_for_user(user=user)
        .filter(state__in=states)
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )


def drafts_for_user(*, user: User) -> QuerySet[Application]:
    """Drafts in the user's places, oldest first, each with ``reminded_at`` and
    ``withdraw_on`` (ISO date) when the daily rule has reminded of it
    (cases.intake.services.drafts_follow_up)."""
    reminder = ApplicationEvent.objects.filter(
        application=OuterRef("pk"), action="draft_remind"
    ).order_by("-at")
    return (
        application_list_for_user(user=user)
        .filter(state=S.DRAFT)
        .annotate(
            reminded_at=Subquery(reminder.values("at")[:1]),
            withdraw_on=Subquery(reminder.values(on=KT("data__withdraw_on"))[:1]),
        )
        .order_by("created_at", "pk")
    )


def deadline_alerts_for_user(*, user: User, within_days: int = 5) -> QuerySet[Application]:
    """Open cases past their decision deadline or due within ``within_days`` days."""
    soon = timezone.localdate() + datetime.timedelta(days=within_days)
    return work_queue_for_user(user=user).filter(due_on__lte=soon)


def application_gate_for_user(*, user: User, application_id: int) -> Application:
    """The application without its file: what an action needs before calling its service."""
    return access.get_object_or_404(
        Application.objects.select_related("village", "household__village"),
        user,
        region_field="village",
        pk=application_id,
    )


def document_get_for_user(*, user: User, document_id: int) -> Document:
    return access.get_object_or_404(
        Document.objects.select_related("household__village"),
        user,
        region_field="household__village",
        pk=document_id,
    )


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


def open_notice_for_step(application: Application) -> PublicNotice:
    """The case's open public notice, for a step taken on it. A step posted to a case whose
    notice is not up (a page left open, a hand-made request) gets a clear message, on the
    page and in the API alike, instead of failing on the missing notice."""
    notice = next((n for n in application.notices.all() if n.closed_at is None), None)
    if notice is None:
        raise DomainError(_("Post the public notice first."))
    return notice
