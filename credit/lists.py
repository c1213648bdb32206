"""The credit lists (aid_portal.listing): the findings of the user's places, the
findings waiting for their decision, and the queues of a finding's rows: interviews to
hold, objections under review, repair applications and the outbox to the platform; and
the trust lists: the trust records and the rewards list of a year.

Each names the rows its user may see (the role checked, the jurisdiction first, as the
page always did), the FilterSet its page and API list share, and its export's columns.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery, TextField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_portal import access, permissions
from aid_portal.crypto import decrypt
from aid_portal.listing import Column, ListSpec, register
from cases.models import Member
from credit.findings import selectors
from credit.findings.filters import (
    CreditFindingFilter,
    InterviewFilter,
    ObjectionFilter,
    OutboxFilter,
    RepairFilter,
)
from credit.findings.models import Finding
from credit.trust import services as trust
from credit.trust.filters import RewardCandidateFilter, TrustRecordFilter
from credit.trust.models import TrustRecord


def _findings(user):
    access.require_role(user, permissions.READ_CASES)
    return selectors.finding_list_for_user(user=user)


def decision_states(user) -> list[str]:
    """The states a user decides on: the township's proposals, the county's confirmations."""
    states = []
    if access.has_role(user, permissions.DECIDE_CREDIT_FINDINGS):
        states.append(Finding.State.PROPOSED)
    if access.has_role(user, permissions.CONFIRM_CREDIT_FINDINGS):
        states.append(Finding.State.COUNTY_PENDING)
    return states


def _decisions(user):
    access.require_role(
        user, permissions.DECIDE_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS
    )
    return selectors.finding_list_for_user(user=user).filter(state__in=decision_states(user))


FINDING_COLUMNS = [
    Column(_("No."), lambda f: f"#{f.pk}"),
    Column(_("Found on"), lambda f: f.found_on),
    Column(_("Village"), lambda f: f.village.name),
    Column(_("Household"), lambda f: f.household_id),
    Column(_("Person"), lambda f: f.person.name if f.person else ""),
    Column(
        _("Identity number"), lambda f: f.person.identity_number if f.person else "", identity=True
    ),
    Column(_("Behaviour"), lambda f: f.behaviour.name),
    Column(_("Level"), lambda f: f.get_level_display()),
    Column(_("State"), lambda f: f.get_state_display()),
    Column(_("Found by"), lambda f: str(f.found_by) if f.found_by else ""),
]

CREDIT_FINDINGS = register(
    ListSpec(
        name="credit-findings",
        title=_("Credit findings"),
        rows=_findings,
        filterset=CreditFindingFilter,
        columns=FINDING_COLUMNS,
    )
)
CREDIT_DECISIONS = register(
    ListSpec(
        name="credit-decisions",
        title=_("Credit findings to decide"),
        rows=_decisions,
        filterset=CreditFindingFilter,
        columns=FINDING_COLUMNS,
    )
)


def _finding_columns(*, person: bool = True) -> list[Column]:
    """The columns of a finding's row: which finding, where, and whose."""

    def finding(row):
        return row.finding

    columns = [
        Column(_("Credit finding"), lambda r: f"#{r.finding_id}"),
        Column(_("Village"), lambda r: finding(r).village.name),
        Column(_("Household"), lambda r: finding(r).household_id),
    ]
    if person:
        columns += [
            Column(_("Person"), lambda r: finding(r).person.name if finding(r).person else ""),
            Column(
                _("Identity number"),
                lambda r: finding(r).person.identity_number if finding(r).person else "",
                identity=True,
            ),
        ]
    return [*columns, Column(_("Behaviour"), lambda r: finding(r).behaviour.name)]


def _interviews(user):
    access.require_role(user, permissions.RECORD_CREDIT_FINDINGS)
    return selectors.interviews_due_for_user(user=user)


CREDIT_INTERVIEWS = register(
    ListSpec(
        name="credit-interviews",
        title=_("Reminder interviews to hold"),
        rows=_interviews,
        filterset=InterviewFilter,
        columns=[
            Column(_("Scheduled for"), lambda i: i.scheduled_for),
            *_finding_columns(),
        ],
    )
)


def _objections(user):
    access.require_role(
        user, permissions.RECORD_CREDIT_FINDINGS | permissions.REVIEW_CREDIT_OBJECTIONS
    )
    return selectors.objections_pending_for_user(user=user).select_related("finding__person")


CREDIT_OBJECTIONS = register(
    ListSpec(
        name="credit-objections",
        title=_("Objections under review"),
        rows=_objections,
        filterset=ObjectionFilter,
        columns=[
            Column(_("Review due by"), lambda o: o.review_due_on),
            *_finding_columns(),
            Column(_("Lodged on"), lambda o: o.lodged_on),
            Column(_("The objection"), lambda o: o.statement),
            Column(_("Found by"), lambda o: str(o.finding.found_by) if o.finding.found_by else ""),
        ],
    )
)


def _repairs(user):
    access.require_role(
        user, permissions.DECIDE_CREDIT_FINDINGS | permissions.CONFIRM_CREDIT_FINDINGS
    )
    return selectors.repairs_pending_for_user(user=user).select_related("finding__person")


CREDIT_REPAIRS = register(
    ListSpec(
        name="credit-repairs",
        title=_("Repair applications"),
        rows=_repairs,
        filterset=RepairFilter,
        columns=[
            Column(_("Applied on"), lambda r: r.applied_on),
            *_finding_columns(),
            Column(_("Level"), lambda r: r.finding.get_level_display()),
            Column(_("How the behaviour was corrected"), lambda r: r.correction),
        ],
    )
)


def _outbox(user):
    access.require_role(user, permissions.KEEP_CREDIT_OUTBOX)
    return selectors.outbox_for_user(user=user)


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


CREDIT_OUTBOX = register(
    ListSpec(
        name="credit-outbox",
        title=_("Credit-information platform"),
        rows=_outbox,
        filterset=OutboxFilter,
        # What the page shows: the message, not the person (the platform's file has them).
        columns=[
            Column(_("Written"), lambda m: _local(m.created_at)),
            *_finding_columns(person=False),
            Column(_("Kind"), lambda m: m.get_kind_display()),
            Column(_("State"), lambda m: m.get_state_display()),
            Column(_("Attempts"), lambda m: m.attempts),
            Column(_("Delivered"), lambda m: _local(m.delivered_at)),
            Column(_("Last error"), lambda m: m.last_error),
        ],
    )
)


def _trust_records(user):
    access.require_role(user, permissions.READ_TRUST)
    return trust.trust_record_list_for_user(user=user)


TRUST_KINDS = dict(TrustRecord.Kind.choices)

TRUST_RECORDS = register(
    ListSpec(
        name="trust-records",
        title=_("Trust records"),
        rows=_trust_records,
        filterset=TrustRecordFilter,
        columns=[
            Column(_("Recorded on"), lambda r: r.recorded_on),
            Column(_("Household"), lambda r: r.household_id),
            Column(_("Number"), lambda r: r.application.number if r.application else ""),
            Column(_("Village"), lambda r: r.household.village.name),
            Column(_("Kind"), lambda r: r.get_kind_display()),
            Column(_("Person"), lambda r: r.person.name if r.person else ""),
            Column(
                _("Identity number"),
                lambda r: r.person.identity_number if r.person else "",
                identity=True,
            ),
            Column(_("Facts"), lambda r: r.facts),
            Column(_("Recorded by"), lambda r: str(r.recorded_by) if r.recorded_by else ""),
        ],
    )
)


def _reward_households(user):
    access.require_role(user, permissions.READ_TRUST)
    applicant = Member.objects.filter(household=OuterRef("pk"), relation=Member.Relation.SELF)
    # The applicant's number as stored (encrypted, no query more); the export decrypts it
    # to mask it, or to show it unmasked.
    return trust.household_list_for_trust(user=user).annotate(
        applicant_identity=Subquery(
            applicant.values("person__identity_number")[:1], output_field=TextField()
        )
    )


def _applicant_identity(household) -> str:
    stored = getattr(household, "applicant_identity", "")
    return decrypt(stored) if stored else ""


REWARDS = register(
    ListSpec(
        name="rewards",
        title=_("Rewards for trustworthy households"),
        rows=_reward_households,
        filterset=RewardCandidateFilter,
        columns=[
            Column(_("Township"), lambda h: h.village.parent.name if h.village.parent else ""),
            Column(_("Village"), lambda h: h.village.name),
            Column(_("Household"), lambda h: h.pk),
            Column(_("Applicant"), lambda h: h.applicant_name or ""),
            Column(_("Identity number"), _applicant_identity, identity=True),
            Column(_("Trust records"), lambda h: h.trust_count),
            Column(
                _("Kinds of trustworthy behaviour"),
                lambda h: "；".join(str(TRUST_KINDS.get(k, k)) for k in h.trust_kinds),
            ),
            Column(
                _("Rewards granted"),
                lambda h: "；".join(r.get_kind_display() for r in h.year_rewards),
            ),
        ],
    )
)
