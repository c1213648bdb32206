"""A payment roster's path, declared once (domain.md §7; docs/payments.md tells it in words).

The township prepares the month's roster (``cases.payments.services.roster_prepare``);
the county civil-affairs bureau approves it; the finance bureau reviews it, and then it
is frozen; the bank's return closes it. Either reviewer may send it back before it is
frozen, and the township prepares it again. The services check each step against this
table under the row lock; the roster page and ``POST /api/rosters/<id>/<step>/`` are
bound to it in cases.payments.views and cases.payments.api.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.models import User
from aid_portal.steps import Step, StepTable
from cases.payments.models import Roster, RosterEvent

R = Roster.State


def roster_event_write(
    roster: Roster,
    actor: User | None,
    action: str,
    from_state: str,
    to_state: str,
    *,
    reason: str = "",
    data: dict | None = None,
) -> RosterEvent:
    """The history row of a roster's step, in the caller's transaction."""
    return RosterEvent.objects.create(
        roster=roster,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
    )


ROSTER = StepTable(
    "roster",
    [
        Step(
            "recheck",
            _("Check the lines again"),
            permissions.PREPARE_ROSTERS,
            frozenset({R.PREPARED}),
            done=_("checked the roster's lines again"),
        ),
        Step(
            "line_hold",
            _("Hold a line back"),
            permissions.PREPARE_ROSTERS,
            frozenset({R.PREPARED}),
            done=_("held a line back"),
        ),
        Step(
            "county_approve",
            _("Approve for the county"),
            permissions.APPROVE_ROSTERS,
            frozenset({R.PREPARED}),
            R.COUNTY_APPROVED,
            done=_("approved the roster for the county"),
        ),
        Step(
            "finance_approve",
            _("Review for finance and freeze"),
            permissions.REVIEW_ROSTERS_FOR_FINANCE,
            frozenset({R.COUNTY_APPROVED}),
            R.APPROVED,
            done=_("reviewed the roster for finance; it is frozen"),
        ),
        Step(
            "send_back",
            _("Send back to the township"),
            permissions.RETURN_ROSTERS,
            frozenset({R.PREPARED, R.COUNTY_APPROVED}),
            R.WITHDRAWN,
            done=_("sent the roster back to the township"),
            danger=True,
        ),
        Step(
            "return_apply",
            _("Apply the bank's return"),
            permissions.EXCHANGE_BANK_FILES,
            frozenset({R.APPROVED}),
            None,  # paid once every bank has answered; approved until then
            done=_("applied a bank return"),
        ),
    ],
    region=lambda roster: roster.township,
    event=roster_event_write,
    audit_prefix="roster",
    audit_facts=lambda roster: {"month": roster.month, "total": roster.total},
    events={
        "prepare": _("prepared the roster"),
        "paid": _("every bank has answered"),
    },
)
