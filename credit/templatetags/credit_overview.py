"""The open credit objections on the case overview (cases, below credit, imports nothing
of it): ``{% credit_objections_count %}`` draws one figure of the overview's counts."""

from django import template
from django.urls import reverse

from aid_portal import access, permissions
from credit.findings import selectors

register = template.Library()


@register.inclusion_tag("credit/_overview_objections.html", takes_context=True)
def credit_objections_count(context) -> dict:
    user = context["user"]
    may_list = access.has_role(
        user, permissions.RECORD_CREDIT_FINDINGS | permissions.REVIEW_CREDIT_OBJECTIONS
    )
    return {
        "open_objections": selectors.objections_pending_for_user(user=user).count(),
        "objections_url": reverse("credit:objections") if may_list else None,
    }
