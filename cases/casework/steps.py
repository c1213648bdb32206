"""The application's path, declared once (domain.md §3; docs/cases.md tells it in words).

The services check each step against this table under the row lock, the case page offers
the steps it allows, the API routes ``POST /api/applications/<id>/<step>/`` from it, and
the access-matrix test reads it. The page and API bindings sit beside the views
(cases.casework.views, cases.casework.api) and, for the one step verification performs, in
verification (verification.requests.steps).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aid_portal import permissions
from aid_portal.models import User
from aid_portal.steps import Step, StepTable
from cases.models import Application, ApplicationEvent
from cases.policy import decision_roles

S = Application.State


OPEN = Application.OPEN_STATES


def deciders(app: Application) -> frozenset[str]:
    """Who decides the case (cases.policy.decision_roles), kept on the object so that a
    page offering approve and reject reads the policy once."""
    if "_deciders" not in app.__dict__:
        app.__dict__["_deciders"] = decision_roles(app)
    return app.__dict__["_deciders"]


def application_event_write(
    app: Application,
    actor: User | None,
    action: str,
    from_state: str,
    to_state: str,
    *,
    reason: str = "",
    data: dict | None = None,
) -> ApplicationEvent:
    """The timeline row of a step (ApplicationEvent), in the caller's transaction."""
    return ApplicationEvent.objects.create(
        application=app,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
    )


APPLICATION = StepTable(
    "application",
    [
        Step(
            "submit",
            _("Submit the application"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.DRAFT, S.RETURNED}),
            S.SUBMITTED,
            done=_("submitted"),
            on_page=False,  # the last intake page shows the whole declaration first
        ),
        Step(
            "accept",
            _("Accept (or return with everything missing)"),
            permissions.WORK_CASES,
            frozenset({S.SUBMITTED}),
            S.ACCEPTED,
            done=_("accepted"),
        ),
        Step(
            "verification_request",
            _("Request verification"),
            permissions.WORK_CASES,
            frozenset({S.ACCEPTED}),
            S.UNDER_VERIFICATION,
            done=_("verification requested"),
        ),
        Step(
            "verification_outcome",
            _("Record the verification outcome by hand"),
            permissions.RECORD_VERIFICATION_OUTCOMES,
            frozenset({S.UNDER_VERIFICATION}),
            None,  # consistent: notice or home visit; clear gap: the objection window
        ),
        Step(
            "feedback_objection",
            _("Record the family's objection"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.FEEDBACK}),
            None,  # with evidence the case goes on to a home visit
            done=_("family objected to the gap"),
        ),
        Step(
            "feedback_close",
            _("Close the objection window"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.FEEDBACK}),
            S.HOME_VISIT,
            done=_("objection window closed"),
        ),
        Step(
            "home_visit",
            _("Record the home visit"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.HOME_VISIT}),
            None,  # democratic review where the family objected, else the notice
            done=_("home visit recorded"),
        ),
        Step(
            "democratic_review",
            _("Record the democratic review"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.DEMOCRATIC_REVIEW}),
            S.PUBLIC_NOTICE,
            done=_("democratic review recorded"),
        ),
        Step(
            "notice_post",
            _("Post the public notice"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.PUBLIC_NOTICE}),
            S.PUBLIC_NOTICE,
            done=_("public notice posted"),
        ),
        Step(
            "notice_objection",
            _("Record an objection raised during notice"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.PUBLIC_NOTICE}),
            None,
            done=_("objection raised during notice"),
        ),
        Step(
            "notice_objection_handle",
            _("Record how an objection was handled"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.PUBLIC_NOTICE}),
            None,
        ),
        Step(
            "notice_close",
            _("Close the public notice"),
            permissions.FILE_APPLICATIONS,
            frozenset({S.PUBLIC_NOTICE}),
            S.AWAITING_DECISION,  # or back to a home visit when an objection calls for one
            done=_("public notice closed"),
        ),
        Step(
            "county_check",
            _("Record the county key check"),
            permissions.CHECK_CASES_FOR_COUNTY,
            OPEN,
            None,
            done=_("county key check done"),
        ),
        Step(
            "extreme_poverty_exception",
            _("Record the county's exception to the extreme-poverty conditions"),
            permissions.CONFIRM_EXTREME_POVERTY_EXCEPTIONS,
            OPEN - {S.DRAFT, S.RETURNED},
            None,
            done=_("county exception to the extreme-poverty conditions recorded"),
        ),
        Step(
            "approve",
            _("Approve"),
            deciders,
            frozenset({S.AWAITING_DECISION}),
            S.APPROVED,
            done=_("approved"),
        ),
        Step(
            "reject",
            _("Reject with reasons"),
            deciders,
            frozenset({S.AWAITING_DECISION}),
            S.REJECTED,
            done=_("rejected"),
            danger=True,
        ),
        Step(
            "extend",
            _("Extend the time limit"),
            permissions.WORK_CASES,
            OPEN - {S.DRAFT, S.SUBMITTED, S.RETURNED},
            None,
            done=_("time limit extended"),
        ),
        Step(
            "withdraw",
            _("Withdraw the application"),
            permissions.FILE_APPLICATIONS,
            OPEN,
            S.WITHDRAWN,
            done=_("withdrawn"),
            danger=True,
        ),
        Step(
            "draft_withdraw",
            _("Withdraw an unfinished draft"),
            frozenset(),
            frozenset({S.DRAFT}),
            S.WITHDRAWN,
            done=_("withdrawn: the draft was left unfinished"),
            internal=True,  # the daily task, after the county's days (Policy)
        ),
        Step(
            "payment_start",
            _("Start payment"),
            frozenset(),
            frozenset({S.APPROVED}),
            S.IN_PAYMENT,
            done=_("payment started"),
            internal=True,  # the daily task, in the start month
        ),
    ],
    region=lambda app: app.village,
    event=application_event_write,
    audit_prefix="application",
    events={
        # Outcomes of steps, and what other workflows write on the case's timeline.
        "create": _("application opened"),
        "draft_remind": _("reminder: the draft is not submitted"),
        "return": _("returned for completion"),
        "near_relative_file": _("near-relative filing recorded"),
        "verification_consistent": _("verification: basically consistent"),
        "verification_gap": _("verification: clear gap, family told"),
        "suspend": _("put on hold"),
        "resume": _("hold lifted"),
        "amount_adjust": _("monthly amount changed"),
        "gradual_exit": _("gradual exit started"),
        "stop": _("benefits stopped"),
        "adjustment_propose": _("adjustment proposed"),
        "adjustment_adopt": _("adjustment adopted"),
        "adjustment_decline": _("adjustment declined"),
    },
)
