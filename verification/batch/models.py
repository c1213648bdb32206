"""Batch comparisons (domain.md §4, issue 4 item 6): enrolled people compared in one
pass with the departments' current snapshots, and what each run found.

A run is computed in set-based SQL (verification.batch.services); its findings land in the
township caseworker's queue, where each is resolved with a reason.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from aid_portal.models import Region
from cases.models import Application, Person


class BatchRun(models.Model):
    """One comparison of a county's enrolled people with the current snapshots."""

    class Kind(models.TextChoices):
        MONTHLY_NEW = "monthly_new", _("monthly: last month's new beneficiaries")
        HALF_YEARLY_ALL = "half_yearly_all", _("half-yearly: everyone enrolled")
        ON_DEMAND = "on_demand", _("on demand: everyone enrolled")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    # Scheduled runs cover a period (last month, last half-year); an on-demand run the day.
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    counts = models.JSONField(_("findings by kind"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("batch comparison")
        verbose_name_plural = _("batch comparisons")
        ordering = ["-started_at", "-id"]
        constraints = [
            # A scheduled run delivered twice by the broker reuses its row.
            models.UniqueConstraint(
                fields=["county", "kind", "period_start", "period_end"],
                condition=~models.Q(kind="on_demand"),
                name="one_scheduled_batch_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class BatchFinding(models.Model):
    """Something a run found about one enrolled application (and person, where personal)."""

    class Kind(models.TextChoices):
        DEAD_BUT_PAID = "dead_but_paid", _("died but still paid")
        TWO_HOUSEHOLDS = "two_households", _("member of two households")
        TWO_PROGRAMMES = "two_programmes", _("enrolled in two programmes")
        PUBLIC_SALARY = "public_salary", _("salary from public funds")
        VEHICLE = "vehicle", _("undeclared vehicle")
        REAL_ESTATE = "real_estate", _("undeclared real estate")
        BUSINESS = "business", _("undeclared business registration")
        DEPOSIT_OVER_LIMIT = "deposit_over_limit", _("deposits above the limit")

    class Resolution(models.TextChoices):
        OPEN = "open", _("open")
        DISMISSED = "dismissed", _("dismissed")
        REVIEW_OPENED = "review_opened", _("review opened")

    # The run, the application and the person are references without a foreign-key
    # constraint in the database (db_constraint=False). A run writes its findings in one
    # INSERT ... SELECT that reads the very rows they point to, in the transaction that
    # holds the run's row; PostgreSQL would check each key of each finding again, one
    # trigger and one locking lookup at a time, which costs as much as the comparison's
    # join itself (0.2 s for 13,000 findings: docs/performance.md). None of the three
    # is ever deleted by the portal (no service or admin page does), and Django's
    # on_delete still guards any delete made through the ORM. The finding names the
    # person, not the membership: a member may leave the household in a review's
    # re-declaration (the membership row is deleted), and the finding must outlive that.
    # No single-column indexes: the unique constraint starts with the run, the queue
    # index holds the application, and nothing looks findings up by person.
    run = models.ForeignKey(
        BatchRun,
        on_delete=models.CASCADE,
        related_name="findings",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="batch_findings",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=Resolution.choices, default=Resolution.OPEN
    )
    # No index: staff leave by being deactivated, and the rare deletion of a user (the
    # admin site) may scan the findings to refuse it when they resolved some.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("batch finding")
        verbose_name_plural = _("batch findings")
        ordering = ["run", "kind", "application", "person"]
        constraints = [
            # Household-level findings have no person: NULLs must collide too.
            models.UniqueConstraint(
                fields=["run", "kind", "application", "person"],
                name="finding_once_per_run",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["resolution", "application"], name="finding_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.application_id}"
