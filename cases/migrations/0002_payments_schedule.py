"""Every morning at 01:00: approved cases whose first month has come go into payment,
and objection windows that have ended move on to the home visit."""

from django.db import migrations


def add_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="1",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="start payments of approved cases",
        defaults={"task": "cases.payments_start", "crontab": daily, "enabled": True},
    )
    PeriodicTask.objects.get_or_create(
        name="close ended objection windows",
        defaults={"task": "cases.feedback_windows_close", "crontab": daily, "enabled": True},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=["start payments of approved cases", "close ended objection windows"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
