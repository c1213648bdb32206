"""Pages after approval: the reviews due and each review's steps, the adjustments to act
on, the county's monthly check of new dibao files, and the section of the case page
that lists holds, reviews and proposals.

Thin views as on the casework pages: a form parses the input, one service acts, the page
redirects. A refusal (DomainError) is shown beside its form with status 400; a lost race
(Conflict) is a warning; a role that may not act gets 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import Conflict, DomainError
from aid_portal.forms import add_domain_error
from aid_portal.models import User
from aid_portal.steps import step_page
from cases import lists as case_lists
from cases import policy as case_policy
from cases import selectors
from cases.casework.forms import EmptyForm
from cases.casework.steps import deciders as steps_deciders
from cases.intake import services as intake_services
from cases.models import Application, PeriodicReview
from cases.reviews import selectors as review_selectors
from cases.reviews import services as review_services
from cases.reviews.forms import (
    AdjustmentHandleForm,
    AssetAddForm,
    DecideForm,
    FileCheckDoneForm,
    FileCheckItemForm,
    IncomeAddForm,
    MemberDeathForm,
    OutcomeForm,
    RedeclarationFinishForm,
    ReviewOpenForm,
    RowRemoveForm,
    WorkAbilityForm,
)
from cases.reviews.steps import REVIEW

R = PeriodicReview.State
STEP_ORDER = [R.OPENED, R.REDECLARATION, R.VERIFICATION, R.AWAITING_DECISION, R.DECIDED]
PART_LABELS = {
    "members": gettext_lazy("member"),
    "incomes": gettext_lazy("income"),
    "assets": gettext_lazy("asset"),
    "expenditures": gettext_lazy("rigid expenditure"),
}
CHANGE_LABELS = {
    "added": gettext_lazy("added"),
    "removed": gettext_lazy("removed"),
    "changed": gettext_lazy("changed"),
}


# --- the steps of a review (cases.reviews.steps.REVIEW) -----------------------------------------


def _members(request, review: PeriodicReview) -> dict:
    return {"members": list(review.application.household.members.all())}


def _run_start(request, review, form):
    review_services.review_redeclaration_start(actor=request.user, review_id=review.pk)
    return _("The re-declaration is open: update the declaration below.")


def _member(review: PeriodicReview, member_id: int):
    return next(m for m in review.application.household.members.all() if m.pk == member_id)


def _run_work_ability(request, review, form):
    review_services.review_work_ability_set(
        actor=request.user,
        review_id=review.pk,
        member_id=form.cleaned_data["member"],
        work_ability=form.cleaned_data["work_ability"],
    )
    return _("Ability to work updated.")


def _run_income_add(request, review, form):
    data = form.cleaned_data
    intake_services.income_add(
        actor=request.user,
        member=_member(review, data["member"]),
        source=data["source"],
        monthly_average=data["monthly_average"],
        note=data["note"],
    )
    return _("Income added.")


def _run_asset_add(request, review, form):
    intake_services.asset_add(
        actor=request.user, household=review.application.household, **form.cleaned_data
    )
    return _("Asset added.")


def _run_remove(kind: str):
    def run(request, review, form):
        household = review.application.household
        if kind == "income":
            rows = [i for m in household.members.all() for i in m.incomes.all()]
        else:
            rows = list(household.assets.all())
        row = next((r for r in rows if r.pk == form.cleaned_data["row"]), None)
        if row is None:
            raise DomainError(_("No such row in the declaration."))
        if review.state != R.REDECLARATION:
            raise Conflict(_("The re-declaration is closed."))
        intake_services.declaration_row_remove(actor=request.user, row=row)
        return _("Removed from the declaration.")

    return run


def _run_finish(request, review, form):
    review_services.review_redeclaration_finish(
        actor=request.user, review_id=review.pk, **form.cleaned_data
    )
    return _("Re-declaration recorded.")


def _run_outcome(request, review, form):
    review_services.review_outcome_record(
        actor=request.user,
        review_id=review.pk,
        outcome=form.cleaned_data["outcome"],
        reason=form.cleaned_data["reason"],
    )
    return _("Outcome recorded; the review awaits the decision.")


def _run_decide(request, review, form):
    data = form.cleaned_data
    review_services.review_decide(
        actor=request.user,
        review_id=review.pk,
        decision=data["decision"],
        reason=data["reason"],
        monthly_amount=data["monthly_amount"],
        exit_months=data["exit_months"],
    )
    return _("Review decided.")


def _decide_kwargs(request, review: PeriodicReview) -> dict:
    app = review.application
    try:
        policy = case_policy.policy_in_force(county=app.village.county(), on=timezone.localdate())
    except DomainError:
        policy = None
    return {
        "amount": review_services.review_amount_default(app),
        "exit_months": policy.gradual_exit_months if policy else None,
    }


# How the review page takes each step; "verification_request" is bound by verification
# (verification.requests.steps), which opens the request.
bind = REVIEW.bind_page
bind("redeclaration_start", form=EmptyForm, run=_run_start)
bind("work_ability", form=WorkAbilityForm, run=_run_work_ability, form_kwargs=_members)
bind("income_add", form=IncomeAddForm, run=_run_income_add, form_kwargs=_members)
bind("asset_add", form=AssetAddForm, run=_run_asset_add)
bind("income_remove", form=RowRemoveForm, run=_run_remove("income"), listed=False)
bind("asset_remove", form=RowRemoveForm, run=_run_remove("asset"), listed=False)
bind("redeclaration_finish", form=RedeclarationFinishForm, run=_run_finish)
bind("outcome", form=OutcomeForm, run=_run_outcome)
bind("decide", form=DecideForm, run=_run_decide, form_kwargs=_decide_kwargs)


def _progress(review: PeriodicReview) -> list[dict]:
    reached = STEP_ORDER.index(review.state)
    return [
        {"label": label, "done": index < reached, "current": index == reached}
        for index, (value, label) in enumerate(
            (value, dict(R.choices)[value]) for value in STEP_ORDER
        )
    ]


def _render_review(
    request, review: PeriodicReview, *, bound: tuple[str, forms.Form] | None = None, status=200
) -> HttpResponse:
    offered = REVIEW.page_forms(request, review, bound)
    available = [item["action"] for item in offered]
    sections = [{"step": item["action"], **item} for item in offered if item["listed"]]
    household = review.application.household
    members = list(household.members.all())
    today = timezone.localdate()
    context = {
        "review": review,
        "app": review.application,
        "applicant": next((m for m in members if m.is_applicant), None),
        "members": members,
        "incomes": [(m, i) for m in members for i in m.incomes.all()],
        "assets": list(household.assets.all()),
        "sections": sections,
        "may_remove": any(step.name == "income_remove" for step in available),
        "progress": _progress(review),
        "changes": [
            {
                **change,
                "part_label": PART_LABELS.get(change["part"], change["part"]),
                "change_label": CHANGE_LABELS.get(change["change"], change["change"]),
            }
            for change in review.changes
        ],
        "bound_remove": bound if bound and bound[0].endswith("_remove") else None,
        "today": today,
    }
    return render(request, "cases/reviews/detail.html", context, status=status)


@login_required
def review_list(request):
    """Open reviews of the user's places, the longest due first; overdue ones marked."""
    result = listing.list_page(request, case_lists.REVIEWS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "cases/reviews/list.html",
        {"listing": result, "page": result.page, "today": timezone.localdate()},
        status=result.status,
    )


@login_required
def review_detail(request, review_id: int):
    access.require_role(request.user, permissions.READ_REVIEWS)
    review = review_selectors.review_get_for_user(user=request.user, review_id=review_id)
    return _render_review(request, review)


@login_required
@require_POST
def review_act(request, review_id: int, step: str):
    """One step of a review from its page (aid_portal.steps.step_page)."""
    review = review_selectors.review_get_for_user(user=request.user, review_id=review_id)

    def render(request, review, bound, status):
        # A refused step may have changed nothing, or part of the row: show it afresh.
        fresh = review_selectors.review_get_for_user(user=request.user, review_id=review.pk)
        return _render_review(request, fresh, bound=bound, status=status)

    return step_page(
        request,
        table=REVIEW,
        obj=review,
        name=step,
        render=render,
        done_url=reverse("cases:review", kwargs={"review_id": review.pk}),
    )


# --- the case page's section -------------------------------------------------------------


def case_section(user: User, app: Application) -> dict:
    """Holds in force, reviews, members' deaths and adjustment proposals of the case, with
    the forms to open a review or record a death (templates/cases/reviews/_case_section)."""
    enrolled = app.state in Application.ENROLLED_STATES
    case_reviews = review_selectors.review_list_for_application(app)
    open_review = next((r for r in case_reviews if r.is_open), None)
    members = [m for m in app.household.members.all() if not m.is_supporter]
    may_open = (
        enrolled
        and open_review is None
        and access.has_role(user, permissions.WORK_CASES, app.village)
    )
    may_record_death = enrolled and access.has_role(
        user, permissions.FILE_APPLICATIONS, app.village
    )
    # The rows come read with the case (cases.selectors.application_get_for_user), in
    # these orders: filtering them here costs no query.
    return {
        "holds": [hold for hold in app.suspensions.all() if hold.ended_at is None],
        "case_reviews": case_reviews,
        "deaths": list(app.member_deaths.all()),
        "proposals": list(app.adjustment_proposals.all()),
        "review_open_form": ReviewOpenForm() if may_open else None,
        "death_form": MemberDeathForm(members=members) if may_record_death else None,
    }


def _case_post(request, application_id: int, form_class, run, *, form_kwargs):
    """A form of the case page's section: one service; back to the case page (or where
    ``run`` says) with its message. ``run`` returns (message, url or None)."""
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    form = form_class(request.POST, **form_kwargs(app))
    if not form.is_valid():
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("cases:detail", application_id=app.pk)
    try:
        done, url = run(app, form.cleaned_data)
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
        if url:
            return redirect(url)
    return redirect("cases:detail", application_id=app.pk)


@login_required
@require_POST
def review_open(request, application_id: int):
    """A caseworker opens a review of an enrolled case now (a report, a change heard of)."""
    access.require_role(request.user, permissions.WORK_CASES)

    def run(app, data):
        review = review_services.review_open(
            actor=request.user, application_id=app.pk, reason=data["reason"]
        )
        return _("Review opened."), reverse("cases:review", args=[review.pk])

    return _case_post(request, application_id, ReviewOpenForm, run, form_kwargs=lambda app: {})


@login_required
@require_POST
def member_death(request, application_id: int):
    access.require_role(request.user, permissions.FILE_APPLICATIONS)

    def run(app, data):
        death = review_services.member_death_record(
            actor=request.user,
            application_id=app.pk,
            member_id=data["member"],
            died_on=data["died_on"],
        )
        message = _("Death of %(name)s recorded; the case is reviewed by %(date)s.") % {
            "name": death.person.name,
            "date": death.application.next_review_on,  # set by the service
        }
        return message, None

    return _case_post(
        request,
        application_id,
        MemberDeathForm,
        run,
        form_kwargs=lambda app: {
            "members": [m for m in app.household.members.all() if not m.is_supporter]
        },
    )


# --- adjustments to act on ----------------------------------------------------------------


def _render_adjustments(request, *, bound=None, status: int = 200) -> HttpResponse:
    result = listing.list_page(request, case_lists.ADJUSTMENTS)
    if isinstance(result, HttpResponse):
        return result
    page = result.page
    # Who decides depends on the county's policy: looked up once per county on the page.
    deciders: dict[str, frozenset[str]] = {}
    rows = []
    for proposal in page:
        app = proposal.application
        county = app.village.county_code
        if county not in deciders:
            deciders[county] = steps_deciders(app)
        may_act = access.has_role(request.user, deciders[county], app.village)
        form = None
        if may_act:
            form = (
                bound[1]
                if bound and bound[0] == proposal.pk
                else AdjustmentHandleForm(proposal=proposal, auto_id=f"id_proposal{proposal.pk}_%s")
            )
        applicants = app.household.applicants
        rows.append(
            {
                "proposal": proposal,
                "applicant": applicants[0] if applicants else None,
                "form": form,
            }
        )
    return render(
        request,
        "cases/adjustments/list.html",
        {"page": page, "rows": rows, "listing": result},
        status=max(status, result.status),
    )


@login_required
def adjustments(request):
    """Open adjustment proposals (spot-checks, reviews, batch findings) on the cases of the
    user's places; the approver adopts or declines each."""
    access.require_role(request.user, permissions.READ_REVIEWS)
    return _render_adjustments(request)


@login_required
@require_POST
def adjustment_handle(request, proposal_id: int):
    access.require_role(request.user, permissions.READ_REVIEWS)
    proposal = review_selectors.adjustment_get_for_user(user=request.user, proposal_id=proposal_id)
    form = AdjustmentHandleForm(
        request.POST, proposal=proposal, auto_id=f"id_proposal{proposal.pk}_%s"
    )
    if not form.is_valid():
        messages.error(request, _("Choose whether to adopt or decline the proposal."))
        return _render_adjustments(request, bound=(proposal.pk, form), status=400)
    data = form.cleaned_data
    try:
        review_services.adjustment_handle(
            actor=request.user,
            proposal_id=proposal.pk,
            adopt=data["adopt"] == "adopt",
            note=data["note"],
            monthly_amount=data["monthly_amount"],
        )
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, exc.message)
        return _render_adjustments(request, bound=(proposal.pk, form), status=400)
    else:
        messages.success(
            request,
            _("Proposal adopted.") if data["adopt"] == "adopt" else _("Proposal declined."),
        )
    return redirect("cases:adjustments")


# --- the county's monthly check of new dibao files --------------------------------------


@login_required
def file_checks(request):
    access.require_role(request.user, permissions.CHECK_CASES_FOR_COUNTY)
    result = listing.list_page(request, case_lists.FILE_CHECKS)
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "cases/reviews/file_checks.html",
        {"page": result.page, "listing": result, "today": timezone.localdate()},
        status=result.status,
    )


def _render_file_check(request, check, *, bound=None, status: int = 200) -> HttpResponse:
    items = []
    for item in check.items.all():
        if bound and bound[0] == item.pk:
            form = bound[1]
        else:
            initial = {}
            if item.checked_at:
                initial = {
                    name: ("yes" if getattr(item, name) else "no")
                    for name in ("file_complete", "amount_right", "notice_done", "visit_record")
                    if getattr(item, name) is not None
                }
                initial["note"] = item.note
            form = FileCheckItemForm(
                initial=initial, visit_needed=item.visit_needed, auto_id=f"id_item{item.pk}_%s"
            )
        applicants = item.application.household.applicants
        items.append(
            {"item": item, "form": form, "applicant": applicants[0] if applicants else None}
        )
    done_form = bound[1] if bound and bound[0] == "done" else FileCheckDoneForm()
    context = {
        "check": check,
        "items": items,
        "done_form": done_form,
        "may_act": check.done_at is None
        and access.has_role(request.user, permissions.CHECK_CASES_FOR_COUNTY, check.county),
        "left": sum(1 for row in items if row["item"].checked_at is None),
        "today": timezone.localdate(),
    }
    return render(request, "cases/reviews/file_check.html", context, status=status)


@login_required
def file_check(request, check_id: int):
    access.require_role(request.user, permissions.CHECK_CASES_FOR_COUNTY)
    check = review_selectors.monthly_check_get_for_user(user=request.user, check_id=check_id)
    return _render_file_check(request, check)


@login_required
@require_POST
def file_check_item(request, check_id: int, item_id: int):
    access.require_role(request.user, permissions.CHECK_CASES_FOR_COUNTY)
    check = review_selectors.monthly_check_get_for_user(user=request.user, check_id=check_id)
    item = next((i for i in check.items.all() if i.pk == item_id), None)
    if item is None:
        raise Http404(_("Not found."))
    form = FileCheckItemForm(
        request.POST, visit_needed=item.visit_needed, auto_id=f"id_item{item.pk}_%s"
    )
    if not form.is_valid():
        messages.error(request, _("Answer every question of the checklist."))
        return _render_file_check(request, check, bound=(item.pk, form), status=400)
    try:
        review_services.monthly_check_item_record(
            actor=request.user, item_id=item.pk, **form.values()
        )
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, exc.message)
        return _render_file_check(request, check, bound=(item.pk, form), status=400)
    else:
        messages.success(request, _("Checklist recorded."))
    return redirect("cases:file-check", check_id=check.pk)


@login_required
@require_POST
def file_check_done(request, check_id: int):
    access.require_role(request.user, permissions.CHECK_CASES_FOR_COUNTY)
    check = review_selectors.monthly_check_get_for_user(user=request.user, check_id=check_id)
    form = FileCheckDoneForm(request.POST)
    form.is_valid()
    try:
        review_services.monthly_check_done(
            actor=request.user, check_id=check.pk, note=form.cleaned_data.get("note", "")
        )
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return _render_file_check(request, check, bound=("done", form), status=400)
    else:
        messages.success(request, _("The monthly check is done."))
    return redirect("cases:file-check", check_id=check.pk)
