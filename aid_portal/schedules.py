"""Every Celery beat schedule of the portal, declared once, and the sync that puts them
into django-celery-beat's tables.

Beat reads its schedules from the database (``DatabaseScheduler``) so that an admin can
change or pause one in the staff pages without a deployment. A schedule is added here
and nowhere else: ``schedules_sync`` runs after every ``manage.py migrate``
(``AidPortalConfig.ready``), so a new database and an upgraded one end with the same
rows. (Before this list existed, data migrations in each app created the rows; they
stay as history and make the same rows.)

A row is found by its ``name``. Who owns which of its fields:

- The declaration owns *what runs*: ``task``, ``args``, ``kwargs`` and ``queue``. The
  sync puts them back when they differ, so a release that changes them reaches every
  installation, and an admin's edit of them is undone at the next release (with a
  warning in the log).
- The admin owns *when and whether*: the schedule (interval or crontab, and its
  times), ``enabled``, the description and every other field (expiry, priority, start
  time...). The declaration gives their first values when the sync creates the row and
  the sync never changes them afterwards; only a blank description is filled in (the
  rows the data migrations made have none).

Hence: changing when an existing schedule runs, on installations that have it, takes a
data migration (the time is the admin's). Retiring one takes removing it here and a data
migration that deletes its row. A declared row that is deleted comes back at the next
migrate: a schedule is paused by unticking "enabled". The staff pages do not let a
declared row be renamed (``aid_portal.admin``): the sync would create it again under its
name and the task would run twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Crontab:
    """Cron fields, read in the portal's time zone (settings.TIME_ZONE)."""

    minute: str
    hour: str
    day_of_month: str = "*"
    month_of_year: str = "*"
    day_of_week: str = "*"


@dataclass(frozen=True)
class Every:
    minutes: int


@dataclass(frozen=True)
class Schedule:
    name: str  # the row's key: never rename a declared schedule (module docstring)
    task: str
    when: Crontab | Every
    label: Promise  # what it does, without times (the admin may change them)
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None  # None: CELERY_TASK_ROUTES decides, as for any other call
    enabled: bool = True


SCHEDULES = [
    # aid_portal
    Schedule(
        name="portal health check",
        task="aid_portal.health",
        when=Every(minutes=10),
        label=_("Proves that a worker is alive and reaches the broker and the database."),
    ),
    Schedule(
        name="send queued work the broker missed",
        task="aid_portal.dispatch_relay",
        when=Every(minutes=1),
        label=_("Sends the tasks that could not reach the broker when their change committed."),
    ),
    Schedule(
        name="seal the audit log",
        task="aid_portal.audit_seal",
        when=Every(minutes=5),
        label=_("Seals the audit events written since the last run into the hash chain."),
    ),
    Schedule(
        name="verify the audit chain",
        task="aid_portal.audit_verify",
        when=Crontab(minute="30", hour="2"),
        label=_("Walks the audit log's hash chain; a broken link is shown to county auditors."),
    ),
    # cases: every morning, then the 1st of the month
    Schedule(
        name="start payments of approved cases",
        task="cases.payments_start",
        when=Crontab(minute="0", hour="1"),
        label=_("Approved cases whose first payment month has come go into payment."),
    ),
    Schedule(
        name="close ended objection windows",
        task="cases.feedback_windows_close",
        when=Crontab(minute="0", hour="1"),
        label=_("Cases whose objection window ended with no objection go on to the home visit."),
    ),
    Schedule(
        name="stop cases at the end of their gradual exit",
        task="cases.gradual_exits_finish",
        when=Crontab(minute="10", hour="1"),
        label=_("Cases whose gradual exit has run its course stop."),
    ),
    Schedule(
        name="remind of and withdraw unfinished drafts",
        task="cases.drafts_follow_up",
        when=Crontab(minute="40", hour="1"),
        label=_(
            "Reminds the township of drafts left unfinished, and withdraws them after the "
            "county's days."
        ),
    ),
    Schedule(
        name="open the periodic reviews that fell due",
        task="cases.reviews_open_due",
        when=Crontab(minute="20", hour="1"),
        label=_("Opens the periodic reviews that fell due, in each township's queue."),
    ),
    Schedule(
        name="create the monthly check of new dibao files",
        task="cases.monthly_checks_create",
        when=Crontab(minute="30", hour="2", day_of_month="1"),
        label=_("Creates each county's check of last month's new dibao files."),
    ),
    # verification: every morning, the 1st of the month, 1 January and 1 July, the 2nd
    Schedule(
        name="verification: ask overdue departments again",
        task="verification.query_reask",
        when=Crontab(minute="0", hour="6"),
        label=_("Asks every department past its due date again."),
    ),
    Schedule(
        name="batch comparison: last month's new beneficiaries",
        task="verification.batch_run_all",
        args=("monthly_new",),
        when=Crontab(minute="0", hour="2", day_of_month="1"),
        label=_(
            "Compares last month's new beneficiaries of every county with the departments' data."
        ),
    ),
    Schedule(
        name="batch comparison: everyone enrolled",
        task="verification.batch_run_all",
        args=("half_yearly_all",),
        when=Crontab(minute="0", hour="3", day_of_month="1", month_of_year="1,7"),
        label=_("Compares everyone enrolled in every county with the departments' data."),
    ),
    Schedule(
        name="spot-check: last month's new cases",
        task="verification.spotcheck_draw_all",
        args=("new_cases",),
        when=Crontab(minute="0", hour="4", day_of_month="2"),
        label=_("Draws each county's spot-check campaign over last month's new cases."),
    ),
    Schedule(
        name="spot-check: annual home visits",
        task="verification.spotcheck_draw_all",
        args=("annual",),
        when=Crontab(minute="0", hour="5", day_of_month="2", month_of_year="1"),
        label=_("Draws each county's annual home-visit spot-check campaign."),
    ),
    # credit
    Schedule(
        name="credit: yearly results of the past year",
        task="credit.yearly_results_all",
        when=Crontab(minute="0", hour="4", day_of_month="5", month_of_year="1"),
        label=_("Computes every county's yearly credit results of the year just ended."),
    ),
    Schedule(
        name="deliver waiting credit-platform records",
        task="credit.outbox_relay",
        when=Every(minutes=10),
        label=_("Sends the records still waiting for the credit-information sharing platform."),
    ),
    Schedule(
        name="count paid recoveries against repayment orders",
        task="credit.recoveries_credit",
        when=Every(minutes=30),
        label=_("Counts recoveries deducted from paid rosters as repaid on their orders."),
    ),
]

DECLARED_NAMES = frozenset(schedule.name for schedule in SCHEDULES)


class SyncResult(NamedTuple):
    created: list[str]
    updated: list[str]


def schedules_sync(*, using: str = DEFAULT_DB_ALIAS) -> SyncResult:
    """Create the declared schedules that are missing and put back what the declaration
    owns in the others (module docstring). Idempotent: a row that agrees is not saved,
    so beat is not told to reload for nothing."""
    created: list[str] = []
    updated: list[str] = []
    # Descriptions are stored in the portal's language, whoever runs migrate.
    with transaction.atomic(using=using), translation.override(settings.LANGUAGE_CODE):
        rows = PeriodicTask.objects.using(using).in_bulk(DECLARED_NAMES, field_name="name")
        for schedule in SCHEDULES:
            row = rows.get(schedule.name)
            if row is None:
                _schedule_create(schedule=schedule, using=using)
                created.append(schedule.name)
            elif _schedule_restore(row=row, schedule=schedule, using=using):
                updated.append(schedule.name)
    if created:
        logger.info("Beat schedules created: %s", ", ".join(created))
    return SyncResult(created=created, updated=updated)


def schedules_sync_after_migrate(
    *, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS, **_kwargs
) -> None:
    """post_migrate receiver (flush sends it without ``apps``). A migrate that stopped
    before django-celery-beat's tables exist (a partial target on a new database) has
    nothing to sync into."""
    try:
        apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:
        return
    schedules_sync(using=using)


def _schedule_create(*, schedule: Schedule, using: str) -> None:
    row = PeriodicTask(
        name=schedule.name,
        task=schedule.task,
        args=json.dumps(list(schedule.args)),
        kwargs=json.dumps(schedule.kwargs),
        queue=schedule.queue,
        enabled=schedule.enabled,
        description=str(schedule.label),
    )
    if isinstance(schedule.when, Every):
        row.interval = _interval_for(every=schedule.when, using=using)
    else:
        row.crontab = _crontab_for(crontab=schedule.when, using=using)
    row.save(using=using)


def _schedule_restore(*, row: PeriodicTask, schedule: Schedule, using: str) -> bool:
    owned = []
    if row.task != schedule.task:
        row.task = schedule.task
        owned.append("task")
    # Compared as JSON, so that spacing alone is no difference.
    if json.loads(row.args or "[]") != list(schedule.args):
        row.args = json.dumps(list(schedule.args))
        owned.append("args")
    if json.loads(row.kwargs or "{}") != schedule.kwargs:
        row.kwargs = json.dumps(schedule.kwargs)
        owned.append("kwargs")
    if (row.queue or None) != schedule.queue:
        row.queue = schedule.queue
        owned.append("queue")
    fields = list(owned)
    if not row.description:
        row.description = str(schedule.label)
        fields.append("description")
    if not fields:
        return False
    if owned:
        logger.warning(
            "Beat schedule %r: %s put back as declared in aid_portal/schedules.py",
            schedule.name,
            ", ".join(owned),
        )
    row.save(using=using, update_fields=[*fields, "date_changed"])
    return True


def _interval_for(*, every: Every, using: str) -> IntervalSchedule:
    wanted = {"every": every.minutes, "period": IntervalSchedule.MINUTES}
    intervals = IntervalSchedule.objects.using(using)
    # No unique constraint: an admin may have added the same interval twice.
    return intervals.filter(**wanted).order_by("pk").first() or intervals.create(**wanted)


def _crontab_for(*, crontab: Crontab, using: str) -> CrontabSchedule:
    wanted = {
        "minute": crontab.minute,
        "hour": crontab.hour,
        "day_of_month": crontab.day_of_month,
        "month_of_year": crontab.month_of_year,
        "day_of_week": crontab.day_of_week,
        "timezone": settings.TIME_ZONE,
    }
    crontabs = CrontabSchedule.objects.using(using)
    return crontabs.filter(**wanted).order_by("pk").first() or crontabs.create(**wanted)
