"""The records every feature of cases works on: the county's dated policy, the
person, the household, its members and their declaration (incomes, assets, rigid
expenditure), the application (the case) and its timeline, credit restrictions and the
household file's documents.

They stay at app level because intake writes them, casework moves them along, reviews
re-declare and adjust them, and payments (and the credit and verification apps) read
them: no one feature owns them. Each feature's own records live in its models.py; all
keep the app label ``cases`` (cases/models.py gathers them for Django).

The application is the case: it belongs to one village (and so one township), and every
read of it passes the access gate on ``village``. Its state changes only through the
features' services, each change writing an ApplicationEvent and an audit row.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aid_portal.crypto import EncryptedTextField
from aid_portal.identity import mask_identity_number
from aid_portal.models import Region
from aid_portal.periods import in_force_on

MONEY = {"max_digits": 12, "decimal_places": 2}


class AssistanceType(models.TextChoices):
    DIBAO_URBAN = "dibao_urban", _("dibao (urban)")
    DIBAO_RURAL = "dibao_rural", _("dibao (rural)")
    EXTREME_POVERTY = "extreme_poverty", _("extreme-poverty support")
    TEMPORARY_EMERGENCY = "temporary_emergency", _("temporary assistance (emergency)")
    TEMPORARY_EXPENDITURE = "temporary_expenditure", _("temporary assistance (expenditure)")
    LOW_INCOME_EDGE = "low_income_edge", _("low-income edge household")

    @classmethod
    def dibao(cls) -> set[str]:
        return {cls.DIBAO_URBAN, cls.DIBAO_RURAL}


class Policy(models.Model):
    """A county's rules (domain.md §8), in force from ``effective_from`` until the next row.

    A change never rewrites history: a new row with a later date takes over on that date,
    and decisions made before it keep the figures they were made with.
    """

    class DecidingLevel(models.TextChoices):
        TOWNSHIP = "township", _("township")
        COUNTY = "county", _("county")

    class PublicNameDisplay(models.TextChoices):
        FULL = "full", _("full names")
        MASKED = "masked", _("masked: first and last character shown (马*兰)")

    class IncomeGapDirection(models.TextChoices):
        # The national default (domain.md §8): a family that declared more than the
        # departments see is consistent; only more found than declared can be a gap.
        FOUND_MORE = "found_more", _("only when the departments found more than declared")
        EITHER = "either", _("either way")

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    effective_from = models.DateField(_("in force from"))
    dibao_standard_urban = models.DecimalField(
        _("urban dibao standard (yuan per person per month)"),
        **MONEY,
        validators=[MinValueValidator(Decimal("1"))],
    )
    dibao_standard_rural = models.DecimalField(
        _("rural dibao standard (yuan per person per month)"),
        **MONEY,
        validators=[MinValueValidator(Decimal("1"))],
    )
    edge_multiple = models.DecimalField(
        _("low-income edge multiple of the standard"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("3"))],
    )
    extreme_poverty_multiple = models.DecimalField(
        _("extreme-poverty support as a multiple of the standard"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.30"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )
    temporary_months = models.PositiveSmallIntegerField(
        _("temporary assistance: months of the standard per person"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    deposit_limit_per_person = models.DecimalField(
        _("deposit limit per household member (yuan)"),
        **MONEY,
        default=Decimal("20000"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    vehicles_allowed = models.PositiveSmallIntegerField(
        _("vehicles a household may own (beyond exempt ones)"),
        default=0,
    )
    houses_allowed = models.PositiveSmallIntegerField(
        _("homes a household may own"),
        default=1,
    )
    deciding_level = models.CharField(
        _("who decides"),
        max_length=16,
        choices=DecidingLevel.choices,
        default=DecidingLevel.TOWNSHIP,
    )
    investigation_start_days = models.PositiveSmallIntegerField(
        _("investigation starts within (working days)"),
        default=3,
    )
    home_visit_investigators = models.PositiveSmallIntegerField(
        _("home visit: investigators at least"),
        default=2,
        validators=[MinValueValidator(2)],
    )
    total_days_township = models.PositiveSmallIntegerField(
        _("time limit where the township decides (working days)"),
        default=20,
    )
    total_days_county = models.PositiveSmallIntegerField(
        _("time limit where the county decides (working days)"),
        default=30,
    )
    total_days_extended = models.PositiveSmallIntegerField(
        _("extended time limit (working days)"),
        default=45,
    )
    rejection_notice_days = models.PositiveSmallIntegerField(
        _("rejection notice within (working days)"),
        default=3,
    )
    notice_days = models.PositiveSmallIntegerField(
        _("public notice (days)"),
        default=7,
        validators=[MinValueValidator(1)],
    )
    objection_days = models.PositiveSmallIntegerField(
        _("objection window after a feedback letter (days)"),
        default=15,
        validators=[MinValueValidator(1)],
    )
    # The public roster (domain.md §7, art. 24): the full name unless the county masks it.
    public_name_display = models.CharField(
        _("names on the public roster"),
        max_length=8,
        choices=PublicNameDisplay.choices,
        default=PublicNameDisplay.FULL,
    )
    income_tolerance = models.DecimalField(
        _("income tolerance for 'basically consistent'"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    income_gap_direction = models.CharField(
        _("income beyond the tolerance is a clear gap"),
        max_length=16,
        choices=IncomeGapDirection.choices,
        default=IncomeGapDirection.FOUND_MORE,
    )
    # Extreme poverty (domain.md §8): unable to work by age, or by a listed disability.
    extreme_poverty_age_from = models.PositiveSmallIntegerField(
        _("extreme poverty: unable to work from the age of"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    extreme_poverty_age_under = models.PositiveSmallIntegerField(
        _("extreme poverty: unable to work under the age of"),
        default=16,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    # Extreme poverty (domain.md §8): a care allowance per member on top of the basic
    # living allowance, by the member's self-care level (Member.self_care_level).
    care_allowance_self_sufficient = models.DecimalField(
        _("care allowance: self-sufficient (yuan per person per month)"),
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    care_allowance_partly_dependent = models.DecimalField(
        _("care allowance: partly dependent (yuan per person per month)"),
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    care_allowance_fully_dependent = models.DecimalField(
        _("care allowance: fully dependent (yuan per person per month)"),
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # Dynamic management and supervision (domain.md §5, §8).
    review_months_stable = models.PositiveSmallIntegerField(
        _("periodic review of a stable family every (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    review_months_unstable = models.PositiveSmallIntegerField(
        _("periodic review with irregular income or a member able to work every (months)"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    review_months_after_death = models.PositiveSmallIntegerField(
        _("re-check after a member's death within (months)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    gradual_exit_months = models.PositiveSmallIntegerField(
        _("gradual exit: benefits continue at most (months)"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    spot_check_new_ratio = models.DecimalField(
        _("spot-check share of newly confirmed cases"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.30"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )
    spot_check_new_within_months = models.PositiveSmallIntegerField(
        _("new cases are spot-checked within (months of confirmation)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    spot_check_annual_ratio = models.DecimalField(
        _("annual home spot-check share of enrolled dibao and extreme-poverty households"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.20"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )
    spot_check_full_within_days = models.PositiveSmallIntegerField(
        _("near-relative filings and complaints are visited within (days of the draw)"),
        default=30,
        validators=[MinValueValidator(1)],
    )
    monthly_check_due_day = models.PositiveSmallIntegerField(
        _("the county checks last month's new dibao files by (day of the month)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
    )
    # Credit discipline (domain.md §6).
    credit_block_months_moderate = models.PositiveSmallIntegerField(
        _("moderate untrustworthiness: no new application for (months)"),
        default=6,
        validators=[MinValueValidator(1)],
    )
    credit_block_months_severe = models.PositiveSmallIntegerField(
        _("severe untrustworthiness: no new application for (months)"),
        default=12,
        validators=[MinValueValidator(1)],
    )
    credit_objection_days = models.PositiveSmallIntegerField(
        _("objection to a credit finding within (days of its taking effect)"),
        default=15,
        validators=[MinValueValidator(1)],
    )
    credit_objection_review_days = models.PositiveSmallIntegerField(
        _("a credit objection is reviewed within (days of lodging)"),
        default=15,
        validators=[MinValueValidator(1)],
    )
    credit_interview_days = models.PositiveSmallIntegerField(
        _("reminder interview within (days of a credit finding taking effect)"),
        default=10,
        validators=[MinValueValidator(1)],
    )
    credit_trustworthy_months = models.PositiveSmallIntegerField(
        _("trustworthy period: no escalation, end of the watch list (months)"),
        default=12,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A finding this many months or more after the household's previous one does "
            "not escalate; a light finding keeps the household on the watch list this long."
        ),
    )
    # Drafts left after the first intake step (cases.intake.services.drafts_follow_up).
    draft_reminder_days = models.PositiveSmallIntegerField(
        _("remind the township of an unfinished draft after (days)"),
        default=7,
        validators=[MinValueValidator(1)],
    )
    draft_withdrawal_days = models.PositiveSmallIntegerField(
        _("withdraw an unfinished draft after (days)"),
        default=30,
        validators=[MinValueValidator(2)],
        help_text=_(
            "Counted from the day the draft was opened; a draft is withdrawn only after "
            "its reminder, and never sooner than the days between the two after it."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("county policy")
        verbose_name_plural = _("county policies")
        ordering = ["county", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["county", "effective_from"], name="one_policy_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.effective_from}"

    def clean(self) -> None:
        super().clean()
        moderate, severe = self.credit_block_months_moderate, self.credit_block_months_severe
        if moderate is not None and severe is not None and severe < moderate:
            raise ValidationError(
                {
                    "credit_block_months_severe": _(
                        "A severe finding cannot block for less time than a moderate one."
                    )
                }
            )

        remind, withdraw = self.draft_reminder_days, self.draft_withdrawal_days
        if remind is not None and withdraw is not None and withdraw <= remind:
            raise ValidationError(
                {
                    "draft_withdrawal_days": _(
                        "A draft is withdrawn only some days after its reminder: give more "
                        "days than for the reminder."
                    )
                }
            )

    def dibao_standard(self, assistance_type: str) -> Decimal:
        if assistance_type == AssistanceType.DIBAO_URBAN:
            return self.dibao_standard_urban
        return self.dibao_standard_rural


class Person(models.Model):
    """Someone known to the portal by their identity number, once, whatever households
    they belong to over the years. The number is encrypted; lookups use its keyed hash."""

    identity_number = EncryptedTextField(_("identity number"))
    identity_hash = models.CharField(max_length=64, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=50)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=[("M", _("male")), ("F", _("female"))])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.name

    @property
    def masked_identity_number(self) -> str:
        return mask_identity_number(self.identity_number)


class Household(models.Model):
    """The family (共同生活家庭) as declared, filed in one village."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    registration_region = models.ForeignKey(
        Region,
        verbose_name=_("household registration"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    address = models.CharField(_("address of residence"), max_length=200)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    bank_account = EncryptedTextField(_("one-card account"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        applicant = next((m for m in self.members.all() if m.is_applicant), None)
        return str(applicant.person) if applicant else f"#{self.pk}"


class DailyAbility(models.TextChoices):
    """The six daily abilities of the self-care assessment (特困人员认定办法 art. 8)."""

    EATING = "eating", _("eating on one's own")
    DRESSING = "dressing", _("dressing")
    BED = "bed", _("getting in and out of bed")
    TOILET = "toilet", _("using the toilet")
    WALKING = "walking", _("walking indoors")
    BATHING = "bathing", _("bathing")


class SelfCareLevel(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("not assessed")
    SELF_SUFFICIENT = "self_sufficient", _("self-sufficient")
    PARTLY_DEPENDENT = "partly_dependent", _("partly dependent")
    FULLY_DEPENDENT = "fully_dependent", _("fully dependent")


def self_care_level(failed: int | None) -> str:
    """The self-care level from how many of the six daily abilities the person cannot
    manage (domain.md §8): none, self-sufficient; up to three, partly dependent; four
    or more, fully dependent. None: not assessed, a state of its own."""
    if failed is None:
        return SelfCareLevel.NOT_ASSESSED
    if failed == 0:
        return SelfCareLevel.SELF_SUFFICIENT
    if failed <= 3:
        return SelfCareLevel.PARTLY_DEPENDENT
    return SelfCareLevel.FULLY_DEPENDENT


class Member(models.Model):
    """A person in a household: a member living together, or a legally bound supporter
    living elsewhere (declared and verified too, never counted as a member)."""

    class Relation(models.TextChoices):
        SELF = "self", _("applicant")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", pgettext_lazy("relation", "parent")
        GRANDCHILD = "grandchild", _("grandchild")
        GRANDPARENT = "grandparent", _("grandparent")
        SIBLING = "sibling", _("sibling")
        OTHER = "other", _("other relative")

    class WorkAbility(models.TextChoices):
        FULL = "full", _("able to work")
        PARTIAL = "partial", _("partly able to work")
        NONE = "none", _("unable to work")

    class Disability(models.TextChoices):
        NONE = "", _("none")
        VISUAL = "visual", _("visual")
        HEARING = "hearing", _("hearing")
        SPEECH = "speech", _("speech")
        PHYSICAL = "physical", _("physical")
        INTELLECTUAL = "intellectual", _("intellectual")
        MENTAL = "mental", _("mental")
        MULTIPLE = "multiple", _("multiple")

    class Health(models.TextChoices):
        HEALTHY = "healthy", _("healthy")
        CHRONIC = "chronic", _("chronic illness")
        SERIOUS = "serious", _("serious illness")

    # Indexed with is_supporter (Meta.indexes): the household's members are counted
    # from the index alone.
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="members",
        db_index=False,
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="memberships"
    )
    relation = models.CharField(
        _("relation to the applicant"), max_length=16, choices=Relation.choices
    )
    is_supporter = models.BooleanField(
        _("legally bound supporter living elsewhere"),
        default=False,
    )
    work_ability = models.CharField(
        _("ability to work"), max_length=8, choices=WorkAbility.choices, default=WorkAbility.FULL
    )
    disability = models.CharField(
        _("disability"), max_length=16, choices=Disability.choices, blank=True, default=""
    )
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    health = models.CharField(
        _("health"), max_length=8, choices=Health.choices, default=Health.HEALTHY
    )
    health_note = EncryptedTextField(_("health details"), blank=True)
    is_student = models.BooleanField(_("student"), default=False)
    # The self-care assessment: the DailyAbility codes the person cannot manage; null
    # while not assessed (an empty list: assessed, manages all six).
    self_care_failed = models.JSONField(
        _("daily abilities the person cannot manage"), null=True, blank=True, default=None
    )
    # True while the household has an application that is not closed: a person may be
    # an active member of one household only, which the partial unique index enforces.
    active = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["household", "is_supporter", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(active=True, is_supporter=False),
                name="one_active_household_per_person",
            ),
            models.UniqueConstraint(fields=["household", "person"], name="member_once"),
        ]
        indexes = [
            # Members of a household, and how many live in it (a batch comparison counts
            # them for the deposit limit per member).
            models.Index(fields=["household", "is_supporter"], name="member_household"),
            # The people who also have a membership no longer active: the few a batch
            # comparison looks at for "member of two households" (verification.batch.services).
            models.Index(
                fields=["person"],
                condition=Q(active=False, is_supporter=False),
                name="member_inactive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_relation_display()})"

    @property
    def self_care_level(self) -> str:
        failed = self.self_care_failed
        return self_care_level(None if failed is None else len(failed))

    def get_self_care_level_display(self) -> str:
        return str(SelfCareLevel(self.self_care_level).label)

    def self_care_failed_labels(self) -> list[str]:
        return [str(DailyAbility(code).label) for code in self.self_care_failed or []]

    @property
    def is_applicant(self) -> bool:
        return self.relation == self.Relation.SELF


class Application(models.Model):
    """One application of a household for one kind of assistance: the case."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        RETURNED = "returned", _("returned for completion")
        ACCEPTED = "accepted", _("accepted")
        UNDER_VERIFICATION = "under_verification", _("under verification")
        FEEDBACK = "feedback", _("clear gap: objection window")
        HOME_VISIT = "home_visit", _("home visit")
        DEMOCRATIC_REVIEW = "democratic_review", _("democratic review")
        PUBLIC_NOTICE = "public_notice", _("public notice")
        AWAITING_DECISION = "awaiting_decision", _("awaiting decision")
        APPROVED = "approved", _("approved")
        IN_PAYMENT = "in_payment", _("in payment")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")
        STOPPED = "stopped", _("benefits stopped")

    OPEN_STATES = frozenset(
        {
            State.DRAFT,
            State.SUBMITTED,
            State.RETURNED,
            State.ACCEPTED,
            State.UNDER_VERIFICATION,
            State.FEEDBACK,
            State.HOME_VISIT,
            State.DEMOCRATIC_REVIEW,
            State.PUBLIC_NOTICE,
            State.AWAITING_DECISION,
        }
    )
    ENROLLED_STATES = frozenset({State.APPROVED, State.IN_PAYMENT})

    class Path(models.TextChoices):
        UNDECIDED = "", _("not yet known")
        SIMPLIFIED = "simplified", _("simplified (basically consistent)")
        NORMAL = "normal", _("normal")

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    assistance_type = models.CharField(
        _("assistance"), max_length=32, choices=AssistanceType.choices
    )
    state = models.CharField(
        _("state"), max_length=24, choices=State.choices, default=State.DRAFT, db_index=True
    )
    path = models.CharField(
        _("path"), max_length=16, choices=Path.choices, blank=True, default=Path.UNDECIDED
    )
    extended = models.BooleanField(
        _("extended time limit (objection, living away, hard investigation)"),
        default=False,
    )
    declaration_committed_on = models.DateField(
        _("declaration commitment signed"), null=True, blank=True
    )
    informed_on = models.DateField(_("duties explained to the applicant"), null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    # Deadlines in working days from acceptance (domain.md §8), computed when the case is
    # accepted (and again if the limit is extended) so that queues sort on them in SQL.
    investigation_due_on = models.DateField(_("investigation starts by"), null=True, blank=True)
    due_on = models.DateField(_("decision due by"), null=True, blank=True, db_index=True)
    missing_items = models.JSONField(_("missing at return"), default=list, blank=True)
    # The decision.
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    monthly_amount = models.DecimalField(_("monthly amount (yuan)"), **MONEY, null=True, blank=True)
    amount_basis = models.JSONField(
        _("how the amount was computed"), null=True, blank=True, encoder=DjangoJSONEncoder
    )
    start_month = models.DateField(_("payment from (month)"), null=True, blank=True)
    rejection_reasons = models.TextField(_("reasons for rejection"), blank=True)
    county_check_done_on = models.DateField(_("county key check done"), null=True, blank=True)
    # After approval (domain.md §5): when the household is next reviewed, and, during a
    # gradual exit, the last month still paid.
    next_review_on = models.DateField(
        _("next periodic review"), null=True, blank=True, db_index=True
    )
    exit_after_month = models.DateField(_("gradual exit: paid up to"), null=True, blank=True)
    stopped_on = models.DateField(_("benefits stopped on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["village", "state"], name="application_queue"),
            # The households with an enrolled application (ENROLLED_STATES), in order: a
            # batch comparison finds those with more than one without hashing every
            # application.
            models.Index(
                fields=["household"],
                condition=Q(state__in=["approved", "in_payment"]),
                name="application_enrolled",
            ),
        ]

    def __str__(self) -> str:
        return _("Application %(number)s") % {"number": self.number}

    @property
    def number(self) -> str:
        return f"{self.village.township_prefix}-{self.pk:06d}" if self.pk else "—"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class CreditRestriction(models.Model):
    """What a credit sanction restricts in casework (domain.md §6): a person refused new
    applications (a block), or a household reviewed more often (the watch list).

    The credit app owns findings and sanctions; when it switches one of these on or off it
    calls ``credit_restrictions_start`` / ``credit_restrictions_end`` here, so that cases
    answers "is this person blocked?" from its own table and never imports credit (the
    apps depend one way: docs/architecture.md). One row per sanction, keyed by its id.
    """

    class Kind(models.TextChoices):
        BLOCK = "block", _("new applications refused")
        WATCH_LIST = "watch_list", _("watch list")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    # The credit sanction this row stands for (no foreign key: cases knows nothing of credit).
    sanction_id = models.BigIntegerField(unique=True)

    class Meta:
        verbose_name = _("credit restriction")
        verbose_name_plural = _("credit restrictions")
        indexes = [
            models.Index(fields=["kind", "person"], name="restriction_kind_person"),
            models.Index(fields=["kind", "household"], name="restriction_kind_household"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="block", person__isnull=False)
                    | Q(kind="watch_list", household__isnull=False)
                ),
                name="restriction_names_its_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.sanction_id})"

    @staticmethod
    def q_in_force(day) -> Q:
        """In force on ``day``: started, not yet at its end, not ended early."""
        return in_force_on(day)


class ApplicationEvent(models.Model):
    """One step of an application: the timeline, and the source of its statistics."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
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
        indexes = [models.Index(fields=["application", "at"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class Income(models.Model):
    """One source of income of one member, as declared."""

    class Source(models.TextChoices):
        WAGES = "wages", _("wages")
        BUSINESS = "business", _("business")
        PROPERTY = "property", _("property income")
        TRANSFER = "transfer", _("transfers and maintenance")
        PENSION = "pension", _("pension")
        OTHER = "other", _("other income")
        # Recorded but never counted (domain.md §8, income excluded).
        VETERANS = "veterans", _("veterans' and survivors' benefits")
        FAMILY_PLANNING = "family_planning", _("family-planning awards")
        SCHOLARSHIP = "scholarship", _("scholarships and honours")
        SOCIAL_ASSISTANCE = "social_assistance", _("government social assistance")
        BASIC_PENSION = "basic_pension", _("central basic pension of the residents' scheme")

    EXCLUDED = frozenset(
        {
            Source.VETERANS,
            Source.FAMILY_PLANNING,
            Source.SCHOLARSHIP,
            Source.SOCIAL_ASSISTANCE,
            Source.BASIC_PENSION,
        }
    )

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="incomes")
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    # Either twelve monthly figures (oldest first) or a monthly average.
    monthly_amounts = models.JSONField(
        _("last 12 months"), null=True, blank=True, encoder=DjangoJSONEncoder
    )
    monthly_average = models.DecimalField(
        _("monthly average"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    job_costs = models.DecimalField(
        _("necessary job costs per month"),
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("income")
        verbose_name_plural = _("incomes")
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_amounts__isnull=False) | Q(monthly_average__isnull=False),
                name="income_has_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_source_display()}"

    @property
    def counted(self) -> bool:
        return self.source not in self.EXCLUDED

    @property
    def monthly(self) -> Decimal:
        """The monthly figure: the average given, or the mean of the twelve months."""
        if self.monthly_average is not None:
            gross = self.monthly_average
        else:
            gross = sum((Decimal(str(v)) for v in self.monthly_amounts), Decimal("0")) / 12
        return max(gross - self.job_costs, Decimal("0"))


class Asset(models.Model):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("deposits")
        VEHICLE = "vehicle", _("vehicle")
        REAL_ESTATE = "real_estate", _("real estate")
        SECURITIES = "securities", _("securities and funds")
        BUSINESS = "business", _("business registration")
        OTHER = "other", _("other asset")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="assets")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="assets"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200)
    value = models.DecimalField(
        _("value (yuan)"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    exempt = models.BooleanField(
        _("necessary for living or production (exempt)"),
        default=False,
    )

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.description}"


class RigidExpenditure(models.Model):
    class Kind(models.TextChoices):
        MEDICAL = "medical", _("medical")
        EDUCATION = "education", _("education")
        DISABILITY_CARE = "disability_care", _("disability care")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="expenditures")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="expenditures"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    monthly_amount = models.DecimalField(
        _("per month (yuan)"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rigid expenditure")
        verbose_name_plural = _("rigid expenditures")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.monthly_amount}"


class Document(models.Model):
    """A file of the household's file (一户一档), kept outside any web root."""

    class Kind(models.TextChoices):
        ID_CARD = "id_card", _("identity card")
        HOUSEHOLD_REGISTER = "household_register", _("household register")
        APPLICATION = "application", _("application form")
        AUTHORISATION = "authorisation", _("verification authorisation")
        COMMITMENT = "commitment", _("commitment")
        VERIFICATION_REPORT = "verification_report", _("verification report")
        HOME_VISIT = "home_visit", _("home-visit record")
        NOTICE_PHOTO = "notice_photo", _("notice photo")
        REVIEW_MINUTES = "review_minutes", _("democratic review minutes")
        APPROVAL = "approval", _("approval form")
        OTHER = "other", _("other")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="documents")
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="households/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["kind", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"
