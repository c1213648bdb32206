"""Departments and what they supply (domain.md §4), their data feeds, and the snapshots
loaded from those feeds with their person-records and quarantined rows.

Departments and their data items are also what verification requests ask
(verification.requests) and batch comparisons read (verification.batch).

Person-level records are keyed by the identity number's blind index
(aid_portal.crypto.blind_index), never by the number itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Department(models.Model):
    """A department that answers verification queries (public security, tax, banks...)."""

    class Channel(models.TextChoices):
        SNAPSHOT = "snapshot", _("snapshot files")
        LIVE = "live", _("live connector")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.SNAPSHOT
    )
    live_url = models.URLField(_("connector address"), blank=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=10)
    answer_days = models.PositiveSmallIntegerField(_("answers within (working days)"), default=7)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DataItem(models.Model):
    """One kind of data a department supplies (MZ/T 073: each with a sensitivity flag).

    ``compare_as`` says how the report uses it against the declaration.
    """

    class Sensitivity(models.TextChoices):
        LOW = "low", _("low")
        MEDIUM = "medium", _("medium")
        HIGH = "high", _("high")

    class CompareAs(models.TextChoices):
        MONTHLY_INCOME = "monthly_income", _("monthly income")
        PUBLIC_SALARY = "public_salary", _("salary from public funds")
        DEPOSIT = "deposit", _("deposits")
        VEHICLE = "vehicle", _("vehicle")
        REAL_ESTATE = "real_estate", _("real estate")
        BUSINESS = "business", _("business registration")
        SECURITIES = "securities", _("securities")
        DEATH = "death", _("death")
        INFORMATION = "information", _("information only")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    sensitivity = models.CharField(_("sensitivity"), max_length=8, choices=Sensitivity.choices)
    compare_as = models.CharField(_("compared as"), max_length=16, choices=CompareAs.choices)

    class Meta:
        verbose_name = _("data item")
        verbose_name_plural = _("data items")
        ordering = ["department", "code"]
        constraints = [
            models.UniqueConstraint(fields=["department", "code"], name="item_code_per_department")
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.name}"


class Feed(models.Model):
    """A department's snapshot file feed: how its columns map to ours, and what to do
    with a file that has bad rows."""

    class BadRows(models.TextChoices):
        REJECT = "reject", _("reject the whole file")
        QUARANTINE = "quarantine", _("load the good rows, quarantine the bad")

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="feed")
    # Our field -> the department's column name: identity_number, name, item, value, date.
    column_mapping = models.JSONField(_("column mapping"), default=dict)
    bad_rows = models.CharField(
        _("bad rows"), max_length=16, choices=BadRows.choices, default=BadRows.REJECT
    )
    current = models.OneToOneField(
        "Snapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("snapshot in use"),
    )

    class Meta:
        verbose_name = _("feed")
        verbose_name_plural = _("feeds")

    def __str__(self) -> str:
        return str(self.department)


class Snapshot(models.Model):
    """One uploaded file of a feed. Its rows are loaded with COPY while it is LOADING;
    it replaces the feed's current snapshot in one transaction once COMPLETE."""

    class Status(models.TextChoices):
        LOADING = "loading", _("loading")
        COMPLETE = "complete", _("in use")
        REPLACED = "replaced", _("replaced")
        REJECTED = "rejected", pgettext_lazy("snapshot", "rejected")
        FAILED = "failed", _("failed")

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="snapshots")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.LOADING
    )
    file = models.FileField(_("file"), upload_to="feeds/%Y/%m/")
    original_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)  # progress while loading
    rows_loaded = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.feed} {self.uploaded_at:%Y-%m-%d %H:%M}"


class BlindIndexField(models.Field):
    """A blind index (aid_portal.crypto.blind_index) stored as its 32 raw bytes.

    Half the size of the 64 hexadecimal characters Person.identity_hash keeps, and
    compared byte by byte whatever the database's collation; Python code reads and
    writes the same hexadecimal string as everywhere else. In SQL, compare it with
    ``decode(person.identity_hash, 'hex')``.
    """

    description = "HMAC-SHA256 blind index stored as bytea"

    def db_type(self, connection) -> str:
        return "bytea"

    def from_db_value(self, value, expression, connection):
        return None if value is None else bytes(value).hex()

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return bytes(value).hex()

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if isinstance(value, str):
            value = bytes.fromhex(value)
        return None if value is None else connection.Database.Binary(value)


class SnapshotRecord(models.Model):
    """One person-record of a snapshot: what a department says about a person.

    The table is partitioned by snapshot (migration 0004): an import COPYs a snapshot's
    records into a table of its own, builds its index and attaches it as a partition in
    the swap; the replaced snapshot's partition is dropped. Records written through the
    ORM (none in production) land in the default partition. The only index is the one
    the reads use, on the person within a snapshot; there is no primary-key index
    (ids come from a sequence and nothing looks a record up by id).
    """

    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    identity_hash = BlindIndexField()
    name = models.CharField(max_length=50, blank=True)
    item = models.ForeignKey(DataItem, on_delete=models.PROTECT, related_name="+", db_index=False)
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    text = models.CharField(max_length=200, blank=True)
    record_date = models.DateField(null=True, blank=True)

    class Meta:
        # Within a partition (one snapshot) the person alone is the key of every read.
        indexes = [models.Index(fields=["identity_hash"], name="record_person")]

    def __str__(self) -> str:
        return f"{self.item} {self.value or self.text}"


class QuarantinedRow(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="quarantined")
    line = models.PositiveIntegerField()
    raw = models.JSONField()
    reasons = models.JSONField()
    # The row's identity number as a blind index, so that a feed admin finds a person's
    # bad rows by the full number while the kept cells show it masked. Empty when the
    # cell was.
    identity_hash = BlindIndexField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["snapshot", "line"]

    def __str__(self) -> str:
        return f"{self.snapshot} line {self.line}"
