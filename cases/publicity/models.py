"""The public roster (公示, domain.md §7; 2021 national measures art. 24).

- ``PublicRoster``: one village's month, published by the township from the month's
  frozen payment roster (cases.payments); withdrawn with a reason. One published roster
  per village and month.
- ``PublicRosterEntry``: one line of it as the public sees it: the name (as the county's
  setting said when it was published), the household size, the programme and the amount,
  and how it changed since the previous month's published roster (a stop is a row of
  its own). The household is kept to compare months and to reconcile the ledgers; it is
  never shown.
- ``PublicReport``: an objection or report (举报) sent from the public page; it lands in
  the township's queue. The reporter's name and contact are encrypted. A report may
  name the entry it is about, chosen from the page's entries as shown; the household
  behind that entry then counts as complained about for the county's 100% spot-check
  (verification.spotcheck, docs/supervision.md).

These models keep the ``cases`` app label: they are the cases app's publicity feature.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aid_portal.crypto import EncryptedTextField
from aid_portal.models import Region
from cases.records import MONEY, AssistanceType, Household


class PublicRoster(models.Model):
    """A village's public roster of one month."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    month = models.DateField(_("month"))
    # The previous month's published roster the changes were computed against, if any.
    compared_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # False when neither a published roster nor a frozen payment roster of the previous
    # month existed to compare with: the page then lists no changes.
    changes_listed = models.BooleanField(default=True)
    contact = models.CharField(
        _("the township office's contact for objections"), max_length=100, blank=True
    )
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.CharField(_("why it was withdrawn"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("public roster")
        verbose_name_plural = _("public rosters")
        ordering = ["-month", "village__code", "-published_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "month"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_public_roster_per_village_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="public_roster_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.village.name} {self.month:%Y-%m}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class PublicRosterEntry(models.Model):
    """One household and programme on a public roster, as the public sees it."""

    class Change(models.TextChoices):
        NEW = "new", _("added")
        AMOUNT_CHANGED = "amount_changed", _("amount changed")
        UNCHANGED = "unchanged", _("unchanged")
        STOPPED = "stopped", _("stopped")

    public_roster = models.ForeignKey(
        PublicRoster, on_delete=models.CASCADE, related_name="entries"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    shown_name = models.CharField(_("name"), max_length=50)
    household_size = models.PositiveSmallIntegerField(_("household size"))
    programme = models.CharField(_("programme"), max_length=24, choices=AssistanceType.choices)
    # The month's amount; for a stop, the amount paid the month before.
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    previous_amount = models.DecimalField(
        _("previous amount (yuan)"), **MONEY, null=True, blank=True
    )
    change = models.CharField(_("change"), max_length=16, choices=Change.choices)

    class Meta:
        verbose_name = _("public roster entry")
        verbose_name_plural = _("public roster entries")
        ordering = ["public_roster", "programme", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["public_roster", "household", "programme"],
                name="public_entry_once_per_household_programme",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shown_name} {self.amount}"


class PublicReport(models.Model):
    """An objection or report (举报) from the public page, in the township's queue."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        HANDLED = "handled", _("handled")

    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    public_roster = models.ForeignKey(
        PublicRoster,
        verbose_name=_("public roster"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    # The entry the public chose on the page, if any: the household it is about, without
    # the public ever seeing an id. Its household counts as complained about from the
    # day the report is received.
    entry = models.ForeignKey(
        PublicRosterEntry,
        verbose_name=_("about"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    text = models.TextField(_("what you report"))
    reporter_name = EncryptedTextField(_("your name"), blank=True)
    reporter_contact = EncryptedTextField(_("how to reach you"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    note = models.TextField(_("how it was handled"), blank=True)

    class Meta:
        verbose_name = _("public report")
        verbose_name_plural = _("public reports")
        ordering = ["state", "-received_at"]

    def __str__(self) -> str:
        return f"{self.village.name} {self.received_at:%Y-%m-%d}"
