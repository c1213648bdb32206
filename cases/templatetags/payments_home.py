"""The payments box of the home page (``{% payments_home %}``): rosters waiting for the
user's step by their deadline (the 15th), this month's roster still to prepare, and failed
payments to re-issue."""

from django import template
from django.utils import timezone

from aid_portal import access, permissions
from cases.payments import selectors
from cases.payments.models import Roster
from cases.payments.steps import ROSTER

register = template.Library()


@register.inclusion_tag("cases/payments/_home.html", takes_context=True)
def payments_home(context) -> dict:
    user = context["user"]
    if not access.has_role(user, permissions.READ_PAYMENTS):
        return {"show": False}
    today = timezone.localdate()
    month = today.replace(day=1)
    waiting = [
        roster
        for roster in selectors.rosters_due_for_user(user=user).select_related("township")[:50]
        if ROSTER.offered(user, roster)
    ]
    townships = selectors.townships_for_user(user=user, roles=permissions.PREPARE_ROSTERS)
    prepared = set(
        Roster.objects.filter(month=month, kind=Roster.Kind.REGULAR, township__in=townships)
        .exclude(state=Roster.State.WITHDRAWN)
        .values_list("township_id", flat=True)
    )
    return {
        "show": True,
        "today": today,
        "month": month,
        "waiting": waiting[:10],
        "unprepared": [t for t in townships if t.pk not in prepared],
        "due_on": month.replace(day=15),
        "failed": selectors.failed_lines_for_user(user=user).count()
        if access.has_role(user, permissions.PREPARE_ROSTERS)
        else 0,
    }
