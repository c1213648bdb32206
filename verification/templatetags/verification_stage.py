"""Where a case's verification stands, drawn by verification on the pages of cases (which
sits below and imports nothing of it): ``{% verification_stage app as verification %}``
reads it once, ``{% verification_next_step verification app %}`` draws it with the next
step, and the credit panel takes the same reading."""

from django import template

from aid_portal import access, permissions
from verification.requests.models import VerificationRequest
from verification.requests.selectors import VerificationStage, verification_stage

register = template.Library()


@register.simple_tag
def verification_stage_of(application) -> VerificationStage:
    return verification_stage(application)


@register.inclusion_tag("verification/requests/_next_step.html", takes_context=True)
def verification_next_step(context, stage: VerificationStage, application) -> dict:
    """The stage, refreshed while departments answer, and the step it calls for: the
    report to issue once every department has answered (for who may issue it)."""
    user = context["user"]
    request = stage.request
    may_issue = (
        stage.code == VerificationStage.ANSWERED
        and request.status == VerificationRequest.Status.ANSWERED
        and bool(request.report)
        and access.has_role(user, permissions.ISSUE_REPORTS, application.village)
    )
    may_read_report = request is not None and access.has_role(
        user, permissions.READ_REPORTS, application.village
    )
    return {
        "stage": stage,
        "app": application,
        "may_issue": may_issue,
        "may_read_report": may_read_report,
        "csrf_token": context.get("csrf_token"),
    }
