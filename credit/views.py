"""Credit pages: the findings list and detail (with every step as a form), recording a
finding from a case, the printable notice, the queues of each role (decisions,
interviews, objections, repairs), the outbox, and the intake's block check (htmx).

Thin views: a form parses, one service acts, the page redirects. A rule that refuses
(DomainError) is shown beside the form; a lost race (Conflict) as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aid_portal import access, permissions
from aid_portal.audit import action_label
from aid_portal.errors import Conflict, DomainError
from aid_portal.forms import add_domain_error
from aid_portal.identity import identity_facts
from aid_portal.models import Role, User
from cases import selectors as case_selectors
from cases.services import refuse_blocked_person
from credit import forms as credit_forms
from credit import selectors, services
from credit.models import Finding, Level, Objection, Repair, RepaymentOrder

PAGE_SIZE = 50
F = Finding.State


# --- the steps of a finding ---------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    form_class: type[forms.Form]
    roles: Callable[[Finding], frozenset[str]]
    available: Callable[[Finding], bool]
    run: Callable[[User, Finding, forms.Form], str]
    initial: Callable[[Finding], dict] = lambda finding: {}
    danger: bool = False


def _pending(finding: Finding, related: str, state: str):
    return next((row for row in getattr(finding, related).all() if row.state == state), None)


def _open_interview(finding: Finding):
    return next((i for i in finding.interviews.all() if i.held_on is None), None)


def _order(finding: Finding) -> RepaymentOrder | None:
    try:
        return finding.repayment_order
    except RepaymentOrder.DoesNotExist:
        return None


def _run_decide(user, finding, form):
    done = services.finding_decide(
        actor=user, finding_id=finding.pk, note=form.cleaned_data["note"]
    )
    if done.state == F.COUNTY_PENDING:
        return _("Proposed to the county for confirmation.")
    return _("The finding is in force; its sanctions are switched on.")


def _run_dismiss(user, finding, form):
    services.finding_dismiss(actor=user, finding_id=finding.pk, reason=form.cleaned_data["reason"])
    return _("The finding was not confirmed.")


def _run_confirm(user, finding, form):
    data = form.cleaned_data
    services.finding_confirm(
        actor=user,
        finding_id=finding.pk,
        note=data["note"],
        repayment_amount=data["repayment_amount"],
        repayment_deadline=data["repayment_deadline"],
    )
    return _("The severe finding is confirmed and in force.")


def _run_interview(user, finding, form):
    data = form.cleaned_data
    services.interview_hold(
        actor=user, interview_id=data["interview"], notes=data["notes"], held_on=data["held_on"]
    )
    return _("The interview is recorded.")


def _run_repayment(user, finding, form):
    order = _order(finding)
    if order is None:
        raise DomainError(_("No such repayment order."))
    data = form.cleaned_data
    services.repayment_record(
        actor=user, order_id=order.pk, amount=data["amount"], paid_on=data["paid_on"]
    )
    return _("The repayment is recorded.")


def _run_object(user, finding, form):
    data = form.cleaned_data
    services.objection_lodge(
        actor=user,
        finding_id=finding.pk,
        statement=data["statement"],
        evidence=data["evidence"],
        lodged_on=data["lodged_on"],
    )
    return _("The objection is recorded; it goes to review.")


def _run_review(user, finding, form):
    data = form.cleaned_data
    upheld = data["outcome"] == "uphold"
    services.objection_review(
        actor=user, objection_id=data["objection"], upheld=upheld, note=data["note"]
    )
    if upheld:
        return _("The objection is upheld: the finding is withdrawn and its sanctions undone.")
    return _("The objection is rejected: the finding stands.")


def _run_repair_apply(user, finding, form):
    data = form.cleaned_data
    services.repair_apply(
        actor=user,
        finding_id=finding.pk,
        correction=data["correction"],
        applied_on=data["applied_on"],
    )
    return _("The repair application is recorded.")


def _run_repair_decide(user, finding, form):
    data = form.cleaned_data
    grant = data["outcome"] == "grant"
    services.repair_decide(actor=user, repair_id=data["repair"], grant=grant, note=data["note"])
    if grant:
        return _("The record is repaired; its sanctions end today.")
    return _("The repair is refused.")


def _repair_roles(finding: Finding) -> frozenset[str]:
    return (
        permissions.CONFIRM_CREDIT_FINDINGS
        if finding.level == Level.SEVERE
        else permissions.DECIDE_CREDIT_FINDINGS
    )


def _dismiss_roles(finding: Finding) -> frozenset[str]:
    return (
        permissions.DECIDE_CREDIT_FINDINGS
        if finding.state == F.PROPOSED
        else permissions.CONFIRM_CREDIT_FINDINGS
    )


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in [
        Action(
            "decide",
            gettext_lazy("Decide the finding"),
            credit_forms.NoteForm,
            lambda f: permissions.DECIDE_CREDIT_FINDINGS,
            lambda f: f.state == F.PROPOSED,
            _run_decide,
        ),
        Action(
            "confirm",
            gettext_lazy("Confirm the severe finding"),
            credit_forms.ConfirmForm,
            lambda f: permissions.CONFIRM_CREDIT_FINDINGS,
            lambda f: f.state == F.COUNTY_PENDING,
            _run_confirm,
        ),
        Action(
            "dismiss",
            gettext_lazy("Do not confirm"),
            credit_forms.ReasonForm,
            _dismiss_roles,
            lambda f: f.state in Finding.UNDECIDED,
            _run_dismiss,
            danger=True,
        ),
        Action(
            "interview",
            gettext_lazy("Record the reminder interview"),
            credit_forms.InterviewForm,
            lambda f: permissions.RECORD_CREDIT_FINDINGS,
            lambda f: f.in_force and _open_interview(f) is not None,
            _run_interview,
            initial=lambda f: {"interview": _open_interview(f).pk},
        ),
        Action(
            "repayment",
            gettext_lazy("Record a repayment"),
            credit_forms.RepaymentForm,
            lambda f: permissions.RECORD_CREDIT_FINDINGS,
            lambda f: (
                f.in_force
                and _order(f) is not None
                and _order(f).state == RepaymentOrder.State.OPEN
            ),
            _run_repayment,
        ),
        Action(
            "object",
            gettext_lazy("Record an objection"),
            credit_forms.ObjectionForm,
            lambda f: permissions.RECORD_CREDIT_FINDINGS,
            lambda f: f.state == F.STANDING,
            _run_object,
        ),
        Action(
            "review",
            gettext_lazy("Review the objection"),
            credit_forms.ObjectionReviewForm,
            lambda f: permissions.REVIEW_CREDIT_OBJECTIONS,
            lambda f: f.state == F.OBJECTED,
            _run_review,
            initial=lambda f: {
                "objection": getattr(_pending(f, "objections", Objection.State.PENDING), "pk", None)
            },
        ),
        Action(
            "repair_apply",
            gettext_lazy("Record an application for repair"),
            credit_forms.RepairApplyForm,
            lambda f: permissions.RECORD_CREDIT_FINDINGS,
            lambda f: (
                f.state == F.STANDING and _pending(f, "repairs", Repair.State.PENDING) is None
            ),
            _run_repair_apply,
        ),
        Action(
            "repair_decide",
            gettext_lazy("Decide the repair"),
            credit_forms.RepairDecideForm,
            _repair_roles,
            lambda f: f.in_force and _pending(f, "repairs", Repair.State.PENDING) is not None,
            _run_repair_decide,
            initial=lambda f: {"repair": _pending(f, "repairs", Repair.State.PENDING).pk},
        ),
    ]
}


def actions_for(user: User, finding: Finding) -> list[Action]:
    return [
        action
        for action in ACTIONS.values()
        if action.available(finding)
        and access.has_role(user, action.roles(finding), finding.village)
    ]


# --- the finding --------------------------------------------------------------------------

HISTORY_ACTIONS = {"outbox_delivered": "credit_outbox.deliver"}


def _render_finding(request, finding: Finding, *, bound=None, status: int = 200) -> HttpResponse:
    steps = []
    for action in actions_for(request.user, finding):
        if bound and bound[0] == action.name:
            form, is_open = bound[1], True
        else:
            form, is_open = action.form_class(initial=action.initial(finding)), False
        steps.append({"action": action, "form": form, "open": is_open})
    members = [m for m in finding.household.members.all() if not m.is_supporter]
    states = dict(Finding.State.choices)
    history = [
        {
            "event": event,
            "label": action_label(
                HISTORY_ACTIONS.get(event.action, f"credit_finding.{event.action}")
            ),
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


@login_required
@require_POST
def act(request, finding_id: int, action: str):
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404(_("No such action."))
    finding = selectors.finding_gate_for_user(user=request.user, finding_id=finding_id)
    access.require_role(request.user, spec.roles(finding), finding.village)

    def refused(form):  # the page again, whole, with the form and its errors
        whole = selectors.finding_get_for_user(user=request.user, finding_id=finding_id)
        return _render_finding(request, whole, bound=(action, form), status=400)

    form = spec.form_class(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Check the form “%(action)s” below.") % {"action": spec.label})
        return refused(form)
    try:
        done = spec.run(request.user, finding, form)
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, exc.message)
        return refused(form)
    else:
        messages.success(request, done)
    return redirect("credit:finding", finding_id=finding.pk)


@login_required
def notice(request, finding_id: int):
    """The written notice of the finding, with the objection deadline, to print."""
    access.require_role(request.user, permissions.READ_CASES)
    finding = selectors.finding_get_for_user(user=request.user, finding_id=finding_id)
    if finding.effective_on is None:
        raise Http404(_("A finding has a notice once it is in force."))
    members = [m for m in finding.household.members.all() if not m.is_supporter]
    return render(
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
    access.require_role(request.user, permissions.READ_CASES)
    filters = credit_forms.FindingFilterForm(request.GET or None)
    state = level = ""
    if filters.is_valid():
        state, level = filters.cleaned_data["state"], filters.cleaned_data["level"]
    household = request.GET.get("household", "")
    rows = selectors.finding_list_for_user(
        user=request.user,
        state=state,
        level=level,
        household_id=int(household) if household.isdigit() else None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)  # the pager adds its own
    return render(
        request,
        "credit/findings.html",
        {
            "page": page,
            "query": query.urlencode(),
            "filters": filters,
            "may_record": access.has_role(request.user, permissions.RECORD_CREDIT_FINDINGS),
        },
    )


@login_required
def decisions(request):
    """Findings waiting for this user's decision: the township's, or the county's."""
    access.require_role(
        request.user, permissions.DECIDE_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS
    )
    states = []
    if access.has_role(request.user, permissions.DECIDE_CREDIT_FINDINGS):
        states.append(F.PROPOSED)
    if access.has_role(request.user, permissions.CONFIRM_CREDIT_FINDINGS):
        states.append(F.COUNTY_PENDING)
    rows = selectors.finding_list_for_user(user=request.user).filter(state__in=states)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "credit/decisions.html", {"page": page})


@login_required
def interviews(request):
    access.require_role(request.user, permissions.RECORD_CREDIT_FINDINGS)
    rows = selectors.interviews_due_for_user(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "credit/interviews.html", {"page": page, "today": timezone.localdate()})


@login_required
def objections(request):
    access.require_role(
        request.user, permissions.RECORD_CREDIT_FINDINGS | permissions.REVIEW_CREDIT_OBJECTIONS
    )
    rows = selectors.objections_pending_for_user(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "credit/objections.html", {"page": page, "today": timezone.localdate()})


@login_required
def repairs(request):
    access.require_role(
        request.user, permissions.DECIDE_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS
    )
    rows = selectors.repairs_pending_for_user(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "credit/repairs.html", {"page": page})


@login_required
def outbox(request):
    access.require_role(request.user, permissions.KEEP_CREDIT_OUTBOX)
    rows = selectors.outbox_for_user(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "credit/outbox.html", {"page": page})


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
