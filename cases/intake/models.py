"""Intake's own records: the proof catalogue, the proofs and commitments of an
application, the members' authorisations to check their data, and near-relative
filings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.records import Application, Member


class ProofItem(models.Model):
    """A proof document on the published catalogue, which a family may replace with a
    certificate-notification commitment (告知承诺)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    required_for = models.JSONField(
        _("required for"),
        default=list,
        blank=True,
        help_text=_("Assistance types that need this item; empty means every type."),
    )
    committable = models.BooleanField(
        _("may be replaced by a commitment"),
        default=True,
    )
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("proof item")
        verbose_name_plural = _("proof items")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, assistance_type: str) -> bool:
        return not self.required_for or assistance_type in self.required_for


class ProofStatus(models.Model):
    """Where an application stands on one catalogue item: provided, or promised instead."""

    class Status(models.TextChoices):
        PROVIDED = "provided", _("provided")
        COMMITTED = "committed", _("replaced by a commitment")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="proofs")
    item = models.ForeignKey(ProofItem, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    recorded_on = models.DateField(_("recorded on"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "item"], name="proof_once")]

    def __str__(self) -> str:
        return f"{self.item} {self.get_status_display()}"


class Authorisation(models.Model):
    """A person's signed authorisation to verify their economic status (核对授权书)."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="authorisation")
    signed_on = models.DateField(_("signed on"))
    scan = models.ForeignKey(
        "Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("verification authorisation")
        verbose_name_plural = _("verification authorisations")

    def __str__(self) -> str:
        return f"{self.member} {self.signed_on}"


class NearRelativeFiling(models.Model):
    """A member is, or is close kin of, staff, a village committee member or a public
    employee. Forces the normal path and a county key check before any decision."""

    class Position(models.TextChoices):
        CASEWORKER = "caseworker", _("social-assistance caseworker")
        VILLAGE_COMMITTEE = "village_committee", _("village committee member")
        PUBLIC_EMPLOYEE = "public_employee", _("public employee")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="near_relative_filings"
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    official_name = models.CharField(_("name of the official"), max_length=50)
    position = models.CharField(_("position"), max_length=24, choices=Position.choices)
    kinship = models.CharField(_("kinship with the member"), max_length=50)
    filed_on = models.DateField(_("filed on"))

    class Meta:
        verbose_name = _("near-relative filing")
        verbose_name_plural = _("near-relative filings")

    def __str__(self) -> str:
        return f"{self.member} ~ {self.official_name}"
