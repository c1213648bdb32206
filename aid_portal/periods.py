"""Periods in force: a row with a start, a planned end and an early end.

One rule for every such row (credit sanctions, the restrictions casework keeps of them):
in force on a day when started by then, not yet at its planned end, and not ended early.
"""

from __future__ import annotations

import datetime

from django.db.models import Q


def in_force_on(day: datetime.date) -> Q:
    """``starts_on`` ≤ day < ``ends_on`` (open when empty), unless ``ended_on`` ≤ day."""
    return (
        Q(starts_on__lte=day)
        & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))
        & (Q(ends_on__isnull=True) | Q(ends_on__gt=day))
    )
