"""Every state change of credit discipline: one keyword-only function each, one
transaction each, each writing its FindingEvent and its audit row.

Steps lock the finding row (select_for_update) and check its state after the lock, so of
two people acting at once exactly one succeeds; the other gets a clear "already ..."
answer (Conflict). A finding outside the actor's jurisdiction is "not found".

The finding switches its sanctions on when it takes effect and off when it is withdrawn
(objection upheld) or repaired; the sanctions are rows, so the history keeps them.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import httpx
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.celery import enqueue_on_commit
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import User
from cases import restrictions as case_restrictions
from cases.casework import documents
from cases.casework import services as casework_services
from cases.models import Application, Document, Household, Member, Person
from cases.payments import services as payment_services
from cases.policy import policy_in_force
from credit.findings.models import (
    Behaviour,
    Finding,
    FindingEvent,
    Interview,
    Level,
    Objection,
    OrderRecovery,
    OrderRefund,
    OutboxMessage,
    Repair,
    Repayment,
    RepaymentOrder,
    Sanction,
)
from credit.findings.steps import CREDIT_FINDING, finding_event_write

logger = logging.getLogger(__name__)

F = Finding.State
K = Sanction.Kind
# The sanctions whose effect casework must know of (cases.CreditRestriction).
RESTRICTING = frozenset({K.BLOCK, K.WATCH_LIST})

# Who records findings, interviews, objections and repair applications: the township.

NEXT_LEVEL = {Level.LIGHT: Level.MODERATE, Level.MODERATE: Level.SEVERE}


def _today(day: datetime.date | None) -> datetime.date:
    return day or timezone.localdate()


def _require(condition, message: str, *, field: str | None = None) -> None:
    if not condition:
        raise DomainError(message, field=field)


# --- escalation ---------------------------------------------------------------------------


def escalated_level(
    *, household_id: int, level: str, on: datetime.date, exclude_id: int | None = None
) -> tuple[str, Finding | None]:
    """The level a new finding of ``level`` takes, and the finding that raised it.

    Two findings are consecutive (docs/credit.md) when the earlier one is the household's
    latest finding that took effect before ``on``, it is still in force (not repaired,
    not withdrawn), and it took effect less than the trustworthy period before ``on``
    (``credit_trustworthy_months`` of the county's policy in force on ``on``).
    Two consecutive light make the second moderate; two consecutive moderate, severe.
    """
    if level not in NEXT_LEVEL:
        return level, None
    previous = (
        Finding.objects.filter(
            household_id=household_id, state__in=Finding.TOOK_EFFECT, effective_on__lte=on
        )
        .select_related("village")
        .exclude(pk=exclude_id)
        .order_by("-effective_on", "-id")
        .first()
    )
    if previous is None or previous.state == F.REPAIRED or previous.level != level:
        return level, None
    policy = policy_in_force(county=previous.village.county(), on=on)
    trustworthy_since = previous.effective_on + relativedelta(
        months=policy.credit_trustworthy_months
    )
    if on >= trustworthy_since:
        return level, None
    return NEXT_LEVEL[level], previous


# --- recording and deciding ----------------------------------------------------------------


def finding_record(
    *,
    actor: User,
    household_id: int,
    person_id: int | None,
    behaviour_code: str,
    facts: str,
    source_kind: str,
    source_id: int | None = None,
    application_id: int | None = None,
    evidence: Sequence[UploadedFile | Document] = (),
    found_on: datetime.date | None = None,
) -> Finding:
    """Record a finding for the township to decide. The level comes from the catalogue,
    raised by escalation when the household's previous finding was of the same level."""
    found_on = _today(found_on)
    household = Household.objects.select_related("village").filter(pk=household_id).first()
    if household is None or not access.jurisdiction_for(actor).contains(household.village):
        raise DomainError(_("No such household."), field="household")
    # The county records what its own spot-check home visits found; everything else is
    # found and recorded by the township.
    recorders = (
        permissions.RECORD_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS
        if source_kind == Finding.SourceKind.SPOT_CHECK
        else permissions.RECORD_CREDIT_FINDINGS
    )
    access.require_role(actor, recorders, household.village)
    _require(facts.strip(), _("Describe the facts that were found."), field="facts")
    behaviour = Behaviour.objects.filter(code=behaviour_code, active=True).first()
    _require(behaviour is not None, _("Choose a behaviour from the catalogue."), field="behaviour")
    _require(
        source_kind in Finding.SourceKind.values,
        _("Say where the behaviour was found."),
        field="source_kind",
    )
    _require(
        found_on <= timezone.localdate(),
        _("The date found cannot be in the future."),
        field="found_on",
    )
    person = None
    if person_id is not None:
        person = Person.objects.filter(
            pk=person_id, memberships__household=household, memberships__is_supporter=False
        ).first()
        _require(
            person is not None, _("The person is not a member of this household."), field="person"
        )
    application = None
    if application_id is not None:
        application = household.applications.filter(pk=application_id).first()
        _require(
            application is not None,
            _("The application is not this household's."),
            field="application",
        )
    with transaction.atomic():
        # Two findings on one household at once must see each other for escalation.
        Household.objects.select_for_update().filter(pk=household.pk).first()
        recorded = behaviour.portal_level
        level, previous = escalated_level(household_id=household.pk, level=recorded, on=found_on)
        finding = Finding.objects.create(
            household=household,
            person=person,
            village=household.village,
            application=application,
            behaviour=behaviour,
            level_recorded=recorded,
            level=level,
            escalated_from=previous,
            facts=facts.strip(),
            found_by=actor,
            found_on=found_on,
            source_kind=source_kind,
            source_id=source_id,
        )
        stored = [_stored(actor, household, scan) for scan in evidence]
        finding.evidence.add(*stored)
        data = {"behaviour": behaviour.code, "level": level, "level_recorded": recorded}
        if previous is not None:
            data["escalated_from"] = previous.pk
        finding_event_write(finding, actor, "record", "", F.PROPOSED, on=found_on, data=data)
        audit_record(
            actor=actor,
            action="credit_finding.record",
            obj=finding,
            region=household.village,
            new=data,
        )
    return finding


def finding_decide(
    *, actor: User, finding_id: int, note: str = "", today: datetime.date | None = None
) -> Finding:
    """The township's decision. Light and moderate take effect now; a severe finding is
    proposed to the county, which confirms it (finding_confirm)."""
    today = _today(today)
    with transaction.atomic():
        finding = _lock(finding_id, actor, "decide")
        level, previous = escalated_level(
            household_id=finding.household_id,
            level=finding.level_recorded,
            on=finding.found_on,
            exclude_id=finding.pk,
        )
        if level != finding.level:
            # The earlier finding was withdrawn or repaired since: the chain is gone.
            finding.level, finding.escalated_from = level, previous
            finding.save(update_fields=["level", "escalated_from", "updated_at"])
        if finding.level == Level.SEVERE:
            return CREDIT_FINDING.move(
                finding,
                actor,
                "propose",
                F.COUNTY_PENDING,
                reason=note,
                fields={"proposed_by": actor},
                event_fields={"on": today},
            )
        CREDIT_FINDING.move(finding, actor, "decide", reason=note, event_fields={"on": today})
        _take_effect(finding, actor, today)
        return finding


def finding_confirm(
    *,
    actor: User,
    finding_id: int,
    note: str = "",
    repayment_amount=None,
    repayment_deadline: datetime.date | None = None,
    today: datetime.date | None = None,
) -> Finding:
    """The county confirms a severe finding the township proposed; it takes effect now,
    with a repayment order when an amount is given."""
    today = _today(today)
    amount = _amount(repayment_amount) if repayment_amount not in (None, "") else None
    if amount is not None:
        _require(
            repayment_deadline is not None and repayment_deadline > today,
            _("Give a repayment deadline after today."),
            field="repayment_deadline",
        )
    with transaction.atomic():
        finding = _lock(finding_id, actor, "confirm")
        CREDIT_FINDING.move(finding, actor, "confirm", reason=note, event_fields={"on": today})
        _take_effect(finding, actor, today, amount=amount, deadline=repayment_deadline)
        return finding


def finding_dismiss(
    *, actor: User, finding_id: int, reason: str, today: datetime.date | None = None
) -> Finding:
    """The township (or, for a proposed severe finding, the county) does not confirm it."""
    today = _today(today)
    _require(reason.strip(), _("Say why the finding is not confirmed."), field="reason")
    with transaction.atomic():
        finding = _lock(finding_id, actor, "dismiss")
        return CREDIT_FINDING.move(
            finding,
            actor,
            "dismiss",
            reason=reason,
            fields={"ended_on": today},
            event_fields={"on": today},
        )


def _take_effect(
    finding: Finding,
    actor: User,
    today: datetime.date,
    *,
    amount: Decimal | None = None,
    deadline: datetime.date | None = None,
) -> None:
    """Switch on the sanctions of the finding's level; open the objection window."""
    policy = policy_in_force(county=finding.village.county(), on=today)
    finding.effective_on = today
    finding.objection_deadline = today + datetime.timedelta(days=policy.credit_objection_days)
    finding.decided_by = actor
    finding.save(update_fields=["effective_on", "objection_deadline", "decided_by", "updated_at"])
    interview_on = today + datetime.timedelta(days=policy.credit_interview_days)
    Interview.objects.create(finding=finding, scheduled_for=interview_on)
    rows = [Sanction(finding=finding, kind=K.INTERVIEW, starts_on=today)]
    if finding.level == Level.LIGHT:
        rows.append(
            Sanction(
                finding=finding,
                kind=K.WATCH_LIST,
                starts_on=today,
                ends_on=today + relativedelta(months=policy.credit_trustworthy_months),
            )
        )
    else:
        reason = _("Credit finding #%(id)s: %(behaviour)s") % {
            "id": finding.pk,
            "behaviour": finding.behaviour.name,
        }
        for application in finding.household.applications.filter(
            state__in=Application.OPEN_STATES | Application.ENROLLED_STATES
        ).order_by("id"):
            casework_services.application_suspend(
                actor=actor, application_id=application.pk, source=finding.source, reason=reason
            )
            rows.append(
                Sanction(
                    finding=finding, kind=K.SUSPENSION, application=application, starts_on=today
                )
            )
        block_months = {
            Level.MODERATE: policy.credit_block_months_moderate,
            Level.SEVERE: policy.credit_block_months_severe,
        }
        block_until = today + relativedelta(months=block_months[finding.level])
        members = Member.objects.filter(household=finding.household, is_supporter=False)
        rows += [
            Sanction(
                finding=finding,
                kind=K.BLOCK,
                person_id=person_id,
                starts_on=today,
                ends_on=block_until,
            )
            for person_id in members.values_list("person_id", flat=True).order_by("person_id")
        ]
    if finding.level == Level.SEVERE:
        if amount is not None:
            RepaymentOrder.objects.create(finding=finding, amount=amount, deadline=deadline)
            rows.append(Sanction(finding=finding, kind=K.REPAYMENT, starts_on=today))
        rows.append(Sanction(finding=finding, kind=K.PLATFORM, starts_on=today))
        _outbox_write(finding, OutboxMessage.Kind.RECORD, today)
    Sanction.objects.bulk_create(rows)
    # Casework learns of the blocks and the watch list from this call, never by asking
    # credit: cases sits below credit in the order of the apps.
    case_restrictions.credit_restrictions_start(
        restrictions=[
            case_restrictions.RestrictionStart(
                sanction_id=row.pk,
                kind=row.kind,
                person_id=row.person_id,
                household_id=finding.household_id if row.kind == K.WATCH_LIST else None,
                starts_on=row.starts_on,
                ends_on=row.ends_on,
                reason=finding.behaviour.name,
            )
            for row in rows
            if row.kind in RESTRICTING
        ]
    )
    CREDIT_FINDING.note(
        finding,
        actor,
        "sanctions_on",
        data={"sanctions": sorted({row.kind for row in rows}), "interview_on": interview_on},
        event_fields={"on": today},
    )


def _end_sanctions(
    finding: Finding, actor: User, on: datetime.date, *, why: str, withdrawn: bool
) -> None:
    """Switch off every sanction still in force, from ``on``; the rows stay."""
    reason = _("Credit finding #%(id)s %(why)s") % {"id": finding.pk, "why": why}
    active = list(finding.sanctions.filter(ended_on__isnull=True).order_by("id"))
    for sanction in active:
        if sanction.kind == K.SUSPENSION:
            casework_services.application_resume(
                actor=actor,
                application_id=sanction.application_id,
                source=finding.source,
                reason=reason,
                wrongly_held=withdrawn,
            )
    case_restrictions.credit_restrictions_end(
        sanction_ids=[sanction.pk for sanction in active if sanction.kind in RESTRICTING], on=on
    )
    finding.sanctions.filter(ended_on__isnull=True).update(ended_on=on, end_reason=why)
    finding.interviews.filter(held_on__isnull=True).delete()
    if withdrawn:
        RepaymentOrder.objects.filter(finding=finding, state=RepaymentOrder.State.OPEN).update(
            state=RepaymentOrder.State.CANCELLED, closed_on=on
        )
        # What its recoveries already took from the payments goes back to the family.
        order = RepaymentOrder.objects.select_for_update().filter(finding=finding).first()
        if order is not None:
            order_refund_excess(order=order, finding=finding, actor=actor, on=on)
    if finding.level == Level.SEVERE:
        record = OutboxMessage.objects.select_for_update().get(
            finding=finding, kind=OutboxMessage.Kind.RECORD
        )
        if record.state == OutboxMessage.State.PENDING and record.attempts == 0:
            # Never sent (a claim counts its attempt before sending): the platform need
            # not hear of it at all.
            record.state = OutboxMessage.State.CANCELLED
            record.save(update_fields=["state"])
        elif record.state in (OutboxMessage.State.PENDING, OutboxMessage.State.DELIVERED):
            # Delivered, being sent, or sent without an answer: the platform may hold it,
            # so the withdrawal or repair follows (outbox_deliver sends it only after).
            kind = OutboxMessage.Kind.WITHDRAWAL if withdrawn else OutboxMessage.Kind.REPAIR
            _outbox_write(finding, kind, on)
    CREDIT_FINDING.note(
        finding,
        actor,
        "sanctions_off",
        reason=why,
        data={"sanctions": sorted({s.kind for s in active})},
        event_fields={"on": on},
    )


# --- interviews and repayment -------------------------------------------------------------


def interview_hold(
    *, actor: User, interview_id: int, notes: str, held_on: datetime.date | None = None
) -> Interview:
    held_on = _today(held_on)
    _require(notes.strip(), _("Write down what was said in the interview."), field="notes")
    _require(
        held_on <= timezone.localdate(),
        _("The interview date cannot be in the future."),
        field="held_on",
    )
    with transaction.atomic():
        finding, interview = _lock_with(Interview, interview_id, actor, "interview")
        if interview.held_on is not None:
            raise Conflict(_("This interview was already recorded."))
        _require(
            held_on >= finding.effective_on,
            _("The interview cannot be held before the finding took effect."),
            field="held_on",
        )
        interview.held_on, interview.held_by, interview.notes = held_on, actor, notes.strip()
        interview.save(update_fields=["held_on", "held_by", "notes"])
        finding.sanctions.filter(kind=K.INTERVIEW, ended_on__isnull=True).update(
            ended_on=held_on, end_reason=_("held")
        )
        CREDIT_FINDING.note(
            finding, actor, "interview", reason=notes.strip(), event_fields={"on": held_on}
        )
        return interview


def repayment_record(
    *, actor: User, order_id: int, amount, paid_on: datetime.date | None = None
) -> RepaymentOrder:
    """A payment against the order; the order closes when the whole amount is back."""
    paid_on = _today(paid_on)
    value = _amount(amount)
    with transaction.atomic():
        finding, order = _lock_with(RepaymentOrder, order_id, actor, "repayment")
        if order.state != RepaymentOrder.State.OPEN:
            raise Conflict(_("This repayment order is already closed."))
        _require(
            value <= order.outstanding,
            _("Only %(left)s yuan is still owed.") % {"left": order.outstanding},
            field="amount",
        )
        Repayment.objects.create(order=order, amount=value, paid_on=paid_on, recorded_by=actor)
        order.paid_amount += value
        fields = ["paid_amount"]
        if order.outstanding == 0:
            order.state, order.closed_on = RepaymentOrder.State.PAID, paid_on
            fields += ["state", "closed_on"]
            finding.sanctions.filter(kind=K.REPAYMENT, ended_on__isnull=True).update(
                ended_on=paid_on, end_reason=_("repaid")
            )
        order.save(update_fields=fields)
        CREDIT_FINDING.note(
            finding,
            actor,
            "repayment",
            data={"amount": value, "outstanding": order.outstanding},
            event_fields={"on": paid_on},
        )
        return order


def recovery_order(*, actor: User, order_id: int, amount=None) -> OrderRecovery:
    """Recover from the household's payments (从救助金中追回): a cases recovery that the next
    roster deducts from the household's payment as a line of its own.

    The amount is the outstanding sum, capped at what the household is paid a month (the
    roster deducts a recovery only from a payment that covers it); the caseworker may
    choose less. Once that line is paid, recoveries_credit counts it as repaid, and a
    further part can be recovered. The cases service applies the cases rules (roster
    role, the household being paid, one recovery per source)."""
    with transaction.atomic():
        finding, order = _lock_with(RepaymentOrder, order_id, actor, "recover")
        if order.state != RepaymentOrder.State.OPEN:
            raise Conflict(_("This repayment order is already closed."))
        _require(
            finding.application_id is not None,
            _("The finding names no application whose payments could be deducted."),
        )
        if order.recoveries.filter(credited_on__isnull=True).exists():
            raise Conflict(_("An earlier recovery of this order is not yet paid by the bank."))
        monthly = payment_services.monthly_payment(finding.application_id)
        value = min(order.outstanding, monthly) if amount in (None, "") else _amount(amount)
        _require(
            value <= order.outstanding,
            _("Only %(left)s yuan is still owed.") % {"left": order.outstanding},
            field="amount",
        )
        number = order.recoveries.count() + 1
        adjustment = payment_services.recovery_from_payments(
            actor=actor,
            application_id=finding.application_id,
            amount=value,
            reason=_("Repayment order of credit finding %(number)s (%(behaviour)s)")
            % {"number": finding.pk, "behaviour": finding.behaviour.name},
            source=OrderRecovery.source_for(order.pk, number),
        )
        recovery = OrderRecovery.objects.create(
            order=order, adjustment=adjustment, amount=adjustment.amount
        )
        CREDIT_FINDING.note(
            finding,
            actor,
            "recover",
            data={"amount": adjustment.amount, "adjustment": adjustment.pk},
            event_fields={"on": timezone.localdate()},
        )
        return recovery


def recoveries_pending_ids() -> list[int]:
    return list(OrderRecovery.objects.filter(credited_on__isnull=True).values_list("pk", flat=True))


def recovery_credit(*, recovery_id: int) -> bool:
    """Count a recovery as repaid once its roster line is paid (the bank return applied,
    the deduction made): a Repayment on the order, which closes when nothing is owed.
    Safe to run twice: a credited recovery is left alone, under its row lock."""
    with transaction.atomic():
        recovery = (
            OrderRecovery.objects.select_for_update()
            .select_related("adjustment", "order")
            .filter(pk=recovery_id, credited_on__isnull=True)
            .first()
        )
        if recovery is None:
            return False
        line = payment_services.recovery_lines_paid([recovery.adjustment.source]).get(
            recovery.adjustment.source
        )
        if line is None:
            return False
        order = RepaymentOrder.objects.select_for_update().get(pk=recovery.order_id)
        finding = order.finding
        paid_on = timezone.localdate()
        # Repaid by hand meanwhile, or cancelled: only what is still owed counts; the rest
        # is paid back to the family below (order_refund_excess).
        owed = order.outstanding if order.state == RepaymentOrder.State.OPEN else Decimal("0")
        value = min(-line.amount, owed)
        if value > 0:
            recovery.repayment = Repayment.objects.create(
                order=order, amount=value, paid_on=paid_on, recorded_by=None
            )
            order.paid_amount += value
            fields = ["paid_amount"]
            if order.outstanding == 0 and order.state == RepaymentOrder.State.OPEN:
                order.state, order.closed_on = RepaymentOrder.State.PAID, paid_on
                fields += ["state", "closed_on"]
                finding.sanctions.filter(kind=K.REPAYMENT, ended_on__isnull=True).update(
                    ended_on=paid_on, end_reason=_("repaid")
                )
            order.save(update_fields=fields)
        recovery.credited_on = paid_on
        recovery.save(update_fields=["credited_on", "repayment"])
        data = {"amount": -line.amount, "counted": value, "outstanding": order.outstanding}
        FindingEvent.objects.create(
            finding=finding,
            on=paid_on,
            action="recovery_credited",
            from_state=finding.state,
            to_state=finding.state,
            data=data,
        )
        audit_record(
            actor=None,
            action="credit_finding.recovery_credited",
            obj=recovery,
            region=finding.village,
            new=data,
        )
        order_refund_excess(order=order, finding=finding, actor=None, on=paid_on)
        return True


def order_refund_excess(
    *, order: RepaymentOrder, finding: Finding, actor: User | None, on: datetime.date
) -> OrderRefund | None:
    """Pay back, as back pay (补发) on the next roster, what the household's payments gave
    up beyond what the order may keep. Runs inside the caller's transaction, with the
    order's row locked (the services that count, cancel or settle it), so a second run
    finds nothing left to pay back.

    The order may keep from its recoveries what it is owed less what was repaid by hand:
    its amount, or nothing once it is cancelled or its finding withdrawn (an objection
    upheld: nothing was owed). Money repaid by hand is not paid back here: it never went
    through a roster, and the township returns it as it took it."""
    withdrawn = order.state == RepaymentOrder.State.CANCELLED or finding.state == F.WITHDRAWN
    due = Decimal("0") if withdrawn else order.amount
    withheld = _total(order.recoveries.filter(credited_on__isnull=False))
    by_hand = _total(order.payments.filter(recovery__isnull=True))
    refunded = _total(order.refunds.all())
    excess = withheld - max(Decimal("0"), due - by_hand) - refunded
    if excess <= 0:
        return None
    number = order.refunds.count() + 1
    adjustment = payment_services.back_pay_for_over_recovery(
        application_id=finding.application_id,
        amount=excess,
        reason=_(
            "Paid back: recovered beyond repayment order %(order)s of credit finding %(number)s"
        )
        % {"order": order.pk, "number": finding.pk},
        source=OrderRefund.source_for(order.pk, number),
    )
    refund = OrderRefund.objects.create(
        order=order, adjustment=adjustment, amount=adjustment.amount, made_on=on
    )
    data = {
        "amount": refund.amount,
        "adjustment": adjustment.pk,
        "withheld": withheld,
        "by_hand": by_hand,
        "due": due,
    }
    FindingEvent.objects.create(
        finding=finding,
        on=on,
        action="recovery_refunded",
        from_state=finding.state,
        to_state=finding.state,
        data=data,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action="credit_finding.recovery_refunded",
        obj=refund,
        region=finding.village,
        new=data,
    )
    return refund


def _total(queryset) -> Decimal:
    return queryset.aggregate(total=models.Sum("amount"))["total"] or Decimal("0")


# --- objection --------------------------------------------------------------------------


def objection_lodge(
    *,
    actor: User,
    finding_id: int,
    statement: str,
    evidence: Sequence[UploadedFile | Document] = (),
    lodged_on: datetime.date | None = None,
) -> Objection:
    """The person objects to a finding in force, before the deadline on the notice."""
    lodged_on = _today(lodged_on)
    _require(statement.strip(), _("Write down what the person objects to."), field="statement")
    with transaction.atomic():
        finding = _lock(finding_id, actor, "object")
        if lodged_on > finding.objection_deadline:
            raise DomainError(
                _("The objection period ended on %(date)s; an objection can no longer be lodged.")
                % {"date": finding.objection_deadline.isoformat()},
                field="lodged_on",
            )
        _require(
            lodged_on >= finding.effective_on,
            _("The objection cannot be dated before the finding took effect."),
            field="lodged_on",
        )
        policy = policy_in_force(county=finding.village.county(), on=lodged_on)
        objection = Objection.objects.create(
            finding=finding,
            lodged_on=lodged_on,
            statement=statement.strip(),
            recorded_by=actor,
            review_due_on=lodged_on + datetime.timedelta(days=policy.credit_objection_review_days),
        )
        objection.evidence.add(*[_stored(actor, finding.household, scan) for scan in evidence])
        CREDIT_FINDING.move(
            finding,
            actor,
            "object",
            reason=statement.strip(),
            data={"objection": objection.pk, "review_due_on": objection.review_due_on},
            event_fields={"on": lodged_on},
        )
        return objection


def objection_review(
    *,
    actor: User,
    objection_id: int,
    upheld: bool,
    note: str,
    today: datetime.date | None = None,
) -> Objection:
    """Someone other than the finder reviews it: upheld withdraws the finding and undoes
    every sanction it caused; rejected leaves it standing."""
    today = _today(today)
    _require(note.strip(), _("Write down the outcome of the review."), field="note")
    with transaction.atomic():
        finding, objection = _lock_with(Objection, objection_id, actor, "objection_review")
        if objection.state != Objection.State.PENDING:
            raise Conflict(_("This objection was already reviewed."))
        _require(
            actor.pk != finding.found_by_id,
            _("The objection must be reviewed by someone other than the person who found it."),
        )
        objection.state = Objection.State.UPHELD if upheld else Objection.State.REJECTED
        objection.reviewed_by, objection.reviewed_on = actor, today
        objection.review_note = note.strip()
        objection.save(update_fields=["state", "reviewed_by", "reviewed_on", "review_note"])
        data = {"objection": objection.pk, "late": today > objection.review_due_on}
        if not upheld:
            CREDIT_FINDING.move(
                finding,
                actor,
                "objection_reject",
                F.STANDING,
                reason=note,
                data=data,
                event_fields={"on": today},
            )
            return objection
        CREDIT_FINDING.move(
            finding,
            actor,
            "objection_uphold",
            F.WITHDRAWN,
            reason=note,
            data=data,
            fields={"ended_on": today},
            event_fields={"on": today},
        )
        _end_sanctions(finding, actor, today, why=_("withdrawn after objection"), withdrawn=True)
        return objection


# --- repair -----------------------------------------------------------------------------


def repair_apply(
    *,
    actor: User,
    finding_id: int,
    correction: str,
    applied_on: datetime.date | None = None,
) -> Repair:
    """After the interview, a person who corrected the behaviour applies for repair."""
    applied_on = _today(applied_on)
    _require(
        correction.strip(),
        _("Describe how the person corrected the behaviour."),
        field="correction",
    )
    with transaction.atomic():
        finding = _lock(finding_id, actor, "repair_apply")
        if finding.repairs.filter(state=Repair.State.PENDING).exists():
            raise Conflict(_("A repair application for this finding is already waiting."))
        _require(
            finding.interviews.filter(held_on__isnull=False, held_on__lte=applied_on).exists(),
            _("A repair can be applied for only after the reminder interview has been held."),
        )
        order = RepaymentOrder.objects.filter(finding=finding).first()
        _require(
            order is None or order.state == RepaymentOrder.State.PAID,
            _("The repayment order must be paid in full before a repair (%(left)s yuan owed).")
            % {"left": order.outstanding if order else 0},
        )
        repair = Repair.objects.create(
            finding=finding, applied_on=applied_on, correction=correction.strip(), recorded_by=actor
        )
        CREDIT_FINDING.note(
            finding,
            actor,
            "repair_apply",
            reason=correction.strip(),
            data={"repair": repair.pk},
            event_fields={"on": applied_on},
        )
        return repair


def repair_decide(
    *,
    actor: User,
    repair_id: int,
    grant: bool,
    note: str,
    today: datetime.date | None = None,
) -> Repair:
    """The township decides repairs of light and moderate findings, the county of severe.
    Granted: the sanctions end from today; the finding stays in the history, repaired."""
    today = _today(today)
    _require(note.strip(), _("Give the reason for the decision."), field="note")
    with transaction.atomic():
        finding, repair = _lock_with(Repair, repair_id, actor, "repair_decide")
        if repair.state != Repair.State.PENDING:
            raise Conflict(_("This repair application was already decided."))
        repair.state = Repair.State.GRANTED if grant else Repair.State.REFUSED
        repair.decided_by, repair.decided_on, repair.decision_note = actor, today, note.strip()
        repair.save(update_fields=["state", "decided_by", "decided_on", "decision_note"])
        if not grant:
            CREDIT_FINDING.note(
                finding,
                actor,
                "repair_refuse",
                reason=note,
                data={"repair": repair.pk},
                event_fields={"on": today},
            )
            return repair
        CREDIT_FINDING.move(
            finding,
            actor,
            "repair",
            F.REPAIRED,
            reason=note,
            data={"repair": repair.pk},
            fields={"ended_on": today},
            event_fields={"on": today},
        )
        _end_sanctions(finding, actor, today, why=_("repaired"), withdrawn=False)
        return repair


# --- the outbox to the credit-information sharing platform -----------------------------


def _outbox_write(finding: Finding, kind: str, on: datetime.date) -> OutboxMessage:
    """In the caller's transaction; delivery is queued for after the commit. The
    payload carries its own idempotency key, so that a file export and an HTTP delivery
    name the record alike."""
    key = uuid.uuid4()
    payload = {
        "key": str(key),
        "kind": kind,
        "finding": finding.pk,
        "identity_numbers": _identity_numbers(finding),
        "behaviour": finding.behaviour.code,
        "behaviour_name": finding.behaviour.name,
        "level": finding.level,
        "effective_on": finding.effective_on,
        "on": on,
        "authority": finding.village.county_prefix,
    }
    message = OutboxMessage.objects.create(key=key, finding=finding, kind=kind, payload=payload)
    enqueue_on_commit("credit.outbox_deliver", message.pk)
    return message


def _identity_numbers(finding: Finding) -> list[str]:
    if finding.person is not None:
        return [finding.person.identity_number]
    people = Person.objects.filter(
        memberships__household=finding.household, memberships__is_supporter=False
    ).order_by("pk")
    return [person.identity_number for person in people]


# A claim older than the task time limit was left by a worker that died mid-request (no
# task outlives CELERY_TASK_TIME_LIMIT): the message may then be claimed and sent again.
CLAIM_LEASE = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def outbox_deliver(*, message_id: int) -> str:
    """Send one message to the platform, with its key as the idempotency key.

    The message is claimed by a conditional UPDATE and POSTed with no transaction open,
    so nothing waits on a slow platform; the result is written in a short transaction,
    and only while the claim is still this attempt's. A withdrawal or repair is sent
    only once its record is delivered. A worker killed mid-request leaves its claim
    behind; once the claim has outlived any task the next attempt sends the same key,
    which the platform recognises: the record is held once, marked delivered once.
    """
    pending = OutboxMessage.State.PENDING
    claimed_at = timezone.now()
    record_delivered = OutboxMessage.objects.filter(
        finding=OuterRef("finding"),
        kind=OutboxMessage.Kind.RECORD,
        state=OutboxMessage.State.DELIVERED,
    )
    # Durable: the outermost transaction, refused inside a caller's. So the claim is
    # committed before the request goes out, and no transaction (nor its locks) stays
    # open while the platform answers.
    with transaction.atomic(durable=True):
        claimed = (
            OutboxMessage.objects.filter(pk=message_id, state=pending)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=claimed_at - CLAIM_LEASE))
            .filter(Q(kind=OutboxMessage.Kind.RECORD) | Exists(record_delivered))
            .update(claimed_at=claimed_at, attempts=models.F("attempts") + 1)
        )
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "missing"
    if not claimed:
        return message.state
    ours = OutboxMessage.objects.filter(pk=message.pk, state=pending, claimed_at=claimed_at)
    try:
        response = httpx.post(
            settings.CREDIT_PLATFORM_URL,
            content=DjangoJSONEncoder().encode(message.payload).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": str(message.key),
            },
            timeout=30,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        ours.update(claimed_at=None, last_error=str(exc)[:500] or type(exc).__name__)
        return pending
    with transaction.atomic(durable=True):
        delivered = ours.update(
            state=OutboxMessage.State.DELIVERED,
            delivered_at=timezone.now(),
            claimed_at=None,
            last_error="",
        )
        if delivered != 1:
            # This attempt outlived its claim and another took the message over: that
            # one marks it delivered.
            return OutboxMessage.objects.get(pk=message.pk).state
        FindingEvent.objects.create(
            finding_id=message.finding_id,
            on=timezone.localdate(),
            action="outbox_delivered",
            from_state="",
            to_state="",
            data={"message": str(message.key), "kind": message.kind},
        )
        audit_record(
            actor=None,
            action="credit_outbox.deliver",
            obj=message,
            new={"kind": message.kind, "finding": message.finding_id},
        )
        return OutboxMessage.State.DELIVERED


def outbox_pending_ids() -> list[int]:
    return list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )


def outbox_export(*, actor: User) -> bytes:
    """Every message as JSON lines (one per line, oldest first), for a platform reached
    by file; the export is recorded on each message and in the audit log."""
    access.require_role(actor, permissions.KEEP_CREDIT_OUTBOX)
    jurisdiction = access.jurisdiction_for(
        actor, roles=permissions.KEEP_CREDIT_OUTBOX, include_grants=False
    )
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.filter(jurisdiction.q("finding__village"))
            .exclude(state=OutboxMessage.State.CANCELLED)
            .order_by("created_at", "id")
        )
        lines = [encoder.encode({**m.payload, "state": m.state}) for m in messages]
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            exported_at=timezone.now()
        )
        audit_record(actor=actor, action="credit_outbox.export", new={"messages": len(lines)})
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


# --- the machinery ---------------------------------------------------------------------


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Give an amount in yuan."), field="amount") from None
    _require(amount > 0, _("The amount must be more than zero."), field="amount")
    _require(amount < Decimal("100000000"), _("The amount is too large."), field="amount")
    return amount


def _stored(actor: User, household: Household, scan) -> Document:
    if isinstance(scan, Document):
        _require(scan.household_id == household.pk, _("The document is not this household's."))
        return scan
    return documents.document_upload(
        actor=actor, household=household, kind=Document.Kind.OTHER, upload=scan
    )


# Refusals by state that say more than "not possible now".
STATE_REFUSALS = {
    ("object", F.OBJECTED): _lazy("An objection to this finding is already under review."),
    ("repair_apply", F.OBJECTED): _lazy(
        "Wait for the objection to be reviewed before applying for repair."
    ),
}
DECIDED = Finding.IN_FORCE | {F.DISMISSED, F.WITHDRAWN, F.REPAIRED}


def _state_refusal(step: str, finding: Finding) -> str:
    special = STATE_REFUSALS.get((step, finding.state))
    if special is not None:
        return str(special)
    if finding.state in DECIDED:
        return _("This finding was already decided: %(state)s.") % {
            "state": finding.get_state_display()
        }
    return _("Not possible while the finding is %(state)s.") % {
        "state": finding.get_state_display()
    }


def _lock(finding_id: int, actor: User, step: str) -> Finding:
    """Lock the row, then check jurisdiction, and the step's role and states as the table
    declares them (credit.findings.steps), after the lock.

    FOR NO KEY UPDATE: rows that merely point at the finding (its events, written by the
    outbox delivery while it holds its message) are not held up by the lock."""
    finding = (
        Finding.objects.select_for_update(of=("self",), no_key=True)
        .select_related("village", "behaviour", "household")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None or not access.jurisdiction_for(actor).contains(finding.village):
        raise DomainError(_("No such credit finding."))
    CREDIT_FINDING.check(
        step, finding, actor, state_message=lambda finding: _state_refusal(step, finding)
    )
    return finding


MISSING = {
    Interview: _lazy("No such interview."),
    RepaymentOrder: _lazy("No such repayment order."),
    Objection: _lazy("No such objection."),
    Repair: _lazy("No such repair application."),
}


def _lock_with(model, pk: int, actor: User, step: str):
    """Lock a finding for one of its steps and then the row the step acts on (interview,
    order, objection, repair): always the finding first, as every step does, so two
    steps never deadlock."""
    finding_id = model.objects.filter(pk=pk).values_list("finding_id", flat=True).first()
    _require(finding_id is not None, str(MISSING[model]))
    finding = _lock(finding_id, actor, step)
    return finding, model.objects.select_for_update().get(pk=pk)
