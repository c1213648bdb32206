"""County spot-check campaigns (domain.md §5, issue 5 items 1–3): a stratified sample of
cases drawn once and frozen, handed to county auditors case by case, and what each home
visit found.

A campaign is drawn by verification.spotcheck.services (the sampler); each item names the
auditor it is assigned to, who alone records its findings; each item gets at most one
finding, which goes back into the case as an adjustment proposal
and, where chosen, a credit finding.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aid_portal.models import Region
from cases.models import MONEY, AdjustmentProposal, Application, Document


class SpotCheckCampaign(models.Model):
    """One draw: the rule, the ratio, the window, the seed, and who drew it when."""

    class Rule(models.TextChoices):
        NEW_CASES = "new_cases", _("new cases confirmed in a window")
        ANNUAL = "annual", _("annual home visit of enrolled dibao and extreme-poverty cases")
        FULL = "full", _("every near-relative filing and complaint (100%)")

    class Status(models.TextChoices):
        DRAWN = "drawn", _("drawn")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    ratio = models.DecimalField(_("share sampled"), max_digits=3, decimal_places=2)
    window_start = models.DateField(_("window from"))
    window_end = models.DateField(_("window to"))
    # The seed of random.Random: with the population it gives the sample back.
    seed = models.BigIntegerField(_("random seed"))
    population_size = models.PositiveIntegerField(_("population"))
    sample_size = models.PositiveIntegerField(_("sampled"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAWN
    )
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("spot-check campaign")
        verbose_name_plural = _("spot-check campaigns")
        ordering = ["-drawn_at", "-id"]
        constraints = [
            # One draw per county, rule and window: a schedule delivered twice reuses it,
            # and nobody can draw again until a convenient sample comes up.
            models.UniqueConstraint(
                fields=["county", "rule", "window_start", "window_end"],
                name="one_campaign_per_window",
            ),
            models.CheckConstraint(
                condition=models.Q(ratio__gt=0, ratio__lte=1), name="campaign_ratio_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} {self.window_start}–{self.window_end}"


class SampleItem(models.Model):
    """One sampled case of a campaign, due by a date, checked by the auditor it is
    assigned to: ``assigned_to`` is the assignment itself, read by the list and by the
    check of who may record the findings (services.sample_item_may_check).

    A draw writes a county's 300,000 items in one statement, so the row carries no
    foreign-key constraint and no index that no query reads (migration
    verification/0011; docs/supervision.md, "Sample items without foreign-key
    constraints"). Django's ``on_delete`` still guards every delete made through the ORM.
    """

    class Reason(models.TextChoices):
        SAMPLED = "sampled", _("drawn at random")
        NEAR_RELATIVE = "near_relative", _("near-relative filing")
        COMPLAINT = "complaint", _("complaint")
        BOTH = "both", _("near-relative filing and complaint")

    class State(models.TextChoices):
        DRAWN = "drawn", _("drawn")
        ASSIGNED = "assigned", _("assigned")
        VISITED = "visited", _("visited")

    # Found through the unique (campaign, application), which leads with the campaign.
    campaign = models.ForeignKey(
        SpotCheckCampaign,
        on_delete=models.CASCADE,
        related_name="items",
        db_constraint=False,
        db_index=False,
    )
    # Indexed: the case overview asks which cases a campaign sampled, and a delete of an
    # application (PROTECT) looks here.
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="spot_check_items", db_constraint=False
    )
    # The case's township when drawn: the stratum, and what progress groups by.
    township = models.ForeignKey(
        Region,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    reason = models.CharField(
        _("why sampled"), max_length=16, choices=Reason.choices, default=Reason.SAMPLED
    )
    due_on = models.DateField(_("check due by"))
    # Found through sample_item_todo (auditor, visited), which leads with it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auditor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    visited_at = models.DateTimeField(_("findings recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampled case")
        verbose_name_plural = _("sampled cases")
        ordering = ["campaign", "township__code", "application_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "application"], name="sampled_once_per_campaign"
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "visited_at"], name="sample_item_todo")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.application_id}"

    # Read from the row, not stored: the auditor and the visit's time are the facts, and
    # a state column beside them could only disagree (verification.spotcheck.steps).
    @property
    def state(self) -> str:
        if self.visited_at is not None:
            return self.State.VISITED
        return self.State.ASSIGNED if self.assigned_to_id is not None else self.State.DRAWN

    def get_state_display(self) -> str:
        return self.State(self.state).label


class SpotCheckFinding(models.Model):
    """What the home visit of one sampled case found, and what the auditor recommends."""

    class Action(models.TextChoices):
        KEEP = "keep", _("keep as it is")
        INCREASE = "increase", _("increase the benefit")
        DECREASE = "decrease", _("decrease the benefit")
        STOP = "stop", _("stop the benefit")

    # One finding per item: the same findings submitted twice collide here.
    item = models.OneToOneField(SampleItem, on_delete=models.PROTECT, related_name="finding")
    visited_on = models.DateField(_("home visit on"))
    visitors = models.CharField(_("visited by"), max_length=200)
    facts = models.TextField(_("facts found"))
    still_eligible = models.BooleanField(_("still eligible"))
    action = models.CharField(_("recommended action"), max_length=16, choices=Action.choices)
    proposed_amount = models.DecimalField(
        _("proposed monthly amount (yuan)"), **MONEY, null=True, blank=True
    )
    proposal = models.OneToOneField(
        AdjustmentProposal,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="spot_check_finding",
    )
    # A credit finding opened through credit.findings.services.finding_record, with its behaviour.
    credit_behaviour = models.CharField(_("untrustworthy behaviour"), max_length=40, blank=True)
    credit_finding = models.ForeignKey(
        "credit.Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.ManyToManyField(Document, blank=True, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("spot-check finding")
        verbose_name_plural = _("spot-check findings")
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.item} {self.get_action_display()}"
