"""Trust (domain.md §6, issue 6 items 7 and 8): trustworthy behaviour recorded per
household, the rewards granted for it, and the yearly credit result of each household.

Imported at the bottom of credit.findings.models, so that Django sees these models as the credit
app's. The rules that read and write them live in credit.trust.services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aid_portal.models import Region
from cases.models import Application, Household, Person


class TrustRecord(models.Model):
    """Trustworthy behaviour of a household (or one of its people), as Xiji defines it."""

    class Kind(models.TextChoices):
        TRUTHFUL_DECLARATION = (
            "truthful_declaration",
            _("declared household, income, assets and rigid expenditure truthfully"),
        )
        PROMPT_CHANGE_REPORT = "prompt_change_report", _("reported a change promptly")
        ASKED_TO_LEAVE = "asked_to_leave", _("asked to leave when no longer eligible")
        KINSHIP_DECLARED = (
            "kinship_declared",
            _("declared kinship with caseworkers, committee members or public employees"),
        )

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="trust_records",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trust_records",
    )
    kind = models.CharField(_("kind of trustworthy behaviour"), max_length=24, choices=Kind.choices)
    facts = models.TextField(_("facts"))
    recorded_on = models.DateField(_("recorded on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("trust record")
        verbose_name_plural = _("trust records")
        ordering = ["-recorded_on", "-id"]
        indexes = [models.Index(fields=["recorded_on", "household"], name="trust_record_year")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.recorded_on:%Y-%m-%d}"


class Reward(models.Model):
    """A reward granted to a trustworthy household for a year (Xiji's incentives)."""

    class Kind(models.TextChoices):
        HONOUR_ROLL = "honour_roll", _("honour roll")
        HOLIDAY_VISIT = "holiday_visit", _("priority holiday visit")
        WELFARE_JOB = "welfare_job", _("priority for a public-welfare job")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="rewards"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("reward"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_on = models.DateField(_("granted on"))

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["-year", "household", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "year", "kind"], name="reward_once_per_household_year_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year}"


class YearlyResult(models.Model):
    """A household's credit result for a year, written set-based by credit.trust.services.

    ``village`` is the household's village when the result was computed: it carries the
    jurisdiction and the township of the rates.
    """

    class Result(models.TextChoices):
        GOOD = "good", _("good")
        WATCH = "watch", _("watch")
        UNTRUSTWORTHY = "untrustworthy", _("untrustworthy")

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="yearly_results",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(_("credit result"), max_length=16, choices=Result.choices)
    findings = models.JSONField(_("findings that count"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("yearly credit result")
        verbose_name_plural = _("yearly credit results")
        ordering = ["-year", "village", "household"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="one_result_per_year")
        ]
        indexes = [models.Index(fields=["year", "village"], name="yearly_result_rates")]

    def __str__(self) -> str:
        return f"{self.year} {self.get_result_display()}"
