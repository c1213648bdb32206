"""A message being sent is claimed (claimed_at) instead of locked while the platform
answers: see credit.findings.services.outbox_deliver."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credit', '0005_credit_restrictions_to_cases'),
    ]

    operations = [
        migrations.AddField(
            model_name='outboxmessage',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='being sent since'),
        ),
    ]
