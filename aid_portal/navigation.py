"""The navigation bar: what each role finds in it. Each feature adds its entries here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aid_portal import access
from aid_portal.models import Role, User

EVERYONE = None


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    roles: frozenset[str] | None  # None: every signed-in user

    @property
    def url(self) -> str:
        return reverse(self.url_name)


ITEMS = [
    NavItem(_("Home"), "home", EVERYONE),
    NavItem(
        _("New application"),
        "cases:intake-start",
        frozenset({Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_CASEWORKER}),
    ),
    NavItem(
        _("Work queue"),
        "cases:queue",
        frozenset({Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_CASEWORKER}),
    ),
    NavItem(
        _("Awaiting decision"),
        "cases:decisions",
        frozenset({Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
    ),
    NavItem(
        _("Periodic reviews"),
        "cases:reviews",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER}),
    ),
    NavItem(
        _("Adjustments to act on"),
        "cases:adjustments",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER}),
    ),
    NavItem(_("Monthly file checks"), "cases:file-checks", frozenset({Role.COUNTY_AUDITOR})),
    NavItem(_("County policies"), "cases:policies", access.CASE_READERS | {Role.FEED_ADMIN}),
    NavItem(
        _("Verification requests"),
        "verification:requests",
        frozenset({Role.VERIFICATION_OFFICER}),
    ),
    NavItem(
        _("Departments and data feeds"), "verification:departments", frozenset({Role.FEED_ADMIN})
    ),
    NavItem(
        _("Batch comparisons"),
        "verification:batch-runs",
        frozenset({Role.COUNTY_AUDITOR, Role.VERIFICATION_OFFICER, Role.FEED_ADMIN}),
    ),
    NavItem(_("Batch findings"), "verification:findings", frozenset({Role.TOWNSHIP_CASEWORKER})),
    NavItem(_("Spot-checks"), "verification:spotcheck-campaigns", frozenset({Role.COUNTY_AUDITOR})),
    NavItem(
        _("Trustworthy households"),
        "credit:rewards",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
    ),
    NavItem(_("Credit dashboard"), "credit:dashboard", frozenset({Role.COUNTY_AUDITOR})),
    NavItem(_("Credit findings"), "credit:findings", access.CASE_READERS),
    NavItem(
        _("Credit decisions"),
        "credit:decisions",
        frozenset({Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
    ),
    NavItem(
        _("Interviews"),
        "credit:interviews",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER}),
    ),
    NavItem(
        _("Objections"),
        "credit:objections",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
    ),
    NavItem(
        _("Credit repairs"),
        "credit:repairs",
        frozenset({Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
    ),
    NavItem(
        _("Credit platform"),
        "credit:outbox",
        frozenset({Role.COUNTY_AUDITOR, Role.FEED_ADMIN}),
    ),
    NavItem(_("Audit log"), "audit-list", access.AUDIT_READERS),
    NavItem(_("Staff and settings"), "admin:index", frozenset({Role.FEED_ADMIN})),
    NavItem(_("API"), "api-docs", EVERYONE),
]


def navigation_for(user: User) -> list[NavItem]:
    roles = access.roles_of(user)
    return [item for item in ITEMS if item.roles is None or user.is_superuser or roles & item.roles]
