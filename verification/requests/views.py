"""Pages of verification requests: the officer's list of open requests (overdue
departments in red, asked again with one button), the report item by item, its
printable form, and the feedback letter to a family whose report shows a clear gap.

Every read of a report is audited (it holds what the departments said about people).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aid_portal import access, listing, permissions
from aid_portal.audit import audit_sensitive_read
from aid_portal.errors import Conflict, DomainError
from aid_portal.printing import print_response
from cases import selectors as case_selectors
from verification import lists as verification_lists
from verification.requests import selectors, services
from verification.requests.models import DepartmentQuery, VerificationRequest

# How the computed rows of a report read; department items carry their own names.
KIND_LABELS = {
    "income": gettext_lazy("monthly counted income"),
    "per_capita": gettext_lazy("per-capita monthly income"),
    "deposit": gettext_lazy("deposits"),
}
VERDICT_LABELS = {
    services.Verdict.CONSISTENT: gettext_lazy("consistent"),
    services.Verdict.DIFFERS: gettext_lazy("differs (judged for the household)"),
    services.Verdict.GAP: gettext_lazy("clear gap"),
    services.Verdict.INFORMATION: gettext_lazy("for information"),
}
DECLARED_LABELS = {
    "declared": gettext_lazy("declared"),
    "not declared": gettext_lazy("not declared"),
}


def _is_overdue(query: DepartmentQuery, today) -> bool:
    return query.status != DepartmentQuery.Status.ANSWERED and query.due_on < today


@login_required
def request_list(request):
    """The verification officer's open requests, each department with its status."""
    result = listing.list_page(request, verification_lists.VERIFICATION_REQUESTS)
    if isinstance(result, HttpResponse):
        return result
    today = timezone.localdate()
    rows = []
    for verification in result.page.object_list:
        queries = [
            {
                "query": query,
                "overdue": _is_overdue(query, today),
                "reaskable": _is_overdue(query, today)
                or query.status == DepartmentQuery.Status.FAILED,
            }
            for query in verification.queries.all()
        ]
        applicants = verification.application.household.applicants
        rows.append(
            {
                "verification": verification,
                "applicant": applicants[0] if applicants else None,
                "queries": queries,
                "overdue": any(q["overdue"] for q in queries),
            }
        )
    return render(
        request,
        "verification/requests/list.html",
        {"rows": rows, "today": today, "page": result.page, "listing": result},
        status=result.status,
    )


@login_required
@require_POST
def query_reask(request, query_id: int):
    query = selectors.query_get_for_user(user=request.user, query_id=query_id)
    try:
        services.query_reask(actor=request.user, query_id=query.pk)
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(department)s is asked again.") % {"department": query.department}
        )
    return redirect("verification:requests")


def _rows(report: dict | None) -> list[dict]:
    if not report:
        return []
    rows = []
    for row in report["items"]:
        label = KIND_LABELS.get(row["kind"], row["item"])
        declared = DECLARED_LABELS.get(row["declared"], row["declared"])
        rows.append({**row, "label": label, "declared": declared, "verdict_label": _verdict(row)})
    return rows


def _verdict(row: dict) -> str:
    return VERDICT_LABELS.get(row["verdict"], row["verdict"])


def _report_context(request, verification: VerificationRequest, *, purpose: str) -> dict:
    """What every form of the report shows; the read itself is audited."""
    app = verification.application
    audit_sensitive_read(
        actor=request.user,
        obj=verification,
        field="verification_report",
        region=app.village,
        reason=purpose,
    )
    applicants = app.household.applicants
    rows = _rows(verification.report)
    return {
        "verification": verification,
        "app": app,
        "applicant": applicants[0] if applicants else None,
        "township": app.village.parent,
        "report": verification.report,
        "rows": rows,
        "gaps": [row for row in rows if row["verdict"] == services.Verdict.GAP],
        "queries": list(verification.queries.all()),
        "today": timezone.localdate(),
    }


@login_required
def report(request, verification_id: int):
    verification = selectors.request_get_for_user(
        user=request.user, verification_id=verification_id
    )
    context = _report_context(request, verification, purpose="report page")
    context["can_issue"] = verification.status == VerificationRequest.Status.ANSWERED and (
        access.has_role(request.user, permissions.ISSUE_REPORTS, verification.application.village)
    )
    context["outcome"] = selectors.verification_outcome_of(verification)
    context["stage"] = selectors.verification_stage_of_request(
        verification, outcome=selectors.latest_outcome_of(verification.application)
    )
    return render(request, "verification/requests/report.html", context)


@login_required
@require_POST
def report_issue(request, verification_id: int):
    verification = selectors.request_get_for_user(
        user=request.user, verification_id=verification_id
    )
    access.require_role(request.user, permissions.ISSUE_REPORTS, verification.application.village)
    try:
        services.report_issue(actor=request.user, verification_id=verification.pk)
    except Conflict as exc:
        messages.warning(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The report is issued to the case."))
    # The case page issues it as its next step and wants the case back, not the report.
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("verification:report", verification_id=verification.pk)


@login_required
@require_GET
def case_stage(request, application_id: int):
    """Where the case's verification stands, polled by the case page and the report page
    while departments answer; once they are done the whole page reloads, so that every
    part of it (the next step, the honest-declarant table) shows the new stage."""
    app = case_selectors.application_get_for_user(user=request.user, application_id=application_id)
    stage = selectors.verification_stage(app)
    response = render(request, "verification/requests/_stage.html", {"stage": stage, "app": app})
    if not stage.waiting and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
def report_print(request, verification_id: int):
    """家庭经济状况核对报告: the written report, to print (no navigation)."""
    verification = selectors.request_get_for_user(
        user=request.user, verification_id=verification_id
    )
    if not verification.report:
        raise Http404(_("The report is not ready: not every department has answered."))
    context = _report_context(request, verification, purpose="printed report")
    app = verification.application
    return print_response(
        request,
        "verification/requests/report_print.html",
        context,
        document="verification_report",
        obj=verification,
        region=app.village,
        township=app.village.parent,
        filename=f"verification-report-{app.number}",
    )


@login_required
def feedback_letter(request, verification_id: int):
    """核对结果反馈告知书: what differs, item by item, and how to object by when."""
    verification = selectors.request_get_for_user(
        user=request.user, verification_id=verification_id
    )
    outcome = selectors.verification_outcome_of(verification)
    if (
        verification.verdict != VerificationRequest.Verdict.GAP
        or verification.status != VerificationRequest.Status.REPORTED
        or outcome is None
        or outcome.objection_deadline is None
    ):
        raise Http404(_("Only an issued report with a clear gap has a feedback letter."))
    context = _report_context(request, verification, purpose="feedback letter")
    context["outcome"] = outcome
    app = verification.application
    return print_response(
        request,
        "verification/requests/feedback_letter.html",
        context,
        document="feedback_letter",
        obj=verification,
        region=app.village,
        township=app.village.parent,
        filename=f"feedback-letter-{app.number}",
    )
