"""The verification lists (aid_portal.listing): the open verification requests, the
batch comparison runs and their open findings, the spot-check campaigns and a
campaign's sampled cases, a data feed's upload history and the bad rows of an import.

Each names the rows its user may see (the role checked, the jurisdiction first, as the
page always did), the FilterSet its page and API list share, and its export's columns.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.listing import Column, ListSpec, register
from cases.casework.selectors import with_applicant
from cases.lists import case_columns
from verification.batch import services as batch
from verification.batch.models import BatchFinding
from verification.feeds.models import QuarantinedRow, Snapshot
from verification.filters import (
    BatchFindingFilter,
    BatchRunFilter,
    CampaignFilter,
    QuarantinedRowFilter,
    SampleItemFilter,
    SnapshotFilter,
    VerificationRequestFilter,
)
from verification.requests import selectors as request_selectors
from verification.spotcheck import services as spotcheck


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _application(row):
    return row.application


def _requests(user):
    access.require_role(user, permissions.WATCH_VERIFICATION)
    return request_selectors.request_open_list_for_user(user=user)


def _departments(verification) -> str:
    return "; ".join(
        f"{query.department.name}: {query.get_status_display()} ({query.due_on:%Y-%m-%d})"
        for query in verification.queries.all()
    )


VERIFICATION_REQUESTS = register(
    ListSpec(
        name="verification-requests",
        title=_("Verification requests"),
        rows=_requests,
        filterset=VerificationRequestFilter,
        columns=[
            *case_columns(_application),
            Column(_("Requested"), lambda v: _local(v.requested_at)),
            Column(_("Departments"), _departments),
            Column(_("Status"), lambda v: v.get_status_display()),
            Column(_("Verdict"), lambda v: v.get_verdict_display()),
        ],
    )
)


def _findings(user):
    access.require_role(user, permissions.WORK_BATCH_FINDINGS)
    return batch.finding_list_for_user(user=user)


BATCH_FINDINGS = register(
    ListSpec(
        name="batch-findings",
        title=_("Batch comparison findings"),
        rows=_findings,
        filterset=BatchFindingFilter,
        columns=[
            Column(_("Comparison"), lambda f: timezone.localtime(f.run.started_at).date()),
            Column(_("Number"), lambda f: f.application.number),
            Column(_("Village"), lambda f: f.application.village.name),
            Column(_("Finding"), lambda f: f.get_kind_display()),
            Column(_("Name"), lambda f: f.person.name if f.person else ""),
            Column(
                _("Identity number"),
                lambda f: f.person.identity_number if f.person else "",
                identity=True,
            ),
        ],
    )
)


def _sample_items(user):
    access.require_role(user, permissions.RUN_SPOT_CHECKS)
    return with_applicant(spotcheck.sample_item_list_for_user(user=user), through="application__")


def _outcome(item) -> str:
    finding = getattr(item, "finding", None)
    if finding is None:
        return ""
    parts = [] if finding.still_eligible else [str(_("no longer eligible"))]
    parts.append(finding.get_action_display())
    if finding.proposal:
        parts.append(finding.proposal.get_status_display())
    return " · ".join(parts)


SPOT_CHECK_ITEMS = register(
    ListSpec(
        name="spot-check-cases",
        title=_("Sampled cases"),
        rows=_sample_items,
        filterset=SampleItemFilter,
        columns=[
            *case_columns(_application),
            Column(_("Township"), lambda i: i.township.name),
            Column(_("Why sampled"), lambda i: i.get_reason_display()),
            Column(_("Due by"), lambda i: i.due_on),
            Column(_("Auditor"), lambda i: str(i.assigned_to) if i.assigned_to else ""),
            Column(_("State"), lambda i: i.get_state_display()),
            Column(_("Outcome"), _outcome),
        ],
    )
)


def _campaigns(user):
    access.require_role(user, permissions.RUN_SPOT_CHECKS)
    return spotcheck.campaign_list_for_user(user=user)


SPOT_CHECK_CAMPAIGNS = register(
    ListSpec(
        name="spot-check-campaigns",
        title=_("Spot-check campaigns"),
        rows=_campaigns,
        filterset=CampaignFilter,
        columns=[
            Column(_("Drawn"), lambda c: _local(c.drawn_at)),
            Column(_("County"), lambda c: c.county.name),
            Column(_("Rule"), lambda c: c.get_rule_display()),
            Column(_("Window from"), lambda c: c.window_start),
            Column(_("Window to"), lambda c: c.window_end),
            Column(_("Share drawn"), lambda c: f"{c.ratio * 100:.0f}%"),
            Column(_("Sampled"), lambda c: c.sample_size),
            Column(_("Population"), lambda c: c.population_size),
            Column(_("Visited"), lambda c: c.visited),
            Column(_("Status"), lambda c: c.get_status_display()),
            Column(_("Random seed"), lambda c: str(c.seed)),
        ],
    )
)


def _runs(user):
    access.require_role(user, permissions.READ_BATCH_RUNS)
    return batch.batch_run_list_for_user(user=user)


def _count_of(kind: str):
    return lambda run: run.counts.get(kind, 0)


BATCH_RUNS = register(
    ListSpec(
        name="batch-runs",
        title=_("Batch comparisons"),
        rows=_runs,
        filterset=BatchRunFilter,
        columns=[
            Column(_("Started"), lambda r: _local(r.started_at)),
            Column(_("County"), lambda r: r.county.name),
            Column(_("Kind"), lambda r: r.get_kind_display()),
            Column(_("Period from"), lambda r: r.period_start),
            Column(_("Period to"), lambda r: r.period_end),
            Column(_("Status"), lambda r: r.get_status_display()),
            *(Column(label, _count_of(value)) for value, label in BatchFinding.Kind.choices),
            Column(_("Total"), lambda r: r.total),
            Column(_("Finished"), lambda r: _local(r.finished_at)),
            Column(_("Error"), lambda r: r.error),
        ],
    )
)


def _bad_rows(user):
    # Feeds are the province's: whoever manages them sees every import's bad rows.
    access.require_role(user, permissions.MANAGE_FEEDS)
    return QuarantinedRow.objects.select_related("snapshot").order_by("snapshot_id", "line")


def _as_read(row) -> str:
    # The identity number in it was masked when the row was set aside.
    return "; ".join(f"{column}={value}" for column, value in row.raw.items())


FEED_BAD_ROWS = register(
    ListSpec(
        name="feed-bad-rows",
        title=_("Quarantined rows"),
        rows=_bad_rows,
        filterset=QuarantinedRowFilter,
        columns=[
            Column(_("File"), lambda r: r.snapshot.original_name),
            Column(_("Line"), lambda r: r.line),
            Column(_("Reasons"), lambda r: "; ".join(str(reason) for reason in r.reasons)),
            Column(_("Row as read"), _as_read),
        ],
        search_hint=_("Line number, or text in the row or its reasons"),
    )
)


def _uploads(user):
    # Feeds are the province's: whoever manages them sees every feed's uploads.
    access.require_role(user, permissions.MANAGE_FEEDS)
    return Snapshot.objects.select_related("feed__department", "uploaded_by").order_by(
        "-uploaded_at", "-id"
    )


FEED_UPLOADS = register(
    ListSpec(
        name="feed-uploads",
        title=_("Import history"),
        rows=_uploads,
        filterset=SnapshotFilter,
        columns=[
            Column(_("Department"), lambda s: s.feed.department.name),
            Column(_("Uploaded"), lambda s: _local(s.uploaded_at)),
            Column(_("File"), lambda s: s.original_name),
            Column(_("By"), lambda s: str(s.uploaded_by) if s.uploaded_by else ""),
            Column(_("Status"), lambda s: s.get_status_display()),
            Column(_("Rows"), lambda s: s.rows_total),
            Column(_("Loaded"), lambda s: s.rows_loaded),
            Column(_("Bad rows"), lambda s: s.rows_quarantined),
            Column(_("Finished"), lambda s: _local(s.finished_at)),
            Column(_("Why the file was not loaded"), lambda s: s.error),
        ],
        search_hint=_("File name, who uploaded it, or the reason it was not loaded"),
    )
)
