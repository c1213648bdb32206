"""After approval: periodic reviews, members' deaths, and the county's monthly check of
last month's new dibao files (domain.md §5). Imported at the bottom of cases.models.

A review is a short workflow on an enrolled case: opened (by the schedule, a batch
finding or a caseworker) → re-declaration (the declaration may change, and what changed
is recorded) → verification (a report through the verification interface, or an outcome
recorded by hand with reasons) → decision by the township (continue, adjust the amount,
gradual exit, stop). Every step is one function in cases.reviews.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aid_portal.models import Region
from cases.records import MONEY, Application, Person


class PeriodicReview(models.Model):
    class State(models.TextChoices):
        OPENED = "opened", _("opened")
        REDECLARATION = "redeclaration", _("re-declaration")
        VERIFICATION = "verification", _("verification")
        AWAITING_DECISION = "awaiting_decision", _("awaiting decision")
        DECIDED = "decided", _("decided")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("fell due")
        BATCH_FINDING = "batch_finding", _("batch comparison finding")
        DEATH = "death", _("a member died")
        CASEWORKER = "caseworker", _("opened by the caseworker")

    class Outcome(models.TextChoices):
        CONSISTENT = "consistent", _("basically consistent")
        GAP = "gap", _("clear gap")

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("continue as it is")
        ADJUST = "adjust", _("adjust the amount")
        GRADUAL_EXIT = "gradual_exit", _("gradual exit")
        STOP = "stop", _("stop the benefit")

    OPEN_STATES = frozenset(
        {State.OPENED, State.REDECLARATION, State.VERIFICATION, State.AWAITING_DECISION}
    )

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="periodic_reviews",
    )
    state = models.CharField(
        _("state"), max_length=24, choices=State.choices, default=State.OPENED, db_index=True
    )
    trigger = models.CharField(_("opened because"), max_length=16, choices=Trigger.choices)
    trigger_id = models.PositiveBigIntegerField(null=True, blank=True)
    due_on = models.DateField(_("due on"))
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Re-declaration: the declaration as it stood when it began, and what changed.
    declaration_before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    changes = models.JSONField(
        _("what changed"), default=list, blank=True, encoder=DjangoJSONEncoder
    )
    redeclaration_note = models.TextField(_("re-declaration note"), blank=True)
    income_irregular = models.BooleanField(_("income is irregular"), default=False)
    redeclared_at = models.DateTimeField(null=True, blank=True)
    redeclared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Verification: a request through the verification app, or an outcome by hand.
    verification = models.OneToOneField(
        "verification.VerificationRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="periodic_review",
    )
    outcome = models.CharField(
        _("verification outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    outcome_manual = models.BooleanField(default=False)
    outcome_reason = models.TextField(_("outcome reasons"), blank=True)
    gap_items = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The decision.
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)
    old_amount = models.DecimalField(**MONEY, null=True, blank=True)
    new_amount = models.DecimalField(_("new monthly amount"), **MONEY, null=True, blank=True)
    exit_months = models.PositiveSmallIntegerField(null=True, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("periodic review")
        verbose_name_plural = _("periodic reviews")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=~Q(state="decided"),
                name="one_open_review_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class MemberDeath(models.Model):
    """A member of an enrolled household died: the case is reviewed within the county's
    months after death (domain.md §5)."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="member_deaths"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    died_on = models.DateField(_("died on"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "person"], name="death_once_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.person} † {self.died_on}"


class MonthlyFileCheck(models.Model):
    """The county's check of last month's new dibao files, due by the 15th (QH)."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    month = models.DateField(_("files approved in (month)"))
    due_on = models.DateField(_("due on"))
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("monthly check of new dibao files")
        verbose_name_plural = _("monthly checks of new dibao files")
        ordering = ["-month", "county"]
        constraints = [
            models.UniqueConstraint(fields=["county", "month"], name="one_file_check_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.month:%Y-%m}"


class MonthlyFileCheckItem(models.Model):
    """One new file on the checklist. None: not yet checked."""

    file_check = models.ForeignKey(MonthlyFileCheck, on_delete=models.CASCADE, related_name="items")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    visit_needed = models.BooleanField(default=False)
    file_complete = models.BooleanField(_("file complete"), null=True)
    amount_right = models.BooleanField(_("amount right"), null=True)
    notice_done = models.BooleanField(_("public notice done"), null=True)
    visit_record = models.BooleanField(_("home-visit record present"), null=True)
    note = models.TextField(_("note"), blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["file_check", "application"]
        constraints = [
            models.UniqueConstraint(
                fields=["file_check", "application"], name="file_once_per_check"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_check} {self.application_id}"

    @property
    def all_right(self) -> bool:
        return bool(
            self.file_complete
            and self.amount_right
            and self.notice_done
            and (self.visit_record or not self.visit_needed)
        )


class AdjustmentProposal(models.Model):
    """What a spot-check, a periodic review or a batch finding recommends for an enrolled
    case; the township acts on it (domain.md §5: stop, increase or decrease)."""

    class Action(models.TextChoices):
        KEEP = "keep", _("keep as it is")
        INCREASE = "increase", _("increase the benefit")
        DECREASE = "decrease", _("decrease the benefit")
        STOP = "stop", _("stop the benefit")

    class Source(models.TextChoices):
        SPOT_CHECK = "spot_check", _("county spot-check")
        REVIEW = "review", _("periodic review")
        BATCH = "batch", _("batch comparison")
        CREDIT = "credit", _("credit finding")

    class Status(models.TextChoices):
        OPEN = "open", _("to act on")
        ADOPTED = "adopted", _("adopted")
        DECLINED = "declined", _("declined")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="adjustment_proposals"
    )
    action = models.CharField(_("recommended action"), max_length=16, choices=Action.choices)
    reasons = models.TextField(_("reasons"))
    proposed_amount = models.DecimalField(
        _("proposed monthly amount (yuan)"), **MONEY, null=True, blank=True
    )
    source = models.CharField(_("from"), max_length=16, choices=Source.choices)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handling_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("adjustment proposal")
        verbose_name_plural = _("adjustment proposals")
        ordering = ["proposed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=models.Q(source_id__isnull=False),
                name="one_proposal_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.get_action_display()}"
