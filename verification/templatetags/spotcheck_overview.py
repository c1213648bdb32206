"""The spot-check coverage of new cases on the case overview (cases, below verification,
imports nothing of it): ``{% spotcheck_coverage %}`` draws one figure of the overview's
list of counts."""

from django import template
from django.urls import reverse
from django.utils import timezone

from aid_portal import access, permissions
from aid_portal.models import Region
from cases.models import Policy
from verification.spotcheck import services as spotcheck

register = template.Library()


def _required_ratio(user):
    """The share the county's policy in force asks for, where the user's places lie in one
    county (the township's approver, the county's auditor); None otherwise."""
    region = access.home_region(user)
    if region is None or region.level < Region.Level.COUNTY:
        return None
    return (
        Policy.objects.filter(
            county__code=Region.enclosing_code(region.code, Region.Level.COUNTY),
            effective_from__lte=timezone.localdate(),
        )
        .order_by("-effective_from")
        .values_list("spot_check_new_ratio", flat=True)
        .first()
    )


@register.inclusion_tag("verification/spotcheck/_overview_coverage.html", takes_context=True)
def spotcheck_coverage(context) -> dict:
    user = context["user"]
    ratio = _required_ratio(user)
    return {
        "coverage": spotcheck.new_case_coverage_for_user(user=user),
        "required_percent": f"{ratio * 100:g}" if ratio is not None else None,
        "campaigns_url": reverse("verification:spotcheck-campaigns")
        if access.has_role(user, permissions.RUN_SPOT_CHECKS)
        else None,
    }
