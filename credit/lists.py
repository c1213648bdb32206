"""The credit lists (aid_portal.listing): the findings of the user's places and the
findings waiting for their decision.

Each names the rows its user may see (the role checked, the jurisdiction first, as the
page always did), the FilterSet its page and API list share, and its export's columns.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.listing import Column, ListSpec, register
from credit.findings import selectors
from credit.findings.filters import CreditFindingFilter
from credit.findings.models import Finding


def _findings(user):
    access.require_role(user, permissions.READ_CASES)
    return selectors.finding_list_for_user(user=user)


def decision_states(user) -> list[str]:
    """The states a user decides on: the township's proposals, the county's confirmations."""
    states = []
    if access.has_role(user, permissions.DECIDE_CREDIT_FINDINGS):
        states.append(Finding.State.PROPOSED)
    if access.has_role(user, permissions.CONFIRM_CREDIT_FINDINGS):
        states.append(Finding.State.COUNTY_PENDING)
    return states


def _decisions(user):
    access.require_role(
        user, permissions.DECIDE_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS
    )
    return selectors.finding_list_for_user(user=user).filter(state__in=decision_states(user))


FINDING_COLUMNS = [
    Column(_("No."), lambda f: f"#{f.pk}"),
    Column(_("Found on"), lambda f: f.found_on),
    Column(_("Village"), lambda f: f.village.name),
    Column(_("Household"), lambda f: f.household_id),
    Column(_("Person"), lambda f: f.person.name if f.person else ""),
    Column(
        _("Identity number"), lambda f: f.person.identity_number if f.person else "", identity=True
    ),
    Column(_("Behaviour"), lambda f: f.behaviour.name),
    Column(_("Level"), lambda f: f.get_level_display()),
    Column(_("State"), lambda f: f.get_state_display()),
    Column(_("Found by"), lambda f: str(f.found_by) if f.found_by else ""),
]

CREDIT_FINDINGS = register(
    ListSpec(
        name="credit-findings",
        title=_("Credit findings"),
        rows=_findings,
        filterset=CreditFindingFilter,
        columns=FINDING_COLUMNS,
    )
)
CREDIT_DECISIONS = register(
    ListSpec(
        name="credit-decisions",
        title=_("Credit findings to decide"),
        rows=_decisions,
        filterset=CreditFindingFilter,
        columns=FINDING_COLUMNS,
    )
)
