"""The review schedules, run by a real Celery worker: reviews that fell due open once,
and the county's monthly check of new dibao files is created once a month."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from cases.models import Application, MonthlyFileCheck, PeriodicReview
from cases.tasks import monthly_checks_create, reviews_open_due

pytestmark = pytest.mark.worker


def test_the_migration_puts_the_schedules_in_the_admin_editable_beat_table(db):
    # A transactional test elsewhere in the run may have emptied the table the data
    # migration filled: its function is run again (it is idempotent).
    migration = importlib.import_module("cases.migrations.0005_periodic_reviews")
    migration.add_schedules(django_apps, None)
    migration.add_schedules(django_apps, None)
    tasks = dict(
        PeriodicTask.objects.filter(
            task__in=["cases.reviews_open_due", "cases.monthly_checks_create"]
        ).values_list("task", "crontab__day_of_month")
    )
    assert tasks == {"cases.reviews_open_due": "*", "cases.monthly_checks_create": "1"}


def test_due_reviews_open_on_a_real_worker_once(enrol, people, celery_worker_process):
    due, not_yet = enrol(), enrol()
    Application.objects.filter(pk=due.application.pk).update(
        next_review_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert reviews_open_due.delay().get(timeout=60) == 1
    assert reviews_open_due.delay().get(timeout=60) == 0  # one open review per case
    review = PeriodicReview.objects.get()
    assert review.application_id == due.application.pk
    assert review.state == PeriodicReview.State.OPENED
    assert not PeriodicReview.objects.filter(application=not_yet.application).exists()


def test_the_monthly_check_is_created_once_on_a_real_worker(
    enrol, people, places, celery_worker_process
):
    family = enrol()
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=5)
    Application.objects.filter(pk=family.application.pk).update(
        decided_at=datetime.datetime.combine(
            last_month, datetime.time(10), tzinfo=timezone.get_current_timezone()
        )
    )
    [check_id] = monthly_checks_create.delay().get(timeout=60)
    assert monthly_checks_create.delay().get(timeout=60) == [check_id]
    check = MonthlyFileCheck.objects.get()
    assert (check.pk, check.county, check.month) == (
        check_id,
        places.county,
        last_month.replace(day=1),
    )
    assert list(check.items.values_list("application_id", flat=True)) == [family.application.pk]
