"""The case's printed documents, each on the portal's one A4 layout
(aid_portal.printing, templates/print/base.html): the approval notice with the
arithmetic of its amount, a signed home-visit record, and the application and
declaration form as the family signs it. The rejection notice is beside the decision
(cases.casework.views.rejection_notice); the verification report is verification's.

Every page reads the case through the access gate and every printout is audited.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal.printing import identity_choice, print_response
from cases import selectors
from cases.casework.views import RULE_LABELS, amount_explanation
from cases.eligibility import AmountBasis
from cases.models import Application

S = Application.State
# Approved once: in payment since, or stopped later; the notice of that decision stays.
APPROVED_STATES = frozenset({S.APPROVED, S.IN_PAYMENT, S.STOPPED})


def _household(app: Application) -> dict:
    """The household as the prefetched case holds it (no further queries)."""
    everyone = list(app.household.members.all())
    members = [m for m in everyone if not m.is_supporter]
    by_id = {m.pk: m for m in everyone}
    expenditures = list(app.household.expenditures.all())
    return {
        "members": members,
        "supporters": [m for m in everyone if m.is_supporter],
        "everyone": everyone,
        "applicant": next((m for m in members if m.is_applicant), None),
        "incomes": [(m, income) for m in everyone for income in m.incomes.all()],
        "counted_income": sum(
            (i.monthly for m in members for i in m.incomes.all() if i.counted), 0
        ),
        "assets": [(a, by_id.get(a.member_id)) for a in app.household.assets.all()],
        "expenditures": [(e, by_id.get(e.member_id)) for e in expenditures],
        "rigid_total": sum((e.monthly_amount for e in expenditures), 0),
    }


def _identity(request, app: Application, applicant):
    if applicant is None:
        return None
    return identity_choice(
        request, obj=applicant.person, region=app.village, field="identity_number"
    )


@login_required
def approval_notice(request, application_id: int):
    """审核确认通知书: the amount, how it was computed, the first month, the review date."""
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    if app.state not in APPROVED_STATES or not app.amount_basis:
        raise Http404(_("Only an approved application has an approval notice."))
    basis = AmountBasis.from_dict(app.amount_basis)
    household = _household(app)
    return print_response(
        request,
        "cases/printouts/approval_notice.html",
        {
            "app": app,
            "applicant": household["applicant"],
            "basis": basis,
            "basis_rule": RULE_LABELS.get(basis.rule, basis.rule),
            "basis_line": amount_explanation(basis),
            "decided_on": timezone.localdate(app.decided_at) if app.decided_at else None,
        },
        document="approval_notice",
        obj=app,
        region=app.village,
        township=app.village.parent,
        filename=f"approval-notice-{app.number}",
        identity=_identity(request, app, household["applicant"]),
    )


@login_required
def home_visit_record(request, application_id: int, visit_id: int):
    """入户调查记录: what the investigators found, with the lines both sides sign."""
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    visit = next((v for v in app.home_visits.all() if v.pk == visit_id), None)
    if visit is None:
        raise Http404(_("This case has no such home visit."))
    household = _household(app)
    return print_response(
        request,
        "cases/printouts/home_visit_record.html",
        {"app": app, "visit": visit, "investigators": list(visit.investigators.all()), **household},
        document="home_visit_record",
        obj=visit,
        region=app.village,
        township=app.village.parent,
        filename=f"home-visit-{app.number}-{visit.pk}",
    )


@login_required
def application_form(request, application_id: int):
    """申请书及家庭经济状况申报表: household, members, incomes, assets, the authorisation
    and the commitment, with the lines the family signs."""
    app = selectors.application_get_for_user(user=request.user, application_id=application_id)
    household = _household(app)
    return print_response(
        request,
        "cases/printouts/application_form.html",
        {"app": app, **household},
        document="application_form",
        obj=app,
        region=app.village,
        township=app.village.parent,
        filename=f"application-{app.number}",
        identity=_identity(request, app, household["applicant"]),
    )
