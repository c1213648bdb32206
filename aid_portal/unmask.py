"""Seeing a full identity number or bank account: a stated purpose, an audit row, and a
daily limit per user (issue 17, item 9).

Every place that shows a full number (an account on the household's payment page, the
family's own printed notice, a list export with full identity numbers) asks
:func:`unmask_record` first. It counts what the user unmasked since midnight and refuses
once ``settings.UNMASK_DAILY_LIMIT`` is reached; otherwise it writes the audit row with
the purpose. County auditors see who unmasked what on the audit page
(``selectors.unmasks_for_user``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal.audit import audit_record
from aid_portal.errors import DomainError
from aid_portal.models import AuditEvent, Region, User

# What counts as an unmasking in the audit log: a list exported with full numbers, or a
# read marked as one by unmask_record.
UNMASKED = Q(action="sensitive.export") | Q(action="sensitive.read", new_values__unmask=True)


class UnmaskLimitReached(DomainError):
    """The user has seen as many full numbers today as the setting allows."""

    status_code = 429


def unmasked_today(user: User) -> int:
    midnight = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time.min)
    )
    return AuditEvent.objects.filter(UNMASKED, actor=user, at__gte=midnight).count()


def unmask_check(user: User) -> None:
    """Refuse when the user has reached today's limit (before any number is shown)."""
    limit = settings.UNMASK_DAILY_LIMIT
    if unmasked_today(user) >= limit:
        raise UnmaskLimitReached(
            _(
                "You have seen full numbers %(limit)s times today, the most allowed. They "
                "stay masked until tomorrow; if the work cannot wait, ask the county."
            )
            % {"limit": limit},
            field="purpose",
        )


def unmask_record(
    *, actor: User, obj: models.Model, field: str, region: Region | None, purpose: str
) -> AuditEvent:
    """Check the user's daily limit and record that they saw the full ``field`` of
    ``obj`` and why. Two requests of one user at once are counted one after the other."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x756E6D61, actor.pk])
        unmask_check(actor)
        return audit_record(
            actor=actor,
            action="sensitive.read",
            obj=obj,
            region=region,
            new={"field": field, "unmask": True},
            reason=purpose,
        )
