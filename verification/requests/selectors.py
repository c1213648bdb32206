"""Reads of verification requests, their department queries and reports.

Every read starts from the user's jurisdiction (aid_portal.access) on the case's
village, so a report of another township's case is "not found", never forbidden.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.models import User
from cases.models import Application, Member, VerificationOutcome
from verification.feeds.models import SnapshotRecord
from verification.feeds.services import current_records
from verification.requests.models import DepartmentQuery, VerificationRequest

# Who watches the requests of a county (the verification centre).
# Who reads a report: the centre, and the township that decides on it (caseworker,
# approver), and the county auditor who checks the decision. Village assistants do not.
# Who issues a report into the case.

_APPLICANT = Prefetch(
    "application__household__members",
    queryset=Member.objects.filter(relation=Member.Relation.SELF).select_related("person"),
    to_attr="applicants",
)
_QUERIES = Prefetch(
    "queries",
    queryset=DepartmentQuery.objects.select_related("department").order_by("department__code"),
)


def request_open_list_for_user(*, user: User) -> QuerySet[VerificationRequest]:
    """Requests not yet reported, in the officer's places, oldest first, with their
    department queries (one query for the requests, one for all their queries)."""
    return access.restrict(
        VerificationRequest.objects.exclude(status=VerificationRequest.Status.REPORTED)
        # A case that moved on (an outcome recorded by hand) no longer waits for it.
        .filter(application__state=Application.State.UNDER_VERIFICATION)
        .select_related("application__village")
        .select_related("application__household")
        .prefetch_related(_QUERIES, _APPLICANT)
        .order_by("requested_at", "pk"),
        user,
        region_field="application__village",
        roles=permissions.WATCH_VERIFICATION,
    )


def request_get_for_user(*, user: User, verification_id: int) -> VerificationRequest:
    """One request with its case and queries, or 404 outside the reader's places."""
    return access.get_object_or_404(
        VerificationRequest.objects.select_related(
            "application__village__parent", "application__household", "requested_by"
        ).prefetch_related(_QUERIES, _APPLICANT),
        user,
        region_field="application__village",
        roles=permissions.READ_REPORTS,
        pk=verification_id,
    )


def query_get_for_user(*, user: User, query_id: int) -> DepartmentQuery:
    return access.get_object_or_404(
        DepartmentQuery.objects.select_related("verification__application__village", "department"),
        user,
        region_field="verification__application__village",
        roles=permissions.WATCH_VERIFICATION,
        pk=query_id,
    )


def verification_outcome_of(request: VerificationRequest) -> VerificationOutcome | None:
    """The case's outcome recorded from this report (the latest one from verification)."""
    return (
        request.application.verification_outcomes.filter(
            source=VerificationOutcome.Source.VERIFICATION
        )
        .order_by("-recorded_at")
        .first()
    )


def latest_outcome_of(application: Application) -> VerificationOutcome | None:
    """The case's latest outcome, from a report or by hand."""
    return application.verification_outcomes.order_by("-recorded_at", "-pk").first()


def queries_overdue(*, today: datetime.date | None = None) -> QuerySet[DepartmentQuery]:
    """Department queries past their due date and still unanswered, of open requests."""
    today = today or timezone.localdate()
    return DepartmentQuery.objects.filter(
        due_on__lt=today,
        status__in=[DepartmentQuery.Status.PENDING, DepartmentQuery.Status.FAILED],
        verification__status=VerificationRequest.Status.OPEN,
    ).order_by("due_on", "pk")


def snapshot_in_use(department) -> int | None:
    """The id of the department's snapshot in use, or None while none is loaded."""
    feed = getattr(department, "feed", None)  # no feed: RelatedObjectDoesNotExist
    return feed.current_id if feed is not None else None


def snapshot_records_for(*, department, identity_hashes: Iterable[str]) -> list[SnapshotRecord]:
    """The records of ``department``'s snapshot in use about these people."""
    hashes = list(identity_hashes)
    return list(current_records(department=department, identity_hashes=hashes))


# --- where verification stands ---------------------------------------------------------


@dataclass(frozen=True)
class VerificationStage:
    """Where the verification of a case stands: the one reading that the case page, its
    honest-declarant table and the report page all show, so they cannot disagree.

    Read from the case's latest request (its department queries) and the case's latest
    outcome: an outcome newer than the request, or without one, was recorded by hand.
    """

    NOT_REQUESTED = "not_requested"
    WAITING = "waiting"  # departments are still answering
    ANSWERED = "answered"  # every department answered; the report awaits its issue
    REPORTED = "reported"  # the report is issued into the case
    BY_HAND = "by_hand"  # the outcome was recorded by hand

    code: str
    request: VerificationRequest | None = None
    outcome: VerificationOutcome | None = None
    answered: int = 0
    departments: int = 0

    @property
    def waiting(self) -> bool:
        return self.code == self.WAITING

    @property
    def settled(self) -> bool:
        """The case has its outcome (issued or recorded by hand)."""
        return self.code in (self.REPORTED, self.BY_HAND)

    @property
    def gap(self) -> bool:
        """A clear gap: in the departments' answers, or in the outcome recorded by hand."""
        if self.code == self.BY_HAND:
            return self.outcome.outcome == VerificationOutcome.Outcome.GAP
        return self.request is not None and self.request.verdict == VerificationRequest.Verdict.GAP

    @property
    def consistent(self) -> bool:
        """Settled as basically consistent (the only reading with no anomaly)."""
        return self.settled and not self.gap

    @property
    def verdict_label(self) -> str:
        if self.code == self.BY_HAND:
            return str(self.outcome.get_outcome_display())
        if self.request is not None and self.request.verdict:
            return str(self.request.get_verdict_display())
        return ""

    @property
    def label(self) -> str:
        if self.code == self.WAITING:
            return _("Waiting for the departments: %(answered)s of %(total)s answered.") % {
                "answered": self.answered,
                "total": self.departments,
            }
        if self.code == self.ANSWERED:
            return _("Every department answered: %(verdict)s. The report is not issued yet.") % {
                "verdict": self.verdict_label
            }
        if self.code == self.REPORTED:
            return _("Report issued on %(date)s: %(verdict)s.") % {
                "date": timezone.localdate(self.request.reported_at).isoformat(),
                "verdict": self.verdict_label,
            }
        if self.code == self.BY_HAND:
            return _("Outcome recorded by hand on %(date)s: %(verdict)s.") % {
                "date": timezone.localdate(self.outcome.recorded_at).isoformat(),
                "verdict": self.verdict_label,
            }
        return _("Not verified yet.")


def _latest(rows, key):
    return max(rows, key=key, default=None)


def verification_stage_of_request(
    request: VerificationRequest, *, outcome: VerificationOutcome | None = None
) -> VerificationStage:
    """The stage of one request (the report page; the case page's latest request)."""
    S = VerificationStage
    queries = list(request.queries.all())
    answered = sum(1 for q in queries if q.status == DepartmentQuery.Status.ANSWERED)
    counts = {"answered": answered, "departments": len(queries)}
    if request.status == VerificationRequest.Status.REPORTED:
        return S(S.REPORTED, request=request, outcome=outcome, **counts)
    if (
        outcome is not None
        and outcome.source == VerificationOutcome.Source.MANUAL
        and outcome.recorded_at >= request.requested_at
    ):
        return S(S.BY_HAND, request=request, outcome=outcome, **counts)
    if request.status == VerificationRequest.Status.ANSWERED:
        return S(S.ANSWERED, request=request, **counts)
    return S(S.WAITING, request=request, **counts)


def verification_stage(application: Application) -> VerificationStage:
    """Where the verification of ``application`` stands (see VerificationStage).

    Uses the prefetch of cases.selectors.application_get_for_user when present
    (``verification_requests``, ``verification_outcomes``).
    """
    request = _latest(application.verification_requests.all(), key=lambda r: (r.requested_at, r.pk))
    outcome = _latest(application.verification_outcomes.all(), key=lambda o: (o.recorded_at, o.pk))
    if request is None:
        if outcome is None:
            return VerificationStage(VerificationStage.NOT_REQUESTED)
        return VerificationStage(VerificationStage.BY_HAND, outcome=outcome)
    return verification_stage_of_request(request, outcome=outcome)
