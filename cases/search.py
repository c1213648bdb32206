"""What a search term finds among cases, shared by every list of case rows and by the
global search (cases.casework.views.search).

One term is read as one thing, by its shape: an identity number (found through its
blind index, ``Person.identity_hash``; the encrypted numbers are never decrypted to
search), an application number (``<township prefix>-<id>``), a household number (digits,
or ``#`` and digits), and otherwise part of a name or of a village's name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.crypto import blind_index
from aid_portal.identity import normalize_identity_number
from aid_portal.listing import SearchFilterSet
from aid_portal.models import Region, User
from cases.records import Application, Household, Member
from cases.selectors import application_list_for_user

IDENTITY_SHAPE = re.compile(r"\d{17}[\dX]")
APPLICATION_NUMBER = re.compile(r"(\d+)-(\d+)")
HOUSEHOLD_NUMBER = re.compile(r"#?(\d{1,12})")


def identity_number_in(term: str) -> str:
    """The identity number a term is, typed with spaces or a lower-case x; else ""."""
    number = normalize_identity_number(re.sub(r"\s", "", term))
    return number if IDENTITY_SHAPE.fullmatch(number) else ""


def case_search_q(term: str, *, household: str, application: str | None) -> Q:
    """Rows whose household (reached by the path ``household``, "" for households
    themselves) or application (``application``: "" for applications, None where a row
    has none) the term names."""
    to_household = f"{household}id__in"
    number = identity_number_in(term)
    if number:
        holders = Member.objects.filter(person__identity_hash=blind_index(number))
        return Q(**{to_household: holders.values("household_id")})
    if match := APPLICATION_NUMBER.fullmatch(term):
        prefix, pk = match.group(1), int(match.group(2))
        if application is None:
            found = Application.objects.filter(pk=pk, village__code__startswith=prefix)
            return Q(**{to_household: found.values("household_id")})
        return Q(**{f"{application}pk": pk, f"{application}village__code__startswith": prefix})
    if match := HOUSEHOLD_NUMBER.fullmatch(term):
        pk = int(match.group(1))
        by_household = Q(**{f"{household}pk": pk})
        if application is None or term.startswith("#"):
            return by_household
        return by_household | Q(**{f"{application}pk": pk})
    named = Member.objects.filter(person__name__icontains=term).values("household_id")
    return Q(**{to_household: named}) | Q(**{f"{household}village__name__icontains": term})


class CaseSearchFilterSet(SearchFilterSet):
    """The search box and the village of lists whose rows lead to a household.

    Subclasses set ``household`` and ``application`` (the paths of case_search_q) and
    declare ``village`` with village_filter(path).
    """

    household = "household__"
    application: str | None = ""
    # The roles of the list's rows: its village select offers the same places (and
    # reuses the jurisdiction its rows already read: no query more).
    roles: frozenset[str] = permissions.READ_CASES

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        if "village" in self.filters and user is not None and user.is_authenticated:

            @functools.cache  # drawing the select reads the choices more than once
            def choices():
                villages = access.restrict(
                    Region.objects.filter(level=Region.Level.VILLAGE),
                    user,
                    region_field=None,
                    roles=self.roles,
                ).order_by("code")
                return [("", "---------"), *((v.code, v.name) for v in villages)]

            # The page offers the user's villages, read only when the form is drawn (the
            # API never asks); the API takes any code prefix, a township's say, and the
            # jurisdiction bounds the rows either way.
            self.form.fields["village"].widget = forms.Select(choices=choices)

    def search_q(self, term: str) -> Q:
        return case_search_q(term, household=self.household, application=self.application)


def village_filter(path: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(
        field_name=f"{path}__code", lookup_expr="startswith", label=_("Village")
    )


SEARCH_LIMIT = 20  # rows shown per kind; a longer answer asks for a closer term


@dataclass
class SearchResults:
    term: str
    applications: list
    households: list
    members: list  # one row per person found, with the household it was found in

    @property
    def empty(self) -> bool:
        return not (self.applications or self.households or self.members)


def search_for_user(*, user: User, term: str) -> SearchResults:
    """The global search: applications, households and persons the term names, inside
    the user's places only."""
    access.require_role(user, permissions.READ_CASES)
    term = term.strip()
    if not term:
        return SearchResults(term, [], [], [])
    applicants = Prefetch(
        "household__members",
        queryset=Member.objects.filter(relation=Member.Relation.SELF).select_related("person"),
        to_attr="applicants",
    )
    applications = (
        application_list_for_user(user=user)
        .filter(case_search_q(term, household="household__", application=""))
        .prefetch_related(applicants)
        .order_by("-created_at", "-id")[:SEARCH_LIMIT]
    )
    households = access.restrict(
        Household.objects.select_related("village"), user, region_field="village"
    ).filter(case_search_q(term, household="", application=None))
    members = Member.objects.filter(household__in=households)
    number = identity_number_in(term)
    if number:
        members = members.filter(person__identity_hash=blind_index(number))
    elif not HOUSEHOLD_NUMBER.fullmatch(term) and not APPLICATION_NUMBER.fullmatch(term):
        members = members.filter(person__name__icontains=term)
    return SearchResults(
        term=term,
        applications=list(applications),
        households=list(
            households.prefetch_related(
                Prefetch(
                    "applications",
                    queryset=Application.objects.order_by("-created_at"),
                    to_attr="latest",
                ),
                Prefetch(
                    "members",
                    queryset=Member.objects.filter(relation=Member.Relation.SELF).select_related(
                        "person"
                    ),
                    to_attr="applicants",
                ),
            ).order_by("-created_at", "-id")[:SEARCH_LIMIT]
        ),
        members=list(
            members.select_related("person", "household__village")
            .prefetch_related(
                Prefetch(
                    "household__applications",
                    queryset=Application.objects.order_by("-created_at"),
                    to_attr="latest",
                )
            )
            .order_by("person__name", "id")[:SEARCH_LIMIT]
        ),
    )
