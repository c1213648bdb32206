"""Verification requests, department queries, answers and the report (domain.md §4).

A request is opened by ``verification_request``, the step of the application's path
(cases.casework.steps) that verification performs, and fans out one query per active department;
each query is run by a Celery task after commit (verification.requests.tasks). Answers
come from the department's snapshot in use or from its live connector. When every
department has answered, the report compares the declaration with what was verified, and
issuing it moves the case on through cases.casework.services.verification_outcome_record.

No query is ever about a person without a signed authorisation (QY): checked when the
request opens, and again when each query is sent.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.celery import enqueue_on_commit
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import User
from aid_portal.workdays import CalendarYearUnknown, add_working_days
from cases import eligibility as case_eligibility
from cases import policy as case_policy
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import (
    Application,
    Asset,
    Member,
    PeriodicReview,
    VerificationOutcome,
)
from cases.reviews import services as case_reviews
from verification.feeds.models import DataItem, Department
from verification.requests import connector, selectors
from verification.requests.models import Answer, DepartmentQuery, VerificationRequest

Q = DepartmentQuery.Status
R = VerificationRequest.Status
C = DataItem.CompareAs
CENT = Decimal("0.01")

# Verified items that count as monthly income of the member.
INCOME_ITEMS = frozenset({C.MONTHLY_INCOME, C.PUBLIC_SALARY})
# Verified holdings compared with the declared assets of the same kind.
HOLDINGS = {
    C.VEHICLE: Asset.Kind.VEHICLE,
    C.REAL_ESTATE: Asset.Kind.REAL_ESTATE,
    C.BUSINESS: Asset.Kind.BUSINESS,
    C.SECURITIES: Asset.Kind.SECURITIES,
}


class Verdict:
    """Per item: consistent; differs (noted, judged for the household as a whole);
    gap (makes the whole report a clear gap); information (no comparison)."""

    CONSISTENT = "consistent"
    DIFFERS = "differs"
    GAP = "gap"
    INFORMATION = "information"


# --- the request -------------------------------------------------------------------------


def verification_request(*, actor: User, application_id: int) -> Application:
    """The step "request verification" of the application's path: the case moves under
    verification and its request opens, all or nothing (domain.md §4)."""
    with transaction.atomic():
        application = casework_services.application_to_verification(
            actor=actor, application_id=application_id
        )
        verification_start(actor=actor, application=application)
    return application


def review_verification_request(*, actor: User, review_id: int) -> PeriodicReview:
    """The verification step of a periodic review: the household is verified again and
    the report's outcome goes to the review, all or nothing."""
    with transaction.atomic():
        app, review = case_reviews.review_verification_lock(actor=actor, review_id=review_id)
        request = verification_start(actor=actor, application=app, review=review)
        return case_reviews.review_verification_attach(
            actor=actor, app=app, review=review, request=request
        )


def verification_start(
    *, actor: User, application: Application, review=None
) -> VerificationRequest:
    """Open the verification request of ``application``: one query per active department,
    each due ``answer_days`` working days from today, each sent after commit.

    Called by ``verification_request`` and by a periodic review's verification step,
    inside their transaction. Refused while anyone lacks a signed authorisation.
    """
    intake_services.authorisations_check(application=application)
    if review is not None:
        # A periodic review of an enrolled case (cases.reviews): its report's outcome
        # goes to the review, not into the application's intake path.
        if review.application_id != application.pk or review.state != "verification":
            raise Conflict(_("This review is not waiting for verification."))
    elif application.state != Application.State.UNDER_VERIFICATION:
        raise Conflict(
            _("Not possible while the application is %(state)s.")
            % {"state": application.get_state_display()}
        )
    today = timezone.localdate()
    departments = list(Department.objects.filter(active=True).order_by("code"))
    due: dict[int, datetime.date] = {}
    try:
        for days in {d.answer_days for d in departments}:
            due[days] = add_working_days(today, days)
    except CalendarYearUnknown as exc:
        raise DomainError(str(exc)) from None
    with transaction.atomic():
        request = VerificationRequest.objects.create(application=application, requested_by=actor)
        queries = DepartmentQuery.objects.bulk_create(
            DepartmentQuery(verification=request, department=d, due_on=due[d.answer_days])
            for d in departments
        )
        audit_record(
            actor=actor,
            action="verification.request",
            obj=request,
            region=application.village,
            new={
                "application": application.pk,
                "departments": {d.code: str(due[d.answer_days]) for d in departments},
            },
        )
        for query in queries:
            _enqueue(query.pk)
    return request


def _enqueue(query_id: int) -> None:
    enqueue_on_commit("verification.query_run", query_id)


# --- one department's answer ------------------------------------------------------------


# A claim older than the task time limit was left by a run that died while asking (no
# task outlives CELERY_TASK_TIME_LIMIT): the query may then be claimed again.
CLAIM_LEASE = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def query_run(*, query_id: int) -> DepartmentQuery:
    """Ask one department about the household, store its answers.

    The query is claimed by a conditional UPDATE and the department asked with no
    transaction open, so a slow department holds no lock; the answers are written in a
    short transaction, and only while the claim is still this run's. Idempotent: a query
    answered, or claimed by a run still within its lease, is left alone, and a live
    department gets the same request id every time, so a repeated run is recognised
    there too. A department that cannot answer marks the query FAILED with the reason
    (the task retries).
    """
    claimed_at = timezone.now()
    # Durable: the outermost transaction, refused inside a caller's. So the claim is
    # committed before the department is asked, and no transaction (nor its locks) stays
    # open while the call waits.
    with transaction.atomic(durable=True):
        claimed = (
            DepartmentQuery.objects.filter(pk=query_id, status__in=(Q.PENDING, Q.FAILED))
            .filter(
                models.Q(claimed_at__isnull=True)
                | models.Q(claimed_at__lt=claimed_at - CLAIM_LEASE)
            )
            .update(claimed_at=claimed_at, attempts=models.F("attempts") + 1)
        )
    try:
        query = DepartmentQuery.objects.select_related(
            "department", "verification__application__village"
        ).get(pk=query_id)
    except DepartmentQuery.DoesNotExist:
        raise DomainError(_("No such department query.")) from None
    if not claimed:
        return query
    application = query.verification.application
    # Only people who signed an authorisation are ever asked about (checked again here:
    # the rule holds at the moment of asking, not only when the request opened).
    people = list(
        Member.objects.filter(household_id=application.household_id)
        .filter(authorisation__isnull=False)
        .select_related("person")
    )
    failure: str | None = None
    try:
        answers = _ask(query, people)
    except QueryFailed as exc:
        answers, failure = [], str(exc)[:2000]
    with transaction.atomic(durable=True):
        ours = DepartmentQuery.objects.filter(pk=query.pk, claimed_at=claimed_at)
        if failure is not None:
            written = ours.update(status=Q.FAILED, last_error=failure, claimed_at=None)
        else:
            written = ours.update(
                status=Q.ANSWERED, last_error="", answered_at=timezone.now(), claimed_at=None
            )
        if written != 1:
            # This run outlived its lease and another took the query over: its result
            # stands.
            query.refresh_from_db()
            return query
        if failure is not None:
            audit_record(
                actor=None,
                action="verification.query_fail",
                obj=query.verification,
                region=application.village,
                new={"department": query.department.code, "error": failure},
            )
        else:
            Answer.objects.bulk_create(answers)
            audit_record(
                actor=None,
                action="verification.query_answer",
                obj=query.verification,
                region=application.village,
                new={"department": query.department.code, "answers": len(answers)},
            )
            _finish_if_complete(query.verification_id)
    query.refresh_from_db()
    return query


class QueryFailed(Exception):
    """A department could not answer this time."""


def _ask(query: DepartmentQuery, people: list[Member]) -> list[Answer]:
    department = query.department
    if department.channel == Department.Channel.LIVE:
        return _ask_live(query, people)
    snapshot_id = selectors.snapshot_in_use(department)
    if snapshot_id is None:
        raise QueryFailed(_("%(department)s has no snapshot in use.") % {"department": department})
    by_hash = {m.person.identity_hash: m for m in people}
    records = selectors.snapshot_records_for(department=department, identity_hashes=list(by_hash))
    return [
        Answer(
            query=query,
            member=by_hash[record.identity_hash],
            item_id=record.item_id,
            value=record.value,
            text=record.text,
            record_date=record.record_date,
            source=f"snapshot {record.snapshot_id}",
        )
        for record in records
        if record.identity_hash in by_hash
    ]


def _ask_live(query: DepartmentQuery, people: list[Member]) -> list[Answer]:
    if not people:
        return []
    try:
        rows = connector.query_department(
            department=query.department,
            request_id=query.request_id,
            people=[(m.person.identity_number, m.person.name) for m in people],
        )
    except connector.ConnectorError as exc:
        raise QueryFailed(exc.message) from None
    by_number = {m.person.identity_number: m for m in people}
    source = f"live {query.request_id}"
    answers = []
    for row in rows:
        member = by_number.get(row["identity_number"])
        if member is None:
            continue  # about nobody we asked for: never stored
        answers.append(
            Answer(
                query=query,
                member=member,
                item=row["item"],
                value=row.get("value"),
                text=row.get("text") or "",
                record_date=row.get("record_date"),
                source=source,
            )
        )
    return answers


def _finish_if_complete(verification_id: int) -> None:
    """Lock the request after this query's answer is written: of two last answers
    arriving at once, the second to take the lock sees both and builds the report."""
    request = VerificationRequest.objects.select_for_update().get(pk=verification_id)
    if request.status != R.OPEN:
        return
    if request.queries.exclude(status=Q.ANSWERED).exists() or not request.queries.exists():
        return
    VerificationRequest.objects.filter(pk=request.pk).update(status=R.ANSWERED)
    report_build(verification_id=request.pk)


def queries_reask(*, today: datetime.date | None = None) -> int:
    """Ask again every department past its due date (run daily): one audit row each."""
    count = 0
    with transaction.atomic():
        for query in selectors.queries_overdue(today=today).select_related(
            "department", "verification__application__village"
        ):
            _reask(None, query, reason="overdue")
            count += 1
    return count


def query_reask(*, actor: User, query_id: int) -> DepartmentQuery:
    """The officer asks one department again now (overdue or failed)."""
    with transaction.atomic():
        try:
            query = (
                DepartmentQuery.objects.select_for_update(of=("self",))
                .select_related("department", "verification__application__village")
                .get(pk=query_id)
            )
        except DepartmentQuery.DoesNotExist:
            raise DomainError(_("No such department query.")) from None
        access.require_role(
            actor, permissions.WATCH_VERIFICATION, query.verification.application.village
        )
        overdue = query.status == Q.PENDING and query.due_on < timezone.localdate()
        if query.status != Q.FAILED and not overdue:
            raise Conflict(
                _("%(department)s is not overdue and has not failed: nothing to ask again.")
                % {"department": query.department}
            )
        _reask(actor, query, reason="by hand")
    return query


def _reask(actor: User | None, query: DepartmentQuery, *, reason: str) -> None:
    audit_record(
        actor=actor,
        action="verification.query_reask",
        obj=query.verification,
        region=query.verification.application.village,
        new={"department": query.department.code, "status": query.status, "due_on": query.due_on},
        reason=reason,
    )
    _enqueue(query.pk)


# --- the report ----------------------------------------------------------------------------


def _yuan(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(_yuan(value))


def _row(*, kind, member, item, declared=None, verified=None, answers=(), verdict, diff=True):
    answers = list(answers)
    dates = [a.record_date for a in answers if a.record_date]
    return {
        "kind": kind,
        "member": member.person.name if member is not None else "",
        "item": item,
        "declared": declared if isinstance(declared, str) or declared is None else _s(declared),
        "verified": verified if isinstance(verified, str) or verified is None else _s(verified),
        "source": "; ".join(sorted({f"{a.query.department.name} ({a.source})" for a in answers})),
        "date": max(dates).isoformat() if dates else None,
        "difference": (
            _s(verified - declared)
            if diff and isinstance(declared, Decimal) and isinstance(verified, Decimal)
            else None
        ),
        "verdict": verdict,
    }


def report_build(*, verification_id: int) -> dict:
    """Compare, item by item, what the household declared with what was verified, and
    judge the whole by the county policy (domain.md §8, "basically consistent").

    Income: cases.eligibility.income_compare, the one rule: a clear gap where the
    departments found more than declared beyond the policy's tolerance (in the policy's
    direction), or where the verified figures fall on the other side of the eligibility
    line (judged, like the amount, net of the declared rigid expenditure). A family that
    declared more is consistent. Holdings: anything
    verified among vehicles, real estate, business registrations and securities beyond
    what was declared, any salary from public funds, a death, or deposits found above
    the household's limit that were not declared make a clear gap.
    """
    request = VerificationRequest.objects.select_related(
        "application__village", "application__household"
    ).get(pk=verification_id)
    app = request.application
    household = app.household
    policy = case_policy.policy_in_force(county=app.village.county(), on=timezone.localdate())
    everyone = list(
        household.members.select_related("person").prefetch_related("incomes").order_by("id")
    )
    members = [m for m in everyone if not m.is_supporter]
    count = len(members) or 1
    assets = list(household.assets.all())
    rigid = sum((e.monthly_amount for e in household.expenditures.all()), Decimal("0"))
    answers = list(
        Answer.objects.filter(query__verification=request)
        .select_related("item", "query__department", "member")
        .order_by("member_id", "item__compare_as", "pk")
    )
    # What is found about legally bound supporters living elsewhere is shown, never
    # compared: they are not members of the household.
    supporters_answers = [a for a in answers if a.member.is_supporter]
    answers = [a for a in answers if not a.member.is_supporter]
    by_member: dict[int, list[Answer]] = {}
    for answer in answers:
        by_member.setdefault(answer.member_id, []).append(answer)
    items: list[dict] = []
    tolerance = policy.income_tolerance

    # Income, member by member, then the household's per-capita figure that decides.
    declared_total = verified_total = Decimal("0")
    for member in members:
        declared = sum((i.monthly for i in member.incomes.all() if i.counted), Decimal("0"))
        income_answers = [
            a for a in by_member.get(member.pk, []) if a.item.compare_as in INCOME_ITEMS
        ]
        verified = sum((a.value or Decimal("0") for a in income_answers), Decimal("0"))
        declared_total += declared
        verified_total += verified
        items.append(
            _row(
                kind="income",
                member=member,
                item=_("monthly counted income"),
                declared=declared,
                verified=verified,
                answers=income_answers,
                verdict=(
                    Verdict.DIFFERS
                    if case_eligibility.income_beyond_tolerance(
                        policy=policy, declared=declared, verified=verified
                    )
                    else Verdict.CONSISTENT
                ),
            )
        )
    income = case_eligibility.income_compare(
        policy=policy,
        assistance_type=app.assistance_type,
        members=count,
        declared_income=declared_total,
        verified_income=verified_total,
        monthly_rigid_expenditure=rigid,
    )
    items.append(
        _row(
            kind="per_capita",
            member=None,
            item=_("per-capita monthly income"),
            declared=declared_total / count,
            verified=verified_total / count,
            verdict=Verdict.GAP if income.clear_gap else Verdict.CONSISTENT,
        )
    )

    # Deposits of the household: undeclared money above the limit is a gap.
    deposit_answers = [a for a in answers if a.item.compare_as == C.DEPOSIT]
    deposits_declared = sum((a.value for a in assets if a.kind == Asset.Kind.DEPOSIT), Decimal(0))
    deposits_verified = sum((a.value or Decimal("0") for a in deposit_answers), Decimal("0"))
    deposit_limit = policy.deposit_limit_per_person * len(members)
    if deposits_verified <= deposits_declared:
        deposit_verdict = Verdict.CONSISTENT
    elif deposits_verified > deposit_limit:
        deposit_verdict = Verdict.GAP
    else:
        deposit_verdict = Verdict.DIFFERS
    items.append(
        _row(
            kind="deposit",
            member=None,
            item=_("deposits"),
            declared=deposits_declared,
            verified=deposits_verified,
            answers=deposit_answers,
            verdict=deposit_verdict,
        )
    )

    # Holdings: the declared ones of each kind cover as many verified records; the rest
    # were not declared.
    for compare_as, asset_kind in HOLDINGS.items():
        found = [a for a in answers if a.item.compare_as == compare_as]
        declared_count = sum(1 for a in assets if a.kind == asset_kind)
        for index, answer in enumerate(found):
            items.append(
                _row(
                    kind=compare_as,
                    member=answer.member,
                    item=answer.item.name,
                    declared=_("declared") if index < declared_count else _("not declared"),
                    verified=answer.text or _s(answer.value) or answer.item.name,
                    answers=[answer],
                    verdict=Verdict.CONSISTENT if index < declared_count else Verdict.GAP,
                )
            )

    for answer in answers:
        compare_as = answer.item.compare_as
        if compare_as == C.PUBLIC_SALARY:
            verdict, declared = Verdict.GAP, None
        elif compare_as == C.DEATH:
            verdict, declared = Verdict.GAP, _("alive (a member of the household)")
        elif compare_as == C.INFORMATION:
            verdict, declared = Verdict.INFORMATION, None
        else:
            continue
        items.append(
            _row(
                kind=compare_as,
                member=answer.member,
                item=answer.item.name,
                declared=declared,
                verified=answer.text or _s(answer.value) or answer.item.name,
                answers=[answer],
                verdict=verdict,
            )
        )

    for answer in supporters_answers:
        items.append(
            _row(
                kind="supporter",
                member=answer.member,
                item=answer.item.name,
                verified=answer.text or _s(answer.value) or answer.item.name,
                answers=[answer],
                verdict=Verdict.INFORMATION,
            )
        )

    verdict = (
        VerificationRequest.Verdict.GAP
        if any(row["verdict"] == Verdict.GAP for row in items)
        else VerificationRequest.Verdict.CONSISTENT
    )
    report = {
        "verdict": verdict,
        "items": items,
        "income": {
            "members": len(members),
            "declared_total": _s(declared_total),
            "verified_total": _s(verified_total),
            "declared_per_capita": _s(declared_total / count),
            "verified_per_capita": _s(verified_total / count),
            "rigid_expenditure": _s(rigid),
            "declared_net_per_capita": _s(income.declared.per_capita_income),
            "verified_net_per_capita": _s(income.verified.per_capita_income),
            "threshold": _s(income.declared.threshold),
            "tolerance": str(tolerance),
            "direction": policy.income_gap_direction,
            "within_tolerance": not income.beyond_tolerance,
            "same_side": income.same_side,
            # Declared more than the departments see, and still consistent: the report
            # says so (the amount uses the income as investigated).
            "declared_more": income.declared_more and not income.clear_gap,
        },
        "deposit_limit": _s(deposit_limit),
        "policy_from": policy.effective_from.isoformat(),
        "built_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        VerificationRequest.objects.filter(pk=request.pk).update(report=report, verdict=verdict)
        audit_record(
            actor=None,
            action="verification.report_build",
            obj=request,
            region=app.village,
            new={"verdict": verdict},
        )
    return report


def gap_items(report: dict) -> list[dict]:
    """What differs, for the case and the feedback letter."""
    return [
        {
            **row,
            "item": f"{row['member']}：{row['item']}" if row["member"] else row["item"],
        }
        for row in report["items"]
        if row["verdict"] == Verdict.GAP
    ]


def report_issue(*, actor: User, verification_id: int) -> VerificationRequest:
    """Issue the report to the case: consistent → public notice (simplified path);
    clear gap → the family is told and has the objection window."""
    with transaction.atomic():
        try:
            request = (
                VerificationRequest.objects.select_for_update(of=("self",))
                .select_related("application__village")
                .get(pk=verification_id)
            )
        except VerificationRequest.DoesNotExist:
            raise DomainError(_("No such verification request.")) from None
        village = request.application.village
        if not access.jurisdiction_for(actor).contains(village):
            raise DomainError(_("No such verification request."))
        access.require_role(actor, permissions.ISSUE_REPORTS, village)
        if request.status == R.REPORTED:
            raise Conflict(_("This report was already issued."))
        if request.status != R.ANSWERED or not request.report:
            raise Conflict(_("Not every department has answered yet."))
        outcome = (
            VerificationOutcome.Outcome.GAP
            if request.verdict == VerificationRequest.Verdict.GAP
            else VerificationOutcome.Outcome.CONSISTENT
        )
        request.status = R.REPORTED
        request.reported_at = timezone.now()
        request.save(update_fields=["status", "reported_at"])
        audit_record(
            actor=actor,
            action="verification.report_issue",
            obj=request,
            region=village,
            old={"status": R.ANSWERED},
            new={"status": R.REPORTED, "verdict": request.verdict},
        )
        review_id = (
            PeriodicReview.objects.filter(verification=request).values_list("pk", flat=True).first()
        )
        if review_id is not None:
            case_reviews.review_outcome_record(
                actor=actor,
                review_id=review_id,
                outcome=outcome,
                gap_items=gap_items(request.report)
                if outcome == VerificationOutcome.Outcome.GAP
                else [],
                reason=_("verification report"),
                manual=False,
            )
            return request
        casework_services.verification_outcome_record(
            actor=actor,
            application_id=request.application_id,
            outcome=outcome,
            gap_items=gap_items(request.report)
            if outcome == VerificationOutcome.Outcome.GAP
            else [],
            source=VerificationOutcome.Source.VERIFICATION,
            reason=_("verification report"),
        )
    return request
