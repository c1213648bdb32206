"""A query being asked is claimed (claimed_at) instead of locked while the department
answers: see verification.requests.services.query_run."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('verification', '0008_batch_finding_person'),
    ]

    operations = [
        migrations.AddField(
            model_name='departmentquery',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
