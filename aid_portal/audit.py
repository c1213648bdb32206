"""The one way to write the audit log.

Services call :func:`audit_record` inside the transaction of the change they make,
so the row exists exactly when the change does. The client address comes from the
request through a context variable set by ClientAddressMiddleware, so services never
take a request object; tasks and commands run with no address.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from aid_portal.models import AuditEvent, Region, User

client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_address", default=None
)


# How each action reads on the audit page. Each feature adds the actions it writes.
ACTION_LABELS = {
    "user.login": _("logged in"),
    "user.logout": _("logged out"),
    "user.create": _("created a staff account"),
    "user.change": _("changed a staff account"),
    "user.disable": _("disabled a staff account"),
    "user.enable": _("enabled a staff account"),
    "user.password_set": _("set a staff member's password"),
    "login.unlock": _("unlocked a login"),
    "periodictask.add": _("added a schedule"),
    "periodictask.change": _("changed a schedule"),
    "periodictask.delete": _("deleted a schedule"),
    "role.grant": _("granted a role"),
    "role.revoke": _("withdrew a role"),
    "region.load": _("loaded regions"),
    "region.cover_grant": _("granted cover access"),
    "region.cover_revoke": _("withdrew cover access"),
    "sensitive.read": _("viewed sensitive personal data"),
    "calendaryear.add": _("entered a holiday year"),
    "calendaryear.change": _("changed a holiday year"),
    "calendarday.add": _("added a calendar override"),
    "calendarday.change": _("changed a calendar override"),
    "calendarday.delete": _("deleted a calendar override"),
    # cases
    "policy.create": _("entered a county policy"),
    "proofitem.add": _("added a proof item"),
    "proofitem.change": _("changed a proof item"),
    "household.create": _("opened a household"),
    "member.add": _("added a member"),
    "member.remove": _("removed a member"),
    "income.add": _("declared an income"),
    "income.remove": _("removed an income"),
    "asset.add": _("declared an asset"),
    "asset.remove": _("removed an asset"),
    "expenditure.add": _("declared a rigid expenditure"),
    "rigidexpenditure.remove": _("removed a rigid expenditure"),
    "authorisation.record": _("recorded a verification authorisation"),
    "proof.record": _("recorded a proof item"),
    "declaration.commit": _("recorded the declaration commitment"),
    "near_relative.file": _("filed a near relative"),
    "document.upload": _("uploaded a document"),
    "document.read": _("downloaded a document"),
    "document.download": _("downloaded a document (API)"),
    "household_file.zip": _("downloaded the household file"),
    "application.create": _("opened an application"),
    "application.submit": _("submitted an application"),
    "application.return": _("returned an application for completion"),
    "application.accept": _("accepted an application"),
    "application.extend": _("extended the time limit"),
    "application.verification_request": _("requested verification"),
    "application.verification_consistent": _("verification: basically consistent"),
    "application.verification_gap": _("verification: clear gap"),
    "application.feedback_objection": _("recorded the family's objection"),
    "application.feedback_close": _("closed the objection window"),
    "application.home_visit": _("recorded a home visit"),
    "application.democratic_review": _("recorded a democratic review"),
    "application.notice_post": _("posted the public notice"),
    "application.notice_objection": _("recorded an objection during notice"),
    "application.notice_objection_handle": _("handled an objection during notice"),
    "application.notice_close": _("closed the public notice"),
    "application.county_check": _("recorded the county key check"),
    "application.approve": _("approved an application"),
    "application.reject": _("rejected an application"),
    "application.withdraw": _("withdrew an application"),
    "application.payment_start": _("started payment"),
    "application.suspend": _("put a case on hold"),
    "application.resume": _("lifted a hold on a case"),
    "application.amount_adjust": _("changed a monthly amount"),
    "application.gradual_exit": _("started a gradual exit"),
    "application.stop": _("stopped benefits"),
    "application.adjustment_propose": _("proposed an adjustment"),
    "application.adjustment_adopt": _("adopted an adjustment"),
    "application.adjustment_decline": _("declined an adjustment"),
    "application.member_death": _("recorded a member's death"),
    "review.open": _("opened a periodic review"),
    "review.redeclaration_start": _("started a review's re-declaration"),
    "review.redeclaration_finish": _("recorded a review's re-declaration"),
    "review.verification_request": _("requested verification for a review"),
    "review.outcome": _("recorded a review's verification outcome"),
    "review.decide": _("decided a periodic review"),
    "member.work_ability": _("changed a member's ability to work"),
    "file_check.create": _("created the monthly check of new dibao files"),
    "file_check.item": _("checked a new dibao file"),
    "file_check.done": _("finished the monthly check of new dibao files"),
    # verification
    "verification.request": _("requested verification from departments"),
    "verification.query_answer": _("a department answered"),
    "verification.query_fail": _("a department could not answer"),
    "verification.query_reask": _("asked a department again"),
    "verification.report_build": _("built a verification report"),
    "verification.report_issue": _("issued a verification report"),
    "feed.configure": _("changed a feed's settings"),
    "snapshot.upload": _("uploaded a department file"),
    "snapshot.complete": _("a department file was loaded"),
    "snapshot.rejected": _("a department file was rejected"),
    "snapshot.failed": _("a department file failed to load"),
    "batch.run": _("ran a batch comparison"),
    "batch.request": _("started a batch comparison"),
    "batch_finding.resolve": _("resolved a batch comparison finding"),
    "spot_check.draw": _("drew a spot-check campaign"),
    "spot_check.assign": _("assigned spot-check cases to auditors"),
    "spot_check.finding": _("recorded spot-check findings"),
    # credit: findings and sanctions
    "credit_finding.record": _("recorded a credit finding"),
    "credit_finding.decide": _("decided a credit finding"),
    "credit_finding.propose": _("proposed a severe credit finding to the county"),
    "credit_finding.confirm": _("confirmed a severe credit finding"),
    "credit_finding.dismiss": _("did not confirm a credit finding"),
    "credit_finding.sanctions_on": _("switched on the sanctions of a credit finding"),
    "credit_finding.sanctions_off": _("switched off the sanctions of a credit finding"),
    "credit_finding.interview": _("recorded a reminder interview"),
    "credit_finding.repayment": _("recorded a repayment"),
    "credit_finding.object": _("recorded an objection to a credit finding"),
    "credit_finding.objection_reject": _("rejected an objection to a credit finding"),
    "credit_finding.objection_uphold": _("upheld an objection and withdrew a credit finding"),
    "credit_finding.repair_apply": _("recorded an application for credit repair"),
    "credit_finding.repair_refuse": _("refused a credit repair"),
    "credit_finding.repair": _("granted a credit repair"),
    "credit_outbox.deliver": _("delivered a record to the credit-information platform"),
    "credit_outbox.export": _("exported the credit-information records"),
    "behaviour.add": _("added an untrustworthy behaviour to the catalogue"),
    "behaviour.change": _("changed an untrustworthy behaviour in the catalogue"),
    # credit: trust
    "trust.record": _("recorded trustworthy behaviour"),
    "reward.grant": _("granted a reward for trustworthy behaviour"),
    "yearly_result.compute": _("computed the yearly credit results"),
    "yearly_result.request": _("asked for the yearly credit results to be computed"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


class AuditOutsideTransaction(RuntimeError):
    """A state change tried to write its audit row outside its own transaction."""


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    region: Region | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Record a state change. Must run inside the atomic block that makes the change."""
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction(
            f"audit_record({action!r}) must be called inside transaction.atomic()"
        )
    return _write(
        actor=actor, action=action, obj=obj, region=region, old=old, new=new, reason=reason
    )


def audit_sensitive_read(
    *, actor: User, obj: models.Model, field: str, region: Region | None, reason: str = ""
) -> AuditEvent:
    """Record that ``actor`` saw the full value of a sensitive field of ``obj``.

    Reads happen outside any state change, so this helper opens no requirement for
    a transaction; it commits on its own.
    """
    return _write(
        actor=actor,
        action="sensitive.read",
        obj=obj,
        region=region,
        old=None,
        new={"field": field},
        reason=reason,
    )


def _write(*, actor, action, obj, region, old, new, reason) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.get_username() if actor is not None and actor.pk else "system",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:200] if obj is not None else "",
        region=region,
        old_values=old,
        new_values=new,
        reason=reason,
        client_address=client_address.get(),
    )
