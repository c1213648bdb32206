"""The health check runs every 10 minutes through Celery beat.

The schedule lives in django-celery-beat's tables so an admin can change or pause it
in the staff pages without a deployment.
"""

from django.db import migrations


def add_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="portal health check",
        defaults={"task": "aid_portal.health", "interval": every_ten, "enabled": True},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="portal health check"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("aid_portal", "0002_audit_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
