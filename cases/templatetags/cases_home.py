"""The cases box of the home page: the user's queue and near deadlines (``{% cases_home %}``).

A template tag rather than the home view's context, so that the project's home page
(aid_portal.views) needs no import of the apps above it.
"""

from django import template
from django.urls import reverse

from aid_portal import access, permissions
from cases.casework.views import home_queue_context

register = template.Library()


@register.inclusion_tag("cases/_home_work.html", takes_context=True)
def cases_home(context) -> dict:
    user = context["user"]
    overview = access.has_role(user, permissions.READ_CASE_OVERVIEW)
    return {
        "user": user,
        "home_overview_url": reverse("cases:overview") if overview else None,
        **home_queue_context(user),
    }
