"""Every role set of the portal, named by what its holders may do.

The one place that says which roles may do what. A step table, a service, a selector, a
page and the navigation all name one of these sets; none writes its own. Roles are held
at a node of the region tree, so "may" always means "over the places below that node"
(aid_portal.access checks that part). docs/roles.md tells the same story for people.
"""

from __future__ import annotations

from aid_portal.models import Role

_ASSISTANT = Role.VILLAGE_ASSISTANT
_CASEWORKER = Role.TOWNSHIP_CASEWORKER
_APPROVER = Role.TOWNSHIP_APPROVER
_AUDITOR = Role.COUNTY_AUDITOR
_OFFICER = Role.VERIFICATION_OFFICER
_FEED_ADMIN = Role.FEED_ADMIN
_FINANCE = Role.FINANCE_REVIEWER

# --- reading -----------------------------------------------------------------------------

# Case data: households, applications, their files and reports. Not the feed admin.
READ_CASES = frozenset({_ASSISTANT, _CASEWORKER, _APPROVER, _AUDITOR, _OFFICER})
READ_AUDIT_LOG = frozenset({_AUDITOR})
# The work queue of open cases and its deadlines.
READ_WORK_QUEUE = frozenset({_CASEWORKER, _ASSISTANT})
# The queue of cases awaiting a decision: the township's approver, and the county,
# which decides where its policy says so.
READ_DECISION_QUEUE = frozenset({_APPROVER, _AUDITOR})
# Periodic reviews and adjustment proposals.
READ_REVIEWS = frozenset({_CASEWORKER, _APPROVER, _AUDITOR})
# A verification report: the centre, the township that decides on it, and the county
# auditor who checks the decision. Village assistants do not.
READ_REPORTS = frozenset({_OFFICER, _CASEWORKER, _APPROVER, _AUDITOR})
# The county's batch-comparison runs.
READ_BATCH_RUNS = frozenset({_AUDITOR, _OFFICER, _FEED_ADMIN})
# Trust records, honest declarants and rewards.
READ_TRUST = frozenset({_CASEWORKER, _APPROVER, _AUDITOR})
READ_CREDIT_DASHBOARD = frozenset({_AUDITOR})
# The case overview (cases by state and township, deadlines met, the counts the county
# watches): the county's auditor over the county, the township's approver over theirs.
READ_CASE_OVERVIEW = frozenset({_APPROVER, _AUDITOR})

# Print the full identity number on the family's own documents (the approval and
# rejection notices, the application form), with a stated purpose, audited each time:
# the township office that hands them over. Everyone else prints it masked.
PRINT_FULL_IDENTITY_NUMBERS = frozenset({_CASEWORKER, _APPROVER})
# See a full identity number in a list export (masked otherwise): the township office that
# works the cases and the county that checks them; each unmasked export is audited with
# its stated purpose (aid_portal.listing).
UNMASK_IDENTITY_NUMBERS = frozenset({_CASEWORKER, _APPROVER, _AUDITOR})

# --- the application's path (cases.casework.steps) -----------------------------------------------

# File an application and take the village's steps: the declaration, the home visit,
# the democratic review and the public notice.
FILE_APPLICATIONS = frozenset({_CASEWORKER, _ASSISTANT})
# The township office's own steps: acceptance, verification, time limits.
WORK_CASES = frozenset({_CASEWORKER})
RECORD_VERIFICATION_OUTCOMES = frozenset({_CASEWORKER, _OFFICER})
# Decide where the township decides (the default); DECIDE_IN_COUNTY where the county's
# policy in force says the county decides (cases.policy.decision_roles chooses).
DECIDE_CASES = frozenset({_APPROVER})
DECIDE_IN_COUNTY = frozenset({_AUDITOR})
# The county's key check of a near-relative filing, and its monthly check of new files.
CHECK_CASES_FOR_COUNTY = frozenset({_AUDITOR})
# The county confirms an exception to the extreme-poverty conditions a case fails, with
# reasons (domain.md §8: the county confirms extreme-poverty cases).
CONFIRM_EXTREME_POVERTY_EXCEPTIONS = frozenset({_AUDITOR})
# Who goes on a home visit: the staff of the township and of its villages.
VISIT_HOMES = frozenset({_CASEWORKER, _APPROVER, _ASSISTANT})
# Put a case on hold, or propose an adjustment: the township's staff, and the county's
# auditors (spot-checks, confirmed credit findings).
HOLD_AND_ADJUST_CASES = frozenset({_CASEWORKER, _APPROVER, _AUDITOR})

# --- county settings and staff ----------------------------------------------------------------

MANAGE_STAFF = frozenset({_FEED_ADMIN})
MANAGE_POLICIES = frozenset({_FEED_ADMIN})
READ_POLICIES = READ_CASES | MANAGE_POLICIES

# --- verification --------------------------------------------------------------------------

MANAGE_FEEDS = frozenset({_FEED_ADMIN})
# Watch a county's verification requests (the verification centre).
WATCH_VERIFICATION = frozenset({_OFFICER})
ISSUE_REPORTS = frozenset({_OFFICER, _CASEWORKER})
# Work the findings of batch comparisons (the township office).
WORK_BATCH_FINDINGS = WORK_CASES
RUN_SPOT_CHECKS = frozenset({_AUDITOR})

# --- credit ----------------------------------------------------------------------------------

# Record credit findings, interviews, objections and repair applications: the township.
RECORD_CREDIT_FINDINGS = frozenset({_CASEWORKER, _APPROVER})
DECIDE_CREDIT_FINDINGS = frozenset({_APPROVER})
# Confirm severe findings, review objections to them, grant severe repairs: the county.
CONFIRM_CREDIT_FINDINGS = frozenset({_AUDITOR})
# Review an objection: someone other than the finder decides (the service checks that).
REVIEW_CREDIT_OBJECTIONS = DECIDE_CREDIT_FINDINGS | CONFIRM_CREDIT_FINDINGS
# Export and resend what goes to the credit-information platform.
KEEP_CREDIT_OUTBOX = frozenset({_AUDITOR, _FEED_ADMIN})
RECORD_TRUST = frozenset({_CASEWORKER})
GRANT_REWARDS = frozenset({_APPROVER})

# --- money (cases.payments) --------------------------------------------------------------------

# Read rosters, their lines, bank returns and the funds ledger. Village assistants do not:
# the roster carries account numbers.
READ_PAYMENTS = frozenset({_CASEWORKER, _APPROVER, _AUDITOR, _FINANCE})
# Prepare the township's roster, hold lines back, correct accounts, re-issue failed lines.
PREPARE_ROSTERS = frozenset({_CASEWORKER, _APPROVER})
# The county civil-affairs bureau reviews and approves a roster.
APPROVE_ROSTERS = frozenset({_AUDITOR})
# The finance bureau reviews an approved roster (then it is frozen) and enters funds.
REVIEW_ROSTERS_FOR_FINANCE = frozenset({_FINANCE})
ALLOCATE_FUNDS = frozenset({_FINANCE})
# Send a roster back to the township with reasons: either reviewer, before it is frozen.
RETURN_ROSTERS = APPROVE_ROSTERS | REVIEW_ROSTERS_FOR_FINANCE
# Export the bank files and apply the bank's return: the county, which deals with the bank.
EXCHANGE_BANK_FILES = frozenset({_AUDITOR})
# See a full account number (the bank file, a correction): audited each time.
UNMASK_ACCOUNTS = PREPARE_ROSTERS | EXCHANGE_BANK_FILES
# Compare the month's four ledgers, close the month, build and submit the statistics
# table: the county civil-affairs bureau.
RECONCILE_PAYMENTS = frozenset({_AUDITOR})
# Explain or resolve an exception of the reconciliation: the township it concerns, and the
# county.
EXPLAIN_EXCEPTIONS = PREPARE_ROSTERS | RECONCILE_PAYMENTS

# --- the public roster (cases.publicity) ---------------------------------------------------------

# Publish a village's month from the frozen roster, or withdraw it: the township office.
PUBLISH_ROSTERS = frozenset({_CASEWORKER, _APPROVER})
# Handle the public's objections and reports (举报) in the township's queue.
HANDLE_PUBLIC_REPORTS = PUBLISH_ROSTERS
# See what was published and the reports queue: the township, and the county that
# supervises it.
READ_PUBLICITY = PUBLISH_ROSTERS | frozenset({_AUDITOR})
