"""The machinery every feature's state change runs on: lock the application row,
check the step against its table, move the case, and the small checks (money, dates)
they share.

At app level because intake, casework and reviews (and payments) all change a case
through it. It reads the application's step table (cases.casework.steps.APPLICATION)
and its holds (cases.casework.models.Suspension), and imports no services.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import User
from cases.casework.steps import APPLICATION
from cases.models import (
    Application,
    Member,
    Suspension,
)

S = Application.State


MAX_MONTHLY_AMOUNT = Decimal("1000000")  # more than this a month is a typing error


CLOSED_OR_DECIDED = frozenset({S.APPROVED, S.REJECTED, S.IN_PAYMENT, S.WITHDRAWN, S.STOPPED})


def _money(value, field: str, *, limit: Decimal = MAX_MONTHLY_AMOUNT) -> Decimal:
    if value in (None, ""):
        raise DomainError(_("Enter an amount in yuan."), field=field)
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise DomainError(_("Enter an amount in yuan."), field=field) from None
    if not amount.is_finite():
        raise DomainError(_("Enter an amount in yuan."), field=field)
    if amount < 0:
        raise DomainError(_("An amount cannot be negative."), field=field)
    if amount >= limit:
        raise DomainError(_("This amount is implausibly large; check it."), field=field)
    return amount.quantize(Decimal("0.01"))


# --- after approval: holds, adjustments, gradual exit, stop (domain.md §5) -------------


def active_suspension(app: Application) -> Suspension | None:
    return app.suspensions.filter(ended_at__isnull=True).order_by("started_at").first()


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _require(condition, message: str, *, field: str | None = None) -> None:
    if not condition:
        raise DomainError(message, field=field)


def application_lock(
    application_id: int,
    actor: User | None,
    roles,
    *,
    allowed_from,
    check_role: bool = True,
    decided_message: bool = False,
    allow_suspended: bool = False,
) -> Application:
    """Lock the row, then check role, state and holds (after the lock: the race is settled)."""
    try:
        app = (
            Application.objects.select_for_update(of=("self",))
            .select_related("village", "household")
            .get(pk=application_id)
        )
    except Application.DoesNotExist:
        raise DomainError(_("No such application.")) from None
    if actor is not None and not access.jurisdiction_for(actor).contains(app.village):
        raise DomainError(_("No such application."))
    if check_role and roles is not None:
        access.require_role(actor, roles(app) if callable(roles) else roles, app.village)
    if app.state not in allowed_from:
        if decided_message and app.state in CLOSED_OR_DECIDED:
            raise Conflict(
                _("This application was already decided or closed: %(state)s.")
                % {"state": app.get_state_display()}
            )
        raise Conflict(
            _("Not possible while the application is %(state)s.")
            % {"state": app.get_state_display()}
        )
    if not allow_suspended:
        hold = active_suspension(app)
        if hold is not None:
            raise Conflict(
                _("This application is on hold since %(date)s: %(reason)s")
                % {"date": timezone.localdate(hold.started_at), "reason": hold.reason}
            )
    return app


def _lock_step(application_id: int, actor: User | None, step: str, **options) -> Application:
    """Lock the case for one step of the declared path: its roles, its states."""
    declared = APPLICATION[step]
    return application_lock(
        application_id, actor, declared.roles, allowed_from=declared.leaves, **options
    )


def _transition(
    *,
    application_id: int,
    actor: User,
    step: str,
    check: Callable[[Application], None] | None = None,
    extra: Callable[[Application], dict] | None = None,
) -> Application:
    """A step that only moves the case: lock, check, move to the step's state."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, step)
        if check is not None:
            check(app)
        return APPLICATION.move(app, actor, step, fields=extra(app) if extra else None)


def _release_members(app: Application) -> None:
    """A closed application frees its members unless another application holds them."""
    if not app.household.applications.filter(
        state__in=Application.OPEN_STATES | Application.ENROLLED_STATES
    ).exists():
        Member.objects.filter(household=app.household).update(active=False)
