"""Merges the snapshot storage (0004_snapshot_storage) with the spot checks (0004, 0005)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0004_snapshot_storage"),
        ("verification", "0005_spotcheck_schedules"),
    ]

    operations = []
