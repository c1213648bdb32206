"""A credit finding's path, declared once (domain.md §6; docs/credit.md tells it in words).

The services check each step against this table under the row lock, the finding page
offers the steps it allows, the API routes ``POST /api/credit/findings/<id>/<step>/``
from it, and the tests of who may take what read it. The page and API bindings sit
beside the views (credit.findings.views, credit.findings.api). A step that acts on one
of the finding's rows (its interview, its repayment order, its objection, its repair
application) is still the finding's step: the finding is locked and checked first, and
the binding finds the row.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.models import User
from aid_portal.steps import Step, StepTable
from credit.findings.models import Finding, FindingEvent, Level

F = Finding.State


def dismissers(finding: Finding) -> frozenset[str]:
    """The township does not confirm a finding it was asked to decide; the county a
    severe one proposed to it. Once decided, both could have: they hear it is decided."""
    if finding.state == F.PROPOSED:
        return permissions.DECIDE_CREDIT_FINDINGS
    if finding.state == F.COUNTY_PENDING:
        return permissions.CONFIRM_CREDIT_FINDINGS
    return permissions.DECIDE_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS


def repair_deciders(finding: Finding) -> frozenset[str]:
    """The township decides repairs of light and moderate findings, the county of severe."""
    if finding.level == Level.SEVERE:
        return permissions.CONFIRM_CREDIT_FINDINGS
    return permissions.DECIDE_CREDIT_FINDINGS


def finding_event_write(
    finding: Finding,
    actor: User | None,
    action: str,
    from_state: str,
    to_state: str,
    *,
    on: datetime.date,
    reason: str = "",
    data: dict | None = None,
) -> FindingEvent:
    """The history row of a step (FindingEvent), dated the day it happened, in the
    caller's transaction."""
    return FindingEvent.objects.create(
        finding=finding,
        on=on,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason.strip(),
        data=data,
    )


CREDIT_FINDING = StepTable(
    "credit_finding",
    [
        Step(
            "decide",
            _("Decide the finding"),
            permissions.DECIDE_CREDIT_FINDINGS,
            frozenset({F.PROPOSED}),
            F.STANDING,  # or, severe, proposed to the county (county_pending)
            done=_("decided a credit finding"),
        ),
        Step(
            "confirm",
            _("Confirm the severe finding"),
            permissions.CONFIRM_CREDIT_FINDINGS,
            frozenset({F.COUNTY_PENDING}),
            F.STANDING,
            done=_("confirmed a severe credit finding"),
        ),
        Step(
            "dismiss",
            _("Do not confirm"),
            dismissers,
            Finding.UNDECIDED,
            F.DISMISSED,
            done=_("did not confirm a credit finding"),
            danger=True,
        ),
        Step(
            "interview",
            _("Record the reminder interview"),
            permissions.RECORD_CREDIT_FINDINGS,
            Finding.IN_FORCE,
            done=_("recorded a reminder interview"),
        ),
        Step(
            "repayment",
            _("Record a repayment"),
            permissions.RECORD_CREDIT_FINDINGS,
            Finding.IN_FORCE,
            done=_("recorded a repayment"),
        ),
        Step(
            "recover",
            _("Recover from the household's payments"),
            permissions.RECORD_CREDIT_FINDINGS,
            Finding.IN_FORCE,
            done=_("ordered a recovery from the household's payments"),
        ),
        Step(
            "object",
            _("Record an objection"),
            permissions.RECORD_CREDIT_FINDINGS,
            frozenset({F.STANDING}),
            F.OBJECTED,
            done=_("recorded an objection to a credit finding"),
        ),
        Step(
            "objection_review",
            _("Review the objection"),
            permissions.REVIEW_CREDIT_OBJECTIONS,
            frozenset({F.OBJECTED}),
            None,  # rejected: standing again; upheld: withdrawn
        ),
        Step(
            "repair_apply",
            _("Record an application for repair"),
            permissions.RECORD_CREDIT_FINDINGS,
            frozenset({F.STANDING}),
            done=_("recorded an application for credit repair"),
        ),
        Step(
            "repair_decide",
            _("Decide the repair"),
            repair_deciders,
            Finding.IN_FORCE,
            None,  # granted: repaired; refused: the state stays
        ),
    ],
    region=lambda finding: finding.village,
    event=finding_event_write,
    audit_prefix="credit_finding",
    audit_facts=lambda finding: {"level": finding.level},
    events={
        # Outcomes of steps, and what the portal writes on a finding's history itself.
        "record": _("recorded a credit finding"),
        "propose": _("proposed a severe credit finding to the county"),
        "sanctions_on": _("switched on the sanctions of a credit finding"),
        "sanctions_off": _("switched off the sanctions of a credit finding"),
        "objection_reject": _("rejected an objection to a credit finding"),
        "objection_uphold": _("upheld an objection and withdrew a credit finding"),
        "repair_refuse": _("refused a credit repair"),
        "repair": _("granted a credit repair"),
        "recovery_credited": _("counted a recovery from the payments as repaid"),
        "recovery_refunded": _("paid back what the payments gave up beyond what was owed"),
        "outbox_delivered": _("delivered a record to the credit-information platform"),
    },
)
