"""The Celery queues and which task runs on which (settings.CELERY_TASK_ROUTES).

Every task is named here, each on one queue, so that the kinds of work never wait on
each other: a province-wide batch comparison fills ``batch`` and nothing else, while a
caseworker's department query (``verification``) and a delivery to the credit platform
(``outbox``) go on their own workers (docs/deploy.md). A task missing here would land on
``default`` unnoticed; tests/test_queues.py fails instead.

No Django import: the launcher reads this before the settings.
"""

from __future__ import annotations

# Interactive first: a caseworker waits on these.
VERIFICATION = "verification"  # department queries: slow networks, a person waiting
OUTBOX = "outbox"  # deliveries to other systems, and the resend of missed tasks
DEFAULT = "default"  # short scheduled sweeps, exports, health
BATCH = "batch"  # bulk: comparisons, imports, draws, yearly results, the chain walk

QUEUES = (VERIFICATION, OUTBOX, DEFAULT, BATCH)

TASK_QUEUES: dict[str, str] = {
    "verification.query_run": VERIFICATION,
    "credit.outbox_deliver": OUTBOX,
    "credit.outbox_relay": OUTBOX,
    # The relay sends what a broker outage kept back (verification queries among it):
    # it must not wait behind a batch.
    "aid_portal.dispatch_relay": OUTBOX,
    "aid_portal.health": DEFAULT,
    "aid_portal.audit_seal": DEFAULT,
    # A person waits for an export, so not behind a province's batch; up to 30 minutes.
    "aid_portal.export_build": DEFAULT,
    "verification.query_reask": DEFAULT,
    "cases.payments_start": DEFAULT,
    "cases.gradual_exits_finish": DEFAULT,
    "cases.feedback_windows_close": DEFAULT,
    "cases.reviews_open_due": DEFAULT,
    "cases.monthly_checks_create": DEFAULT,
    "cases.drafts_follow_up": DEFAULT,
    "credit.recoveries_credit": DEFAULT,
    "verification.batch_run": BATCH,
    "verification.batch_run_all": BATCH,
    # Holds a session-level advisory lock: its workers need a direct or session-pooled
    # connection (docs/deploy.md, PgBouncer).
    "verification.feed_import": BATCH,
    "verification.spotcheck_draw": BATCH,
    "verification.spotcheck_draw_all": BATCH,
    "credit.yearly_results": BATCH,
    "credit.yearly_results_all": BATCH,
    "aid_portal.audit_verify": BATCH,
}

ROUTES = {name: {"queue": queue} for name, queue in TASK_QUEUES.items()}
