"""The county's days for unfinished drafts: a reminder, then the withdrawal (issue 15)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0014_extreme_poverty_and_verdict'),
    ]

    operations = [
        migrations.AddField(
            model_name='policy',
            name='draft_reminder_days',
            field=models.PositiveSmallIntegerField(default=7, validators=[django.core.validators.MinValueValidator(1)], verbose_name='remind the township of an unfinished draft after (days)'),
        ),
        migrations.AddField(
            model_name='policy',
            name='draft_withdrawal_days',
            field=models.PositiveSmallIntegerField(default=30, help_text='Counted from the day the draft was opened; a draft is withdrawn only after its reminder, and never sooner than the days between the two after it.', validators=[django.core.validators.MinValueValidator(2)], verbose_name='withdraw an unfinished draft after (days)'),
        ),
    ]
