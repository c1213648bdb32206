"""Every state change of a case: one keyword-only function each, one transaction each,
each writing its ApplicationEvent (the timeline) and its audit row.

Transitions lock the application row (select_for_update) and check its state after the
lock, so of two people acting at once exactly one succeeds; the other gets a clear
"already ..." answer (Conflict, HTTP 409).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import User
from aid_portal.workdays import CalendarYearUnknown, add_working_days
from cases.casework import documents
from cases.casework.steps import APPLICATION
from cases.eligibility import (
    amount_compute,
    extreme_poverty_conditions,
    extreme_poverty_unmet,
    self_care_unassessed,
)
from cases.intake.services import authorisations_check, missing_for_acceptance
from cases.models import (
    Application,
    AssistanceType,
    DemocraticReview,
    Document,
    ExtremePovertyException,
    HomeVisit,
    NoticeObjection,
    Policy,
    PublicNotice,
    Suspension,
    VerificationOutcome,
)
from cases.payments import services as payments
from cases.policy import decision_roles, policy_in_force
from cases.transitions import (
    _lock_step,
    _money,
    _release_members,
    _require,
    _transition,
    active_suspension,
    add_months,
    application_lock,
)

S = Application.State


def application_accept(
    *, actor: User, application_id: int, also_missing: Iterable[str] = ()
) -> Application:
    """Accept the application, or return it with the complete list of what is missing.

    ``also_missing`` adds what the caseworker found beyond the automatic checks.
    """
    with transaction.atomic():
        app = _lock_step(application_id, actor, "accept")
        missing = [*missing_for_acceptance(app), *(m for m in also_missing if m.strip())]
        if missing:
            return APPLICATION.move(
                app,
                actor,
                "return",
                S.RETURNED,
                data={"missing": missing},
                fields={"missing_items": missing},
            )
        today = timezone.localdate()
        fields = {"accepted_on": today, "missing_items": [], **_deadlines(app, today)}
        return APPLICATION.move(app, actor, "accept", S.ACCEPTED, fields=fields)


def _deadlines(app: Application, accepted_on: datetime.date) -> dict:
    policy = policy_in_force(county=app.village.county(), on=accepted_on)
    if app.extended:
        total = policy.total_days_extended
    elif policy.deciding_level == Policy.DecidingLevel.TOWNSHIP:
        total = policy.total_days_township
    else:
        total = policy.total_days_county
    try:
        return {
            "investigation_due_on": add_working_days(accepted_on, policy.investigation_start_days),
            "due_on": add_working_days(accepted_on, total),
        }
    except CalendarYearUnknown as exc:
        raise DomainError(str(exc)) from None


def application_extend(*, actor: User, application_id: int, reason: str) -> Application:
    """Use the extended time limit (45 working days): objections, living away, hard cases."""
    _require(reason.strip(), _("Say why the time limit is extended."), field="reason")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "extend")
        if app.extended:
            raise Conflict(_("The time limit is already extended."))
        app.extended = True
        return APPLICATION.move(
            app,
            actor,
            "extend",
            app.state,
            reason=reason,
            fields={"extended": True, **_deadlines(app, app.accepted_on)},
        )


def application_to_verification(*, actor: User, application_id: int) -> Application:
    """Move the case under verification (domain.md §4), refused while anyone lacks a
    signed authorisation.

    Only the state: the step people take is verification.requests.services.verification_request,
    which calls this and opens the request in the same transaction. Verification sits
    above cases, so cases never calls it.
    """
    return _transition(
        application_id=application_id,
        actor=actor,
        step="verification_request",
        check=lambda app: authorisations_check(application=app),
    )


def verification_outcome_record(
    *,
    actor: User | None,
    application_id: int,
    outcome: str,
    gap_items: list[dict] | None = None,
    source: str = VerificationOutcome.Source.MANUAL,
    reason: str = "",
) -> Application:
    """The narrow interface through which verification's result enters the case.

    Basically consistent → public notice on the simplified path (no home visit, no
    review), unless a near-relative filing forces the normal path. Clear gap → the
    family is told what differs and has the objection window.
    """
    if outcome not in VerificationOutcome.Outcome.values:
        raise DomainError(_("Choose the outcome."), field="outcome")
    if source == VerificationOutcome.Source.MANUAL and not reason.strip():
        raise DomainError(_("Say why the outcome is recorded by hand."), field="reason")
    if outcome == VerificationOutcome.Outcome.GAP and not gap_items:
        raise DomainError(_("List the items that differ."), field="gap_items")
    with transaction.atomic():
        app = _lock_step(
            application_id, actor, "verification_outcome", check_role=actor is not None
        )
        policy = policy_in_force(county=app.village.county(), on=timezone.localdate())
        record = VerificationOutcome.objects.create(
            application=app,
            outcome=outcome,
            gap_items=gap_items or [],
            source=source,
            reason=reason,
            recorded_by=actor,
        )
        if outcome == VerificationOutcome.Outcome.GAP:
            record.objection_deadline = timezone.localdate() + datetime.timedelta(
                days=policy.objection_days
            )
            record.save(update_fields=["objection_deadline"])
            return APPLICATION.move(
                app,
                actor,
                "verification_gap",
                S.FEEDBACK,
                reason=reason,
                fields={"path": Application.Path.NORMAL},
                data={"items": gap_items, "objection_deadline": record.objection_deadline},
            )
        if app.near_relative_filings.exists():
            return APPLICATION.move(
                app,
                actor,
                "verification_consistent",
                S.HOME_VISIT,
                reason=reason,
                fields={"path": Application.Path.NORMAL},
                data={"near_relative": True},
            )
        return APPLICATION.move(
            app,
            actor,
            "verification_consistent",
            S.PUBLIC_NOTICE,
            reason=reason,
            fields={"path": Application.Path.SIMPLIFIED},
        )


def feedback_objection_record(
    *, actor: User, application_id: int, text: str, has_evidence: bool
) -> Application:
    """The family objects to the gap. With evidence, the office investigates at once."""
    _require(text.strip(), _("Write down the family's explanation."), field="text")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "feedback_objection")
        outcome = app.verification_outcomes.first()
        if timezone.localdate() > outcome.objection_deadline:
            raise DomainError(
                _("The objection window closed on %(date)s.") % {"date": outcome.objection_deadline}
            )
        VerificationOutcome.objects.filter(pk=outcome.pk).update(
            family_objected=has_evidence, objection_text=text.strip()
        )
        if has_evidence:
            return APPLICATION.move(
                app, actor, "feedback_objection", S.HOME_VISIT, reason=text, data={"evidence": True}
            )
        APPLICATION.note(app, actor, "feedback_objection", reason=text, data={"evidence": False})
        return app


def feedback_close(*, actor: User | None, application_id: int) -> Application:
    """The objection window is over: the office goes on with the material it has."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, "feedback_close", check_role=actor is not None)
        outcome = app.verification_outcomes.first()
        if timezone.localdate() <= outcome.objection_deadline and not outcome.objection_text:
            raise DomainError(
                _("The objection window is open until %(date)s.")
                % {"date": outcome.objection_deadline}
            )
        return APPLICATION.move(app, actor, "feedback_close", S.HOME_VISIT)


def feedback_windows_due(*, today: datetime.date | None = None) -> list[int]:
    """Applications whose objection window has ended."""
    today = today or timezone.localdate()
    return list(
        Application.objects.filter(
            state=S.FEEDBACK, verification_outcomes__objection_deadline__lt=today
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def home_visit_record(
    *,
    actor: User,
    application_id: int,
    visited_on: datetime.date,
    investigators: list[User],
    family_member_present: str,
    findings: str,
    investigators_signature: Document | UploadedFile | None = None,
    family_signature: Document | UploadedFile | None = None,
) -> Application:
    """At least the county's number of investigators (two by default); both sides sign.
    Democratic review follows only when someone objected; otherwise the case goes to
    public notice."""
    _require(findings.strip(), _("Write down what the visit found."), field="findings")
    _require(
        family_member_present.strip(),
        _("Name the family member who was present."),
        field="family_member_present",
    )
    _require(
        visited_on <= timezone.localdate(),
        _("The visit date lies in the future."),
        field="visited_on",
    )
    _require(
        investigators_signature is not None and family_signature is not None,
        _("Attach the signed record: the investigators' and the family's signatures."),
        field="investigators_signature",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "home_visit")
        policy = policy_in_force(county=app.village.county(), on=visited_on)
        _require(
            len({u.pk for u in investigators}) >= policy.home_visit_investigators,
            _("A home visit needs at least %(count)s investigators.")
            % {"count": policy.home_visit_investigators},
            field="investigators",
        )
        investigators_signature = _stored(
            actor, app, investigators_signature, Document.Kind.HOME_VISIT
        )
        family_signature = _stored(actor, app, family_signature, Document.Kind.HOME_VISIT)
        visit = HomeVisit.objects.create(
            application=app,
            visited_on=visited_on,
            family_member_present=family_member_present,
            findings=findings,
            investigators_signature=investigators_signature,
            family_signature=family_signature,
            recorded_by=actor,
        )
        visit.investigators.set(investigators)
        objected = (
            app.verification_outcomes.filter(family_objected=True).exists()
            or NoticeObjection.objects.filter(notice__application=app).exists()
        )
        target = S.DEMOCRATIC_REVIEW if objected else S.PUBLIC_NOTICE
        return APPLICATION.move(
            app,
            actor,
            "home_visit",
            target,
            fields={"path": Application.Path.NORMAL},
            data={"visit": visit.pk, "investigators": [u.pk for u in investigators]},
        )


def democratic_review_record(
    *,
    actor: User,
    application_id: int,
    held_on: datetime.date,
    participants: int,
    opinion: str,
    minutes: Document | UploadedFile | None = None,
) -> Application:
    _require(opinion.strip(), _("Write down the review's opinion."), field="opinion")
    _require(
        participants and participants >= 3,
        _("A review has at least three participants."),
        field="participants",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "democratic_review")
        minutes = _stored(actor, app, minutes, Document.Kind.REVIEW_MINUTES)
        review = DemocraticReview.objects.create(
            application=app,
            held_on=held_on,
            participants=participants,
            opinion=opinion,
            minutes=minutes,
        )
        return APPLICATION.move(
            app, actor, "democratic_review", S.PUBLIC_NOTICE, data={"review": review.pk}
        )


def notice_post(
    *, actor: User, application_id: int, starts_on: datetime.date, place: str
) -> PublicNotice:
    """Post the public notice; it ends after the policy's number of days (7)."""
    _require(place.strip(), _("Say where the notice is posted."), field="place")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "notice_post")
        if app.notices.filter(closed_at__isnull=True).exists():
            raise Conflict(_("A notice is already posted for this application."))
        policy = policy_in_force(county=app.village.county(), on=starts_on)
        notice = PublicNotice.objects.create(
            application=app,
            starts_on=starts_on,
            place=place.strip(),
            ends_on=starts_on + datetime.timedelta(days=policy.notice_days - 1),
        )
        APPLICATION.move(
            app,
            actor,
            "notice_post",
            S.PUBLIC_NOTICE,
            data={"starts_on": starts_on, "ends_on": notice.ends_on, "place": place},
        )
    return notice


def notice_objection_record(
    *, actor: User, notice: PublicNotice, objector: str, content: str, raised_on: datetime.date
) -> NoticeObjection:
    _require(
        objector.strip() and content.strip(),
        _("Say who objected and what they said."),
        field="content",
    )
    with transaction.atomic():
        app = _lock_step(notice.application_id, actor, "notice_objection")
        objection = NoticeObjection.objects.create(
            notice=notice, objector=objector.strip(), content=content.strip(), raised_on=raised_on
        )
        APPLICATION.note(
            app, actor, "notice_objection", reason=content, data={"objector": objector}
        )
    return objection


def notice_objection_handle(*, actor: User, objection: NoticeObjection, handling: str) -> None:
    _require(handling.strip(), _("Say how the objection was handled."), field="handling")
    with transaction.atomic():
        app = _lock_step(objection.notice.application_id, actor, "notice_objection_handle")
        changed = NoticeObjection.objects.filter(pk=objection.pk, handled_on__isnull=True).update(
            handling=handling.strip(), handled_on=timezone.localdate()
        )
        if not changed:
            raise Conflict(_("This objection was already handled."))
        audit_record(
            actor=actor,
            action="application.notice_objection_handle",
            obj=app,
            region=app.village,
            new={"objection": objection.pk},
            reason=handling,
        )


def notice_close(*, actor: User, application_id: int, reinvestigate: bool = False) -> Application:
    """After the notice period: to the decision, or back to a home visit when an
    objection raised during notice calls for a new investigation."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, "notice_close")
        notice = app.notices.filter(closed_at__isnull=True).first()
        _require(notice is not None, _("Post the public notice first."))
        _require(
            timezone.localdate() > notice.ends_on,
            _("The notice runs until %(date)s.") % {"date": notice.ends_on},
        )
        _require(
            not notice.objections.filter(handled_on__isnull=True).exists(),
            _("Handle every objection raised during the notice first."),
        )
        PublicNotice.objects.filter(pk=notice.pk).update(closed_at=timezone.now())
        if reinvestigate:
            return APPLICATION.move(
                app,
                actor,
                "notice_close",
                S.HOME_VISIT,
                fields={"path": Application.Path.NORMAL},
                data={"reinvestigate": True},
            )
        return APPLICATION.move(app, actor, "notice_close", S.AWAITING_DECISION)


def county_check_record(
    *, actor: User, application_id: int, done_on: datetime.date, findings: str
) -> Application:
    """The county's key check of a near-relative case, required before any decision."""
    _require(findings.strip(), _("Write down what the check found."), field="findings")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "county_check")
        _require(
            app.near_relative_filings.exists(),
            _("Only near-relative filings need the county's key check."),
        )
        return APPLICATION.move(
            app,
            actor,
            "county_check",
            app.state,
            reason=findings,
            fields={"county_check_done_on": done_on},
        )


def _ready_for_decision(app: Application) -> None:
    if app.near_relative_filings.exists() and app.county_check_done_on is None:
        raise DomainError(
            _("A near-relative filing needs the county's key check before any decision.")
        )


def _extreme_poverty_conditions_require(app: Application) -> None:
    """Extreme-poverty support only for a person who meets its three conditions
    (domain.md §8), or where the county has confirmed an exception to those they fail.
    The refusal names each failing condition and who fails it, under the field
    ``conditions`` in the API."""
    unmet = extreme_poverty_unmet(application=app)
    if not unmet:
        return
    lines = [
        _("%(condition)s: not met by %(names)s")
        % {"condition": check.label, "names": "、".join(check.failing)}
        for check in unmet
    ]
    raise DomainError(
        _(
            "Extreme-poverty support needs all three conditions, or the county's recorded "
            "exception. Not met: %(conditions)s."
        )
        % {"conditions": "；".join(lines)},
        field="conditions",
        errors=lines,
    )


def _self_care_assessed_require(app: Application) -> None:
    """Extreme-poverty support pays a care allowance by each member's self-care level
    (domain.md §8): no approval while a member's self-care is not assessed. The refusal
    names them, under the field ``self_care`` in the API."""
    names = self_care_unassessed(application=app)
    if names:
        raise DomainError(
            _(
                "The self-care of %(names)s has not been assessed: record which of the six "
                "daily abilities they cannot manage before approving extreme-poverty support."
            )
            % {"names": "、".join(names)},
            field="self_care",
        )


def application_approve(
    *, actor: User, application_id: int, start_month: datetime.date | None = None
) -> Application:
    """Approve with the amount computed now; payment starts the month after (default)."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, "approve", decided_message=True)
        _ready_for_decision(app)
        _extreme_poverty_conditions_require(app)
        _self_care_assessed_require(app)
        basis = amount_compute(application=app)
        if not basis.eligible:
            raise DomainError(
                _(
                    "The per-capita income (%(income)s) is not below %(threshold)s: this "
                    "household does not qualify; reject with reasons instead."
                )
                % {"income": basis.per_capita_income, "threshold": basis.threshold}
            )
        today = timezone.localdate()
        first_of_next = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        start = (start_month or first_of_next).replace(day=1)
        _require(
            start >= today.replace(day=1),
            _("Payment cannot start in a past month."),
            field="start_month",
        )
        from cases.reviews.services import next_review_date  # reviews builds on these services

        payments.award_open(
            application=app,
            decision=payments.Award.Decision.APPROVAL,
            monthly_amount=basis.monthly_amount,
            from_month=start,
            on=today,
        )
        return APPLICATION.move(
            app,
            actor,
            "approve",
            S.APPROVED,
            data=basis.as_dict(),
            fields={
                "decided_at": timezone.now(),
                "decided_by": actor,
                "monthly_amount": basis.monthly_amount,
                "amount_basis": basis.as_dict(),
                "start_month": start,
                "next_review_on": next_review_date(application=app, after=today),
            },
        )


def extreme_poverty_exception_record(
    *, actor: User, application_id: int, reasons: str
) -> ExtremePovertyException:
    """The county confirms an exception to the extreme-poverty conditions the case does
    not meet, with its reasons (domain.md §8): recorded with its event and audit rows in
    one transaction. It covers the conditions failing now, by name."""
    _require(
        len(reasons.strip()) >= 10,
        _("Write the reasons for the exception in full."),
        field="reasons",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "extreme_poverty_exception")
        _require(
            app.assistance_type == AssistanceType.EXTREME_POVERTY,
            _("Only an application for extreme-poverty support has these conditions."),
        )
        checks = extreme_poverty_conditions(application=app)
        unmet = [check.code for check in checks if not check.passes]
        if not unmet:
            if any(check.excepted for check in checks):
                raise Conflict(_("The county's exception is already recorded."))
            raise DomainError(
                _("The case meets every extreme-poverty condition: there is nothing to except.")
            )
        exception = ExtremePovertyException.objects.create(
            application=app, conditions=unmet, reasons=reasons.strip(), confirmed_by=actor
        )
        APPLICATION.note(
            app,
            actor,
            "extreme_poverty_exception",
            reason=reasons.strip(),
            data={"exception": exception.pk, "conditions": unmet},
        )
    return exception


def application_reject(*, actor: User, application_id: int, reasons: str) -> Application:
    """Reject with written reasons (they go on the printed notice)."""
    _require(
        len(reasons.strip()) >= 10,
        _("Write the reasons for the rejection in full."),
        field="reasons",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "reject", decided_message=True)
        _ready_for_decision(app)
        app = APPLICATION.move(
            app,
            actor,
            "reject",
            S.REJECTED,
            reason=reasons,
            fields={
                "decided_at": timezone.now(),
                "decided_by": actor,
                "rejection_reasons": reasons.strip(),
            },
        )
        _release_members(app)
        return app


def application_withdraw(*, actor: User, application_id: int, reason: str) -> Application:
    """The family withdraws, at any stage before the decision."""
    _require(reason.strip(), _("Say why the application is withdrawn."), field="reason")
    with transaction.atomic():
        app = _lock_step(
            application_id, actor, "withdraw", decided_message=True, allow_suspended=True
        )
        app = APPLICATION.move(app, actor, "withdraw", S.WITHDRAWN, reason=reason)
        _release_members(app)
        return app


def payments_start(*, today: datetime.date | None = None) -> int:
    """Approved cases whose first month has come are in payment (run daily; idempotent)."""
    today = today or timezone.localdate()
    started = 0
    due = Application.objects.filter(state=S.APPROVED, start_month__lte=today).exclude(
        Exists(Suspension.objects.filter(application=OuterRef("pk"), ended_at__isnull=True))
    )
    # In a stable order, one case per transaction: a run that dies part-way leaves the
    # cases before it started and the rest for the next run.
    for app_id in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            app = Application.objects.select_for_update().get(pk=app_id)
            if app.state != S.APPROVED or active_suspension(app) is not None:
                continue  # another run got there first, or a hold came in between
            APPLICATION.move(app, None, "payment_start", S.IN_PAYMENT)
            started += 1
    return started


def application_suspend(
    *, actor: User | None, application_id: int, source: str, reason: str
) -> Suspension:
    """Put a case on hold for ``source`` (e.g. ``credit_finding:12``): an open application
    stops moving, an enrolled one is not paid. Asking twice for the same source returns the
    hold already in force."""
    _require(source.strip(), _("Say what puts the case on hold."), field="source")
    _require(reason.strip(), _("Say why the case is put on hold."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            permissions.HOLD_AND_ADJUST_CASES,
            allowed_from=Application.OPEN_STATES | Application.ENROLLED_STATES,
            check_role=actor is not None,
            allow_suspended=True,
        )
        held = app.suspensions.filter(source=source, ended_at__isnull=True).first()
        if held is not None:
            return held
        hold = Suspension.objects.create(
            application=app, source=source, reason=reason.strip(), started_by=actor
        )
        APPLICATION.note(app, actor, "suspend", reason=reason, data={"source": source})
        return hold


def application_resume(
    *,
    actor: User | None,
    application_id: int,
    source: str,
    reason: str,
    wrongly_held: bool = False,
) -> bool:
    """Lift the hold of ``source``; False when there was none (safe to call twice). Other
    holds on the case stay. A hold found wrong (an upheld objection) pays the months it
    withheld back (cases.payments.services.back_pay_for_hold)."""
    _require(reason.strip(), _("Say why the hold is lifted."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            permissions.HOLD_AND_ADJUST_CASES,
            allowed_from=set(S.values),
            check_role=actor is not None,
            allow_suspended=True,
        )
        held = list(app.suspensions.filter(source=source, ended_at__isnull=True))
        lifted = app.suspensions.filter(source=source, ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_by=actor, end_reason=reason.strip()
        )
        if lifted and wrongly_held and app.state in Application.ENROLLED_STATES | {S.STOPPED}:
            payments.back_pay_for_hold(
                application=app,
                held_from=held[0].started_at,
                reason=_("hold lifted: %(reason)s") % {"reason": reason.strip()},
                source=f"hold:{held[0].pk}",
            )
        if lifted:
            APPLICATION.note(app, actor, "resume", reason=reason, data={"source": source})
        return bool(lifted)


def application_amount_adjust(
    *, actor: User, application_id: int, monthly_amount, reason: str
) -> Application:
    """Change the monthly amount of an enrolled case (increase or decrease)."""
    amount = _money(monthly_amount, "monthly_amount")
    _require(reason.strip(), _("Say why the amount changes."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id, actor, None, allowed_from=Application.ENROLLED_STATES
        )
        access.require_role(actor, decision_roles(app), app.village)
        _amount_set(app, actor, amount, reason)
        return app


def _amount_set(app: Application, actor: User, amount: Decimal, reason: str) -> None:
    _require(
        amount != app.monthly_amount,
        _("The new amount is the same as the current one."),
        field="monthly_amount",
    )
    old = app.monthly_amount
    app.monthly_amount = amount
    app.save(update_fields=["monthly_amount", "updated_at"])
    # In force from the month after the decision (or the first month, if not yet come).
    today = timezone.localdate()
    payments.award_open(
        application=app,
        decision=payments.Award.Decision.ADJUSTMENT,
        monthly_amount=amount,
        from_month=max(payments.next_month(today), app.start_month or today),
        on=today,
    )
    APPLICATION.note(
        app,
        actor,
        "amount_adjust",
        reason=reason,
        data={"old_amount": old, "new_amount": amount},
    )


def application_stop(
    *, actor: User | None, application_id: int, reason: str, today: datetime.date | None = None
) -> Application:
    """Stop the benefits of an enrolled case (no longer eligible, end of a gradual exit)."""
    _require(reason.strip(), _("Say why the benefits stop."), field="reason")
    today = today or timezone.localdate()
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            None,
            allowed_from=Application.ENROLLED_STATES,
            allow_suspended=True,
        )
        if actor is not None:
            access.require_role(actor, decision_roles(app), app.village)
        return _stop(app, actor, reason, today)


def _stop(app: Application, actor: User | None, reason: str, today: datetime.date) -> Application:
    app = APPLICATION.move(
        app,
        actor,
        "stop",
        S.STOPPED,
        reason=reason,
        fields={"stopped_on": today, "next_review_on": None},
    )
    payments.award_close(application=app, last_month=today)
    _release_members(app)
    return app


def gradual_exit_start(
    *,
    actor: User,
    application_id: int,
    months: int,
    reason: str,
    today: datetime.date | None = None,
) -> Application:
    """Work lifted the family's income above the line: benefits go on for ``months`` more
    months (at most the county's setting), then stop by themselves (domain.md §8, 渐退)."""
    today = today or timezone.localdate()
    _require(reason.strip(), _("Say why the family exits gradually."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id, actor, None, allowed_from=Application.ENROLLED_STATES
        )
        access.require_role(actor, decision_roles(app), app.village)
        limit = policy_in_force(county=app.village.county(), on=today).gradual_exit_months
        _require(
            isinstance(months, int) and 1 <= months <= limit,
            _("A gradual exit lasts from 1 to %(limit)s months.") % {"limit": limit},
            field="months",
        )
        _require(app.exit_after_month is None, _("This case is already exiting gradually."))
        last = add_months(today.replace(day=1), months)
        app.exit_after_month = last
        app.save(update_fields=["exit_after_month", "updated_at"])
        payments.award_close(application=app, last_month=last)
        APPLICATION.note(
            app, actor, "gradual_exit", reason=reason, data={"months": months, "last": last}
        )
        return app


def gradual_exits_finish(*, today: datetime.date | None = None) -> int:
    """Cases whose gradual exit has run its course stop (run daily; idempotent)."""
    today = today or timezone.localdate()
    # In a stable order, one case per transaction, as payments_start.
    ended = (
        Application.objects.filter(
            state__in=Application.ENROLLED_STATES, exit_after_month__lt=today.replace(day=1)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    stopped = 0
    for app_id in ended:
        with transaction.atomic():
            app = Application.objects.select_for_update().select_related("village").get(pk=app_id)
            if app.state not in Application.ENROLLED_STATES:
                continue  # another run got there first
            _stop(app, None, _("end of the gradual exit"), today)
            stopped += 1
    return stopped


# --- the machinery ---------------------------------------------------------------------


def _stored(actor: User, app: Application, scan, kind: str) -> Document | None:
    """A scan given as a stored Document, or as an upload stored now, in the caller's
    transaction: a refused step keeps no orphan file in the household file."""
    if scan is None or isinstance(scan, Document):
        return scan
    return documents.document_upload(
        actor=actor, household=app.household, application=app, kind=kind, upload=scan
    )
