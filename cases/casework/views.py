"""Casework pages: the work queues, the case page with its next actions, the decision,
the printable rejection notice and the county policies.

Thin views: a form parses the input, one service acts, the page redirects. A refusal
(DomainError) is shown on the page beside the form it concerns; a lost race (Conflict)
is a warning; a role that may not act gets 403 from the service itself.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import DomainError
from aid_portal.forms import add_domain_error
from aid_portal.models import User
from aid_portal.printing import print_response
from aid_portal.steps import step_page
from cases import eligibility, selectors
from cases import lists as case_lists
from cases import policy as case_policy
from cases import search as case_search
from cases.casework import selectors as casework_selectors
from cases.casework import services as casework_services
from cases.casework.forms import (
    AcceptForm,
    ApproveForm,
    CountyCheckForm,
    DemocraticReviewForm,
    EmptyForm,
    ExtremePovertyExceptionForm,
    FeedbackObjectionForm,
    HomeVisitForm,
    NoticeCloseForm,
    NoticeObjectionForm,
    NoticeObjectionHandleForm,
    NoticePostForm,
    PolicyEditForm,
    PolicyForm,
    ReasonForm,
    RejectForm,
    VerificationOutcomeForm,
)
from cases.casework.selectors import (
    investigator_list_for_application,
    policy_county_list_for_admin,
    policy_get_for_user,
    policy_list_for_user,
    with_applicant,
)
from cases.casework.steps import APPLICATION
from cases.intake import services as intake_services
from cases.models import Application, AssistanceType, VerificationOutcome
from cases.reviews.views import case_section

S = Application.State
QUEUE_PAGE_SIZE = 50
ALERT_DAYS = 5  # a deadline this close (or past) is highlighted

# How each step of the timeline reads (ApplicationEvent.action): the declared path's,
# and the periodic reviews' (cases.reviews) until they have a table of their own.
EVENT_LABELS = {
    **APPLICATION.event_labels(),
    # Periodic reviews (cases.reviews).
    "member_death": gettext_lazy("a member's death recorded"),
    "review_open": gettext_lazy("periodic review opened"),
    "review_redeclaration_start": gettext_lazy("review: re-declaration started"),
    "review_redeclaration_finish": gettext_lazy("review: re-declaration recorded"),
    "review_verification_request": gettext_lazy("review: verification requested"),
    "review_outcome": gettext_lazy("review: verification outcome"),
    "review_decide": gettext_lazy("review decided"),
}
STATE_LABELS = dict(Application.State.choices)
RULE_LABELS = {
    "(standard - per_capita) * members": gettext_lazy("(standard − per-capita income) × members"),
    "recognition: per_capita < standard * edge_multiple": gettext_lazy(
        "recognition only: per-capita income below the standard × the edge multiple"
    ),
    "standard * extreme_poverty_multiple * members": gettext_lazy(
        "standard × the extreme-poverty multiple × members"
    ),
    "standard * extreme_poverty_multiple * members + care allowances": gettext_lazy(
        "standard × the extreme-poverty multiple × members + each member's care allowance "
        "by self-care level"
    ),
    "one-off: standard * temporary_months * members": gettext_lazy(
        "one-off: standard × the policy's months × members"
    ),
}


# --- the actions -------------------------------------------------------------------------


def _open_notice(app: Application):
    return next((n for n in app.notices.all() if n.closed_at is None), None)


def _unhandled_objections(app: Application) -> list:
    notice = _open_notice(app)
    if notice is None:
        return []
    return [o for o in notice.objections.all() if o.handled_on is None]


def _run_accept(request, app, form):
    result = casework_services.application_accept(
        actor=request.user,
        application_id=app.pk,
        also_missing=form.cleaned_data["also_missing"],
    )
    if result.state == S.RETURNED:
        messages.warning(
            request,
            _("Returned for completion. Everything missing: %(items)s")
            % {"items": "；".join(result.missing_items)},
        )
        return None
    return _("Accepted. The decision is due by %(date)s.") % {"date": result.due_on}


def _run_extend(request, app, form):
    result = casework_services.application_extend(
        actor=request.user, application_id=app.pk, reason=form.cleaned_data["reason"]
    )
    return _("Time limit extended: the decision is now due by %(date)s.") % {"date": result.due_on}


def _run_verification_outcome(request, app, form):
    data = form.cleaned_data
    casework_services.verification_outcome_record(
        actor=request.user,
        application_id=app.pk,
        outcome=data["outcome"],
        gap_items=data["gap_items"],
        reason=data["reason"],
    )
    return _("Verification outcome recorded.")


def _run_feedback_objection(request, app, form):
    casework_services.feedback_objection_record(
        actor=request.user,
        application_id=app.pk,
        text=form.cleaned_data["text"],
        has_evidence=form.cleaned_data["has_evidence"],
    )
    return _("The family's objection is recorded.")


def _run_feedback_close(request, app, form):
    casework_services.feedback_close(actor=request.user, application_id=app.pk)
    return _("Objection window closed; the case goes on to a home visit.")


def _run_home_visit(request, app, form):
    data = form.cleaned_data
    casework_services.home_visit_record(
        actor=request.user,
        application_id=app.pk,
        visited_on=data["visited_on"],
        investigators=data["investigators"],
        family_member_present=data["family_member_present"],
        findings=data["findings"],
        investigators_signature=data["investigators_signature"],
        family_signature=data["family_signature"],
    )
    return _("Home visit recorded.")


def _run_democratic_review(request, app, form):
    data = form.cleaned_data
    casework_services.democratic_review_record(
        actor=request.user,
        application_id=app.pk,
        held_on=data["held_on"],
        participants=data["participants"],
        opinion=data["opinion"],
        minutes=data["minutes"] or None,
    )
    return _("Democratic review recorded.")


def _run_notice_post(request, app, form):
    notice = casework_services.notice_post(
        actor=request.user,
        application_id=app.pk,
        starts_on=form.cleaned_data["starts_on"],
        place=form.cleaned_data["place"],
    )
    return _("Public notice posted: %(start)s to %(end)s.") % {
        "start": notice.starts_on,
        "end": notice.ends_on,
    }


def _run_notice_objection(request, app, form):
    data = form.cleaned_data
    casework_services.notice_objection_record(
        actor=request.user,
        notice=casework_selectors.open_notice_for_step(app),
        objector=data["objector"],
        content=data["content"],
        raised_on=data["raised_on"],
    )
    return _("Objection recorded; handle it before the notice is closed.")


def _run_notice_objection_handle(request, app, form):
    casework_services.notice_objection_handle(
        actor=request.user,
        objection=form.cleaned_data["objection"],
        handling=form.cleaned_data["handling"],
    )
    return _("Handling of the objection recorded.")


def _run_notice_close(request, app, form):
    result = casework_services.notice_close(
        actor=request.user,
        application_id=app.pk,
        reinvestigate=form.cleaned_data["reinvestigate"],
    )
    return _("Public notice closed. The case is now: %(state)s.") % {
        "state": result.get_state_display()
    }


def _run_county_check(request, app, form):
    casework_services.county_check_record(
        actor=request.user,
        application_id=app.pk,
        done_on=form.cleaned_data["done_on"],
        findings=form.cleaned_data["findings"],
    )
    return _("County key check recorded.")


def _run_extreme_poverty_exception(request, app, form):
    casework_services.extreme_poverty_exception_record(
        actor=request.user, application_id=app.pk, reasons=form.cleaned_data["reasons"]
    )
    return _("The county's exception is recorded.")


def _extreme_poverty_checks(app: Application) -> list:
    """The three conditions with who fails them, for an extreme-poverty case (else none).
    Kept on the object: the page shows them and decides whether to offer the exception."""
    if app.assistance_type != AssistanceType.EXTREME_POVERTY:
        return []
    if "_extreme_poverty_checks" not in app.__dict__:
        try:
            checks = eligibility.extreme_poverty_conditions(application=app)
        except DomainError:
            checks = []  # no policy in force: the decision refuses with its own message
        app.__dict__["_extreme_poverty_checks"] = checks
    return app.__dict__["_extreme_poverty_checks"]


def _run_approve(request, app, form):
    result = casework_services.application_approve(
        actor=request.user,
        application_id=app.pk,
        start_month=form.cleaned_data["start_month"],
    )
    return _("Approved: %(amount)s yuan a month from %(month)s.") % {
        "amount": result.monthly_amount,
        "month": result.start_month.strftime("%Y-%m"),
    }


def _run_reject(request, app, form):
    casework_services.application_reject(
        actor=request.user, application_id=app.pk, reasons=form.cleaned_data["reasons"]
    )
    return _("Rejected. Print the notice for the family.")


def _run_withdraw(request, app, form):
    casework_services.application_withdraw(
        actor=request.user, application_id=app.pk, reason=form.cleaned_data["reason"]
    )
    return _("The application is withdrawn.")


# How the case page takes each step of the declared path (cases.casework.steps.APPLICATION). The
# step "verification_request" is bound by verification (verification.requests.steps).
bind = APPLICATION.bind_page
bind("accept", form=AcceptForm, run=_run_accept)
bind("verification_outcome", form=VerificationOutcomeForm, run=_run_verification_outcome)
bind("feedback_objection", form=FeedbackObjectionForm, run=_run_feedback_objection)
bind("feedback_close", form=EmptyForm, run=_run_feedback_close)
bind(
    "home_visit",
    form=HomeVisitForm,
    run=_run_home_visit,
    form_kwargs=lambda request, app: {
        "investigators": investigator_list_for_application(user=request.user, application=app)
    },
)
bind("democratic_review", form=DemocraticReviewForm, run=_run_democratic_review)
bind(
    "notice_post",
    form=NoticePostForm,
    run=_run_notice_post,
    when=lambda app: _open_notice(app) is None,
)
bind(
    "notice_objection",
    form=NoticeObjectionForm,
    run=_run_notice_objection,
    when=lambda app: _open_notice(app) is not None,
)
bind(
    "notice_objection_handle",
    form=NoticeObjectionHandleForm,
    run=_run_notice_objection_handle,
    when=lambda app: bool(_unhandled_objections(app)),
    form_kwargs=lambda request, app: {"objections": _unhandled_objections(app)},
)
bind(
    "notice_close",
    form=NoticeCloseForm,
    run=_run_notice_close,
    when=lambda app: _open_notice(app) is not None,
)
bind(
    "county_check",
    form=CountyCheckForm,
    run=_run_county_check,
    when=lambda app: bool(app.near_relative_filings.all()) and not app.county_check_done_on,
)
bind(
    "extreme_poverty_exception",
    form=ExtremePovertyExceptionForm,
    run=_run_extreme_poverty_exception,
    when=lambda app: any(not check.passes for check in _extreme_poverty_checks(app)),
)
bind("approve", form=ApproveForm, run=_run_approve)
bind("reject", form=RejectForm, run=_run_reject)
bind("extend", form=ReasonForm, run=_run_extend, when=lambda app: not app.extended)
bind("withdraw", form=ReasonForm, run=_run_withdraw)


# --- the case page -----------------------------------------------------------------------


def _url_if_present(name: str, **kwargs) -> str | None:
    """A link to an intake page, if that page exists (the intake pages are a separate part)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _intake_links(app: Application) -> dict:
    household_file = _url_if_present(
        "cases:intake-documents", application_id=app.pk
    ) or _url_if_present("cases:documents", application_id=app.pk)
    return {
        "documents_url": household_file,
        "intake_url": (
            _url_if_present("cases:intake-members", application_id=app.pk)
            if app.state in intake_services.EDITABLE
            else None
        ),
        "documents": [
            (
                document,
                _url_if_present(
                    "cases:document-download",
                    household_id=document.household_id,
                    document_id=document.pk,
                ),
            )
            for document in app.documents.all()
        ],
    }


def amount_explanation(basis: eligibility.AmountBasis) -> str:
    """The arithmetic with the case's own figures, e.g. (600.00 − 150.00) × 2 = 900.00."""
    if basis.rule.startswith("(standard - per_capita)"):
        return (
            f"({basis.standard} − {basis.per_capita_income}) × {basis.members}"
            f" = {basis.monthly_amount}"
        )
    if basis.rule.startswith("recognition"):
        sign = "<" if basis.eligible else "≥"
        return f"{basis.per_capita_income} {sign} {basis.threshold}"
    if not basis.standard or not basis.members:
        return f"{basis.monthly_amount}"
    basic = basis.monthly_amount - basis.care_amount
    factor = (basic / (basis.standard * basis.members)).quantize(Decimal("0.01"))
    line = f"{basis.standard} × {factor} × {basis.members}"
    if basis.care:
        # Extreme poverty: the basic living allowance plus each member's care allowance.
        line += f" + ({' + '.join(str(share.allowance) for share in basis.care)})"
    return f"{line} = {basis.monthly_amount}"


def _render_case(
    request: HttpRequest,
    app: Application,
    *,
    bound: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    actions = APPLICATION.page_forms(request, app, bound)
    context = {
        "app": app,
        "actions": actions,
        "review_section": case_section(request.user, app),
        **_case_facts(app),
        **_deadline_context(),
        **_intake_links(app),
    }
    context["extreme_poverty_checks"] = _extreme_poverty_checks(app)
    if any(item["action"].name == "approve" for item in actions):
        context["approve_gap"] = _latest_gap(app)
        try:
            basis = eligibility.amount_compute(application=app)
        except DomainError as exc:
            context["amount_error"] = exc.message
        else:
            context["basis"] = basis
            context["basis_rule"] = RULE_LABELS.get(basis.rule, basis.rule)
            context["basis_line"] = amount_explanation(basis)
    if any(item["action"].name == "notice_post" for item in actions):
        try:
            policy = case_policy.policy_for_case(app, on=timezone.localdate())
        except DomainError:
            policy = None
        context["notice_days"] = policy.notice_days if policy else None
    return render(request, "cases/casework/detail.html", context, status=status)


def _latest_gap(app: Application) -> VerificationOutcome | None:
    """The case's latest verification outcome when it is a clear gap: the approver is
    warned, with the items that differ (the prefetched outcomes, newest first)."""
    outcomes = list(app.verification_outcomes.all())
    if outcomes and outcomes[0].outcome == VerificationOutcome.Outcome.GAP:
        return outcomes[0]
    return None


def _case_facts(app: Application) -> dict:
    """What the case page lists, arranged from the prefetched rows (no further queries)."""
    everyone = list(app.household.members.all())
    members = [m for m in everyone if not m.is_supporter]
    by_id = {m.pk: m for m in everyone}
    incomes = [(m, income) for m in everyone for income in m.incomes.all()]
    counted = sum(
        (income.monthly for m, income in incomes if income.counted and not m.is_supporter), 0
    )
    expenditures = list(app.household.expenditures.all())
    timeline = [
        {
            "event": event,
            "label": EVENT_LABELS.get(event.action, event.action),
            "from": STATE_LABELS.get(event.from_state, event.from_state),
            "to": STATE_LABELS.get(event.to_state, event.to_state),
        }
        for event in app.events.all()
    ]
    return {
        "members": members,
        "supporters": [m for m in everyone if m.is_supporter],
        "applicant": next((m for m in members if m.is_applicant), None),
        "incomes": incomes,
        "counted_income": counted,
        "assets": [(a, by_id.get(a.member_id)) for a in app.household.assets.all()],
        "expenditures": [(e, by_id.get(e.member_id)) for e in expenditures],
        "rigid_total": sum((e.monthly_amount for e in expenditures), 0),
        "timeline": timeline,
        "open_notice": _open_notice(app),
    }


def _deadline_context() -> dict:
    today = timezone.localdate()
    return {"today": today, "soon": today + datetime.timedelta(days=ALERT_DAYS)}


@login_required
def detail(request, application_id: int):
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    return _render_case(request, app)


@login_required
@require_POST
def act(request, application_id: int, action: str):
    """One step of the path from the case page (aid_portal.steps.step_page)."""
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    return step_page(
        request,
        table=APPLICATION,
        obj=app,
        name=action,
        render=lambda request, app, bound, status: _render_case(
            request, app, bound=bound, status=status
        ),
        done_url=reverse("cases:detail", kwargs={"application_id": app.pk}),
    )


@login_required
def rejection_notice(request, application_id: int):
    """The written notice of rejection with reasons (domain.md §8), to print (audited)."""
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    if app.state != S.REJECTED:
        raise Http404(_("Only a rejected application has a rejection notice."))
    members = list(app.household.members.all())
    return print_response(
        request,
        "cases/casework/rejection_notice.html",
        {
            "app": app,
            "applicant": next((m for m in members if m.is_applicant), None),
            "township": app.village.parent,
            "decided_on": timezone.localdate(app.decided_at) if app.decided_at else None,
        },
        document="rejection_notice",
        obj=app,
        region=app.village,
        township=app.village.parent,
        filename=f"rejection-notice-{app.number}",
    )


# --- the queues --------------------------------------------------------------------------


def _queue(request, spec, *, template_name: str, drafts: bool = False):
    result = listing.list_page(request, spec)
    if isinstance(result, HttpResponse):
        return result
    context = {"listing": result, "page": result.page, "title": spec.title, **_deadline_context()}
    if request.htmx:
        return render(request, "cases/casework/_queue_table.html", context, status=result.status)
    if drafts:
        context["drafts"] = _drafts(request.user, limit=QUEUE_PAGE_SIZE)
    return render(request, template_name, context, status=result.status)


def _drafts(user: User, *, limit: int, reminded_only: bool = False) -> list[Application]:
    """The user's drafts, oldest first, each with its age in days (``age_days``)."""
    drafts = casework_selectors.drafts_for_user(user=user)
    if reminded_only:
        drafts = drafts.filter(reminded_at__isnull=False)
    rows = list(with_applicant(drafts)[:limit])
    today = timezone.localdate()
    for row in rows:
        row.age_days = (today - timezone.localdate(row.created_at)).days
        row.withdraw_date = (
            datetime.date.fromisoformat(row.withdraw_on) if row.withdraw_on else None
        )
    return rows


@login_required
def queue(request):
    """Open cases of the user's places, nearest deadline first."""
    return _queue(
        request, case_lists.WORK_QUEUE, template_name="cases/casework/queue.html", drafts=True
    )


@login_required
def decisions(request):
    """Cases awaiting the decision in the approver's township."""
    return _queue(request, case_lists.DECISIONS, template_name="cases/casework/queue.html")


@login_required
def search(request):
    """The top bar's search: applications, households and persons in the user's places."""
    results = case_search.search_for_user(user=request.user, term=request.GET.get("q", ""))
    return render(request, "cases/casework/search.html", {"results": results})


def home_queue_context(user: User) -> dict:
    """Context for templates/cases/_home_queue.html on the home page.

    Caseworkers and assistants see their work queue, approvers what awaits their
    decision; both see the deadlines past or within ALERT_DAYS days.
    """
    if access.has_role(user, permissions.READ_WORK_QUEUE):
        url, states = reverse("cases:queue"), casework_selectors.CASEWORKER_QUEUE_STATES
    elif access.has_role(user, permissions.READ_DECISION_QUEUE):
        url, states = reverse("cases:decisions"), casework_selectors.APPROVER_QUEUE_STATES
    else:
        return {"home_queue_url": None, "home_alerts": [], "home_queue": []}
    alerts = casework_selectors.deadline_alerts_for_user(user=user, within_days=ALERT_DAYS)
    queue = casework_selectors.work_queue_for_user(user=user, states=states)
    reminded = []
    if access.has_role(user, permissions.READ_WORK_QUEUE):
        reminded = _drafts(user, limit=10, reminded_only=True)
    return {
        "home_drafts": reminded,
        "home_queue_url": url,
        "home_alerts": list(with_applicant(alerts)[:20]),
        "home_queue": list(with_applicant(queue)[:10]),
        **_deadline_context(),
    }


# --- county policies ---------------------------------------------------------------------


@login_required
def policies(request):
    """The policy rows of the user's counties; a data-feed admin adds dated rows."""
    access.require_role(request.user, permissions.READ_POLICIES)
    may_add = access.has_role(request.user, permissions.MANAGE_STAFF)
    form = None
    status = 200
    if request.method == "POST":
        access.require_role(request.user, permissions.MANAGE_STAFF)
        counties = policy_county_list_for_admin(user=request.user)
        form = PolicyForm(request.POST, counties=counties)
        if form.is_valid():
            values = dict(form.cleaned_data)
            try:
                policy = case_policy.policy_create(
                    actor=request.user,
                    county=values.pop("county"),
                    effective_from=values.pop("effective_from"),
                    **values,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Policy of %(county)s from %(date)s added.")
                    % {"county": policy.county.name, "date": policy.effective_from},
                )
                if policy.effective_from < timezone.localdate():
                    messages.warning(
                        request,
                        _(
                            "This policy is in force from a past date (%(date)s): deadlines "
                            "and amounts computed from that date on now follow it."
                        )
                        % {"date": policy.effective_from},
                    )
                return redirect("cases:policies")
        status = 400
    elif may_add:
        counties = policy_county_list_for_admin(user=request.user)
        # A new row starts from the figures in force in the county chosen (?county=),
        # or in the admin's only county: most rows change one or two figures.
        county = counties.filter(pk=_int_or_none(request.GET.get("county"))).first()
        if county is None and len(counties) == 1:
            county = counties[0]
        initial = {"county": county.pk} if county else {}
        if county is not None:
            initial |= case_policy.policy_initial(county=county)
        form = PolicyForm(counties=counties, initial=initial)
    return render(
        request,
        "cases/casework/policies.html",
        {
            "policies": policy_list_for_user(user=request.user),
            "form": form,
            "may_change": may_add,
            "today": timezone.localdate(),
        },
        status=status,
    )


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def policy_edit(request, policy_id: int):
    """Change a policy that is not yet in force (a data-feed admin of its county)."""
    access.require_role(request.user, permissions.READ_POLICIES)
    policy = policy_get_for_user(user=request.user, policy_id=policy_id)
    access.require_role(request.user, permissions.MANAGE_POLICIES, policy.county)
    if case_policy.policy_is_in_force(policy):
        messages.error(
            request,
            _(
                "This policy is in force since %(date)s and can no longer change: enter a "
                "new dated policy to supersede it."
            )
            % {"date": policy.effective_from},
        )
        return redirect("cases:policies")
    status = 200
    if request.method == "POST":
        form = PolicyEditForm(request.POST)
        if form.is_valid():
            try:
                case_policy.policy_update(
                    actor=request.user, policy_id=policy.pk, **form.cleaned_data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Policy of %(county)s from %(date)s changed.")
                    % {"county": policy.county.name, "date": form.cleaned_data["effective_from"]},
                )
                return redirect("cases:policies")
        status = 400
    else:
        form = PolicyEditForm(
            initial={"effective_from": policy.effective_from}
            | {name: getattr(policy, name) for name in case_policy.POLICY_VALUE_FIELDS}
        )
    return render(
        request,
        "cases/casework/policy_edit.html",
        {"policy": policy, "form": form},
        status=status,
    )


@login_required
@require_POST
def policy_withdraw(request, policy_id: int):
    """Withdraw a policy that is not yet in force; the one before it stays in force."""
    access.require_role(request.user, permissions.READ_POLICIES)
    policy = policy_get_for_user(user=request.user, policy_id=policy_id)
    try:
        case_policy.policy_withdraw(
            actor=request.user, policy_id=policy.pk, reason=request.POST.get("reason", "")[:500]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Policy of %(county)s from %(date)s withdrawn.")
            % {"county": policy.county.name, "date": policy.effective_from},
        )
    return redirect("cases:policies")
