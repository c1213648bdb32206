"""Credit pages: the findings list and detail (with every step as a form), recording a
finding from a case, the printable notice, the queues of each role (decisions,
interviews, objections, repairs), the outbox, and the intake's block check (htmx).

Thin views: a form parses, one service acts, the page redirects. A rule that refuses
(DomainError) is shown beside the form; a lost race (Conflict) as a warning.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import DomainError
from aid_portal.forms import add_domain_error
from aid_portal.identity import identity_facts
from aid_portal.models import Role
from aid_portal.printing import print_response
from aid_portal.steps import step_page
from cases import selectors as case_selectors
from cases.intake.services import refuse_blocked_person
from credit import lists as credit_lists
from credit.findings import forms as credit_forms
from credit.findings import selectors, services
from credit.findings.models import Finding, Interview, Objection, Repair, RepaymentOrder
from credit.findings.steps import CREDIT_FINDING

F = Finding.State


# --- the steps of a finding (credit.findings.steps.CREDIT_FINDING) --------------------


def _pending(finding: Finding, related: str, state: str):
    return next((row for row in getattr(finding, related).all() if row.state == state), None)


def _open_interview(finding: Finding):
    return next((i for i in finding.interviews.all() if i.held_on is None), None)


def _order(finding: Finding) -> RepaymentOrder | None:
    try:
        return finding.repayment_order
    except RepaymentOrder.DoesNotExist:
        return None


def _run_decide(request, finding, form):
    done = services.finding_decide(
        actor=request.user, finding_id=finding.pk, note=form.cleaned_data["note"]
    )
    if done.state == F.COUNTY_PENDING:
        return _("Proposed to the county for confirmation.")
    return _("The finding is in force; its sanctions are switched on.")


def _run_dismiss(request, finding, form):
    services.finding_dismiss(
        actor=request.user, finding_id=finding.pk, reason=form.cleaned_data["reason"]
    )
    return _("The finding was not confirmed.")


def _run_confirm(request, finding, form):
    data = form.cleaned_data
    services.finding_confirm(
        actor=request.user,
        finding_id=finding.pk,
        note=data["note"],
        repayment_amount=data["repayment_amount"],
        repayment_deadline=data["repayment_deadline"],
    )
    return _("The severe finding is confirmed and in force.")


def _run_interview(request, finding, form):
    data = form.cleaned_data
    interview = selectors.finding_row_get(finding=finding, model=Interview, pk=data["interview"])
    services.interview_hold(
        actor=request.user, interview_id=interview.pk, notes=data["notes"], held_on=data["held_on"]
    )
    return _("The interview is recorded.")


def _run_repayment(request, finding, form):
    order = selectors.finding_row_get(finding=finding, model=RepaymentOrder)
    data = form.cleaned_data
    services.repayment_record(
        actor=request.user, order_id=order.pk, amount=data["amount"], paid_on=data["paid_on"]
    )
    return _("The repayment is recorded.")


def _run_recover(request, finding, form):
    order = selectors.finding_row_get(finding=finding, model=RepaymentOrder)
    recovery = services.recovery_order(
        actor=request.user, order_id=order.pk, amount=form.cleaned_data["amount"]
    )
    return _("%(amount)s yuan will be deducted from the household's next payment.") % {
        "amount": recovery.amount
    }


def _run_object(request, finding, form):
    data = form.cleaned_data
    services.objection_lodge(
        actor=request.user,
        finding_id=finding.pk,
        statement=data["statement"],
        evidence=data["evidence"],
        lodged_on=data["lodged_on"],
    )
    return _("The objection is recorded; it goes to review.")


def _run_objection_review(request, finding, form):
    data = form.cleaned_data
    objection = selectors.finding_row_get(finding=finding, model=Objection, pk=data["objection"])
    upheld = data["outcome"] == "uphold"
    services.objection_review(
        actor=request.user, objection_id=objection.pk, upheld=upheld, note=data["note"]
    )
    if upheld:
        return _("The objection is upheld: the finding is withdrawn and its sanctions undone.")
    return _("The objection is rejected: the finding stands.")


def _run_repair_apply(request, finding, form):
    data = form.cleaned_data
    services.repair_apply(
        actor=request.user,
        finding_id=finding.pk,
        correction=data["correction"],
        applied_on=data["applied_on"],
    )
    return _("The repair application is recorded.")


def _run_repair_decide(request, finding, form):
    data = form.cleaned_data
    repair = selectors.finding_row_get(finding=finding, model=Repair, pk=data["repair"])
    grant = data["outcome"] == "grant"
    services.repair_decide(actor=request.user, repair_id=repair.pk, grant=grant, note=data["note"])
    if grant:
        return _("The record is repaired; its sanctions end today.")
    return _("The repair is refused.")


# How the finding page takes each step of the declared path (credit.findings.steps.CREDIT_FINDING).
# The states and roles are the table's; ``when`` adds what the page also needs to offer
# a step (the row it acts on), which the service checks again.
bind = CREDIT_FINDING.bind_page
bind("decide", form=credit_forms.NoteForm, run=_run_decide)
bind("confirm", form=credit_forms.ConfirmForm, run=_run_confirm)
bind("dismiss", form=credit_forms.ReasonForm, run=_run_dismiss)
bind(
    "interview",
    form=credit_forms.InterviewForm,
    run=_run_interview,
    when=lambda f: _open_interview(f) is not None,
    initial=lambda f: {"interview": _open_interview(f).pk},
)
bind(
    "repayment",
    form=credit_forms.RepaymentForm,
    run=_run_repayment,
    when=lambda f: _order(f) is not None and _order(f).state == RepaymentOrder.State.OPEN,
)
bind(
    "recover",
    form=credit_forms.RecoverForm,
    run=_run_recover,
    when=lambda f: _order(f) is not None and _order(f).state == RepaymentOrder.State.OPEN,
)
bind("object", form=credit_forms.ObjectionForm, run=_run_object)
bind(
    "objection_review",
    form=credit_forms.ObjectionReviewForm,
    run=_run_objection_review,
    initial=lambda f: {
        "objection": getattr(_pending(f, "objections", Objection.State.PENDING), "pk", None)
    },
)
bind(
    "repair_apply",
    form=credit_forms.RepairApplyForm,
    run=_run_repair_apply,
    when=lambda f: _pending(f, "repairs", Repair.State.PENDING) is None,
)
bind(
    "repair_decide",
    form=credit_forms.RepairDecideForm,
    run=_run_repair_decide,
    when=lambda f: _pending(f, "repairs", Repair.State.PENDING) is not None,
    initial=lambda f: {"repair": _pending(f, "repairs", Repair.State.PENDING).pk},
)


# --- the finding --------------------------------------------------------------------------

# How each event of the history reads: the steps' and their outcomes' (credit.findings.steps).
EVENT_LABELS = CREDIT_FINDING.event_labels()


def _render_finding(request, finding: Finding, *, bound=None, status: int = 200) -> HttpResponse:
    steps = CREDIT_FINDING.page_forms(request, finding, bound)
    members = [m for m in finding.household.members.all() if not m.is_supporter]
    states = dict(Finding.State.choices)
    history = [
        {
            "event": event,
            "label": str(EVENT_LABELS.get(event.action, event.action)),
            "to": states.get(event.to_state) if event.to_state != event.from_state else None,
        }
        for event in finding.events.all()
    ]
    return render(
        request,
        "credit/detail.html",
        {
            "finding": finding,
            "steps": steps,
            "history": history,
            "members": members,
            "applicant": next((m for m in members if m.is_applicant), None),
            "order": _order(finding),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def detail(request, finding_id: int):
    access.require_role(request.user, permissions.READ_CASES)
    finding = selectors.finding_get_for_user(user=request.user, finding_id=finding_id)
    return _render_finding(request, finding)


def _refused(request, finding: Finding, bound, status: int) -> HttpResponse:
    """The page again, whole (the gate loads the finding without its history), with the
    form of the step and its errors."""
    whole = selectors.finding_get_for_user(user=request.user, finding_id=finding.pk)
    return _render_finding(request, whole, bound=bound, status=status)


@login_required
@require_POST
def act(request, finding_id: int, action: str):
    """One step of a finding from its page (aid_portal.steps.step_page)."""
    finding = selectors.finding_gate_for_user(user=request.user, finding_id=finding_id)
    return step_page(
        request,
        table=CREDIT_FINDING,
        obj=finding,
        name=action,
        render=_refused,
        done_url=reverse("credit:finding", kwargs={"finding_id": finding.pk}),
    )


@login_required
def notice(request, finding_id: int):
    """The written notice of the finding, with the objection deadline, to print."""
    access.require_role(request.user, permissions.READ_CASES)
    finding = selectors.finding_get_for_user(user=request.user, finding_id=finding_id)
    if finding.effective_on is None:
        raise Http404(_("A finding has a notice once it is in force."))
    members = [m for m in finding.household.members.all() if not m.is_supporter]
    return print_response(
        request,
        "credit/notice.html",
        {
            "finding": finding,
            "addressee": finding.person
            or next((m.person for m in members if m.is_applicant), None),
            "township": finding.village.parent,
            "sanctions": sorted({s.get_kind_display() for s in finding.sanctions.all()}),
            "order": _order(finding),
            "objection_days": (finding.objection_deadline - finding.effective_on).days,
        },
        document="credit_notice",
        obj=finding,
        region=finding.village,
        township=finding.village.parent,
        filename=f"credit-notice-{finding.pk}",
    )


# --- recording ----------------------------------------------------------------------------


NUMBER = re.compile(r"^\d{9}-(\d{1,9})$")


def _application_from(request, raw: str):
    """A case by its number (640422100-000012) or id, inside the user's jurisdiction."""
    raw = (raw or "").strip()
    match = NUMBER.match(raw)
    key = match.group(1) if match else raw
    if not key.isdigit():
        return None
    return (
        case_selectors.application_list_for_user(user=request.user)
        .select_related("household__village")
        .filter(pk=int(key))
        .first()
    )


@login_required
def finding_new(request):
    """Record a finding on a case's household: reached from the case page (?application=)
    or from the findings list, where the case number is asked first."""
    access.require_role(request.user, permissions.RECORD_CREDIT_FINDINGS)
    raw = request.POST.get("application") or request.GET.get("application")
    application = _application_from(request, raw) if raw else None
    if application is None:
        lookup = credit_forms.CaseLookupForm(request.GET if raw else None)
        if raw:
            lookup.add_error("application", _("No case with this number in your township."))
        return render(request, "credit/new.html", {"lookup": lookup}, status=400 if raw else 200)
    household = application.household
    members = list(
        household.members.filter(is_supporter=False).select_related("person").order_by("id")
    )
    if request.method != "POST":
        form = credit_forms.FindingRecordForm(members=members)
        return render(
            request,
            "credit/new.html",
            {"form": form, "application": application, "members": members},
        )
    form = credit_forms.FindingRecordForm(request.POST, request.FILES, members=members)
    if form.is_valid():
        data = form.cleaned_data
        try:
            finding = services.finding_record(
                actor=request.user,
                household_id=household.pk,
                person_id=int(data["person"]) if data["person"] else None,
                behaviour_code=data["behaviour"].code,
                facts=data["facts"],
                source_kind=data["source_kind"],
                source_id=application.pk,
                application_id=application.pk,
                evidence=data["evidence"],
                found_on=data["found_on"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if finding.escalated:
                messages.warning(
                    request,
                    _(
                        "Recorded. The household's previous finding was also %(recorded)s, so "
                        "this one is %(level)s (two consecutive findings)."
                    )
                    % {
                        "recorded": finding.get_level_recorded_display(),
                        "level": finding.get_level_display(),
                    },
                )
            else:
                messages.success(request, _("The finding is recorded; the township decides it."))
            return redirect("credit:finding", finding_id=finding.pk)
    messages.error(request, _("The finding was not recorded; see the form below."))
    return render(
        request,
        "credit/new.html",
        {"form": form, "application": application, "members": members},
        status=400,
    )


# --- lists and queues ---------------------------------------------------------------------


@login_required
def findings(request):
    result = listing.list_page(request, credit_lists.CREDIT_FINDINGS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "credit/findings.html",
        {
            "page": result.page,
            "listing": result,
            "may_record": access.has_role(request.user, permissions.RECORD_CREDIT_FINDINGS),
        },
        status=result.status,
    )


@login_required
def decisions(request):
    """Findings waiting for this user's decision: the township's, or the county's."""
    result = listing.list_page(request, credit_lists.CREDIT_DECISIONS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "credit/decisions.html",
        {"page": result.page, "listing": result},
        status=result.status,
    )


def _queue(request, spec, template: str, **context) -> HttpResponse:
    result = listing.list_page(request, spec)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        template,
        {"page": result.page, "listing": result, **context},
        status=result.status,
    )


@login_required
def interviews(request):
    return _queue(
        request,
        credit_lists.CREDIT_INTERVIEWS,
        "credit/interviews.html",
        today=timezone.localdate(),
    )


@login_required
def objections(request):
    return _queue(
        request,
        credit_lists.CREDIT_OBJECTIONS,
        "credit/objections.html",
        today=timezone.localdate(),
    )


@login_required
def repairs(request):
    return _queue(request, credit_lists.CREDIT_REPAIRS, "credit/repairs.html")


@login_required
def outbox(request):
    return _queue(request, credit_lists.CREDIT_OUTBOX, "credit/outbox.html")


@login_required
@require_POST
def outbox_export(request):
    """Every record as JSON lines, for a platform reached by file."""
    body = services.outbox_export(actor=request.user)
    response = HttpResponse(body, content_type="application/x-ndjson; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="credit-records-{stamp}.jsonl"'
    return response


# --- the intake's check -------------------------------------------------------------------


@login_required
@require_GET
def block_check(request):
    """htmx, on the intake start page: is the person typed in barred from applying?"""
    access.require_role(request.user, {Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_CASEWORKER})
    number = request.GET.get("identity_number", "").strip()
    refusal = None
    try:
        facts = identity_facts(number)
    except ValidationError:
        facts = None
    if facts is not None:
        try:
            refuse_blocked_person(facts.number)
        except DomainError as exc:
            refusal = exc.message
    return render(request, "credit/_block_check.html", {"refusal": refusal, "checked": facts})
