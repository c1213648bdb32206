"""Serializers of the cases API: small inputs (one per operation) and the outputs.

Inputs only parse and check shapes; the rules live in the services, which the views
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
from cases import selectors
from cases.intake import selectors as intake_selectors
from cases.models import (
    Application,
    Asset,
    AssistanceType,
    DailyAbility,
    Document,
    Household,
    Income,
    Member,
    NearRelativeFiling,
    ProofItem,
    ProofStatus,
    RigidExpenditure,
    SelfCareLevel,
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
        choices=Member.WorkAbility.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Blank: the default that follows the age (unable under 16, at 60 or over, "
        "or while in school).",
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
    self_care_failed = serializers.ListField(
        child=serializers.ChoiceField(choices=DailyAbility.choices),
        allow_null=True,
        required=False,
        default=None,
        help_text="The self-care assessment: the daily abilities the person cannot manage "
        "([] = self-sufficient); null or left out = not assessed.",
    )


class MemberUpdateSerializer(serializers.Serializer):
    """A member's details to correct; what is left out stays as it is. Blank
    work_ability: the default that follows the age (domain.md §8)."""

    name = serializers.CharField(max_length=50, required=False)
    relation = serializers.ChoiceField(choices=Member.Relation.choices, required=False)
    is_supporter = serializers.BooleanField(required=False)
    work_ability = serializers.ChoiceField(
        choices=Member.WorkAbility.choices, required=False, allow_blank=True
    )
    disability = serializers.ChoiceField(
        choices=Member.Disability.choices, required=False, allow_blank=True
    )
    disability_grade = serializers.IntegerField(
        min_value=1, max_value=4, required=False, allow_null=True
    )
    health = serializers.ChoiceField(choices=Member.Health.choices, required=False)
    health_note = serializers.CharField(required=False, allow_blank=True)
    is_student = serializers.BooleanField(required=False)
    self_care_failed = serializers.ListField(
        child=serializers.ChoiceField(choices=DailyAbility.choices),
        allow_null=True,
        required=False,
        help_text="The daily abilities the person cannot manage ([] = self-sufficient; "
        "null = not assessed).",
    )


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
        selector=intake_selectors.members_of_household,
        required=False,
        allow_null=True,
        default=None,
    )
    exempt = serializers.BooleanField(default=False)


class ExpenditureAddSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RigidExpenditure.Kind.choices)
    monthly_amount = _amount()
    member = HouseholdRowField(
        selector=intake_selectors.members_of_household,
        required=False,
        allow_null=True,
        default=None,
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
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


class ProofSerializer(serializers.Serializer):
    item = serializers.SlugRelatedField(
        slug_field="code", queryset=ProofItem.objects.filter(active=True)
    )
    status = serializers.ChoiceField(choices=ProofStatus.Status.choices)


class CommitmentSerializer(serializers.Serializer):
    signed_on = serializers.DateField()
    informed_on = serializers.DateField()


class AuthorisationSerializer(serializers.Serializer):
    member = HouseholdRowField(selector=intake_selectors.members_of_household)
    signed_on = serializers.DateField()
    document = HouseholdRowField(
        selector=intake_selectors.documents_of_household,
        required=False,
        allow_null=True,
        default=None,
        help_text="The id of the signed authorisation's scan.",
    )


class NearRelativeSerializer(serializers.Serializer):
    member = HouseholdRowField(selector=intake_selectors.members_of_household)
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
    self_care_level = serializers.ChoiceField(choices=SelfCareLevel.choices, read_only=True)

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
            "self_care_failed",
            "self_care_level",
            "authorised_on",
            "incomes",
        ]

    @extend_schema_field(serializers.DateField(allow_null=True))  # null: not yet authorised
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


class DeclarationOutSerializer(serializers.Serializer):
    """The household's declaration: members with their incomes, assets, expenditures."""

    members = MemberOutSerializer(many=True)
    assets = AssetOutSerializer(many=True)
    expenditures = ExpenditureOutSerializer(many=True)
