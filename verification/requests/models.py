"""Verification requests (domain.md §4): one per application's household, sent out as
one query per department, the answers, and the report that compares them with the
declaration.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Application, Member
from verification.feeds.models import DataItem, Department


class VerificationRequest(models.Model):
    """Verification of one application's household, sent out per department."""

    class Status(models.TextChoices):
        OPEN = "open", _("waiting for answers")
        ANSWERED = "answered", _("all departments answered")
        REPORTED = "reported", _("report issued")

    class Verdict(models.TextChoices):
        NONE = "", _("not yet")
        CONSISTENT = "consistent", _("basically consistent")
        GAP = "gap", _("clear gap")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="verification_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True, default="")
    report = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("verification request")
        verbose_name_plural = _("verification requests")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.application} {self.requested_at:%Y-%m-%d}"


class DepartmentQuery(models.Model):
    """The part of a request sent to one department: due in N working days."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        ANSWERED = "answered", _("answered")
        FAILED = "failed", _("failed, will retry")

    verification = models.ForeignKey(
        VerificationRequest, on_delete=models.CASCADE, related_name="queries"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    # Sent with every attempt, so a department that already answered it can say so.
    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    due_on = models.DateField(_("due on"))
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # Set while a run is asking the department (cleared when it writes the result): no
    # other run asks meanwhile, unless the claim outlived any task (its worker died).
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["verification", "department"], name="one_query_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.get_status_display()}"


class Answer(models.Model):
    """What a department said about one member for one data item."""

    query = models.ForeignKey(DepartmentQuery, on_delete=models.CASCADE, related_name="answers")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(DataItem, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    text = models.CharField(max_length=200, blank=True)
    record_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=100)  # "snapshot <id>" or "live <request id>"

    class Meta:
        ordering = ["query", "member", "item"]

    def __str__(self) -> str:
        return f"{self.item} {self.value or self.text}"
