"""Verification's schedules, editable by an admin in the staff pages (django-celery-beat):
overdue department queries asked again every morning; the month's new beneficiaries
compared on the 1st; everyone enrolled compared on 1 January and 1 July."""

from django.db import migrations

SCHEDULES = [
    # name, task, args, crontab (minute, hour, day_of_month, month_of_year)
    ("verification: ask overdue departments again", "verification.query_reask", "[]",
     ("0", "6", "*", "*")),
    ("batch comparison: last month's new beneficiaries", "verification.batch_run_all",
     '["monthly_new"]', ("0", "2", "1", "*")),
    ("batch comparison: everyone enrolled", "verification.batch_run_all",
     '["half_yearly_all"]', ("0", "3", "1", "1,7")),
]


def add_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, args, (minute, hour, day, month) in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day, month_of_year=month,
            day_of_week="*", timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "args": args, "crontab": crontab, "enabled": True}
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_rest in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0002_batchrun_batchfinding_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
