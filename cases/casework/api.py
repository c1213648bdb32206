"""The cases API: the operations of the pages, through the same services and the same gate.

One small view per operation: fetch what the URL names through a selector (outside
the user's places: 404), parse the input with a small serializer (400 with field
errors), call one service (DomainError 400, Conflict 409, PermissionDenied 403, all
mapped by aid_portal.api.exception_handler), and answer with one output serializer.
"""

from __future__ import annotations

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
from cases import eligibility, selectors
from cases.casework import documents
from cases.casework import selectors as casework_selectors
from cases.casework import serializers as casework_serializers
from cases.casework import services as casework_services
from cases.casework.filters import ApplicationFilter
from cases.casework.steps import APPLICATION
from cases.intake import serializers as intake_serializers
from cases.intake import services as intake_services
from cases.intake.api import _application_response, _parse
from cases.models import (
    Application,
    Member,
    NoticeObjection,
)

# --- the household file ------------------------------------------------------------------------


class DocumentUploadView(APIView):
    """Add a scan (PDF, JPEG or PNG, checked by its bytes) to the household's file."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=casework_serializers.DocumentUploadSerializer,
        responses={201: intake_serializers.DocumentOutSerializer},
    )
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(casework_serializers.DocumentUploadSerializer, request, household=household)
        document = documents.document_upload(
            actor=request.user,
            household=household,
            kind=data["kind"],
            upload=data["file"],
            application=data["application"],
        )
        return Response(
            intake_serializers.DocumentOutSerializer(document).data, status=status.HTTP_201_CREATED
        )


class DocumentDownloadView(APIView):
    """The stored file itself; every download is recorded in the audit log."""

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    def get(self, request, document_id: int):
        document = casework_selectors.document_get_for_user(
            user=request.user, document_id=document_id
        )
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


class ApplicationListView(generics.ListAPIView):
    """Applications in the user's places (GET, filtered and paged); open one (POST)."""

    serializer_class = casework_serializers.ApplicationListSerializer
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
        request=intake_serializers.ApplicationCreateSerializer,
        responses={201: casework_serializers.ApplicationDetailSerializer},
    )
    def post(self, request):
        data = _parse(intake_serializers.ApplicationCreateSerializer, request)
        application = intake_services.application_create(
            actor=request.user,
            household=data["household"],
            assistance_type=data["assistance_type"],
        )
        return _application_response(request, application.pk, status_code=status.HTTP_201_CREATED)


class ApplicationDetailView(APIView):
    """The case: household, members (masked), declaration, timeline and decision."""

    @extend_schema(responses=casework_serializers.ApplicationDetailSerializer)
    def get(self, request, application_id: int):
        return _application_response(request, application_id)


class AmountView(APIView):
    """What the monthly amount would be today by the policy in force: the arithmetic."""

    # 400: no policy in force, or a declaration the arithmetic cannot use yet.
    @extend_schema(
        responses={
            200: casework_serializers.AmountBasisSerializer,
            400: OpenApiResponse(description="The amount cannot be worked out yet."),
        }
    )
    def get(self, request, application_id: int):
        application = selectors.application_get_for_user(
            user=request.user, application_id=application_id
        )
        return Response(eligibility.amount_compute(application=application).as_dict())


# --- the steps of the application's path (cases.casework.steps.APPLICATION) ---------------------


def _application_gate(*, user, pk: int) -> Application:
    return casework_selectors.application_gate_for_user(user=user, application_id=pk)


def _parse_for(serializer_class, request, application: Application) -> dict:
    return _parse(serializer_class, request, household=application.household)


def _after_step(request, application: Application):
    return _application_response(request, application.pk)


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
    serializer=casework_serializers.EmptySerializer,
    act=lambda *, actor, obj, data: intake_services.application_submit(
        actor=actor, application_id=obj.pk
    ),
    description="The family's application is complete as far as they know: hand it in.",
)


bind(
    "accept",
    serializer=casework_serializers.AcceptSerializer,
    act=lambda *, actor, obj, data: casework_services.application_accept(
        actor=actor, application_id=obj.pk, also_missing=data["also_missing"]
    ),
    description="Accept, or return with everything missing at once (also_missing adds).",
)


bind(
    "verification_outcome",
    serializer=casework_serializers.VerificationOutcomeSerializer,
    act=lambda *, actor, obj, data: casework_services.verification_outcome_record(
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
    serializer=casework_serializers.FeedbackObjectionSerializer,
    act=lambda *, actor, obj, data: casework_services.feedback_objection_record(
        actor=actor, application_id=obj.pk, text=data["text"], has_evidence=data["has_evidence"]
    ),
    description="The family objects to the gap (with evidence: a home visit follows).",
)


bind(
    "feedback_close",
    serializer=casework_serializers.EmptySerializer,
    act=lambda *, actor, obj, data: casework_services.feedback_close(
        actor=actor, application_id=obj.pk
    ),
    description="Close the objection window; the case goes on to a home visit.",
)


bind(
    "home_visit",
    serializer=casework_serializers.HomeVisitSerializer,
    act=lambda *, actor, obj, data: casework_services.home_visit_record(
        actor=actor, application_id=obj.pk, **data
    ),
    description="The signed home-visit record (two investigators, a family member present).",
)


bind(
    "democratic_review",
    serializer=casework_serializers.DemocraticReviewSerializer,
    act=lambda *, actor, obj, data: casework_services.democratic_review_record(
        actor=actor, application_id=obj.pk, **data
    ),
    description="The democratic review held after an objection.",
)


bind(
    "notice_post",
    serializer=casework_serializers.NoticeSerializer,
    act=lambda *, actor, obj, data: casework_services.notice_post(
        actor=actor, application_id=obj.pk, **data
    ),
    description="Post the public notice (its length is the county's policy).",
)


bind(
    "notice_objection",
    serializer=casework_serializers.NoticeObjectionSerializer,
    act=lambda *, actor, obj, data: casework_services.notice_objection_record(
        actor=actor, notice=casework_selectors.open_notice_for_step(obj), **data
    ),
    description="An objection raised during the public notice.",
)


bind(
    "notice_objection_handle",
    serializer=casework_serializers.NoticeObjectionHandleSerializer,
    act=lambda *, actor, obj, data: casework_services.notice_objection_handle(
        actor=actor,
        objection=_unhandled_objection(obj, data["objection"]),
        handling=data["handling"],
    ),
    description="How an objection raised during the notice was handled.",
)


bind(
    "notice_close",
    serializer=casework_serializers.NoticeCloseSerializer,
    act=lambda *, actor, obj, data: casework_services.notice_close(
        actor=actor, application_id=obj.pk, reinvestigate=data["reinvestigate"]
    ),
    description="Close the notice: to the decision, or back to a home visit.",
)


bind(
    "county_check",
    serializer=casework_serializers.CountyCheckSerializer,
    act=lambda *, actor, obj, data: casework_services.county_check_record(
        actor=actor, application_id=obj.pk, **data
    ),
    description="The county's key check of a near-relative filing.",
)


bind(
    "extreme_poverty_exception",
    serializer=casework_serializers.ExtremePovertyExceptionSerializer,
    act=lambda *, actor, obj, data: casework_services.extreme_poverty_exception_record(
        actor=actor, application_id=obj.pk, reasons=data["reasons"]
    ),
    description="The county's confirmed exception to the extreme-poverty conditions the "
    "case does not meet, with reasons.",
)


bind(
    "approve",
    serializer=casework_serializers.ApproveSerializer,
    act=lambda *, actor, obj, data: casework_services.application_approve(
        actor=actor, application_id=obj.pk, start_month=data["start_month"]
    ),
    description="Approve: the amount is computed by the policy in force.",
)


bind(
    "reject",
    serializer=casework_serializers.RejectSerializer,
    act=lambda *, actor, obj, data: casework_services.application_reject(
        actor=actor, application_id=obj.pk, reasons=data["reasons"]
    ),
    description="Reject, with the reasons the family is told in writing.",
)


bind(
    "extend",
    serializer=casework_serializers.ReasonSerializer,
    act=lambda *, actor, obj, data: casework_services.application_extend(
        actor=actor, application_id=obj.pk, reason=data["reason"]
    ),
    description="Use the extended time limit, with the reason.",
)


bind(
    "withdraw",
    serializer=casework_serializers.ReasonSerializer,
    act=lambda *, actor, obj, data: casework_services.application_withdraw(
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
        response_serializer=casework_serializers.ApplicationDetailSerializer,
    )
