"""The paying banks of the demo county's region, and an award for every case decided
before payments were built (its current amount, from its first month to its last)."""

from django.db import migrations

from cases.payments.catalogue import banks_load

ONE_OFF = {"temporary_emergency", "temporary_expenditure"}


def forwards(apps, schema_editor):
    banks_load(apps.get_model("cases", "Bank"))
    Application = apps.get_model("cases", "Application")
    Award = apps.get_model("cases", "Award")
    decided = Application.objects.filter(
        state__in=["approved", "in_payment", "stopped"],
        start_month__isnull=False,
        monthly_amount__isnull=False,
    ).exclude(pk__in=Award.objects.values("application"))
    awards = []
    for app in decided.iterator():
        start = app.start_month.replace(day=1)
        if app.assistance_type in ONE_OFF:
            until = start
        elif app.stopped_on:
            until = app.stopped_on.replace(day=1)
        elif app.exit_after_month:
            until = app.exit_after_month.replace(day=1)
        else:
            until = None
        if until is not None and until < start:
            continue  # stopped before its first month: nothing was ever due
        awards.append(
            Award(
                application_id=app.pk,
                programme=app.assistance_type,
                monthly_amount=app.monthly_amount,
                one_off=app.assistance_type in ONE_OFF,
                from_month=start,
                until_month=until,
                decision="approval",
                decided_on=(app.decided_at.date() if app.decided_at else start),
            )
        )
    Award.objects.bulk_create(awards, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_payments")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
