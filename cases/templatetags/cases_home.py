"""The cases box of the home page: the user's queue and near deadlines (``{% cases_home %}``).

A template tag rather than the home view's context, so that the project's home page
(aid_portal.views) needs no import of the apps above it.
"""

from django import template

from cases.casework.views import home_queue_context

register = template.Library()


@register.inclusion_tag("cases/_home_work.html", takes_context=True)
def cases_home(context) -> dict:
    return {"user": context["user"], **home_queue_context(context["user"])}
