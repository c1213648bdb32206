"""The shared core: places (the region tree), people (staff and their roles), the
append-only audit log and the working-day calendar overrides."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS as KNOX

from aid_portal.audit_labels import action_label


class Region(models.Model):
    """A node of the administrative tree, keyed by its 12-digit statistical division code.

    The code carries the tree in itself (2 digits province, 4 city, 6 county, 9
    township, 12 village), so "everything inside this node" is a prefix match on
    ``code``; no recursive query is needed anywhere.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("province")
        CITY = 2, _("city")
        COUNTY = 3, _("county")
        TOWNSHIP = 4, _("township")
        VILLAGE = 5, _("village")

    # Significant digits of a code at each level.
    PREFIX_LENGTH = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}

    code = models.CharField(
        _("division code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{12}$", _("A division code is 12 digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [
            # LIKE 'prefix%' on code, which every jurisdiction filter uses.
            models.Index(
                fields=["code"], name="region_code_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]
        permissions = [("view_region_cases", _("Can view the cases of this region"))]

    def __str__(self) -> str:
        return self.name

    # --- the tree read from the digits: the one place that knows the code's layout ---

    @classmethod
    def code_prefix(cls, code: str, level: int) -> str:
        """The significant digits of the node at ``level`` that holds ``code`` (a full
        code, or a prefix at least that long): what its subtree's codes start with."""
        return code[: cls.PREFIX_LENGTH[level]]

    @staticmethod
    def code_from_prefix(prefix: str) -> str:
        """The full 12-digit code of the node whose significant digits are ``prefix``."""
        return prefix.ljust(12, "0")

    @classmethod
    def enclosing_code(cls, code: str, level: int) -> str:
        """The code of the node at ``level`` that holds ``code`` (``code`` itself when it
        stands at that level or above, since its trailing digits are zeros)."""
        return cls.code_from_prefix(cls.code_prefix(code, level))

    @classmethod
    def enclosing_codes(cls, code: str, *, down_to: int = Level.VILLAGE) -> list[str]:
        """The codes of the nodes that hold ``code`` (a full code or a prefix), from the
        province down to ``down_to``, ``code``'s own node included, each once."""
        return list(
            dict.fromkeys(
                cls.enclosing_code(code, level)
                for level in cls.Level
                if level <= down_to and cls.PREFIX_LENGTH[level] <= len(code)
            )
        )

    @classmethod
    def level_of_code(cls, code: str) -> int:
        """The level a well-formed 12-digit code stands at: the highest level whose node
        has this very code, because every digit below that level is zero."""
        return next(level for level in cls.Level if cls.enclosing_code(code, level) == code)

    @property
    def prefix(self) -> str:
        return self.code_prefix(self.code, self.level)

    # The county and township holding this node, for a node at or below that level. The
    # codes and prefixes are read from the digits and cost no query; county() and
    # township() fetch the node itself.

    @property
    def county_prefix(self) -> str:
        return self.code_prefix(self.code, self.Level.COUNTY)

    @property
    def county_code(self) -> str:
        return self.enclosing_code(self.code, self.Level.COUNTY)

    @property
    def township_prefix(self) -> str:
        return self.code_prefix(self.code, self.Level.TOWNSHIP)

    @property
    def township_code(self) -> str:
        return self.enclosing_code(self.code, self.Level.TOWNSHIP)

    def county(self) -> Region:
        """The county node holding this one (itself if it is a county): one query
        otherwise, so in a loop key by :attr:`county_code` instead."""
        if self.level == self.Level.COUNTY:
            return self
        return Region.objects.get(code=self.county_code)

    def township(self) -> Region:
        """The township node holding this one (itself if it is a township): one query
        otherwise, so in a loop key by :attr:`township_code` instead."""
        if self.level == self.Level.TOWNSHIP:
            return self
        return Region.objects.get(code=self.township_code)

    def contains(self, other: Region) -> bool:
        return other.code.startswith(self.prefix)


class User(AbstractUser):
    """A member of staff. What they may do comes from their role assignments."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return self.full_name or self.username


class Role(models.TextChoices):
    VILLAGE_ASSISTANT = "village_assistant", _("village assistant")
    TOWNSHIP_CASEWORKER = "township_caseworker", _("township caseworker")
    TOWNSHIP_APPROVER = "township_approver", _("township approver")
    COUNTY_AUDITOR = "county_auditor", _("county auditor")
    VERIFICATION_OFFICER = "verification_officer", _("verification officer")
    FEED_ADMIN = "feed_admin", _("data-feed admin")
    # The finance bureau's reviewer of payment rosters and allocator of funds (财政审核).
    FINANCE_REVIEWER = "finance_reviewer", _("finance reviewer")


# The level of the tree at which each role is held, and the lowest level it may be
# held at (a county auditor may also sit at the city or the province).
ROLE_LEVELS: dict[str, tuple[int, ...]] = {
    Role.VILLAGE_ASSISTANT: (Region.Level.VILLAGE,),
    Role.TOWNSHIP_CASEWORKER: (Region.Level.TOWNSHIP,),
    Role.TOWNSHIP_APPROVER: (Region.Level.TOWNSHIP,),
    Role.COUNTY_AUDITOR: (Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE),
    Role.VERIFICATION_OFFICER: (Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE),
    Role.FEED_ADMIN: (Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE),
    Role.FINANCE_REVIEWER: (Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE),
}


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region"], name="role_once_per_region"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.region}"


class RegionUserObjectPermission(UserObjectPermissionBase):
    """A per-object grant on a region (django-guardian, direct foreign key).

    Used for cover: a caseworker minding a neighbouring township while its own
    caseworker is away is granted ``view_region_cases`` on that township.
    """

    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class AuditEvent(models.Model):
    """One row per state change and per read of sensitive personal data.

    Append-only: a trigger installed by migration 0002 makes PostgreSQL refuse UPDATE,
    DELETE and TRUNCATE on this table, whoever asks.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The username at the time, so the row reads the same after a rename.
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    # The region the object belongs to: what the access gate filters audit rows by.
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_values = models.JSONField(_("old values"), null=True, blank=True, encoder=DjangoJSONEncoder)
    new_values = models.JSONField(_("new values"), null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    @property
    def action_label(self) -> str:
        return action_label(self.action)


class AuditSeal(models.Model):
    """The link of the hash chain over the audit log that seals one event.

    ``digest`` is SHA-256 over the previous seal's digest and the event's content, so
    changing, removing or back-dating any sealed event breaks every link after it
    (aid_portal/audit_chain.py). A separate table because events are append-only and
    the seal is written after the event's own transaction has committed; append-only
    too (migration 0005).
    """

    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    digest = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")

    def __str__(self) -> str:
        return f"{self.event_id} {self.digest[:12]}"


class AuditCheck(models.Model):
    """One walk of the audit chain (the daily task, or ``manage.py audit_verify``)."""

    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    events_checked = models.PositiveIntegerField(_("events checked"))
    sealed_up_to = models.BigIntegerField(_("sealed up to event"), null=True)
    head_digest = models.CharField(_("digest of that event"), max_length=64, blank=True)
    # The first event whose link does not hold; null when the chain is whole.
    broken_at = models.BigIntegerField(_("first broken link"), null=True)
    problem = models.CharField(_("problem"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit chain check")
        verbose_name_plural = _("audit chain checks")
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.broken_at or 'ok'}"

    @property
    def ok(self) -> bool:
        return self.broken_at is None


class CalendarYear(models.Model):
    """A year whose holiday schedule an admin has entered by hand.

    The chinese-calendar package knows the State Council's schedules up to its release;
    for a later year the portal refuses to count working days until an admin has
    entered that year's holidays and make-up working days and recorded the year here.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(
        _("source"),
        max_length=200,
        help_text=_("The State Council notice the days were taken from."),
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A date whose working-day status differs from what the library says (or knows)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("working day") if self.is_working_day else _("day off")
        return f"{self.date} {kind}"


class TaskDispatch(models.Model):
    """A task to send to the broker, written in the transaction that calls for it.

    ``aid_portal.celery.enqueue_on_commit`` writes the row with the caller's change and
    sends the task once the change commits; if the broker cannot be reached then, the
    row stays unsent and the relay task (``aid_portal.dispatch_relay``) sends it later.
    So a Redis outage never loses work a committed change called for. Tasks are safe to
    run twice, so a send repeated after a crash is harmless.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("task dispatch")
        verbose_name_plural = _("task dispatches")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="dispatch_unsent",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {'sent' if self.sent_at else 'unsent'}"


class HealthPing(models.Model):
    """Written by the health task, so a check proves the worker reaches the database."""

    at = models.DateTimeField(auto_now_add=True)
    worker = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("health ping")

    def __str__(self) -> str:
        return f"{self.worker} {self.at:%Y-%m-%d %H:%M:%S}"


class ExportJob(models.Model):
    """A list export too large to build during the request (aid_portal.listing).

    The worker builds the file from the list's name and the filters the user had, as
    that user, so it holds exactly what the page showed them. Only the user who asked
    may read it, and only until ``expires_at``.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("being built")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    list_name = models.CharField(max_length=60)
    format = models.CharField(max_length=4)
    params = models.TextField(blank=True)  # the page's query string, without export fields
    unmasked = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    filename = models.CharField(max_length=120, blank=True)
    content = models.BinaryField(null=True, editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("export")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.list_name}.{self.format} #{self.pk}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox, KNOX_TOKEN_MODEL). Only the digest of the secret is
    stored, so the secret is shown once, when the token is made; the first characters
    (``token_key``) find the row. Revoking deletes the row; the audit log keeps the record.

    Knox makes the digest the primary key; the portal keys rows by a plain number instead,
    so addresses and audit rows never carry the digest."""

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=KNOX.DIGEST_LENGTH, unique=True)
    # knox's authentication finds a user's other tokens through ``auth_token_set``.
    user = models.ForeignKey(
        User,
        verbose_name=_("staff user"),
        on_delete=models.CASCADE,
        related_name="auth_token_set",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expiry = models.DateTimeField(_("expires"))
    name = models.CharField(_("purpose"), max_length=100)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def prefix(self) -> str:
        """The first characters of the secret, so a user can tell their tokens apart."""
        return self.token_key[:8]
