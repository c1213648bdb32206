"""A periodic review's path, declared once (domain.md §5; docs/supervision.md).

The review services check each step against this table under the row lock; the review
page and API bindings sit beside their views (cases.reviews.views, cases.reviews.api).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.models import User
from aid_portal.steps import Step, StepTable
from cases.casework.steps import application_event_write, deciders
from cases.models import Application, ApplicationEvent, PeriodicReview

R = PeriodicReview.State


def review_event_write(
    review: PeriodicReview,
    actor: User | None,
    action: str,
    from_state: str,
    to_state: str,
    *,
    reason: str = "",
    data: dict | None = None,
) -> ApplicationEvent:
    """A review's steps are written on its case's timeline, as ``review_<step>``."""
    return application_event_write(
        review.application,
        actor,
        f"review_{action}",
        review.application.state,
        review.application.state,
        reason=reason,
        data={"review": review.pk, "from": from_state, "to": to_state, **(data or {})},
    )


# A periodic review of an enrolled case (domain.md §5; docs/supervision.md).
REVIEW = StepTable(
    "review",
    [
        Step(
            "redeclaration_start",
            _("Start the re-declaration"),
            permissions.WORK_CASES,
            frozenset({R.OPENED}),
            R.REDECLARATION,
            done=_("review: re-declaration started"),
        ),
        Step(
            "work_ability",
            _("Change a member's ability to work"),
            permissions.WORK_CASES,
            frozenset({R.REDECLARATION}),
        ),
        Step(
            "income_add",
            _("Add an income"),
            permissions.WORK_CASES,
            frozenset({R.REDECLARATION}),
            api=False,  # POST /api/members/<id>/incomes/
        ),
        Step(
            "asset_add",
            _("Add an asset"),
            permissions.WORK_CASES,
            frozenset({R.REDECLARATION}),
            api=False,  # POST /api/households/<id>/assets/
        ),
        Step(
            "income_remove",
            _("Remove"),
            permissions.WORK_CASES,
            frozenset({R.REDECLARATION}),
            api=False,  # DELETE /api/incomes/<id>/
        ),
        Step(
            "asset_remove",
            _("Remove"),
            permissions.WORK_CASES,
            frozenset({R.REDECLARATION}),
            api=False,  # DELETE /api/assets/<id>/
        ),
        Step(
            "redeclaration_finish",
            _("Finish the re-declaration"),
            permissions.WORK_CASES,
            frozenset({R.REDECLARATION}),
            R.VERIFICATION,
            done=_("review: re-declaration recorded"),
        ),
        Step(
            "verification_request",
            _("Request verification"),
            permissions.WORK_CASES,
            frozenset({R.VERIFICATION}),
            done=_("review: verification requested"),
        ),
        Step(
            "outcome",
            _("Record the verification outcome by hand"),
            permissions.WORK_CASES,
            frozenset({R.VERIFICATION}),
            R.AWAITING_DECISION,
            done=_("review: verification outcome"),
        ),
        Step(
            "decide",
            _("Decide"),
            lambda review: deciders(review.application),
            frozenset({R.AWAITING_DECISION}),
            R.DECIDED,
            done=_("review decided"),
        ),
    ],
    region=lambda review: review.application.village,
    event=review_event_write,
    audit_prefix="review",
    open_if=lambda review: review.application.state in Application.ENROLLED_STATES,
)
