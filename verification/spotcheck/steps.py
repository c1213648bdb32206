"""The county spot-check, declared once (domain.md §5; docs/supervision.md).

Two rows move: the campaign (drawn, running once its cases are handed out, finished
when the last one is visited) and each sampled case (drawn, assigned to an auditor,
visited once its findings are recorded). Drawing makes a campaign and is no step of
one. The services of verification.spotcheck.services check each step against these tables under
the row lock; the campaign page and the sampled case's page take them through
aid_portal.steps.step_page (bound in verification.spotcheck.views), the API through
``POST /api/spot-checks/campaigns/<id>/<step>/`` and ``.../items/<id>/<step>/`` (bound
in verification.spotcheck.api).

A step's roles are the roles a person holds over the place (a cover grant widens what
they may read, never what they may do). Which auditor records a sampled case is the
case's own ``assigned_to`` (written by "assign"), checked by the service
(services.sample_item_may_check).
The audit rows are written by the services as before (``spot_check.assign``,
``spot_check.finding``); neither workflow keeps a history table of its own.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.steps import Step, StepTable
from verification.spotcheck.models import SampleItem, SpotCheckCampaign

Status = SpotCheckCampaign.Status
State = SampleItem.State

SPOT_CHECK_CAMPAIGN = StepTable(
    "spot_check_campaign",
    [
        Step(
            "assign",
            _("Assign the unvisited cases"),
            permissions.RUN_SPOT_CHECKS,
            frozenset({Status.DRAWN, Status.RUNNING}),
            Status.RUNNING,  # and each case dealt goes to "assigned"
            done=_("spot-check cases assigned"),
        ),
        Step(
            "finish",
            _("Finish the campaign"),
            frozenset(),
            frozenset({Status.RUNNING}),
            Status.FINISHED,
            done=_("spot-check campaign finished"),
            internal=True,  # with the findings on its last unvisited case
        ),
    ],
    region=lambda campaign: campaign.county,
    event=None,
    audit_prefix="spot_check",
    state_field="status",
)

SPOT_CHECK = StepTable(
    "spot_check",
    [
        Step(
            "finding",
            _("Record the findings"),
            permissions.RUN_SPOT_CHECKS,
            frozenset({State.ASSIGNED}),
            State.VISITED,
            done=_("spot-check findings recorded"),
        ),
    ],
    region=lambda item: item.application.village,
    event=None,
    audit_prefix="spot_check",
)
