"""The beat schedules: declared once in aid_portal/schedules.py, synced after every
migrate, and an admin's times and pauses left alone."""

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import (
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    PeriodicTasks,
)

from aid_portal.celery import app
from aid_portal.schedules import SCHEDULES, Crontab, Every, SyncResult, schedules_sync

# Tasks that something other than beat enqueues. A new task goes either here, with who
# enqueues it, or into SCHEDULES.
ON_DEMAND_TASKS = {
    "verification.query_run",  # one department's query, when verification is requested
    "verification.feed_import",  # a department's data file, when it is uploaded
    "verification.batch_run",  # one county: from batch_run_all and the batch-runs page
    "verification.spotcheck_draw",  # one county: from spotcheck_draw_all
    "credit.yearly_results",  # one county: from yearly_results_all and the dashboard
    "credit.outbox_deliver",  # one platform record, when a finding takes effect
    "aid_portal.export_build",  # a large list export, when a user asks for it
}

# The data migrations that made the rows before SCHEDULES existed, and still do on a new
# database: (module, function).
HISTORICAL_MIGRATIONS = [
    ("aid_portal.migrations.0003_health_schedule", "add_schedule"),
    ("cases.migrations.0002_payments_schedule", "add_schedule"),
    ("cases.migrations.0004_gradual_exit_schedule", "add_schedule"),
    ("cases.migrations.0005_periodic_reviews", "add_schedules"),
    ("verification.migrations.0003_schedules", "add_schedules"),
    ("verification.migrations.0005_spotcheck_schedules", "add_schedules"),
    ("credit.migrations.0003_trust", "add_schedule"),
    ("credit.migrations.0004_outbox_relay_schedule", "add_schedule"),
]


def declared_rows():
    with translation.override(settings.LANGUAGE_CODE):
        return {
            s.name: {
                "task": s.task,
                "args": list(s.args),
                "kwargs": s.kwargs,
                "queue": s.queue,
                "enabled": s.enabled,
                "description": str(s.label),
                "when": s.when,
            }
            for s in SCHEDULES
        }


def beat_rows():
    """Every row of beat's table, in the declaration's terms."""
    rows = {}
    for task in PeriodicTask.objects.select_related("interval", "crontab"):
        assert task.solar_id is None and task.clocked_id is None, task.name
        if task.interval is not None:
            assert task.interval.period == IntervalSchedule.MINUTES, task.name
            when = Every(minutes=task.interval.every)
        else:
            cron = task.crontab
            assert str(cron.timezone) == settings.TIME_ZONE, task.name
            when = Crontab(
                minute=cron.minute,
                hour=cron.hour,
                day_of_month=cron.day_of_month,
                month_of_year=cron.month_of_year,
                day_of_week=cron.day_of_week,
            )
        rows[task.name] = {
            "task": task.task,
            "args": json.loads(task.args),
            "kwargs": json.loads(task.kwargs),
            "queue": task.queue,
            "enabled": task.enabled,
            "description": task.description,
            "when": when,
        }
    return rows


def beat_tables():
    """Everything the sync could write, to compare before and after."""
    return (
        list(PeriodicTask.objects.order_by("pk").values()),
        list(CrontabSchedule.objects.order_by("pk").values()),
        list(IntervalSchedule.objects.order_by("pk").values()),
        list(PeriodicTasks.objects.values()),
    )


# --- the declaration and the Celery app -----------------------------------------------------


def test_every_task_is_either_scheduled_or_enqueued_on_demand_and_all_are_registered():
    app.loader.import_default_modules()
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    scheduled = {s.task for s in SCHEDULES}
    assert scheduled <= registered, scheduled - registered
    assert registered >= ON_DEMAND_TASKS, ON_DEMAND_TASKS - registered
    assert not scheduled & ON_DEMAND_TASKS
    assert registered - ON_DEMAND_TASKS == scheduled


def test_every_schedule_has_its_own_name():
    assert len({s.name for s in SCHEDULES}) == len(SCHEDULES)


# --- after migrate --------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_migrate_an_existing_database_holds_exactly_the_declared_schedules():
    # As an installation upgraded to this release: rows the data migrations made, with no
    # description. If this fails on "when", a declared time differs from the one the
    # data migrations give: a changed time needs a data migration (it is the admin's).
    PeriodicTask.objects.all().delete()
    for module, function in HISTORICAL_MIGRATIONS:
        getattr(importlib.import_module(module), function)(django_apps, None)
    call_command("migrate", verbosity=0)
    assert beat_rows() == declared_rows()
    health = PeriodicTask.objects.get(name="portal health check")
    assert health.description == "确认后台任务进程在运行，并能连接消息队列和数据库。"


@pytest.mark.django_db
def test_after_migrate_an_empty_table_holds_exactly_the_declared_schedules():
    PeriodicTask.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert beat_rows() == declared_rows()


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_holds_exactly_the_declared_schedules():
    # Transactional tests end with a flush, which sends post_migrate without ``apps``.
    call_command("flush", interactive=False, verbosity=0)
    assert beat_rows() == declared_rows()


# --- the sync -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_sync_changes_nothing():
    schedules_sync()  # a reused test database may predate the descriptions
    PeriodicTask.objects.filter(name="portal health check").delete()
    PeriodicTask.objects.filter(name="spot-check: annual home visits").update(args='["new_cases"]')
    assert schedules_sync() == SyncResult(
        created=["portal health check"], updated=["spot-check: annual home visits"]
    )
    after_first = beat_tables()

    with CaptureQueriesContext(connection) as queries:
        assert schedules_sync() == SyncResult(created=[], updated=[])
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []
    assert beat_tables() == after_first
    assert beat_rows() == declared_rows()


@pytest.mark.django_db
def test_an_admins_times_pause_and_wording_survive_a_sync_but_what_runs_is_put_back():
    schedules_sync()  # a reused test database may predate the descriptions
    payments = PeriodicTask.objects.get(name="start payments of approved cases")
    half_past_two = CrontabSchedule.objects.create(
        minute="30", hour="2", timezone=settings.TIME_ZONE
    )
    payments.crontab = half_past_two
    payments.enabled = False
    payments.description = "县里要求推迟到 02:30"
    payments.args = '["not declared"]'
    payments.save()
    health = PeriodicTask.objects.get(name="portal health check")
    every_five = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    health.interval = every_five
    health.save()

    assert schedules_sync() == SyncResult(created=[], updated=["start payments of approved cases"])

    payments.refresh_from_db()
    assert payments.crontab_id == half_past_two.pk
    assert payments.enabled is False
    assert payments.description == "县里要求推迟到 02:30"
    assert payments.args == "[]"
    health.refresh_from_db()
    assert health.interval_id == every_five.pk
    # The schedule that shared the 01:00 crontab kept it.
    windows = PeriodicTask.objects.get(name="close ended objection windows")
    assert (windows.crontab.hour, windows.crontab.minute) == ("1", "0")
    # And a later migrate leaves the admin's choices too.
    call_command("migrate", verbosity=0)
    payments.refresh_from_db()
    assert (payments.crontab_id, payments.enabled) == (half_past_two.pk, False)


@pytest.mark.django_db
def test_the_staff_pages_do_not_rename_a_declared_schedule(client, people):
    schedules_sync()
    declared = PeriodicTask.objects.get(name="portal health check")
    own = PeriodicTask.objects.create(
        name="a superuser's own", task="aid_portal.health", interval=declared.interval
    )
    client.force_login(people.feedadmin)

    def form_fields(task):
        url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
        return client.get(url).context["adminform"].form.fields

    assert "name" not in form_fields(declared)
    assert "enabled" in form_fields(declared)
    assert "name" in form_fields(own)
