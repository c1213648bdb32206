"""The credit box of the home page: a county auditor sees the latest stored
untrustworthy rate and the way to the dashboard (``{% credit_home %}``)."""

from django import template

from aid_portal import access, permissions
from credit.trust import services as trust

register = template.Library()


@register.inclusion_tag("credit/trust/_home_dashboard.html", takes_context=True)
def credit_home(context) -> dict:
    user = context["user"]
    if not access.has_role(user, permissions.READ_CREDIT_DASHBOARD):
        return {"trust_home": {"shown": False}}
    year, rate = trust.latest_county_rate_for_user(user=user)
    return {"trust_home": {"shown": True, "year": year, "rate": rate}}


@register.inclusion_tag("credit/trust/_honest_declarant.html", takes_context=True)
def honest_declarant_panel(context, application, verification=None) -> dict:
    """The credit panel of the case page (``{% honest_declarant_panel app verification %}``):
    drawn by credit, so that the case page (cases, below credit) imports nothing of it.
    ``verification`` is the page's one reading of where verification stands."""
    return {
        "app": application,
        **trust.honest_declarant_context(
            user=context["user"], application=application, verification=verification
        ),
    }
