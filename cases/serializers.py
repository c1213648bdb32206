"""Serializers of the cases API: small inputs (one per operation) and the outputs.

Inputs only parse and check shapes; the rules live in cases.services, which the views
call. References to other objects (a household, a member, a scan) resolve inside what
the caller may already see: the household in the serializer's context, or the user's
jurisdiction, so an id from elsewhere is "does not exist", never a hint.

Outputs show identity numbers masked. Choice values that several objects share a name
for (``kind``, ``source``, ``status``) are plain strings in outputs, with a ``*_display``
label beside them, so that each choice set has one name in the OpenAPI schema.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aid_portal import selectors as core_selectors
from aid_portal.identity import IdentityNumberSerializerField
from aid_portal.models import Region
from cases import selectors, selectors_api
from cases.models import (
    Application,
    ApplicationEvent,
    Asset,
    AssistanceType,
    DemocraticReview,
    Document,
    HomeVisit,
    Household,
    Income,
    Member,
    NearRelativeFiling,
    ProofItem,
    ProofStatus,
    PublicNotice,
    RigidExpenditure,
    VerificationOutcome,
)

MONEY = {"max_digits": 12, "decimal_places": 2}


# --- references --------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class HouseholdRowField(serializers.Field):
    """The id of a row of the household in context (``selector`` gives its rows)."""

    default_error_messages = {
        "invalid": _("Give the id (a whole number)."),
        "does_not_exist": _("There is no such item in this household."),
    }

    def __init__(self, *, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("invalid")
        row = self.selector(household=self.context["household"]).filter(pk=pk).first()
        if row is None:
            self.fail("does_not_exist")
        return row

    def to_representation(self, value):
        return value.pk


class VillageField(serializers.CharField):
    """A village by its 12-digit code, among the regions the user may see."""

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        try:
            region = core_selectors.region_get_for_user(
                user=self.context["request"].user, code=code
            )
        except Http404:
            raise serializers.ValidationError(
                _("There is no such village in your places.")
            ) from None
        if region.level != Region.Level.VILLAGE:
            raise serializers.ValidationError(_("A household is filed in a village."))
        return region


# --- inputs: the household and its declaration -------------------------------------------


class HouseholdCreateSerializer(serializers.Serializer):
    village = VillageField(help_text="The 12-digit division code of the village.")
    address = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class MemberAddSerializer(serializers.Serializer):
    identity_number = IdentityNumberSerializerField(max_length=30)
    name = serializers.CharField(max_length=50)
    relation = serializers.ChoiceField(choices=Member.Relation.choices)
    is_supporter = serializers.BooleanField(default=False)
    work_ability = serializers.ChoiceField(
        choices=Member.WorkAbility.choices, default=Member.WorkAbility.FULL
    )
    disability = serializers.ChoiceField(
        choices=Member.Disability.choices, required=False, allow_blank=True, default=""
    )
    disability_grade = serializers.IntegerField(
        min_value=1, max_value=4, required=False, allow_null=True, default=None
    )
    health = serializers.ChoiceField(choices=Member.Health.choices, default=Member.Health.HEALTHY)
    health_note = serializers.CharField(required=False, allow_blank=True, default="")
    is_student = serializers.BooleanField(default=False)


def _amount(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, min_value=0, **kwargs)


class IncomeAddSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Income.Source.choices)
    monthly_amounts = serializers.ListField(
        child=_amount(),
        min_length=12,
        max_length=12,
        required=False,
        allow_null=True,
        default=None,
        help_text="Twelve monthly figures, oldest first; or give monthly_average.",
    )
    monthly_average = _amount(required=False, allow_null=True, default=None)
    job_costs = _amount(required=False, default=0)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if (attrs["monthly_amounts"] is None) == (attrs["monthly_average"] is None):
            raise serializers.ValidationError(
                {
                    "monthly_average": [
                        _("Give either the twelve monthly figures or a monthly average.")
                    ]
                }
            )
        return attrs


class AssetAddSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Asset.Kind.choices)
    description = serializers.CharField(max_length=200)
    value = serializers.DecimalField(**MONEY, min_value=0)
    member = HouseholdRowField(
        selector=selectors_api.members_of_household, required=False, allow_null=True, default=None
    )
    exempt = serializers.BooleanField(default=False)


class ExpenditureAddSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RigidExpenditure.Kind.choices)
    monthly_amount = _amount()
    member = HouseholdRowField(
        selector=selectors_api.members_of_household, required=False, allow_null=True, default=None
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    file = serializers.FileField()
    application = HouseholdRowField(
        selector=selectors_api.applications_of_household,
        required=False,
        allow_null=True,
        default=None,
    )


# --- inputs: the application ---------------------------------------------------------------


class ApplicationCreateSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    assistance_type = serializers.ChoiceField(choices=AssistanceType.choices)

    def validate_household(self, value):
        try:
            return selectors.household_get_for_user(
                user=self.context["request"].user, household_id=value
            )
        except Http404:
            raise serializers.ValidationError(
                _("There is no such household in your places.")
            ) from None


class EmptySerializer(serializers.Serializer):
    """An action that needs nothing but the application."""


class AcceptSerializer(serializers.Serializer):
    also_missing = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        help_text="What the caseworker found missing beyond the automatic checks.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class VerificationOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=VerificationOutcome.Outcome.choices)
    gap_items = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class FeedbackObjectionSerializer(serializers.Serializer):
    text = serializers.CharField()
    has_evidence = serializers.BooleanField(default=False)


class HomeVisitSerializer(serializers.Serializer):
    visited_on = serializers.DateField()
    investigators = serializers.ListField(
        child=serializers.CharField(max_length=150),
        help_text=(
            "Usernames or ids of the investigators: at least as many as the county's "
            "policy asks (home_visit_investigators, two by default)."
        ),
    )
    family_member_present = serializers.CharField(max_length=50)
    findings = serializers.CharField()
    investigators_signature = HouseholdRowField(selector=selectors_api.documents_of_household)
    family_signature = HouseholdRowField(selector=selectors_api.documents_of_household)

    def validate_investigators(self, value):
        village = self.context["household"].village
        found = selectors_api.investigators_for_village(village=village, identifiers=value)
        unknown = [i for i in value if i.strip() not in found]
        if unknown:
            raise serializers.ValidationError(
                _("Not a member of staff working in this village: %(names)s")
                % {"names": ", ".join(unknown)}
            )
        return list({user.pk: user for user in found.values()}.values())


class DemocraticReviewSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    # Only the column's size: how many must take part is the service's rule.
    participants = serializers.IntegerField(max_value=2**15 - 1)
    opinion = serializers.CharField()
    minutes = HouseholdRowField(
        selector=selectors_api.documents_of_household,
        required=False,
        allow_null=True,
        default=None,
    )


class NoticeSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    place = serializers.CharField(max_length=200)


class NoticeObjectionSerializer(serializers.Serializer):
    objector = serializers.CharField(max_length=100)
    content = serializers.CharField()
    raised_on = serializers.DateField()


class NoticeObjectionHandleSerializer(serializers.Serializer):
    objection = serializers.IntegerField(help_text=_("An objection of the open notice."))
    handling = serializers.CharField()


class NoticeCloseSerializer(serializers.Serializer):
    reinvestigate = serializers.BooleanField(default=False)


class CountyCheckSerializer(serializers.Serializer):
    done_on = serializers.DateField()
    findings = serializers.CharField()


class ApproveSerializer(serializers.Serializer):
    start_month = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="First month of payment (any day of it); the month after today if left out.",
    )


class RejectSerializer(serializers.Serializer):
    reasons = serializers.CharField(help_text="The written reasons, printed on the notice.")


class ProofSerializer(serializers.Serializer):
    item = serializers.SlugRelatedField(
        slug_field="code", queryset=ProofItem.objects.filter(active=True)
    )
    status = serializers.ChoiceField(choices=ProofStatus.Status.choices)


class CommitmentSerializer(serializers.Serializer):
    signed_on = serializers.DateField()
    informed_on = serializers.DateField()


class AuthorisationSerializer(serializers.Serializer):
    member = HouseholdRowField(selector=selectors_api.members_of_household)
    signed_on = serializers.DateField()
    document = HouseholdRowField(
        selector=selectors_api.documents_of_household,
        required=False,
        allow_null=True,
        default=None,
        help_text="The id of the signed authorisation's scan.",
    )


class NearRelativeSerializer(serializers.Serializer):
    member = HouseholdRowField(selector=selectors_api.members_of_household)
    official_name = serializers.CharField(max_length=50)
    position = serializers.ChoiceField(choices=NearRelativeFiling.Position.choices)
    kinship = serializers.CharField(max_length=50)


# --- outputs -----------------------------------------------------------------------------


class VillageOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class IncomeOutSerializer(serializers.ModelSerializer):
    source = serializers.CharField()
    source_display = serializers.CharField(source="get_source_display")
    monthly = serializers.DecimalField(
        **MONEY, help_text="Counted monthly figure, net of job costs."
    )
    counted = serializers.BooleanField()

    class Meta:
        model = Income
        fields = [
            "id",
            "source",
            "source_display",
            "monthly_amounts",
            "monthly_average",
            "job_costs",
            "monthly",
            "counted",
            "note",
        ]


class MemberOutSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name")
    identity_number = serializers.CharField(
        source="person.masked_identity_number", help_text="Masked: area code and last four."
    )
    birth_date = serializers.DateField(source="person.birth_date")
    sex = serializers.CharField(source="person.sex")
    authorised_on = serializers.SerializerMethodField()
    incomes = IncomeOutSerializer(many=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "identity_number",
            "birth_date",
            "sex",
            "relation",
            "is_supporter",
            "work_ability",
            "disability",
            "disability_grade",
            "health",
            "is_student",
            "authorised_on",
            "incomes",
        ]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_authorised_on(self, member):
        authorisation = getattr(member, "authorisation", None)
        return authorisation.signed_on if authorisation else None


class AssetOutSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Asset
        fields = ["id", "member", "kind", "kind_display", "description", "value", "exempt"]


class ExpenditureOutSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = RigidExpenditure
        fields = ["id", "member", "kind", "kind_display", "monthly_amount", "description"]


class DocumentOutSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    download = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "kind_display",
            "application",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "download",
        ]

    def get_download(self, document) -> str:
        return reverse("api-cases-document-download", args=[document.pk])


class ApplicationSummarySerializer(serializers.ModelSerializer):
    number = serializers.CharField()

    class Meta:
        model = Application
        fields = ["id", "number", "assistance_type", "state", "due_on", "created_at"]


class HouseholdOutSerializer(serializers.ModelSerializer):
    village = VillageOutSerializer()
    members = MemberOutSerializer(many=True)
    assets = AssetOutSerializer(many=True)
    expenditures = ExpenditureOutSerializer(many=True)
    applications = ApplicationSummarySerializer(many=True)
    documents = DocumentOutSerializer(many=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "village",
            "address",
            "phone",
            "created_at",
            "members",
            "assets",
            "expenditures",
            "applications",
            "documents",
        ]


class ApplicationListSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    village = VillageOutSerializer()
    applicant = serializers.SerializerMethodField()
    member_count = serializers.IntegerField()
    state_display = serializers.CharField(source="get_state_display")

    class Meta:
        model = Application
        fields = [
            "id",
            "number",
            "household",
            "village",
            "applicant",
            "member_count",
            "assistance_type",
            "state",
            "state_display",
            "path",
            "accepted_on",
            "due_on",
            "created_at",
        ]

    def get_applicant(self, application) -> str | None:
        applicants = application.household.applicants
        return applicants[0].person.name if applicants else None


class EventOutSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = ApplicationEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "reason", "data"]


class ProofOutSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")
    item_name = serializers.CharField(source="item.name")
    status = serializers.CharField()

    class Meta:
        model = ProofStatus
        fields = ["item", "item_name", "status", "recorded_on"]


class NearRelativeOutSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.person.name")

    class Meta:
        model = NearRelativeFiling
        fields = ["id", "member", "member_name", "official_name", "position", "kinship", "filed_on"]


class VerificationOutcomeOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerificationOutcome
        fields = [
            "outcome",
            "gap_items",
            "reason",
            "recorded_at",
            "objection_deadline",
            "family_objected",
            "objection_text",
        ]


class HomeVisitOutSerializer(serializers.ModelSerializer):
    investigators = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = HomeVisit
        fields = [
            "visited_on",
            "investigators",
            "family_member_present",
            "findings",
            "investigators_signature",
            "family_signature",
        ]


class NoticeOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = PublicNotice
        fields = ["starts_on", "ends_on", "place", "closed_at"]


class ReviewOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = DemocraticReview
        fields = ["held_on", "participants", "opinion", "minutes"]


class DeclarationOutSerializer(serializers.Serializer):
    """The household's declaration: members with their incomes, assets, expenditures."""

    members = MemberOutSerializer(many=True)
    assets = AssetOutSerializer(many=True)
    expenditures = ExpenditureOutSerializer(many=True)


class HouseholdBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "address", "phone"]


class ApplicationDetailSerializer(serializers.ModelSerializer):
    """The case: household, declaration, the steps so far (timeline) and the decision."""

    number = serializers.CharField()
    village = VillageOutSerializer()
    household = HouseholdBriefSerializer()
    declaration = DeclarationOutSerializer(source="household")
    state_display = serializers.CharField(source="get_state_display")
    proofs = ProofOutSerializer(many=True)
    near_relative_filings = NearRelativeOutSerializer(many=True)
    verification_outcomes = VerificationOutcomeOutSerializer(many=True)
    home_visits = HomeVisitOutSerializer(many=True)
    notices = NoticeOutSerializer(many=True)
    reviews = ReviewOutSerializer(many=True)
    documents = DocumentOutSerializer(many=True)
    events = EventOutSerializer(many=True, help_text="The timeline, oldest first.")
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    amount_basis = serializers.JSONField(
        allow_null=True, help_text="The arithmetic behind monthly_amount, as computed at approval."
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "number",
            "village",
            "household",
            "assistance_type",
            "state",
            "state_display",
            "path",
            "extended",
            "informed_on",
            "declaration_committed_on",
            "submitted_at",
            "accepted_on",
            "investigation_due_on",
            "due_on",
            "missing_items",
            "declaration",
            "proofs",
            "near_relative_filings",
            "verification_outcomes",
            "home_visits",
            "notices",
            "reviews",
            "documents",
            "events",
            "decided_at",
            "decided_by",
            "monthly_amount",
            "amount_basis",
            "start_month",
            "rejection_reasons",
            "county_check_done_on",
            "created_at",
        ]


class AmountBasisSerializer(serializers.Serializer):
    """services.AmountBasis: the monthly amount and how it was computed."""

    assistance_type = serializers.CharField()
    members = serializers.IntegerField()
    monthly_income = serializers.DecimalField(**MONEY)
    monthly_rigid_expenditure = serializers.DecimalField(**MONEY)
    per_capita_income = serializers.DecimalField(**MONEY)
    standard = serializers.DecimalField(**MONEY)
    threshold = serializers.DecimalField(**MONEY)
    eligible = serializers.BooleanField()
    monthly_amount = serializers.DecimalField(**MONEY)
    rule = serializers.CharField()
    policy_from = serializers.DateField()
