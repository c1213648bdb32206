"""Credit discipline (domain.md §6): findings of untrustworthy behaviour, the sanctions
they switch on, the notice and objection, repair, and the outbox to the national
credit-information sharing platform.

A finding belongs to a household (and so to its village and township); every read of it
passes the access gate on ``village``. Its state changes only through credit.findings.services,
each change writing a FindingEvent and an audit row in the same transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aid_portal.models import Region
from aid_portal.periods import in_force_on

MONEY = {"max_digits": 12, "decimal_places": 2}


class Level(models.TextChoices):
    """The portal's three levels (Xiji). Huangshi's two map onto them by a setting."""

    LIGHT = "light", _("light")
    MODERATE = "moderate", _("moderate")
    SEVERE = "severe", _("severe")


class Behaviour(models.Model):
    """One kind of untrustworthy behaviour on the catalogue, at the level its source
    document gives it. An admin may add rows; a row in use is retired, never deleted."""

    class SourceLevel(models.TextChoices):
        LIGHT = "light", _("light")
        MODERATE = "moderate", _("moderate")
        SEVERE = "severe", _("severe")
        GENERAL = "general", _("general (Huangshi)")
        SERIOUS = "serious", _("serious (Huangshi)")

    class Source(models.TextChoices):
        XIJI = "XJ", _("Xiji pilot")
        HUANGSHI = "HS", _("Huangshi pilot")
        LOCAL = "local", _("added locally")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=SourceLevel.choices)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("untrustworthy behaviour")
        verbose_name_plural = _("untrustworthy behaviours")
        ordering = ["source", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def portal_level(self) -> str:
        """The level on the portal's scale (CREDIT_LEVEL_MAPPING for Huangshi's)."""
        if self.level in Level.values:
            return self.level
        return settings.CREDIT_LEVEL_MAPPING[self.level]


class Finding(models.Model):
    """A determination (认定) of untrustworthy behaviour by a household or one person."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("awaiting the township's decision")
        COUNTY_PENDING = "county_pending", _("awaiting the county's confirmation")
        STANDING = "standing", _("in force")
        OBJECTED = "objected", _("in force, objection under review")
        DISMISSED = "dismissed", _("not confirmed")
        WITHDRAWN = "withdrawn", _("withdrawn after objection")
        REPAIRED = "repaired", _("repaired")

    class SourceKind(models.TextChoices):
        CASE = "case", _("case")
        REVIEW = "review", _("review")
        SPOT_CHECK = "spot_check", _("spot check")
        BATCH = "batch", _("batch comparison")
        REPORT = "report", _("report by the public")

    IN_FORCE = frozenset({State.STANDING, State.OBJECTED})
    # Took effect at some time: in force now, or repaired since (never withdrawn).
    TOOK_EFFECT = IN_FORCE | {State.REPAIRED}
    UNDECIDED = frozenset({State.PROPOSED, State.COUNTY_PENDING})

    household = models.ForeignKey(
        "cases.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="credit_findings",
    )
    person = models.ForeignKey(
        "cases.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_findings",
    )
    # The household's village when found: what the access gate filters on.
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        "cases.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_findings",
    )
    behaviour = models.ForeignKey(
        Behaviour, verbose_name=_("behaviour"), on_delete=models.PROTECT, related_name="findings"
    )
    level_recorded = models.CharField(_("level as recorded"), max_length=16, choices=Level.choices)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    escalated_from = models.ForeignKey(
        "self",
        verbose_name=_("escalated because of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    facts = models.TextField(_("facts"))
    evidence = models.ManyToManyField(
        "cases.Document", verbose_name=_("evidence"), blank=True, related_name="+"
    )
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("found by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    found_on = models.DateField(_("found on"))
    source_kind = models.CharField(_("found in"), max_length=16, choices=SourceKind.choices)
    source_id = models.PositiveBigIntegerField(_("source number"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PROPOSED, db_index=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The day the finding took effect: sanctions start, the notice is dated, the
    # objection window opens.
    effective_on = models.DateField(_("in force from"), null=True, blank=True)
    objection_deadline = models.DateField(_("objection deadline"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("credit finding")
        verbose_name_plural = _("credit findings")
        ordering = ["-found_on", "-id"]
        indexes = [models.Index(fields=["household", "state"], name="finding_household_state")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.behaviour} ({self.get_level_display()})"

    @property
    def in_force(self) -> bool:
        return self.state in self.IN_FORCE

    @property
    def escalated(self) -> bool:
        return self.level != self.level_recorded

    @property
    def source(self) -> str:
        """What this finding's holds on cases are raised by (cases.Suspension.source)."""
        return f"credit_finding:{self.pk}"


class FindingEvent(models.Model):
    """One step in a finding's history: who did what, from which state to which."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    on = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.action}"


class Sanction(models.Model):
    """One measure a finding switched on, in force from ``starts_on`` until ``ends_on``
    (open-ended if empty) unless ended early (``ended_on``: withdrawn or repaired)."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", _("reminder interview")
        WATCH_LIST = "watch_list", _("watch list")
        SUSPENSION = "suspension", _("processing suspended or benefits stopped")
        BLOCK = "block", _("new applications refused")
        REPAYMENT = "repayment", _("repayment ordered")
        PLATFORM = "platform", _("recorded on the credit-information platform")

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="sanctions")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # A block names the person refused; a suspension names the application.
    person = models.ForeignKey(
        "cases.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        "cases.Application", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering = ["finding", "id"]
        indexes = [
            models.Index(fields=["kind", "person"], name="sanction_kind_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.finding_id})"

    @staticmethod
    def q_in_force(day) -> Q:
        return in_force_on(day)


class BlockManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Sanction.Kind.BLOCK)


class Block(Sanction):
    """A person refused new applications (6 months moderate, 12 severe): a sanction row."""

    objects = BlockManager()

    class Meta:
        proxy = True
        verbose_name = _("application block")
        verbose_name_plural = _("application blocks")

    @property
    def reason(self) -> str:
        return self.finding.behaviour.name


class Interview(models.Model):
    """The reminder interview (约谈): scheduled when a finding takes effect, then held."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="interviews")
    scheduled_for = models.DateField(_("scheduled for"))
    held_on = models.DateField(_("held on"), null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("reminder interview")
        verbose_name_plural = _("reminder interviews")
        ordering = ["scheduled_for", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.scheduled_for}"


class RepaymentOrder(models.Model):
    """Aid obtained wrongly, to be returned by a deadline; payments are tracked until paid."""

    class State(models.TextChoices):
        OPEN = "open", _("outstanding")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    finding = models.OneToOneField(
        Finding, on_delete=models.PROTECT, related_name="repayment_order"
    )
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    deadline = models.DateField(_("repay by"))
    paid_amount = models.DecimalField(_("repaid so far"), **MONEY, default=0)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("repayment order")
        verbose_name_plural = _("repayment orders")

    def __str__(self) -> str:
        return f"{self.finding_id} {self.amount}"

    @property
    def outstanding(self):
        return self.amount - self.paid_amount


class Repayment(models.Model):
    order = models.ForeignKey(RepaymentOrder, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    paid_on = models.DateField(_("paid on"))
    # None: recorded by the portal from a paid recovery line of a roster (OrderRecovery).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["paid_on", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount}"


class OrderRecovery(models.Model):
    """A part of a repayment order recovered from the household's payments (从救助金中追回):
    the cases recovery it asked for, and, once the roster line is paid, the day it was
    counted as repaid. One pending at a time per order; cases knows it only by ``source``."""

    order = models.ForeignKey(RepaymentOrder, on_delete=models.PROTECT, related_name="recoveries")
    adjustment = models.OneToOneField(
        "cases.PaymentAdjustment", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    credited_on = models.DateField(_("counted as repaid on"), null=True, blank=True)
    repayment = models.OneToOneField(
        Repayment, null=True, blank=True, on_delete=models.PROTECT, related_name="recovery"
    )

    class Meta:
        verbose_name = _("recovery from payments")
        verbose_name_plural = _("recoveries from payments")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(credited_on__isnull=True),
                name="one_pending_recovery_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount}"

    @staticmethod
    def source_for(order_id: int, number: int) -> str:
        """The label cases stores on its PaymentAdjustment (cases never imports credit)."""
        return f"credit.repayment_order:{order_id}:{number}"


class OrderRefund(models.Model):
    """Back pay (补发) of what the household's payments gave up beyond what the order
    still claimed: a recovery paid after the order was repaid by hand or cancelled, or
    recoveries already counted when an objection withdrew the finding. The cases back
    pay it asked for is paid on the next roster; cases knows it only by ``source``."""

    order = models.ForeignKey(RepaymentOrder, on_delete=models.PROTECT, related_name="refunds")
    adjustment = models.OneToOneField(
        "cases.PaymentAdjustment", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    made_on = models.DateField(_("paid back from"))

    class Meta:
        verbose_name = _("refund of an over-recovery")
        verbose_name_plural = _("refunds of over-recoveries")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount}"

    @staticmethod
    def source_for(order_id: int, number: int) -> str:
        """The label cases stores on its PaymentAdjustment (cases never imports credit)."""
        return f"credit.repayment_order:{order_id}:refund:{number}"


class Objection(models.Model):
    """The person's objection (异议) to a finding, reviewed by someone other than the finder."""

    class State(models.TextChoices):
        PENDING = "pending", _("under review")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="objections")
    lodged_on = models.DateField(_("lodged on"))
    statement = models.TextField(_("the objection"))
    evidence = models.ManyToManyField(
        "cases.Document", verbose_name=_("evidence"), blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    review_due_on = models.DateField(_("review due by"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    review_note = models.TextField(_("review"), blank=True)

    class Meta:
        verbose_name = _("objection to a finding")
        verbose_name_plural = _("objections to findings")
        ordering = ["review_due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding"],
                condition=Q(state="pending"),
                name="one_pending_objection_per_finding",
            )
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.lodged_on}"


class Repair(models.Model):
    """An application for credit repair (信用修复) and its decision."""

    class State(models.TextChoices):
        PENDING = "pending", _("awaiting decision")
        GRANTED = "granted", _("granted")
        REFUSED = "refused", _("refused")

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="repairs")
    applied_on = models.DateField(_("applied on"))
    correction = models.TextField(_("how the behaviour was corrected"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)

    class Meta:
        verbose_name = _("credit repair")
        verbose_name_plural = _("credit repairs")
        ordering = ["applied_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding"],
                condition=Q(state="pending"),
                name="one_pending_repair_per_finding",
            )
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.applied_on}"


class OutboxMessage(models.Model):
    """A record for the credit-information sharing platform, written in the same
    transaction as the finding's step; delivered by a task, at most once per ``key``."""

    class Kind(models.TextChoices):
        RECORD = "record", _("record")
        WITHDRAWAL = "withdrawal", _("withdrawal")
        REPAIR = "repair", _("repair")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        DELIVERED = "delivered", _("delivered")
        CANCELLED = "cancelled", _("cancelled before delivery")

    key = models.UUIDField(_("idempotency key"), default=uuid.uuid4, unique=True, editable=False)
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    # Set while a worker is sending the message (cleared when it writes the result): no
    # other worker sends meanwhile, unless the claim outlived any task (its worker died).
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "kind"], name="one_message_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"
