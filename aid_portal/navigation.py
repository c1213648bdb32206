"""The navigation bar: what each role finds in it. Each feature adds its entries here.

Entries of one ``group`` (the credit pages, say) fold into one drop-down menu where a
user sees more than one of them, so that a county auditor's bar stays one line."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.models import Role, User

EVERYONE = None


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    roles: frozenset[str] | None  # None: every signed-in user
    group: Promise | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass
class NavGroup:
    label: Promise
    items: list[NavItem]
    current: bool = False  # the page shown is one of the group's


CREDIT = _("Credit management")
MONEY = _("Payments")
API = _("API")


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
    NavItem(_("Case overview"), "cases:overview", permissions.READ_CASE_OVERVIEW),
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
    NavItem(_("County policies"), "cases:policies", permissions.READ_CASES | {Role.FEED_ADMIN}),
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
    NavItem(_("Credit findings"), "credit:findings", permissions.READ_CASES, group=CREDIT),
    NavItem(
        _("Credit decisions"),
        "credit:decisions",
        frozenset({Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
        group=CREDIT,
    ),
    NavItem(
        _("Interviews"),
        "credit:interviews",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER}),
        group=CREDIT,
    ),
    NavItem(
        _("Objections"),
        "credit:objections",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
        group=CREDIT,
    ),
    NavItem(
        _("Credit repairs"),
        "credit:repairs",
        frozenset({Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
        group=CREDIT,
    ),
    NavItem(
        _("Trustworthy households"),
        "credit:rewards",
        frozenset({Role.TOWNSHIP_CASEWORKER, Role.TOWNSHIP_APPROVER, Role.COUNTY_AUDITOR}),
        group=CREDIT,
    ),
    NavItem(
        _("Credit dashboard"), "credit:dashboard", frozenset({Role.COUNTY_AUDITOR}), group=CREDIT
    ),
    NavItem(
        _("Credit platform"),
        "credit:outbox",
        frozenset({Role.COUNTY_AUDITOR, Role.FEED_ADMIN}),
        group=CREDIT,
    ),
    NavItem(_("Payment rosters"), "cases:rosters", permissions.READ_PAYMENTS, group=MONEY),
    NavItem(_("Failed payments"), "cases:payments-failed", permissions.READ_PAYMENTS, group=MONEY),
    NavItem(_("Funds ledger"), "cases:funds", permissions.READ_PAYMENTS, group=MONEY),
    NavItem(_("Reconciliation"), "cases:reconciliations", permissions.READ_PAYMENTS, group=MONEY),
    NavItem(_("Public roster"), "cases:publicity", permissions.READ_PUBLICITY, group=MONEY),
    NavItem(
        _("Reports from the public"),
        "cases:public-reports",
        permissions.READ_PUBLICITY,
        group=MONEY,
    ),
    NavItem(_("Audit log"), "audit-list", permissions.READ_AUDIT_LOG),
    NavItem(_("Staff and settings"), "admin:index", frozenset({Role.FEED_ADMIN})),
    NavItem(_("API documentation"), "api-docs", EVERYONE, group=API),
    NavItem(_("API tokens"), "api-token-list", EVERYONE, group=API),
]


def navigation_for(user: User, path: str = "") -> list[NavItem | NavGroup]:
    """The user's entries in order; a group stands where its first entry would, and is
    marked current when ``path`` is one of its pages."""
    roles = access.roles_of(user)
    visible = [i for i in ITEMS if i.roles is None or user.is_superuser or roles & i.roles]
    entries: list[NavItem | NavGroup] = []
    groups: dict[str, NavGroup] = {}
    for item in visible:
        if item.group is None or sum(i.group == item.group for i in visible) == 1:
            entries.append(item)
        elif str(item.group) in groups:
            groups[str(item.group)].items.append(item)
        else:
            groups[str(item.group)] = NavGroup(item.group, [item])
            entries.append(groups[str(item.group)])
    for group in groups.values():
        group.current = any(item.url == path for item in group.items)
    return entries
