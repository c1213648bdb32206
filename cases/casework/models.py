"""Casework's own records: the holds on a case, the verification outcome, the home
visit, the public notice and its objections, the democratic review, the county's
exception to the extreme-poverty conditions."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.records import Application


class Suspension(models.Model):
    """A hold on a case, raised by something outside the workflow (a credit sanction, a
    spot-check): while it lasts an open application does not move and an enrolled one is
    not paid. Lifting it leaves the row, so the hold stays in the history."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="suspensions"
    )
    source = models.CharField(_("raised by"), max_length=60)
    reason = models.TextField(_("reason"))
    started_at = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "source"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_suspension_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.source}"

    @property
    def active(self) -> bool:
        return self.ended_at is None


class VerificationOutcome(models.Model):
    """What verification concluded, taken in through
    cases.casework.services.verification_outcome_record.

    The narrow interface between cases and verification: an outcome (consistent or
    gap) with the items that differ, entered when verification issues its report, or
    recorded by hand with a reason (a department that cannot be reached).
    """

    class Outcome(models.TextChoices):
        CONSISTENT = "consistent", _("basically consistent")
        GAP = "gap", _("clear gap")

    class Source(models.TextChoices):
        MANUAL = "manual", _("recorded by hand")
        VERIFICATION = "verification", _("verification report")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="verification_outcomes"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    gap_items = models.JSONField(
        _("items that differ"), default=list, blank=True, encoder=DjangoJSONEncoder
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.TextField(_("reason"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    objection_deadline = models.DateField(_("objection deadline"), null=True, blank=True)
    family_objected = models.BooleanField(_("the family objected with evidence"), default=False)
    objection_text = models.TextField(_("the family's objection"), blank=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return self.get_outcome_display()


class HomeVisit(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="home_visits"
    )
    visited_on = models.DateField(_("visited on"))
    investigators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("investigators")
    )
    family_member_present = models.CharField(_("family member present"), max_length=50)
    findings = models.TextField(_("findings"))
    investigators_signature = models.ForeignKey(
        "Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("investigators' signatures (scan)"),
    )
    family_signature = models.ForeignKey(
        "Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("family member's signature (scan)"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")

    def __str__(self) -> str:
        return f"{self.application} {self.visited_on}"


class PublicNotice(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notices")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    place = models.CharField(_("posted at"), max_length=200)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"{self.starts_on} – {self.ends_on}"


class NoticeObjection(models.Model):
    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE, related_name="objections")
    objector = models.CharField(_("who objected"), max_length=100)
    content = models.TextField(_("the objection"))
    raised_on = models.DateField(_("raised on"))
    handling = models.TextField(_("how it was handled"), blank=True)
    handled_on = models.DateField(_("handled on"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection during notice")
        verbose_name_plural = _("objections during notice")

    def __str__(self) -> str:
        return f"{self.objector}: {self.content[:30]}"


class DemocraticReview(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    held_on = models.DateField(_("held on"))
    participants = models.PositiveSmallIntegerField(_("participants"))
    opinion = models.TextField(_("opinion"))
    minutes = models.ForeignKey(
        "Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("minutes (scan)"),
    )

    class Meta:
        verbose_name = _("democratic review")
        verbose_name_plural = _("democratic reviews")

    def __str__(self) -> str:
        return f"{self.application} {self.held_on}"


class ExtremePovertyException(models.Model):
    """The county's confirmed exception to the extreme-poverty conditions a case does not
    meet (domain.md §8): the one way an approval passes them by. Written only by
    cases.casework.services.extreme_poverty_exception_record, with its event and audit
    rows; it names the conditions it covers, so a condition that fails later is not
    covered by it."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="extreme_poverty_exceptions"
    )
    conditions = models.JSONField(_("conditions excepted"), default=list)
    reasons = models.TextField(_("reasons"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("extreme-poverty exception")
        verbose_name_plural = _("extreme-poverty exceptions")
        ordering = ["confirmed_at", "id"]

    def __str__(self) -> str:
        return f"{self.application} {', '.join(self.conditions)}"
