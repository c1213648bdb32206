"""The spot-check schedules, editable by an admin in the staff pages (django-celery-beat):
on the 2nd of every month a new-case campaign per county over last month's
confirmations; on 2 January the year's annual home-visit campaign per county."""

from django.db import migrations

SCHEDULES = [
    # name, task, args, crontab (minute, hour, day_of_month, month_of_year)
    ("spot-check: last month's new cases", "verification.spotcheck_draw_all",
     '["new_cases"]', ("0", "4", "2", "*")),
    ("spot-check: annual home visits", "verification.spotcheck_draw_all",
     '["annual"]', ("0", "5", "2", "1")),
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
        ("verification", "0004_spotcheck"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
