"""Money (domain.md §7): the decisions in force, the month's roster, and the bank's answer.

- ``Award``: one decided amount of one case, in force from a month until a month (open
  while it lasts). Approval opens one; an adjustment closes it and opens the next; a stop
  or the end of a gradual exit closes it. The month's entitlement is a set-based query
  over these rows, so it can be recomputed for any month and says which decision each
  line comes from.
- ``PaymentAdjustment``: back pay (补发) and recovery (追回), each with its months and
  its reason; a roster carries them as lines of their own, never netted silently.
- ``PaymentAccount``: the household's one-card account at a paying bank. A correction
  replaces it with a new row; the old one stays (a bank return may name it).
- ``Roster`` and ``RosterLine``: the township's monthly payment roster (发放名册), checked
  line by line, approved by the county and reviewed by finance, then frozen (its content
  hash is shown). A supplementary roster (补充名册) corrects or re-issues lines of an
  approved one and refers to them.
- ``BankReturn``: one bank return file applied to a roster, whole or not at all.
- ``FundAllocation``: the money the finance bureau allocated per county, programme and
  month; what was paid comes from the returns.

These models keep the ``cases`` app label: they are the cases app's payment feature.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aid_portal.crypto import EncryptedTextField
from aid_portal.models import Region
from cases.records import MONEY, Application, AssistanceType, Household, Person


def mask_account(number: str) -> str:
    """A bank account as lists show it: the bank's last four digits only."""
    return f"****{number[-4:]}" if number else ""


class Bank(models.Model):
    """A paying bank (代发银行) and the form of its accounts and files.

    The account rule is what the portal can check itself before a file goes out: the
    lengths the bank issues and whether its numbers carry a Luhn check digit. The file
    layout (columns, encoding) is the bank's own; an admin sets it per bank.
    """

    class Encoding(models.TextChoices):
        GBK = "gbk", "GBK"
        UTF8 = "utf-8", "UTF-8"

    # The columns a bank file may carry, in the order the bank wants them.
    COLUMNS = {
        "line": _("line number"),
        "reference": _("payment reference"),
        "name": _("payee name"),
        "identity_number": _("identity number"),
        "account": _("account number"),
        "amount": _("amount (yuan)"),
        "programme": _("programme"),
        "month": _("month"),
        "township": _("township"),
    }

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    account_lengths = models.JSONField(
        _("account lengths"), default=list, help_text=_("e.g. [16, 19]")
    )
    luhn = models.BooleanField(_("account numbers carry a Luhn check digit"), default=True)
    file_columns = models.JSONField(
        _("file columns"),
        default=list,
        help_text=_("the columns of the bank file, in order: line, reference, name, …"),
    )
    file_encoding = models.CharField(
        _("file encoding"), max_length=8, choices=Encoding.choices, default=Encoding.GBK
    )
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("paying bank")
        verbose_name_plural = _("paying banks")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def columns(self) -> list[str]:
        return [c for c in self.file_columns if c in self.COLUMNS] or list(self.COLUMNS)


class PaymentAccount(models.Model):
    """The account a household is paid into. Never edited: a correction adds a row and
    marks this one replaced, so the history of accounts stays."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="payment_accounts"
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+")
    number = EncryptedTextField(_("account number"))
    last4 = models.CharField(max_length=4, editable=False)
    holder_name = models.CharField(_("account holder"), max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    replace_reason = models.CharField(_("why it was replaced"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment account")
        verbose_name_plural = _("payment accounts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(replaced_at__isnull=True),
                name="one_current_account_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank} {self.masked}"

    @property
    def masked(self) -> str:
        return f"****{self.last4}"


class Award(models.Model):
    """One decided amount of a case, in force from ``from_month`` to ``until_month``
    (both first days of months; open while ``until_month`` is empty).

    A one-off (temporary assistance) is in force for its one month only.
    """

    class Decision(models.TextChoices):
        APPROVAL = "approval", _("approval")
        ADJUSTMENT = "adjustment", _("amount adjustment")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="awards")
    programme = models.CharField(_("programme"), max_length=24, choices=AssistanceType.choices)
    monthly_amount = models.DecimalField(_("monthly amount (yuan)"), **MONEY)
    one_off = models.BooleanField(_("paid once"), default=False)
    from_month = models.DateField(_("from (month)"))
    until_month = models.DateField(_("until (month)"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    decided_on = models.DateField(_("decided on"))

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["application", "from_month"]
        indexes = [models.Index(fields=["from_month", "until_month"], name="award_months")]
        constraints = [
            models.CheckConstraint(
                condition=Q(until_month__isnull=True) | Q(until_month__gte=models.F("from_month")),
                name="award_until_after_from",
            ),
            models.CheckConstraint(condition=Q(from_month__day=1), name="award_from_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.monthly_amount} {self.from_month:%Y-%m}"


class PaymentAdjustment(models.Model):
    """Back pay (补发, positive) or a recovery (追回, deducted), with its months and reason.

    It waits until a roster of its township takes it as a line of its own.
    """

    class Kind(models.TextChoices):
        BACK_PAY = "back_pay", _("back pay")
        RECOVERY = "recovery", _("recovery")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="payment_adjustments"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY, validators=[MinValueValidator(0)])
    months_from = models.DateField(_("months from"))
    months_to = models.DateField(_("months to"))
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("raised by"), max_length=60, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment adjustment")
        verbose_name_plural = _("payment adjustments")
        ordering = ["recorded_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_amount_positive"),
            models.UniqueConstraint(
                fields=["application", "kind", "source"],
                condition=~Q(source=""),
                name="adjustment_once_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Roster(models.Model):
    """A township's payment roster for one month (发放名册), or a supplementary one."""

    class State(models.TextChoices):
        PREPARED = "prepared", _("prepared by the township")
        COUNTY_APPROVED = "county_approved", _("approved by the county")
        APPROVED = "approved", _("reviewed by finance: frozen")
        PAID = "paid", _("bank return applied")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Kind(models.TextChoices):
        REGULAR = "regular", _("monthly roster")
        SUPPLEMENTARY = "supplementary", _("supplementary roster")

    FROZEN_STATES = frozenset({State.APPROVED, State.PAID})

    township = models.ForeignKey(
        Region,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.TOWNSHIP},
    )
    month = models.DateField(_("month"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    supplements = models.ForeignKey(
        "self",
        verbose_name=_("supplements"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supplementary_rosters",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PREPARED
    )
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    total = models.DecimalField(_("total (yuan)"), **MONEY, default=0)
    problem_count = models.PositiveIntegerField(_("lines with problems"), default=0)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    prepared_at = models.DateTimeField(auto_now_add=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    county_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due by"))

    class Meta:
        verbose_name = _("payment roster")
        verbose_name_plural = _("payment rosters")
        ordering = ["-month", "township__code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "month"],
                condition=Q(kind="regular") & ~Q(state="withdrawn"),
                name="one_regular_roster_per_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="roster_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.township.name} {self.month:%Y-%m} {self.get_kind_display()}"

    @property
    def frozen(self) -> bool:
        return self.state in self.FROZEN_STATES


class RosterLine(models.Model):
    """One payment of a roster: a household, a programme, an amount, and where it comes
    from (the award, the adjustment, or the failed line it re-issues).

    The payee's name, identity hash, bank and account are copied in when the roster is
    prepared, so the frozen roster says what was sent whatever changes later. A recovery
    line is deducted from the household's payment line of the same programme in the same
    roster (``deducted_from``); that line's ``net_amount`` is what the bank pays.
    """

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("monthly benefit")
        ONE_OFF = "one_off", _("one-off payment")
        BACK_PAY = "back_pay", _("back pay")
        RECOVERY = "recovery", _("recovery")
        REISSUE = "reissue", _("re-issue of a failed payment")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("not yet paid")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")
        HELD = "held", _("held back")

    class Failure(models.TextChoices):
        ACCOUNT_CLOSED = "account_closed", _("account closed")
        NAME_MISMATCH = "name_mismatch", _("name does not match the account")
        ID_MISMATCH = "id_mismatch", _("identity number does not match the account")
        FROZEN = "frozen", _("account frozen")
        OTHER = "other", _("other")

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="lines")
    # No index of their own on application (rosterline_case_month starts with it),
    # household, payee and account: no query looks lines up by them, every one goes
    # from the line to them; an index is one more write per line of every roster.
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    programme = models.CharField(_("programme"), max_length=24, choices=AssistanceType.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    net_amount = models.DecimalField(_("paid to the bank (yuan)"), **MONEY)
    months_from = models.DateField(_("months from"))
    months_to = models.DateField(_("months to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    award = models.ForeignKey(
        Award, null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )
    adjustment = models.ForeignKey(
        PaymentAdjustment, null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )
    refers_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reissues"
    )
    deducted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="deductions"
    )
    payee = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    payee_name = models.CharField(_("payee"), max_length=50, blank=True)
    identity_hash = models.CharField(max_length=64, blank=True)
    account = models.ForeignKey(
        PaymentAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    problems = models.JSONField(_("problems found"), default=list, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    failure = models.CharField(
        _("why it failed"), max_length=16, choices=Failure.choices, blank=True
    )
    failure_note = models.CharField(_("the bank's note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("roster line")
        verbose_name_plural = _("roster lines")
        ordering = ["village__code", "household_id", "id"]
        indexes = [
            models.Index(fields=["application", "months_from"], name="rosterline_case_month"),
            # The "paid twice" check looks up each line's payee among the month's lines.
            models.Index(fields=["identity_hash", "months_from"], name="rosterline_payee_month"),
        ]
        constraints = [
            # A failed line is re-issued at most once; the re-issue refers to it.
            models.UniqueConstraint(
                fields=["refers_to"],
                condition=Q(kind="reissue"),
                name="reissue_once_per_failed_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.roster_id}/{self.pk} {self.payee_name} {self.amount}"

    @property
    def reference(self) -> str:
        """The payment reference the bank file carries and the return must give back."""
        return f"R{self.roster_id}-L{self.pk}"

    @property
    def payable(self) -> bool:
        """Sent to the bank: a payment line that is not held back and pays something."""
        return (
            self.kind != self.Kind.RECOVERY
            and self.outcome != self.Outcome.HELD
            and self.net_amount > 0
        )


class RosterEvent(models.Model):
    """A roster's history: each step, who took it, when."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.roster_id} {self.action}"


class BankReturn(models.Model):
    """A bank's return file, applied to one roster whole (every line) or not at all."""

    roster = models.ForeignKey(Roster, on_delete=models.PROTECT, related_name="returns")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=200)
    line_count = models.PositiveIntegerField()
    paid_count = models.PositiveIntegerField()
    failed_count = models.PositiveIntegerField()
    paid_total = models.DecimalField(**MONEY)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("bank return")
        verbose_name_plural = _("bank returns")
        constraints = [
            models.UniqueConstraint(fields=["roster", "bank"], name="one_return_per_roster_bank"),
        ]

    def __str__(self) -> str:
        return f"{self.roster} {self.bank}"


class FundAllocation(models.Model):
    """Money the finance bureau allocated to a county for one programme and month. A
    top-up is another row; the ledger sums them."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    programme = models.CharField(_("programme"), max_length=24, choices=AssistanceType.choices)
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("amount (yuan)"), **MONEY, validators=[MinValueValidator(0)])
    note = models.CharField(_("note"), max_length=200, blank=True)
    entered_at = models.DateTimeField(auto_now_add=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("fund allocation")
        verbose_name_plural = _("fund allocations")
        ordering = ["-month", "programme"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="allocation_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.programme} {self.month:%Y-%m} {self.amount}"


class Reconciliation(models.Model):
    """The four ledgers of one county and month compared (NC Hubei: 99.5% → 99.9%): the
    case system (what is due), the rosters (what was approved), the bank returns (what was
    paid), and what was reported and published. Each disagreement is an exception; the
    month closes only when every exception is explained or resolved."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    # Per township code: {"name", "due", "with_exceptions", "rate"}; and the county's.
    rates = models.JSONField(_("agreement rates"), default=dict, encoder=DjangoJSONEncoder)
    rate = models.DecimalField(_("agreement rate"), max_digits=7, decimal_places=4, null=True)
    computed_at = models.DateTimeField(_("compared at"), null=True, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-month", "county__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "month"], name="one_reconciliation_per_month"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="reconciliation_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.month:%Y-%m}"

    @property
    def percent(self) -> Decimal | None:
        """The agreement rate as a percentage with two decimals (99.87)."""
        return None if self.rate is None else (self.rate * 100).quantize(Decimal("0.01"))


class ReconciliationException(models.Model):
    """One disagreement between the ledgers, by household (or by township and programme
    for the statistics table), with a link to its case."""

    class Kind(models.TextChoices):
        DUE_NOT_ROSTERED = "due_not_rostered", _("due but not on an approved roster")
        ROSTERED_NOT_DUE = "rostered_not_due", _("on the roster but not due")
        AMOUNT_DIFFERS = "amount_differs", _("roster amount differs from the decision")
        FAILED = "failed", _("paid but failed in the bank return")
        UNPAID = "unpaid", _("no bank return yet")
        PUBLISHED_NOT_ENROLLED = "published_not_enrolled", _("published but not enrolled")
        ENROLLED_NOT_PUBLISHED = "enrolled_not_published", _("enrolled but not published")
        STATISTICS_DIFFER = "statistics_differ", _("statistics table differs from the payments")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        EXPLAINED = "explained", _("explained")
        RESOLVED = "resolved", _("resolved")

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="exceptions"
    )
    township = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    programme = models.CharField(_("programme"), max_length=24, choices=AssistanceType.choices)
    expected = models.DecimalField(_("expected (yuan)"), **MONEY, null=True, blank=True)
    actual = models.DecimalField(_("found (yuan)"), **MONEY, null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    note = models.TextField(_("explanation"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reconciliation exception")
        verbose_name_plural = _("reconciliation exceptions")
        ordering = ["township__code", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household_id or ''}"

    @property
    def key(self) -> tuple:
        """What makes it the same exception when the month is compared again."""
        return (self.kind, self.township_id, self.application_id, self.programme)


class MonthlyStatistics(models.Model):
    """The monthly statistics table of a county (by the 20th, to the city bureau): per
    township and programme, built from the month's closed reconciliation; frozen once
    submitted."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted to the city")

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    rows = models.JSONField(_("rows"), default=list, encoder=DjangoJSONEncoder)
    built_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due by"))

    class Meta:
        verbose_name = _("monthly statistics table")
        verbose_name_plural = _("monthly statistics tables")
        ordering = ["-month", "county__code"]
        constraints = [
            models.UniqueConstraint(fields=["county", "month"], name="one_statistics_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.month:%Y-%m}"
