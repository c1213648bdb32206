"""Reads of verification requests, their department queries and reports.

Every read starts from the user's jurisdiction (aid_portal.access) on the case's
village, so a report of another township's case is "not found", never forbidden.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

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
