"""Batch findings name the person instead of the membership, and keep their references
without foreign-key constraints in the database (see BatchFinding: a run writes its
findings from the rows they point to, none of which the portal ever deletes, and the
per-row checks cost as much as the comparison's join). The single-column indexes on
application, member and resolved_by go: the queue index and the unique constraint
cover the lookups that exist.

Existing findings take the person of their membership.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COPY_PERSON = """
UPDATE verification_batchfinding f SET person_id = m.person_id
FROM cases_member m WHERE m.id = f.member_id
"""

COPY_MEMBER = """
UPDATE verification_batchfinding f SET member_id = m.id
FROM cases_application a, cases_member m
WHERE a.id = f.application_id AND m.household_id = a.household_id AND m.person_id = f.person_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_periodic_reviews"),
        ("verification", "0007_batch_finding_run_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="batchfinding",
            options={
                "ordering": ["run", "kind", "application", "person"],
                "verbose_name": "batch finding",
                "verbose_name_plural": "batch findings",
            },
        ),
        migrations.RemoveConstraint(
            model_name="batchfinding",
            name="finding_once_per_run",
        ),
        migrations.AddField(
            model_name="batchfinding",
            name="person",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.person",
            ),
        ),
        migrations.RunSQL(COPY_PERSON, COPY_MEMBER),
        migrations.RemoveField(
            model_name="batchfinding",
            name="member",
        ),
        migrations.AlterField(
            model_name="batchfinding",
            name="application",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="batch_findings",
                to="cases.application",
            ),
        ),
        migrations.AlterField(
            model_name="batchfinding",
            name="resolved_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="batchfinding",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="findings",
                to="verification.batchrun",
            ),
        ),
        migrations.AddConstraint(
            model_name="batchfinding",
            constraint=models.UniqueConstraint(
                fields=("run", "kind", "application", "person"),
                name="finding_once_per_run",
                nulls_distinct=False,
            ),
        ),
    ]
