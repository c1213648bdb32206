"""``{% case_prints app %}``: the case page's 打印 buttons, one per document the case
has now (cases.printouts, the rejection notice, verification's report)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.printing import PDF
from cases.printouts.views import APPROVED_STATES

register = template.Library()


def _entry(element_id: str, label: str, url: str) -> dict:
    return {"id": element_id, "label": label, "url": url, "pdf_url": f"{url}?format={PDF}"}


@register.inclusion_tag("cases/printouts/_case_prints.html", takes_context=True)
def case_prints(context, app) -> dict:
    """Reads only what the case page prefetched (cases.selectors.application_get_for_user)."""
    user = context["user"]
    entries = [
        _entry(
            "print-application-form",
            _("Application and declaration form"),
            reverse("cases:print-application-form", args=[app.pk]),
        )
    ]
    for visit in app.home_visits.all():
        entries.append(
            _entry(
                f"print-home-visit-{visit.pk}",
                _("Home-visit record of %(date)s") % {"date": visit.visited_on.isoformat()},
                reverse("cases:print-home-visit", args=[app.pk, visit.pk]),
            )
        )
    if access.has_role(user, permissions.READ_REPORTS, app.village):
        for verification in app.verification_requests.all():
            if verification.report:
                entries.append(
                    _entry(
                        f"print-verification-report-{verification.pk}",
                        _("Verification report"),
                        reverse("verification:report-print", args=[verification.pk]),
                    )
                )
    if app.state in APPROVED_STATES and app.amount_basis:
        entries.append(
            _entry(
                "print-approval-notice",
                _("Notice of approval"),
                reverse("cases:print-approval-notice", args=[app.pk]),
            )
        )
    if app.state == app.State.REJECTED:
        entries.append(
            _entry(
                "print-rejection-notice",
                _("Notice of rejection"),
                reverse("cases:rejection-notice", args=[app.pk]),
            )
        )
    return {"entries": entries}
