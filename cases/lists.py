"""The case lists (aid_portal.listing): the work queue, the decisions and the reviews.

Each names the rows its user may see, the FilterSet its page and API list share, and
the columns of its export.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.listing import Column, ListSpec, register
from cases.casework import selectors as casework_selectors
from cases.casework.filters import AdjustmentFilter, ApplicationFilter, ReviewFilter
from cases.casework.selectors import with_applicant
from cases.reviews import selectors as review_selectors


def applicant_of(app):
    """The applicant's Person (rows from with_applicant), or None."""
    applicants = getattr(app.household, "applicants", None) or []
    return applicants[0].person if applicants else None


def case_columns(to_app=lambda row: row) -> list[Column]:
    """The columns every list of cases starts with: who and where."""

    def person(row):
        return applicant_of(to_app(row))

    return [
        Column(_("Number"), lambda row: to_app(row).number),
        Column(_("Applicant"), lambda row: person(row).name if person(row) else ""),
        Column(
            _("Identity number"),
            lambda row: person(row).identity_number if person(row) else "",
            identity=True,
        ),
        Column(_("Village"), lambda row: to_app(row).village.name),
    ]


def _work_queue(user):
    access.require_role(user, permissions.READ_WORK_QUEUE)
    return with_applicant(casework_selectors.work_queue_for_user(user=user))


def _decisions(user):
    access.require_role(user, permissions.READ_DECISION_QUEUE)
    return with_applicant(
        casework_selectors.work_queue_for_user(
            user=user, states=casework_selectors.APPROVER_QUEUE_STATES
        )
    )


QUEUE_COLUMNS = [
    *case_columns(),
    Column(_("Assistance"), lambda app: app.get_assistance_type_display()),
    Column(_("State"), lambda app: app.get_state_display()),
    Column(_("Members"), lambda app: app.member_count),
    Column(_("Accepted on"), lambda app: app.accepted_on),
    Column(_("Decision due by"), lambda app: app.due_on),
]

WORK_QUEUE = register(
    ListSpec(
        name="work-queue",
        title=_("Work queue"),
        rows=_work_queue,
        filterset=ApplicationFilter,
        columns=QUEUE_COLUMNS,
    )
)
DECISIONS = register(
    ListSpec(
        name="decisions",
        title=_("Awaiting decision"),
        rows=_decisions,
        filterset=ApplicationFilter,
        columns=QUEUE_COLUMNS,
    )
)


def _reviews(user):
    access.require_role(user, permissions.READ_REVIEWS)
    return review_selectors.review_list_for_user(user=user)


REVIEWS = register(
    ListSpec(
        name="reviews",
        title=_("Periodic reviews"),
        rows=_reviews,
        filterset=ReviewFilter,
        columns=[
            *case_columns(lambda review: review.application),
            Column(_("Opened because"), lambda review: review.get_trigger_display()),
            Column(_("Step"), lambda review: review.get_state_display()),
            Column(_("Due on"), lambda review: review.due_on),
        ],
    )
)


def _adjustments(user):
    access.require_role(user, permissions.READ_REVIEWS)
    return review_selectors.adjustment_list_with_applicants(user=user)


ADJUSTMENTS = register(
    ListSpec(
        name="adjustments",
        title=_("Adjustments to act on"),
        rows=_adjustments,
        filterset=AdjustmentFilter,
        columns=[
            *case_columns(lambda proposal: proposal.application),
            Column(_("From"), lambda p: p.get_source_display()),
            Column(_("Recommended action"), lambda p: p.get_action_display()),
            Column(_("Proposed monthly amount (yuan)"), lambda p: p.proposed_amount),
            Column(_("Reasons"), lambda p: p.reasons),
            Column(_("Proposed by"), lambda p: str(p.proposed_by) if p.proposed_by else ""),
            Column(
                _("Proposed on"),
                lambda p: timezone.localtime(p.proposed_at).date() if p.proposed_at else None,
            ),
        ],
    )
)
