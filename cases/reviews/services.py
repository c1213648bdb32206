"""Periodic reviews of enrolled cases and the county's monthly check of new dibao files
(domain.md §5): the rules of the next-review date, one service per step, the reads.

Every step locks the application row first, then the review (always in that order, so
two steps on one case never deadlock), checks role and state after the lock, and writes
the case's timeline row and an audit row in the same transaction
(cases.casework.steps.APPLICATION.note).
Dates are parameters (``today=``) so that schedules can be tested without a clock.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Region, Role, User
from cases import eligibility
from cases import policy as case_policy
from cases import transitions as case_transitions
from cases.casework import services as casework_services
from cases.casework.services import _amount_set, _stop
from cases.casework.steps import APPLICATION
from cases.models import (
    AdjustmentProposal,
    Application,
    AssistanceType,
    Income,
    Member,
    MemberDeath,
    MonthlyFileCheck,
    MonthlyFileCheckItem,
    PeriodicReview,
    Policy,
)
from cases.policy import decision_roles
from cases.restrictions import household_is_watched
from cases.reviews.steps import REVIEW
from cases.transitions import _money, _require, add_months, application_lock

S = Application.State


R = PeriodicReview.State


ENROLLED = Application.ENROLLED_STATES


# Sources of income that come and go: a household living on them is reviewed as often
# as one with a member able to work.
IRREGULAR_SOURCES = frozenset({Income.Source.BUSINESS, Income.Source.OTHER})


ABLE_TO_WORK = frozenset({Member.WorkAbility.FULL, Member.WorkAbility.PARTIAL})


# --- when the next review falls due ----------------------------------------------------


def review_unstable_reasons(
    *, application: Application, on: datetime.date, income_irregular: bool = False
) -> list[str]:
    """Why the household is reviewed on the shorter interval; empty when it is stable."""
    members = [m for m in application.household.members.all() if not m.is_supporter]
    reasons = []
    if income_irregular or any(
        i.source in IRREGULAR_SOURCES for m in members for i in m.incomes.all()
    ):
        reasons.append("income_irregular")
    if any(m.work_ability in ABLE_TO_WORK for m in members):
        reasons.append("able_to_work")
    if household_is_watched(household_id=application.household_id, on=on):
        reasons.append("credit_watch")
    return reasons


def next_review_date(
    *, application: Application, after: datetime.date, income_irregular: bool = False
) -> datetime.date:
    """Yearly when stable; on the county's shorter interval with irregular income, a
    member able to work, or a household on the credit watch list."""
    policy = case_policy.policy_in_force(county=application.village.county(), on=after)
    unstable = review_unstable_reasons(
        application=application, on=after, income_irregular=income_irregular
    )
    months = policy.review_months_unstable if unstable else policy.review_months_stable
    return add_months(after, months)


def member_death_record(
    *,
    actor: User,
    application_id: int,
    member_id: int,
    died_on: datetime.date,
    today: datetime.date | None = None,
) -> MemberDeath:
    """A member of an enrolled household died: the next review comes within the county's
    months after the death, or sooner if it was due sooner."""
    today = today or timezone.localdate()
    if died_on is None or died_on > today:
        raise DomainError(_("Give the date of death (not in the future)."), field="died_on")
    with transaction.atomic():
        app = case_transitions.application_lock(
            application_id,
            actor,
            permissions.FILE_APPLICATIONS,
            allowed_from=ENROLLED,
            allow_suspended=True,
        )
        member = app.household.members.filter(pk=member_id, is_supporter=False).first()
        if member is None:
            raise DomainError(_("Choose a member of the household."), field="member")
        if MemberDeath.objects.filter(application=app, person=member.person_id).exists():
            raise Conflict(_("This death is already recorded."))
        death = MemberDeath.objects.create(
            application=app, person=member.person, died_on=died_on, recorded_by=actor
        )
        policy = case_policy.policy_in_force(county=app.village.county(), on=died_on)
        due = add_months(died_on, policy.review_months_after_death)
        old = app.next_review_on
        if old is None or due < old:
            app.next_review_on = due
            app.save(update_fields=["next_review_on", "updated_at"])
        APPLICATION.note(
            app,
            actor,
            "member_death",
            reason=member.person.name,
            data={"person": member.person_id, "died_on": died_on, "next_review_on": old},
            audit_new={"died_on": died_on, "next_review_on": app.next_review_on},
        )
        return death


# --- the steps of a review ---------------------------------------------------------------


def _lock_review(
    review_id: int, actor: User | None, roles, *, states, app_states=ENROLLED
) -> tuple[Application, PeriodicReview]:
    app_id = PeriodicReview.objects.filter(pk=review_id).values_list("application_id", flat=True)
    app_id = app_id.first()
    if app_id is None:
        raise DomainError(_("No such review."))
    app = case_transitions.application_lock(
        app_id,
        actor,
        roles,
        allowed_from=app_states,
        check_role=actor is not None and roles is not None,
        allow_suspended=True,
    )
    review = PeriodicReview.objects.select_for_update().get(pk=review_id)
    if review.state not in states:
        raise Conflict(
            _("This review is already at the step “%(state)s”.")
            % {"state": review.get_state_display()}
        )
    return app, review


def _lock_review_step(
    review_id: int, actor: User | None, step: str
) -> tuple[Application, PeriodicReview]:
    """Lock a review for one step of its declared table (cases.reviews.steps.REVIEW)."""
    declared = REVIEW[step]
    return _lock_review(review_id, actor, declared.roles, states=declared.leaves)


def _step(
    app: Application,
    review: PeriodicReview,
    actor: User | None,
    step: str,
    to: str,
    fields: dict,
    *,
    reason: str = "",
    data: dict | None = None,
) -> PeriodicReview:
    old = review.state
    fields = {**fields, "state": to}
    for name, value in fields.items():
        setattr(review, name, value)
    review.save(update_fields=list(fields))
    APPLICATION.note(
        app,
        actor,
        f"review_{step}",
        reason=reason,
        data={"review": review.pk, **(data or {})},
        audit_action=f"review.{step}",
        audit_new={"review": review.pk, "from": old, "to": to, **(data or {})},
    )
    return review


def review_open(
    *,
    actor: User | None,
    application_id: int,
    trigger: str = PeriodicReview.Trigger.CASEWORKER,
    trigger_id: int | None = None,
    reason: str = "",
    today: datetime.date | None = None,
) -> PeriodicReview:
    """Open a review of an enrolled case, or return the one already open (one at a time)."""
    review, _created = _open(
        actor=actor,
        application_id=application_id,
        trigger=trigger,
        trigger_id=trigger_id,
        reason=reason,
        today=today or timezone.localdate(),
    )
    return review


def _open(*, actor, application_id, trigger, trigger_id, reason, today):
    if trigger not in PeriodicReview.Trigger.values:
        raise DomainError(_("Unknown reason for a review."), field="trigger")
    if trigger == PeriodicReview.Trigger.CASEWORKER and not reason.strip():
        raise DomainError(_("Say why the case is reviewed now."), field="reason")
    with transaction.atomic():
        app = case_transitions.application_lock(
            application_id,
            actor,
            permissions.WORK_CASES,
            allowed_from=ENROLLED,
            check_role=actor is not None,
            allow_suspended=True,
        )
        current = app.periodic_reviews.exclude(state=R.DECIDED).first()
        if current is not None:
            return current, False
        review = PeriodicReview.objects.create(
            application=app,
            trigger=trigger,
            trigger_id=trigger_id,
            due_on=min(app.next_review_on or today, today),
            opened_by=actor,
        )
        APPLICATION.note(
            app,
            actor,
            "review_open",
            reason=reason,
            data={"review": review.pk, "trigger": trigger, "trigger_id": trigger_id},
            audit_action="review.open",
        )
        return review, True


def reviews_open_due(*, today: datetime.date | None = None) -> int:
    """Open the reviews of enrolled cases whose next-review date has come (run daily;
    idempotent: a case with an open review is left alone). Returns how many opened."""
    today = today or timezone.localdate()
    due = (
        Application.objects.filter(state__in=ENROLLED, next_review_on__lte=today)
        .exclude(
            Exists(
                PeriodicReview.objects.filter(application=OuterRef("pk")).exclude(state=R.DECIDED)
            )
        )
        .order_by("next_review_on", "pk")
        .values_list("pk", flat=True)
    )
    opened = 0
    for application_id in list(due):
        try:
            _review, created = _open(
                actor=None,
                application_id=application_id,
                trigger=PeriodicReview.Trigger.SCHEDULE,
                trigger_id=None,
                reason="",
                today=today,
            )
        except Conflict:
            continue  # the case stopped in between
        opened += created
    return opened


def declaration_snapshot(application: Application) -> dict:
    """The household's declaration as plain data, to compare before and after."""
    members = list(
        Member.objects.filter(household=application.household_id)
        .select_related("person")
        .prefetch_related("incomes")
        .order_by("pk")
    )
    return {
        "members": {
            str(m.pk): {
                "name": m.person.name,
                "work_ability": m.work_ability,
                "supporter": m.is_supporter,
            }
            for m in members
        },
        "incomes": {
            str(i.pk): {"member": m.person.name, "source": i.source, "monthly": str(i.monthly)}
            for m in members
            for i in m.incomes.all()
        },
        "assets": {
            str(a.pk): {"kind": a.kind, "description": a.description, "value": str(a.value)}
            for a in application.household.assets.order_by("pk")
        },
        "expenditures": {
            str(e.pk): {"kind": e.kind, "monthly": str(e.monthly_amount)}
            for e in application.household.expenditures.order_by("pk")
        },
    }


def declaration_changes(before: dict, after: dict) -> list[dict]:
    """What was added, removed or changed, part by part (members, incomes, ...)."""
    changes = []
    for part in ("members", "incomes", "assets", "expenditures"):
        old, new = before.get(part, {}), after.get(part, {})
        for key in sorted(old.keys() | new.keys(), key=int):
            if key not in new:
                changes.append({"part": part, "change": "removed", "before": old[key]})
            elif key not in old:
                changes.append({"part": part, "change": "added", "after": new[key]})
            elif old[key] != new[key]:
                changes.append(
                    {"part": part, "change": "changed", "before": old[key], "after": new[key]}
                )
    return changes


def review_redeclaration_start(*, actor: User, review_id: int) -> PeriodicReview:
    """The family declares again: the declaration becomes editable for this review."""
    with transaction.atomic():
        app, review = _lock_review_step(review_id, actor, "redeclaration_start")
        return _step(
            app,
            review,
            actor,
            "redeclaration_start",
            R.REDECLARATION,
            {"declaration_before": declaration_snapshot(app)},
        )


def review_work_ability_set(
    *, actor: User, review_id: int, member_id: int, work_ability: str
) -> Member:
    """A member's ability to work changed (found during the re-declaration)."""
    if work_ability not in Member.WorkAbility.values:
        raise DomainError(_("Choose the ability to work."), field="work_ability")
    with transaction.atomic():
        app, review = _lock_review_step(review_id, actor, "work_ability")
        member = app.household.members.filter(pk=member_id).select_related("person").first()
        if member is None:
            raise DomainError(_("Choose a member of the household."), field="member")
        if member.work_ability == work_ability:
            raise DomainError(
                _("That is already the member's ability to work."), field="work_ability"
            )
        old = member.work_ability
        member.work_ability = work_ability
        member.save(update_fields=["work_ability"])
        audit_record(
            actor=actor,
            action="member.work_ability",
            obj=member,
            region=app.village,
            old={"work_ability": old},
            new={"work_ability": work_ability, "review": review.pk},
        )
        return member


def review_redeclaration_finish(
    *, actor: User, review_id: int, note: str, income_irregular: bool = False
) -> PeriodicReview:
    """The re-declaration is complete: what changed is recorded beside the note."""
    if not note.strip():
        raise DomainError(
            _("Write down what the family declared (or that nothing changed)."), field="note"
        )
    with transaction.atomic():
        app, review = _lock_review_step(review_id, actor, "redeclaration_finish")
        changes = declaration_changes(review.declaration_before or {}, declaration_snapshot(app))
        return _step(
            app,
            review,
            actor,
            "redeclaration_finish",
            R.VERIFICATION,
            {
                "changes": changes,
                "redeclaration_note": note.strip(),
                "income_irregular": income_irregular,
                "redeclared_at": timezone.now(),
                "redeclared_by": actor,
            },
            reason=note,
            data={"changes": len(changes), "income_irregular": income_irregular},
        )


def review_verification_lock(*, actor: User, review_id: int) -> tuple[Application, PeriodicReview]:
    """Lock a review waiting for verification, for the step verification performs
    (verification.requests.services.review_verification_request): the enrolled are re-verified
    (domain.md §4) and the report's outcome comes back to this review."""
    app, review = _lock_review_step(review_id, actor, "verification_request")
    if review.verification_id is not None:
        raise Conflict(_("Verification was already requested for this review."))
    return app, review


def review_verification_attach(
    *, actor: User, app: Application, review: PeriodicReview, request
) -> PeriodicReview:
    """Link the review to the verification request just opened for it (same transaction)."""
    review.verification = request
    review.save(update_fields=["verification"])
    APPLICATION.note(
        app,
        actor,
        "review_verification_request",
        data={"review": review.pk, "verification": request.pk},
        audit_action="review.verification_request",
    )
    return review


def review_outcome_record(
    *,
    actor: User | None,
    review_id: int,
    outcome: str,
    reason: str = "",
    gap_items: list[dict] | None = None,
    manual: bool = True,
) -> PeriodicReview:
    """The verification outcome of the review: from the report (verification.requests.services.
    report_issue), or recorded by hand with reasons."""
    if outcome not in PeriodicReview.Outcome.values:
        raise DomainError(_("Choose the outcome."), field="outcome")
    if manual and not reason.strip():
        raise DomainError(_("Say why the outcome is recorded by hand."), field="reason")
    roles = (
        permissions.WORK_CASES | {Role.VERIFICATION_OFFICER}
        if not manual
        else permissions.WORK_CASES
    )
    with transaction.atomic():
        app, review = _lock_review(review_id, actor, roles, states={R.VERIFICATION})
        return _step(
            app,
            review,
            actor,
            "outcome",
            R.AWAITING_DECISION,
            {
                "outcome": outcome,
                "outcome_manual": manual,
                "outcome_reason": reason.strip(),
                "gap_items": gap_items or [],
                "outcome_at": timezone.now(),
                "outcome_by": actor,
            },
            reason=reason,
            data={"outcome": outcome, "manual": manual},
        )


def review_amount_default(application: Application) -> Decimal | None:
    """The amount the declaration gives today (None when it cannot be computed)."""
    try:
        return eligibility.amount_compute(application=application).monthly_amount
    except DomainError:
        return None


def review_decide(
    *,
    actor: User,
    review_id: int,
    decision: str,
    reason: str,
    monthly_amount=None,
    exit_months: int | None = None,
    today: datetime.date | None = None,
) -> PeriodicReview:
    """The township decides: continue, adjust the amount (default: as computed from the
    declaration now), gradual exit (1 to the county's months), or stop. The next review
    date follows from the case as it now stands."""
    today = today or timezone.localdate()
    D = PeriodicReview.Decision
    if decision not in D.values:
        raise DomainError(_("Choose the decision."), field="decision")
    if not reason.strip():
        raise DomainError(_("Give the reasons for the decision."), field="reason")
    with transaction.atomic():
        app, review = _lock_review(review_id, actor, None, states={R.AWAITING_DECISION})
        access.require_role(actor, case_policy.decision_roles(app), app.village)
        old_amount = app.monthly_amount
        new_amount = None
        next_on = None
        if decision == D.ADJUST:
            if monthly_amount in (None, ""):
                monthly_amount = review_amount_default(app)
            casework_services.application_amount_adjust(
                actor=actor, application_id=app.pk, monthly_amount=monthly_amount, reason=reason
            )
            app.refresh_from_db(fields=["monthly_amount"])
            new_amount = app.monthly_amount
        elif decision == D.GRADUAL_EXIT:
            try:
                months = int(exit_months)
            except (TypeError, ValueError):
                raise DomainError(
                    _("Give the months of the gradual exit."), field="months"
                ) from None
            casework_services.gradual_exit_start(
                actor=actor, application_id=app.pk, months=months, reason=reason, today=today
            )
        elif decision == D.STOP:
            casework_services.application_stop(
                actor=actor, application_id=app.pk, reason=reason, today=today
            )
        if decision in {D.CONTINUE, D.ADJUST}:
            next_on = next_review_date(
                application=app, after=today, income_irregular=review.income_irregular
            )
            Application.objects.filter(pk=app.pk).update(next_review_on=next_on)
        elif decision == D.GRADUAL_EXIT:
            # The exit ends the case on its own schedule; no review falls due meanwhile.
            Application.objects.filter(pk=app.pk).update(next_review_on=None)
        app.refresh_from_db(fields=["state", "next_review_on"])
        return _step(
            app,
            review,
            actor,
            "decide",
            R.DECIDED,
            {
                "decision": decision,
                "decision_reason": reason.strip(),
                "old_amount": old_amount,
                "new_amount": new_amount,
                "exit_months": int(exit_months) if decision == D.GRADUAL_EXIT else None,
                "next_review_on": next_on,
                "decided_at": timezone.now(),
                "decided_by": actor,
            },
            reason=reason,
            data={"decision": decision, "next_review_on": next_on},
        )


# --- the county's monthly check of last month's new dibao files ---------------------------


def _month_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of last month and of this month."""
    this_month = today.replace(day=1)
    return add_months(this_month, -1), this_month


def monthly_check_create(
    *, county: Region, today: datetime.date | None = None
) -> tuple[MonthlyFileCheck, bool]:
    """The dated task for the county auditor: last month's newly approved dibao cases,
    each with its checklist, due on the policy's day of this month (the 15th by default).
    Idempotent per county and month."""
    today = today or timezone.localdate()
    month, this_month = _month_bounds(today)
    due_day = case_policy.policy_in_force(county=county, on=today).monthly_check_due_day
    with transaction.atomic():
        check, created = MonthlyFileCheck.objects.get_or_create(
            county=county, month=month, defaults={"due_on": this_month.replace(day=due_day)}
        )
        if not created:
            return check, False
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(month, datetime.time.min, tzinfo=tz)
        end = datetime.datetime.combine(this_month, datetime.time.min, tzinfo=tz)
        new_files = (
            Application.objects.filter(
                village__code__startswith=county.prefix,
                assistance_type__in=AssistanceType.dibao(),
                decided_at__gte=start,
                decided_at__lt=end,
                state__in=ENROLLED | {S.STOPPED},
            )
            .order_by("pk")
            .values_list("pk", "path")
        )
        MonthlyFileCheckItem.objects.bulk_create(
            MonthlyFileCheckItem(
                file_check=check,
                application_id=pk,
                visit_needed=path == Application.Path.NORMAL,
            )
            for pk, path in new_files
        )
        audit_record(
            actor=None,
            action="file_check.create",
            obj=check,
            region=county,
            new={"month": month, "files": check.items.count()},
        )
        return check, True


def monthly_checks_create(*, today: datetime.date | None = None) -> list[int]:
    """The scheduled entry point: one check per county with a policy in force."""
    today = today or timezone.localdate()
    counties = Region.objects.filter(
        pk__in=Policy.objects.filter(effective_from__lte=today).values("county_id"),
        level=Region.Level.COUNTY,
    ).order_by("code")
    return [monthly_check_create(county=county, today=today)[0].pk for county in counties]


def _lock_check(check_id: int, actor: User) -> MonthlyFileCheck:
    check = (
        MonthlyFileCheck.objects.select_for_update(of=("self",))
        .select_related("county")
        .filter(pk=check_id)
        .first()
    )
    if check is None or not access.jurisdiction_for(actor).contains(check.county):
        raise DomainError(_("No such monthly check."))
    access.require_role(actor, permissions.CHECK_CASES_FOR_COUNTY, check.county)
    if check.done_at is not None:
        raise Conflict(_("This monthly check is already done."))
    return check


def monthly_check_item_record(
    *,
    actor: User,
    item_id: int,
    file_complete: bool,
    amount_right: bool,
    notice_done: bool,
    visit_record: bool | None = None,
    note: str = "",
) -> MonthlyFileCheckItem:
    """The auditor's checklist of one file. Anything not right needs a note."""
    check_id = MonthlyFileCheckItem.objects.filter(pk=item_id).values_list(
        "file_check_id", flat=True
    )
    check_id = check_id.first()
    if check_id is None:
        raise DomainError(_("No such file on the checklist."))
    with transaction.atomic():
        check = _lock_check(check_id, actor)
        item = MonthlyFileCheckItem.objects.select_for_update().get(pk=item_id)
        if not item.visit_needed:
            visit_record = None
        elif visit_record is None:
            raise DomainError(
                _("Say whether the home-visit record is in the file."), field="visit_record"
            )
        values = {
            "file_complete": bool(file_complete),
            "amount_right": bool(amount_right),
            "notice_done": bool(notice_done),
            "visit_record": visit_record,
        }
        for name, value in values.items():
            setattr(item, name, value)
        if not item.all_right and not note.strip():
            raise DomainError(_("Say what is wrong with this file."), field="note")
        item.note = note.strip()
        item.checked_at = timezone.now()
        item.checked_by = actor
        item.save(update_fields=[*values, "note", "checked_at", "checked_by"])
        audit_record(
            actor=actor,
            action="file_check.item",
            obj=check,
            region=check.county,
            new={"application": item.application_id, **values},
            reason=note,
        )
        return item


def monthly_check_done(*, actor: User, check_id: int, note: str = "") -> MonthlyFileCheck:
    """Every file is checked: the monthly check is done."""
    with transaction.atomic():
        check = _lock_check(check_id, actor)
        left = check.items.filter(checked_at__isnull=True).count()
        if left:
            raise DomainError(
                _("%(count)s files are not checked yet.") % {"count": left}, field="note"
            )
        check.done_at = timezone.now()
        check.done_by = actor
        check.note = note.strip()
        check.save(update_fields=["done_at", "done_by", "note"])
        audit_record(
            actor=actor, action="file_check.done", obj=check, region=check.county, reason=note
        )
        return check


def adjustment_propose(
    *,
    actor: User,
    application_id: int,
    action: str,
    reasons: str,
    source: str,
    source_id: int | None = None,
    proposed_amount=None,
) -> AdjustmentProposal:
    """Recommend an adjustment of an enrolled case; the township acts on it. One proposal
    per spot-check finding, review or batch finding: proposing twice is refused."""
    _require(
        action in AdjustmentProposal.Action.values,
        _("Choose the recommended action."),
        field="action",
    )
    _require(source in AdjustmentProposal.Source.values, _("Unknown source."), field="source")
    _require(reasons.strip(), _("Give the reasons for the recommendation."), field="reasons")
    amount = None
    changes_amount = action in {
        AdjustmentProposal.Action.INCREASE,
        AdjustmentProposal.Action.DECREASE,
    }
    if changes_amount and proposed_amount not in (None, ""):
        amount = _money(proposed_amount, "proposed_amount")
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            permissions.HOLD_AND_ADJUST_CASES,
            allowed_from=Application.ENROLLED_STATES,
            allow_suspended=True,
        )
        if (
            source_id is not None
            and AdjustmentProposal.objects.filter(source=source, source_id=source_id).exists()
        ):
            raise Conflict(_("An adjustment was already proposed for this."))
        proposal = AdjustmentProposal.objects.create(
            application=app,
            action=action,
            reasons=reasons.strip(),
            proposed_amount=amount,
            source=source,
            source_id=source_id,
            proposed_by=actor,
        )
        APPLICATION.note(
            app,
            actor,
            "adjustment_propose",
            reason=reasons,
            data={"proposal": proposal.pk, "action": action, "source": source},
        )
        return proposal


def adjustment_handle(
    *,
    actor: User,
    proposal_id: int,
    adopt: bool,
    note: str = "",
    monthly_amount=None,
    today: datetime.date | None = None,
) -> AdjustmentProposal:
    """The township acts on a proposal: adopt it (keep, new amount, or stop) or decline it
    with a note. Whoever decides the case's applications decides its adjustments."""
    today = today or timezone.localdate()
    with transaction.atomic():
        proposal = AdjustmentProposal.objects.select_for_update().filter(pk=proposal_id).first()
        if proposal is None:
            raise DomainError(_("No such adjustment proposal."))
        app = application_lock(
            proposal.application_id,
            actor,
            None,
            allowed_from=set(S.values),
            allow_suspended=True,
        )
        access.require_role(actor, decision_roles(app), app.village)
        if proposal.status != AdjustmentProposal.Status.OPEN:
            raise Conflict(_("This proposal was already acted on."))
        A = AdjustmentProposal.Action
        if adopt:
            if app.state not in Application.ENROLLED_STATES:
                raise Conflict(
                    _("Not possible while the application is %(state)s.")
                    % {"state": app.get_state_display()}
                )
            if proposal.action in {A.INCREASE, A.DECREASE}:
                value = monthly_amount if monthly_amount not in (None, "") else None
                amount = _money(
                    value if value is not None else proposal.proposed_amount, "monthly_amount"
                )
                rising = amount > (app.monthly_amount or Decimal(0))
                _require(
                    rising == (proposal.action == A.INCREASE) and amount != app.monthly_amount,
                    _("The new amount must be higher than the current one.")
                    if proposal.action == A.INCREASE
                    else _("The new amount must be lower than the current one."),
                    field="monthly_amount",
                )
                _amount_set(app, actor, amount, proposal.reasons)
            elif proposal.action == A.STOP:
                _stop(app, actor, proposal.reasons, today)
        else:
            _require(note.strip(), _("Say why the proposal is declined."), field="note")
        proposal.status = (
            AdjustmentProposal.Status.ADOPTED if adopt else AdjustmentProposal.Status.DECLINED
        )
        proposal.handled_by = actor
        proposal.handled_at = timezone.now()
        proposal.handling_note = note.strip()
        proposal.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
        APPLICATION.note(
            app,
            actor,
            "adjustment_adopt" if adopt else "adjustment_decline",
            reason=note,
            data={"proposal": proposal.pk, "action": proposal.action},
        )
        return proposal
