"""Sample items keep their references without foreign-key constraints in the database,
and the assignment is the item's own ``assigned_to``: the per-object grant table goes.

A draw writes a county's sample (300,000 items for 1,000,000 cases) in one statement,
from the rows the items point to, in the transaction that creates their campaign.
PostgreSQL checked each of the four keys of each item, and each of the three keys of
each grant, with a trigger and a locking lookup of its own at commit, which cost more
than everything else in the draw (docs/performance.md, docs/supervision.md). The portal deletes no
application, region or user, and no campaign; Django's ``on_delete`` (PROTECT, and
CASCADE from the campaign) still guards every delete made through the ORM. The
single-column indexes on campaign, township and auditor go: the unique
(campaign, application) and sample_item_todo (auditor, visited) lead with two of them,
and no query looks items up by township.

The grants were written from ``assigned_to`` and replaced with it on every
reassignment, so they held nothing the item does not; the permission they granted goes
with them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="verification", codename="check_sampleitem"
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('aid_portal', '0009_api_tokens'),
        ('cases', '0016_self_care_and_care_allowance'),
        ('verification', '0010_records_partition_functions'),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_permission, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name='sampleitem',
            options={'ordering': ['campaign', 'township__code', 'application_id'], 'verbose_name': 'sampled case', 'verbose_name_plural': 'sampled cases'},
        ),
        migrations.AlterField(
            model_name='sampleitem',
            name='application',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='spot_check_items', to='cases.application'),
        ),
        migrations.AlterField(
            model_name='sampleitem',
            name='assigned_to',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='auditor'),
        ),
        migrations.AlterField(
            model_name='sampleitem',
            name='campaign',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='items', to='verification.spotcheckcampaign'),
        ),
        migrations.AlterField(
            model_name='sampleitem',
            name='township',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='aid_portal.region', verbose_name='township'),
        ),
        migrations.DeleteModel(
            name='SampleItemUserObjectPermission',
        ),
    ]
