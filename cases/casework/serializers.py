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

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.casework import selectors as casework_selectors
from cases.intake import selectors as intake_selectors
from cases.intake.serializers import (
    DeclarationOutSerializer,
    DocumentOutSerializer,
    HouseholdRowField,
    NearRelativeOutSerializer,
    ProofOutSerializer,
    VillageOutSerializer,
)
from cases.models import (
    Application,
    ApplicationEvent,
    DemocraticReview,
    Document,
    ExtremePovertyException,
    HomeVisit,
    Household,
    PublicNotice,
    SelfCareLevel,
    VerificationOutcome,
)
from cases.records import MONEY


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    file = serializers.FileField()
    application = HouseholdRowField(
        selector=intake_selectors.applications_of_household,
        required=False,
        allow_null=True,
        default=None,
    )


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
    investigators_signature = HouseholdRowField(selector=intake_selectors.documents_of_household)
    family_signature = HouseholdRowField(selector=intake_selectors.documents_of_household)

    def validate_investigators(self, value):
        village = self.context["household"].village
        found = casework_selectors.investigators_for_village(village=village, identifiers=value)
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
        selector=intake_selectors.documents_of_household,
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


class ExtremePovertyExceptionSerializer(serializers.Serializer):
    reasons = serializers.CharField(
        help_text="Why the county excepts the conditions the case does not meet (10 "
        "characters at least)."
    )


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


class ExtremePovertyExceptionOutSerializer(serializers.ModelSerializer):
    confirmed_by = serializers.CharField(source="confirmed_by.username")
    conditions = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ExtremePovertyException
        fields = ["id", "conditions", "reasons", "confirmed_by", "confirmed_at"]


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
    extreme_poverty_exceptions = ExtremePovertyExceptionOutSerializer(
        many=True, help_text="The county's confirmed exceptions to the extreme-poverty conditions."
    )
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
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
            "extreme_poverty_exceptions",
            "created_at",
        ]


class CareShareSerializer(serializers.Serializer):
    """eligibility.CareShare: one member's care allowance by self-care level."""

    name = serializers.CharField()
    level = serializers.ChoiceField(choices=SelfCareLevel.choices)
    failed = serializers.IntegerField(allow_null=True)
    allowance = serializers.DecimalField(**MONEY)


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
    care = CareShareSerializer(many=True, help_text="Extreme poverty: each member's care.")
    care_amount = serializers.DecimalField(**MONEY)
