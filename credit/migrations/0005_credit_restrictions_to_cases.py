"""Blocks and watch-list entries already in force are reported to cases once, as the
credit services now do for every new one (cases.CreditRestriction)."""

from django.db import migrations

RESTRICTING = ("block", "watch_list")


def report_to_cases(apps, schema_editor):
    Sanction = apps.get_model("credit", "Sanction")
    CreditRestriction = apps.get_model("cases", "CreditRestriction")
    rows = [
        CreditRestriction(
            sanction_id=sanction.pk,
            kind=sanction.kind,
            person_id=sanction.person_id if sanction.kind == "block" else None,
            household_id=sanction.finding.household_id if sanction.kind == "watch_list" else None,
            starts_on=sanction.starts_on,
            ends_on=sanction.ends_on,
            ended_on=sanction.ended_on,
            reason=sanction.finding.behaviour.name[:200],
        )
        for sanction in Sanction.objects.filter(kind__in=RESTRICTING).select_related(
            "finding__behaviour"
        )
    ]
    CreditRestriction.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def forget(apps, schema_editor):
    apps.get_model("cases", "CreditRestriction").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_credit_restrictions"),
        ("credit", "0004_outbox_relay_schedule"),
    ]

    operations = [migrations.RunPython(report_to_cases, forget)]
