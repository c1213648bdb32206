"""The API of periodic reviews and adjustment proposals: the same services and the same
gate as the pages (cases.reviews.views). One view per operation; DomainError → 400,
Conflict → 409, PermissionDenied → 403 (aid_portal.api.exception_handler)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from aid_portal.steps import step_api_views
from cases import selectors
from cases.casework import selectors as casework_selectors
from cases.casework.filters import AdjustmentFilter
from cases.casework.serializers import EmptySerializer, ReasonSerializer
from cases.intake.api import _parse
from cases.intake.serializers import VillageOutSerializer
from cases.models import AdjustmentProposal, Member, PeriodicReview
from cases.reviews import selectors as review_selectors
from cases.reviews import services as review_services
from cases.reviews.steps import REVIEW

# --- output ---------------------------------------------------------------------------------


class CaseOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    village = VillageOutSerializer()
    state = serializers.CharField()
    monthly_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    next_review_on = serializers.DateField(allow_null=True)
    applicant = serializers.SerializerMethodField()

    def get_applicant(self, application) -> str | None:
        members = getattr(application.household, "applicants", None)
        if members is None:
            members = [m for m in application.household.members.all() if m.is_applicant]
        return members[0].person.name if members else None


class ReviewListSerializer(serializers.ModelSerializer):
    application = CaseOutSerializer()
    state = serializers.CharField()
    trigger = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = PeriodicReview
        fields = ["id", "application", "state", "state_display", "trigger", "due_on", "overdue"]

    def get_overdue(self, review) -> bool:
        return review.is_open and review.due_on < timezone.localdate()


class ReviewDetailSerializer(ReviewListSerializer):
    outcome = serializers.CharField()
    decision = serializers.CharField()

    class Meta:
        model = PeriodicReview
        fields = [
            *ReviewListSerializer.Meta.fields,
            "trigger_id",
            "opened_at",
            "changes",
            "redeclaration_note",
            "income_irregular",
            "redeclared_at",
            "verification",
            "outcome",
            "outcome_manual",
            "outcome_reason",
            "gap_items",
            "outcome_at",
            "decision",
            "decision_reason",
            "old_amount",
            "new_amount",
            "exit_months",
            "next_review_on",
            "decided_at",
        ]


class ProposalSerializer(serializers.ModelSerializer):
    application = CaseOutSerializer()
    action = serializers.CharField()
    source = serializers.CharField()
    status = serializers.CharField()
    proposed_by = serializers.CharField(source="proposed_by.username")
    handled_by = serializers.CharField(source="handled_by.username", default=None)

    class Meta:
        model = AdjustmentProposal
        fields = [
            "id",
            "application",
            "action",
            "reasons",
            "proposed_amount",
            "source",
            "source_id",
            "proposed_by",
            "proposed_at",
            "status",
            "handled_by",
            "handled_at",
            "handling_note",
        ]


# --- input ----------------------------------------------------------------------------------


class DeathSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    died_on = serializers.DateField()


class WorkAbilitySerializer(serializers.Serializer):
    member = serializers.IntegerField()
    work_ability = serializers.ChoiceField(choices=Member.WorkAbility.choices)


class FinishSerializer(serializers.Serializer):
    note = serializers.CharField()
    income_irregular = serializers.BooleanField(default=False)


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=PeriodicReview.Outcome.choices)
    reason = serializers.CharField()
    gap_items = serializers.ListField(child=serializers.DictField(), required=False, default=list)


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=PeriodicReview.Decision.choices)
    reason = serializers.CharField()
    monthly_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )
    exit_months = serializers.IntegerField(required=False, allow_null=True, default=None)


class HandleSerializer(serializers.Serializer):
    adopt = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    monthly_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )


# --- reviews --------------------------------------------------------------------------------


class ReviewListView(generics.ListAPIView):
    """Open periodic reviews in the user's places, the longest due first."""

    serializer_class = ReviewListSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PeriodicReview.objects.none()
        access.require_role(self.request.user, permissions.READ_REVIEWS)
        return review_selectors.review_list_for_user(user=self.request.user)


def _review_response(request, review_id: int, *, status_code=status.HTTP_200_OK):
    access.require_role(request.user, permissions.READ_REVIEWS)
    review = review_selectors.review_get_for_user(user=request.user, review_id=review_id)
    return Response(ReviewDetailSerializer(review).data, status=status_code)


class ReviewDetailView(APIView):
    """One review with what changed, the verification outcome and the decision."""

    @extend_schema(responses=ReviewDetailSerializer)
    def get(self, request, review_id: int):
        return _review_response(request, review_id)


def _review_gate(*, user, pk: int) -> PeriodicReview:
    return review_selectors.review_gate_for_user(user=user, review_id=pk)


def _parse_for(serializer_class, request, review: PeriodicReview) -> dict:
    return _parse(serializer_class, request)


def _after_step(request, review: PeriodicReview):
    return _review_response(request, review.pk)


# How the API takes each step of a review (cases.reviews.steps.REVIEW); "verification_request" is
# bound by verification (verification.requests.steps). The declaration's own endpoints add and
# remove incomes and assets during the re-declaration.
bind = REVIEW.bind_api
bind(
    "redeclaration_start",
    serializer=EmptySerializer,
    act=lambda *, actor, obj, data: review_services.review_redeclaration_start(
        actor=actor, review_id=obj.pk
    ),
    description="Open the re-declaration: the household's declaration may change.",
)
bind(
    "work_ability",
    serializer=WorkAbilitySerializer,
    act=lambda *, actor, obj, data: review_services.review_work_ability_set(
        actor=actor, review_id=obj.pk, member_id=data["member"], work_ability=data["work_ability"]
    ),
    description="A member's ability to work changed (during the re-declaration).",
)
bind(
    "redeclaration_finish",
    serializer=FinishSerializer,
    act=lambda *, actor, obj, data: review_services.review_redeclaration_finish(
        actor=actor, review_id=obj.pk, **data
    ),
    description="Close the re-declaration; what changed is recorded.",
)
bind(
    "outcome",
    serializer=OutcomeSerializer,
    act=lambda *, actor, obj, data: review_services.review_outcome_record(
        actor=actor, review_id=obj.pk, **data
    ),
    description="Record the verification outcome by hand, with reasons.",
)
bind(
    "decide",
    serializer=DecideSerializer,
    act=lambda *, actor, obj, data: review_services.review_decide(
        actor=actor, review_id=obj.pk, **data
    ),
    description="The township decides: continue, adjust, gradual exit or stop.",
)


def review_step_views() -> dict:
    """The API view of every review step bound so far, by slug (cases.api_urls routes them)."""
    return step_api_views(
        REVIEW,
        gate=_review_gate,
        parse=_parse_for,
        respond=_after_step,
        response_serializer=ReviewDetailSerializer,
    )


class ReviewOpenView(APIView):
    """Open a review of an enrolled case now (or get the one already open)."""

    @extend_schema(request=ReasonSerializer, responses={201: ReviewDetailSerializer})
    def post(self, request, application_id: int):
        app = casework_selectors.application_gate_for_user(
            user=request.user, application_id=application_id
        )
        data = _parse(ReasonSerializer, request)
        review = review_services.review_open(actor=request.user, application_id=app.pk, **data)
        return _review_response(request, review.pk, status_code=status.HTTP_201_CREATED)


class MemberDeathView(APIView):
    """Record a member's death: the case is reviewed within the county's months."""

    @extend_schema(request=DeathSerializer, responses={201: CaseOutSerializer})
    def post(self, request, application_id: int):
        app = casework_selectors.application_gate_for_user(
            user=request.user, application_id=application_id
        )
        data = _parse(DeathSerializer, request)
        review_services.member_death_record(
            actor=request.user,
            application_id=app.pk,
            member_id=data["member"],
            died_on=data["died_on"],
        )
        app = selectors.application_get_for_user(user=request.user, application_id=app.pk)
        return Response(CaseOutSerializer(app).data, status=status.HTTP_201_CREATED)


# --- adjustments ------------------------------------------------------------------------------


class AdjustmentListView(generics.ListAPIView):
    """Open adjustment proposals in the user's places, the oldest first."""

    serializer_class = ProposalSerializer
    filterset_class = AdjustmentFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AdjustmentProposal.objects.none()
        access.require_role(self.request.user, permissions.READ_REVIEWS)
        return review_selectors.adjustment_list_with_applicants(user=self.request.user)


def _proposal_response(request, proposal_id: int):
    access.require_role(request.user, permissions.READ_REVIEWS)
    proposal = review_selectors.adjustment_get_for_user(user=request.user, proposal_id=proposal_id)
    return Response(ProposalSerializer(proposal).data)


class AdjustmentDetailView(APIView):
    @extend_schema(responses=ProposalSerializer)
    def get(self, request, proposal_id: int):
        return _proposal_response(request, proposal_id)


class AdjustmentHandleView(APIView):
    """Adopt (with the amount, for an increase or decrease) or decline (with a note)."""

    @extend_schema(request=HandleSerializer, responses=ProposalSerializer)
    def post(self, request, proposal_id: int):
        proposal = review_selectors.adjustment_get_for_user(
            user=request.user, proposal_id=proposal_id
        )
        data = _parse(HandleSerializer, request)
        review_services.adjustment_handle(actor=request.user, proposal_id=proposal.pk, **data)
        return _proposal_response(request, proposal.pk)
