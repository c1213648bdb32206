"""The cases API: the operations of the pages, through the same services and the same gate.

One small view per operation: fetch what the URL names through a selector (outside
the user's places: 404), parse the input with a small serializer (400 with field
errors), call one service (DomainError 400, Conflict 409, PermissionDenied 403, all
mapped by aid_portal.api.exception_handler), and answer with one output serializer.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from aid_portal.errors import DomainError
from aid_portal.steps import step_api_views
from cases import documents, selectors, selectors_api, services
from cases import serializers as s
from cases.models import (
    Application,
    AssistanceType,
    Household,
    Member,
    NoticeObjection,
    PublicNotice,
)
from cases.steps import APPLICATION


def _parse(serializer_class, request, *, household: Household | None = None) -> dict:
    """The validated input, or a 400 with field errors."""
    serializer = serializer_class(
        data=request.data, context={"request": request, "household": household}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _application_response(request, application_id: int, *, status_code=status.HTTP_200_OK):
    application = selectors.application_get_for_user(
        user=request.user, application_id=application_id
    )
    return Response(s.ApplicationDetailSerializer(application).data, status=status_code)


def _household_response(request, household_id: int, *, status_code=status.HTTP_200_OK):
    household = selectors_api.household_detail_for_user(
        user=request.user, household_id=household_id
    )
    return Response(s.HouseholdOutSerializer(household).data, status=status_code)


# --- households and their declaration --------------------------------------------------------


class HouseholdCreateView(APIView):
    """File a new household in a village (intake: village assistants and caseworkers)."""

    @extend_schema(request=s.HouseholdCreateSerializer, responses={201: s.HouseholdOutSerializer})
    def post(self, request):
        data = _parse(s.HouseholdCreateSerializer, request)
        household = services.household_create(
            actor=request.user,
            village=data["village"],
            address=data["address"],
            phone=data["phone"],
        )
        return _household_response(request, household.pk, status_code=status.HTTP_201_CREATED)


class HouseholdDetailView(APIView):
    """A household with its members (identity numbers masked), declaration and file."""

    @extend_schema(responses=s.HouseholdOutSerializer)
    def get(self, request, household_id: int):
        return _household_response(request, household_id)


class MemberAddView(APIView):
    """Add a person to the household; birth date and sex come from the identity number."""

    @extend_schema(request=s.MemberAddSerializer, responses={201: s.MemberOutSerializer})
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(s.MemberAddSerializer, request, household=household)
        member = services.member_add(actor=request.user, household=household, **data)
        return Response(s.MemberOutSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberRemoveView(APIView):
    """Remove a member while the application is still being filled in."""

    @extend_schema(responses={204: None})
    def delete(self, request, member_id: int):
        member = selectors_api.member_get_for_user(user=request.user, member_id=member_id)
        services.member_remove(actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IncomeAddView(APIView):
    """Declare one source of a member's income: twelve monthly figures or an average."""

    @extend_schema(request=s.IncomeAddSerializer, responses={201: s.IncomeOutSerializer})
    def post(self, request, member_id: int):
        member = selectors_api.member_get_for_user(user=request.user, member_id=member_id)
        data = _parse(s.IncomeAddSerializer, request, household=member.household)
        income = services.income_add(actor=request.user, member=member, **data)
        return Response(s.IncomeOutSerializer(income).data, status=status.HTTP_201_CREATED)


class AssetAddView(APIView):
    """Declare one asset of the household (deposits, vehicle, real estate, ...)."""

    @extend_schema(request=s.AssetAddSerializer, responses={201: s.AssetOutSerializer})
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(s.AssetAddSerializer, request, household=household)
        asset = services.asset_add(actor=request.user, household=household, **data)
        return Response(s.AssetOutSerializer(asset).data, status=status.HTTP_201_CREATED)


class ExpenditureAddView(APIView):
    """Declare one rigid expenditure (medical, education, disability care) per month."""

    @extend_schema(request=s.ExpenditureAddSerializer, responses={201: s.ExpenditureOutSerializer})
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(s.ExpenditureAddSerializer, request, household=household)
        expenditure = services.expenditure_add(actor=request.user, household=household, **data)
        return Response(
            s.ExpenditureOutSerializer(expenditure).data, status=status.HTTP_201_CREATED
        )


class IncomeRemoveView(APIView):
    """Remove a declared income."""

    @extend_schema(responses={204: None})
    def delete(self, request, income_id: int):
        row = selectors_api.income_get_for_user(user=request.user, income_id=income_id)
        services.declaration_row_remove(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssetRemoveView(APIView):
    """Remove a declared asset."""

    @extend_schema(responses={204: None})
    def delete(self, request, asset_id: int):
        row = selectors_api.asset_get_for_user(user=request.user, asset_id=asset_id)
        services.declaration_row_remove(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExpenditureRemoveView(APIView):
    """Remove a declared rigid expenditure."""

    @extend_schema(responses={204: None})
    def delete(self, request, expenditure_id: int):
        row = selectors_api.expenditure_get_for_user(
            user=request.user, expenditure_id=expenditure_id
        )
        services.declaration_row_remove(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the household file ------------------------------------------------------------------------


class DocumentUploadView(APIView):
    """Add a scan (PDF, JPEG or PNG, checked by its bytes) to the household's file."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=s.DocumentUploadSerializer, responses={201: s.DocumentOutSerializer})
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(s.DocumentUploadSerializer, request, household=household)
        document = documents.document_upload(
            actor=request.user,
            household=household,
            kind=data["kind"],
            upload=data["file"],
            application=data["application"],
        )
        return Response(s.DocumentOutSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDownloadView(APIView):
    """The stored file itself; every download is recorded in the audit log."""

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    def get(self, request, document_id: int):
        document = selectors_api.document_get_for_user(user=request.user, document_id=document_id)
        documents.audit_record_read(
            actor=request.user, household=document.household, what="document.download"
        )
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )


# --- applications ---------------------------------------------------------------------------


class ApplicationFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Application.State.choices, label=_("State"))
    assistance_type = django_filters.ChoiceFilter(
        choices=AssistanceType.choices, label=_("Assistance")
    )
    village = django_filters.CharFilter(
        field_name="village__code", lookup_expr="startswith", label=_("Region code")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Decision due by")
    )
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label=_("Decision due from")
    )

    class Meta:
        model = Application
        fields = ["state", "assistance_type", "village", "due_before", "due_after"]


class ApplicationListView(generics.ListAPIView):
    """Applications in the user's places (GET, filtered and paged); open one (POST)."""

    serializer_class = s.ApplicationListSerializer
    filterset_class = ApplicationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Application.objects.none()
        access.require_role(self.request.user, permissions.READ_CASES)
        applicants = Member.objects.filter(relation=Member.Relation.SELF).select_related("person")
        return (
            selectors.application_list_for_user(user=self.request.user)
            .prefetch_related(
                Prefetch("household__members", queryset=applicants, to_attr="applicants")
            )
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        request=s.ApplicationCreateSerializer, responses={201: s.ApplicationDetailSerializer}
    )
    def post(self, request):
        data = _parse(s.ApplicationCreateSerializer, request)
        application = services.application_create(
            actor=request.user,
            household=data["household"],
            assistance_type=data["assistance_type"],
        )
        return _application_response(request, application.pk, status_code=status.HTTP_201_CREATED)


class ApplicationDetailView(APIView):
    """The case: household, members (masked), declaration, timeline and decision."""

    @extend_schema(responses=s.ApplicationDetailSerializer)
    def get(self, request, application_id: int):
        return _application_response(request, application_id)


class AmountView(APIView):
    """What the monthly amount would be today by the policy in force: the arithmetic."""

    @extend_schema(responses=s.AmountBasisSerializer)
    def get(self, request, application_id: int):
        application = selectors.application_get_for_user(
            user=request.user, application_id=application_id
        )
        return Response(services.amount_compute(application=application).as_dict())


# --- the steps of the application's path (cases.steps.APPLICATION) ---------------------------


def _application_gate(*, user, pk: int) -> Application:
    return selectors_api.application_gate_for_user(user=user, application_id=pk)


def _parse_for(serializer_class, request, application: Application) -> dict:
    return _parse(serializer_class, request, household=application.household)


def _after_step(request, application: Application):
    return _application_response(request, application.pk)


def _open_notice_of(application: Application) -> PublicNotice:
    notice = application.notices.filter(closed_at__isnull=True).first()
    if notice is None:
        raise DomainError(_("Post the public notice first."))
    return notice


def _unhandled_objection(application: Application, objection_id: int) -> NoticeObjection:
    objection = NoticeObjection.objects.filter(
        pk=objection_id, notice__application=application, handled_on__isnull=True
    ).first()
    if objection is None:
        raise DomainError(_("Choose an objection of the open notice."), field="objection")
    return objection


bind = APPLICATION.bind_api
bind(
    "submit",
    serializer=s.EmptySerializer,
    act=lambda *, actor, obj, data: services.application_submit(actor=actor, application_id=obj.pk),
    description="The family's application is complete as far as they know: hand it in.",
)
bind(
    "accept",
    serializer=s.AcceptSerializer,
    act=lambda *, actor, obj, data: services.application_accept(
        actor=actor, application_id=obj.pk, also_missing=data["also_missing"]
    ),
    description="Accept, or return with everything missing at once (also_missing adds).",
)
bind(
    "verification_outcome",
    serializer=s.VerificationOutcomeSerializer,
    act=lambda *, actor, obj, data: services.verification_outcome_record(
        actor=actor,
        application_id=obj.pk,
        outcome=data["outcome"],
        gap_items=data["gap_items"],
        reason=data["reason"],
    ),
    description="Record verification's outcome: basically consistent, or a clear gap.",
)
bind(
    "feedback_objection",
    serializer=s.FeedbackObjectionSerializer,
    act=lambda *, actor, obj, data: services.feedback_objection_record(
        actor=actor, application_id=obj.pk, text=data["text"], has_evidence=data["has_evidence"]
    ),
    description="The family objects to the gap (with evidence: a home visit follows).",
)
bind(
    "feedback_close",
    serializer=s.EmptySerializer,
    act=lambda *, actor, obj, data: services.feedback_close(actor=actor, application_id=obj.pk),
    description="Close the objection window; the case goes on to a home visit.",
)
bind(
    "home_visit",
    serializer=s.HomeVisitSerializer,
    act=lambda *, actor, obj, data: services.home_visit_record(
        actor=actor, application_id=obj.pk, **data
    ),
    description="The signed home-visit record (two investigators, a family member present).",
)
bind(
    "democratic_review",
    serializer=s.DemocraticReviewSerializer,
    act=lambda *, actor, obj, data: services.democratic_review_record(
        actor=actor, application_id=obj.pk, **data
    ),
    description="The democratic review held after an objection.",
)
bind(
    "notice_post",
    serializer=s.NoticeSerializer,
    act=lambda *, actor, obj, data: services.notice_post(
        actor=actor, application_id=obj.pk, **data
    ),
    description="Post the public notice (its length is the county's policy).",
)
bind(
    "notice_objection",
    serializer=s.NoticeObjectionSerializer,
    act=lambda *, actor, obj, data: services.notice_objection_record(
        actor=actor, notice=_open_notice_of(obj), **data
    ),
    description="An objection raised during the public notice.",
)
bind(
    "notice_objection_handle",
    serializer=s.NoticeObjectionHandleSerializer,
    act=lambda *, actor, obj, data: services.notice_objection_handle(
        actor=actor,
        objection=_unhandled_objection(obj, data["objection"]),
        handling=data["handling"],
    ),
    description="How an objection raised during the notice was handled.",
)
bind(
    "notice_close",
    serializer=s.NoticeCloseSerializer,
    act=lambda *, actor, obj, data: services.notice_close(
        actor=actor, application_id=obj.pk, reinvestigate=data["reinvestigate"]
    ),
    description="Close the notice: to the decision, or back to a home visit.",
)
bind(
    "county_check",
    serializer=s.CountyCheckSerializer,
    act=lambda *, actor, obj, data: services.county_check_record(
        actor=actor, application_id=obj.pk, **data
    ),
    description="The county's key check of a near-relative filing.",
)
bind(
    "approve",
    serializer=s.ApproveSerializer,
    act=lambda *, actor, obj, data: services.application_approve(
        actor=actor, application_id=obj.pk, start_month=data["start_month"]
    ),
    description="Approve: the amount is computed by the policy in force.",
)
bind(
    "reject",
    serializer=s.RejectSerializer,
    act=lambda *, actor, obj, data: services.application_reject(
        actor=actor, application_id=obj.pk, reasons=data["reasons"]
    ),
    description="Reject, with the reasons the family is told in writing.",
)
bind(
    "extend",
    serializer=s.ReasonSerializer,
    act=lambda *, actor, obj, data: services.application_extend(
        actor=actor, application_id=obj.pk, reason=data["reason"]
    ),
    description="Use the extended time limit, with the reason.",
)
bind(
    "withdraw",
    serializer=s.ReasonSerializer,
    act=lambda *, actor, obj, data: services.application_withdraw(
        actor=actor, application_id=obj.pk, reason=data["reason"]
    ),
    description="The family withdraws, before the decision.",
)


def application_step_views() -> dict:
    """The API view of every step bound so far, by slug (cases.api_urls routes them)."""
    return step_api_views(
        APPLICATION,
        gate=_application_gate,
        parse=_parse_for,
        respond=_after_step,
        response_serializer=s.ApplicationDetailSerializer,
    )


# --- declaration edits (no step: the application stays where it is) ----------------------------


class DeclarationEditView(APIView):
    """A change to the declaration of an application: the gate, the input, one service."""

    input_serializer = s.EmptySerializer

    def act(self, *, actor, application: Application, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, application_id: int):
        application = selectors_api.application_gate_for_user(
            user=request.user, application_id=application_id
        )
        data = _parse(self.input_serializer, request, household=application.household)
        self.act(actor=request.user, application=application, data=data)
        return _application_response(request, application_id)


def action_schema(input_serializer):
    return extend_schema(request=input_serializer, responses=s.ApplicationDetailSerializer)


@action_schema(s.ProofSerializer)
class ProofView(DeclarationEditView):
    """A catalogue proof item was provided, or replaced by a commitment."""

    input_serializer = s.ProofSerializer

    def act(self, *, actor, application, data):
        services.proof_record(
            actor=actor, application=application, item=data["item"], status=data["status"]
        )


@action_schema(s.CommitmentSerializer)
class CommitmentView(DeclarationEditView):
    """The family was told its duties and signed the declaration commitment."""

    input_serializer = s.CommitmentSerializer

    def act(self, *, actor, application, data):
        services.declaration_commit(actor=actor, application=application, **data)


@action_schema(s.AuthorisationSerializer)
class AuthorisationView(DeclarationEditView):
    """A member's signed authorisation to verify their economic status."""

    input_serializer = s.AuthorisationSerializer

    def act(self, *, actor, application, data):
        services.authorisation_record(
            actor=actor, member=data["member"], signed_on=data["signed_on"], scan=data["document"]
        )


@action_schema(s.NearRelativeSerializer)
class NearRelativeView(DeclarationEditView):
    """File that a member is, or is close kin of, an official (forces the county check)."""

    input_serializer = s.NearRelativeSerializer

    def act(self, *, actor, application, data):
        services.near_relative_file(actor=actor, application=application, **data)
