"""Spot-check pages of the county auditor: the campaigns, drawing one (with a preview of
the population and of each township's share), a campaign's progress with its XLSX
download and its sampled cases, and the findings form of one case.

Thin views: a form parses, one service of verification.spotcheck.services acts, the page
redirects. Reads go through its selectors, which start from the user's jurisdiction.
The two steps (assigning a campaign's cases, recording a case's findings) are declared
in verification.spotcheck.steps, bound here and taken by aid_portal.steps.step_page.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aid_portal import access, listing, permissions
from aid_portal.errors import Conflict, DomainError
from aid_portal.exports import Sheet, xlsx_response
from aid_portal.forms import add_domain_error
from aid_portal.steps import step_page
from credit.findings.models import Behaviour
from verification import lists as verification_lists
from verification.spotcheck import services as spotcheck
from verification.spotcheck.forms import AssignForm, CampaignDrawForm, FindingForm
from verification.spotcheck.steps import SPOT_CHECK, SPOT_CHECK_CAMPAIGN

CAMPAIGNS_PAGE_SIZE = 50


def _draw_form(request, data=None) -> CampaignDrawForm:
    form = CampaignDrawForm(
        data,
        counties=spotcheck.campaign_county_list_for_user(user=request.user),
        auditors=spotcheck.auditor_list_for_user(user=request.user),
    )
    if data is None and not request.user.is_superuser:
        form.fields["auditors"].initial = [request.user.pk]
    return form


def _draw_arguments(form: CampaignDrawForm) -> dict:
    data = form.cleaned_data
    return {
        "county": data["county"],
        "rule": data["rule"],
        "window_start": data["window_start"],
        "window_end": data["window_end"],
        "ratio": data["ratio"],
    }


# --- campaigns --------------------------------------------------------------------------


@login_required
def campaigns(request):
    """The campaigns of the user's counties, newest first."""
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    result = listing.list_page(
        request, verification_lists.SPOT_CHECK_CAMPAIGNS, page_size=CAMPAIGNS_PAGE_SIZE
    )
    if isinstance(result, HttpResponse):
        return result
    return render(
        request,
        "verification/spotcheck/campaigns.html",
        {"page": result.page, "listing": result},
        status=result.status,
    )


def _add_draw_input_errors(request, form: CampaignDrawForm) -> None:
    """The service's refusals of the fields the form itself found no fault with, so that
    one submit reports every bad field (a bad seed and a bad share, say)."""
    data = form.cleaned_data
    if "county" not in data or "rule" not in data:  # the county: one of the user's own
        return
    errors = spotcheck.draw_input_errors(
        county=data["county"],
        rule=data["rule"],
        window_start=data.get("window_start"),
        window_end=data.get("window_end"),
        ratio=data.get("ratio"),
    )
    if errors:
        add_domain_error(form, DomainError.of_fields(errors))


def _render_draw(request, form, *, status: int = 200) -> HttpResponse:
    return render(request, "verification/spotcheck/draw.html", {"form": form}, status=status)


@login_required
def campaign_draw(request):
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    if request.method != "POST":
        return _render_draw(request, _draw_form(request))
    form = _draw_form(request, request.POST)
    if not form.is_valid():
        _add_draw_input_errors(request, form)
        # The errors stand next to their fields (once each); the top only points there.
        messages.error(request, _("Check the form below."))
        return _render_draw(request, form, status=400)
    try:
        campaign = spotcheck.campaign_draw(
            actor=request.user,
            seed=form.cleaned_data["seed"],
            assign_to=list(form.cleaned_data["auditors"]),
            **_draw_arguments(form),
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, _("Check the form below."))
        return _render_draw(request, form, status=409 if isinstance(exc, Conflict) else 400)
    messages.success(
        request,
        _("Drawn: %(sample)s of %(population)s cases, seed %(seed)s.")
        % {
            "sample": campaign.sample_size,
            "population": campaign.population_size,
            "seed": campaign.seed,
        },
    )
    return redirect("verification:spotcheck-campaign", campaign_id=campaign.pk)


@login_required
def campaign_preview(request):
    """The population and each township's share for the draw form's current values
    (htmx, as the form changes); nothing is saved."""
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    form = _draw_form(request, request.GET)
    draft, error = None, None
    if form.is_valid():
        with contextlib.suppress(DomainError):  # the submit shows why, by field
            draft = spotcheck.campaign_draft(actor=request.user, **_draw_arguments(form))
    if draft is None:
        # The errors themselves show next to their fields on submit, once each: the
        # preview (loaded again with the re-rendered form) must not repeat them.
        error = _("The preview shows once the form's values are valid.")
    return render(request, "verification/spotcheck/_preview.html", {"draft": draft, "error": error})


def _auditors(request, campaign) -> dict:
    return {"auditors": spotcheck.auditor_list_for_user(user=request.user)}


def _run_assign(request, campaign, form) -> str:
    count = spotcheck.sample_items_assign(
        actor=request.user, campaign_id=campaign.pk, auditors=form.cleaned_data["auditors"]
    )
    return _("%(count)s cases assigned.") % {"count": count}


SPOT_CHECK_CAMPAIGN.bind_page("assign", form=AssignForm, run=_run_assign, form_kwargs=_auditors)


@login_required
def campaign_detail(request, campaign_id: int):
    """Progress by township, the seed, and the sampled cases (yours only with ?mine=1)."""
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    campaign = spotcheck.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    return _render_campaign(request, campaign)


def _render_campaign(request, campaign, bound=None, status: int = 200) -> HttpResponse:
    """The campaign's page; ``bound``: the step and its form as posted, with its errors.
    The assignment form is there while the user may take that step."""
    if bound is not None:
        assign_form = bound[1]
    elif any(step.name == "assign" for step in SPOT_CHECK_CAMPAIGN.offered(request.user, campaign)):
        assign_form = SPOT_CHECK_CAMPAIGN.page("assign").form(request, campaign)
    else:
        assign_form = None
    result = listing.list_page(
        request,
        verification_lists.SPOT_CHECK_ITEMS,
        scope={"campaign": str(campaign.pk)},
    )
    if isinstance(result, HttpResponse):
        return result
    states = spotcheck.sample_states_by_township(user=request.user, campaign=campaign)
    deadlines = spotcheck.sample_deadlines_by_township(user=request.user, campaign=campaign)
    return render(
        request,
        "verification/spotcheck/campaign.html",
        {
            "campaign": campaign,
            "progress": spotcheck.campaign_progress(campaign=campaign),
            "states": states,
            "states_chart": spotcheck.sample_states_chart(states),
            "deadlines": deadlines,
            "deadlines_chart": spotcheck.sample_deadlines_chart(deadlines),
            "page": result.page,
            "listing": result,
            "today": timezone.localdate(),
            "assign_form": assign_form,
        },
        status=max(status, result.status),
    )


@login_required
@require_POST
def campaign_assign(request, campaign_id: int):
    """Hand the unvisited cases out in turn (the step "assign")."""
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    campaign = spotcheck.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    return step_page(
        request,
        table=SPOT_CHECK_CAMPAIGN,
        obj=campaign,
        name="assign",
        render=_render_campaign,
        done_url=reverse("verification:spotcheck-campaign", kwargs={"campaign_id": campaign.pk}),
    )


@login_required
def campaign_xlsx(request, campaign_id: int):
    """Sheet 1: progress by township; sheet 2: every sampled case and its outcome."""
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    campaign = spotcheck.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
    progress = spotcheck.campaign_progress(campaign=campaign)
    today = timezone.localdate()
    cases = []
    for item in spotcheck.sample_item_list_for_campaign(user=request.user, campaign=campaign):
        finding = getattr(item, "finding", None)
        cases.append(
            [
                item.township.name,
                item.application.village.name,
                item.application.number,
                item.get_reason_display(),
                item.due_on,
                str(item.assigned_to or ""),
                timezone.localtime(item.visited_at).date() if item.visited_at else "",
                ("" if finding is None else _("yes") if finding.still_eligible else _("no")),
                finding.get_action_display() if finding else "",
                finding.proposal.get_status_display() if finding and finding.proposal else "",
                _("overdue") if item.visited_at is None and item.due_on < today else "",
            ]
        )
    return xlsx_response(
        filename=f"spot-check-{campaign.county.code}-{campaign.pk}.xlsx",
        sheets=[
            Sheet(
                _("Progress"),
                [
                    _("Township"),
                    _("Sampled"),
                    _("Visited"),
                    _("Found ineligible"),
                    _("Adjusted"),
                    _("Overdue"),
                ],
                [
                    [r.township.name, r.sampled, r.visited, r.ineligible, r.adjusted, r.overdue]
                    for r in [*progress.rows, progress.total]
                ],
                facts=[
                    [_("Rule"), campaign.get_rule_display()],
                    [_("Window"), f"{campaign.window_start} – {campaign.window_end}"],
                    [_("Share drawn"), f"{campaign.ratio * 100:g}%"],
                    [_("Random seed"), str(campaign.seed)],
                ],
            ),
            Sheet(
                _("Sampled cases"),
                [
                    _("Township"),
                    _("Village"),
                    _("Application"),
                    _("Why sampled"),
                    _("Due by"),
                    _("Auditor"),
                    _("Visited"),
                    _("Still eligible"),
                    _("Recommended action"),
                    _("Adjustment"),
                    _("Overdue"),
                ],
                cases,
            ),
        ],
    )


# --- one sampled case ---------------------------------------------------------------------


def _behaviours(request, item) -> dict:
    return {"behaviours": Behaviour.objects.filter(active=True).order_by("source", "code")}


def _run_finding(request, item, form) -> str:
    spotcheck.sample_finding_record(actor=request.user, item_id=item.pk, **form.cleaned_data)
    return _("Findings recorded.")


SPOT_CHECK.bind_page("finding", form=FindingForm, run=_run_finding, form_kwargs=_behaviours)


def _render_item(request, item, bound=None, status: int = 200) -> HttpResponse:
    """The sampled case's page; ``bound``: the step and its form as posted, with its
    errors. The findings form is there for the auditor the case was dealt to."""
    may_check = any(
        step.name == "finding" for step in SPOT_CHECK.offered(request.user, item)
    ) and spotcheck.sample_item_may_check(user=request.user, item=item)
    return render(
        request,
        "verification/spotcheck/item.html",
        {
            "item": item,
            "finding": getattr(item, "finding", None),
            "may_check": may_check,
            "form": bound[1] if bound else SPOT_CHECK.page("finding").form(request, item),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def item_detail(request, item_id: int):
    """A sampled case: what to check, and the findings form for the auditor it is
    assigned to (POST records the findings: the step "finding")."""
    access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
    item = spotcheck.sample_item_get_for_user(user=request.user, item_id=item_id)
    if request.method != "POST":
        return _render_item(request, item)
    return step_page(
        request,
        table=SPOT_CHECK,
        obj=item,
        name="finding",
        render=_render_item,
        done_url=reverse("verification:spotcheck-item", kwargs={"item_id": item.pk}),
    )
