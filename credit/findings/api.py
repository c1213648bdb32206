"""The credit API: the operations of the pages, through the same services and gate.

One small view per operation: fetch what the URL names through a selector (outside the
user's places: 404), parse the input with a small serializer (400 with field errors),
call one service (DomainError 400, Conflict 409, PermissionDenied 403, mapped by
aid_portal.api.exception_handler), and answer with one output serializer.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from aid_portal.errors import DomainError
from aid_portal.identity import identity_facts
from aid_portal.models import Role
from aid_portal.steps import step_api_views
from cases.intake.services import refuse_blocked_person
from cases.models import Document
from credit.findings import selectors, services
from credit.findings import serializers as s
from credit.findings.filters import CreditFindingFilter, OutboxFilter
from credit.findings.models import (
    Behaviour,
    Finding,
    Interview,
    Objection,
    OutboxMessage,
    Repair,
    RepaymentOrder,
)
from credit.findings.steps import CREDIT_FINDING


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _documents(ids: list[int], household_id: int) -> list[Document]:
    found = list(Document.objects.filter(pk__in=ids, household_id=household_id))
    if len(found) != len(set(ids)):
        raise DomainError(
            _("The evidence must be documents of this household's file."), field="evidence"
        )
    return found


def _finding_response(request, finding_id: int, *, status_code=status.HTTP_200_OK):
    finding = selectors.finding_get_for_user(user=request.user, finding_id=finding_id)
    return Response(s.CreditFindingDetailSerializer(finding).data, status=status_code)


class FindingListView(generics.ListAPIView):
    """Findings in the user's places (GET, filtered and paged); record one (POST)."""

    serializer_class = s.CreditFindingListSerializer
    filterset_class = CreditFindingFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Finding.objects.none()
        access.require_role(self.request.user, permissions.READ_CASES)
        return selectors.finding_list_for_user(user=self.request.user)

    @extend_schema(
        request=s.CreditFindingRecordSerializer, responses={201: s.CreditFindingDetailSerializer}
    )
    def post(self, request):
        data = _parse(s.CreditFindingRecordSerializer, request)
        access.require_role(request.user, permissions.RECORD_CREDIT_FINDINGS)
        evidence = _documents(data["evidence"], data["household"]) if data["evidence"] else []
        finding = services.finding_record(
            actor=request.user,
            household_id=data["household"],
            person_id=data["person"],
            behaviour_code=data["behaviour"],
            facts=data["facts"],
            source_kind=data["source_kind"],
            source_id=data["source_id"],
            application_id=data["application"],
            evidence=evidence,
            found_on=data["found_on"],
        )
        return _finding_response(request, finding.pk, status_code=status.HTTP_201_CREATED)


class FindingDetailView(APIView):
    """A finding with its history, sanctions, interviews, objections and repairs."""

    @extend_schema(responses=s.CreditFindingDetailSerializer)
    def get(self, request, finding_id: int):
        access.require_role(request.user, permissions.READ_CASES)
        return _finding_response(request, finding_id)


# --- the steps of a finding (credit.findings.steps.CREDIT_FINDING) --------------------


def _finding_gate(*, user, pk: int) -> Finding:
    return selectors.finding_gate_for_user(user=user, finding_id=pk)


def _parse_for(serializer_class, request, finding: Finding) -> dict:
    return _parse(serializer_class, request)


def _after_step(request, finding: Finding):
    return _finding_response(request, finding.pk)


def _object(*, actor, obj: Finding, data: dict) -> None:
    evidence = _documents(data["evidence"], obj.household_id) if data["evidence"] else []
    services.objection_lodge(
        actor=actor,
        finding_id=obj.pk,
        statement=data["statement"],
        evidence=evidence,
        lodged_on=data["lodged_on"],
    )


bind = CREDIT_FINDING.bind_api
bind(
    "decide",
    serializer=s.CreditNoteSerializer,
    act=lambda *, actor, obj, data: services.finding_decide(
        actor=actor, finding_id=obj.pk, note=data["note"]
    ),
    description="The township's decision: light and moderate take effect; severe go to the county.",
)
bind(
    "confirm",
    serializer=s.CreditConfirmSerializer,
    act=lambda *, actor, obj, data: services.finding_confirm(
        actor=actor, finding_id=obj.pk, **data
    ),
    description="The county confirms a severe finding (with a repayment order, given an amount).",
)
bind(
    "dismiss",
    serializer=s.CreditReasonSerializer,
    act=lambda *, actor, obj, data: services.finding_dismiss(
        actor=actor, finding_id=obj.pk, reason=data["reason"]
    ),
    description="The township (or, for a proposed severe finding, the county) does not confirm it.",
)
bind(
    "interview",
    serializer=s.CreditInterviewSerializer,
    act=lambda *, actor, obj, data: services.interview_hold(
        actor=actor,
        interview_id=selectors.finding_row_get(
            finding=obj, model=Interview, pk=data["interview"]
        ).pk,
        notes=data["notes"],
        held_on=data["held_on"],
    ),
    description="Record the reminder interview as held.",
)
bind(
    "repayment",
    serializer=s.CreditRepaymentSerializer,
    act=lambda *, actor, obj, data: services.repayment_record(
        actor=actor,
        order_id=selectors.finding_row_get(finding=obj, model=RepaymentOrder).pk,
        amount=data["amount"],
        paid_on=data["paid_on"],
    ),
    description="Record a payment against the finding's repayment order.",
)
bind(
    "recover",
    serializer=s.CreditRecoverSerializer,
    act=lambda *, actor, obj, data: services.recovery_order(
        actor=actor,
        order_id=selectors.finding_row_get(finding=obj, model=RepaymentOrder).pk,
        amount=data["amount"],
    ),
    description="Recover from the household's payments: a recovery line on the next roster.",
)
bind(
    "object",
    serializer=s.CreditObjectionSerializer,
    act=_object,
    description="The person's objection, before the deadline on the notice, with evidence.",
)
bind(
    "objection_review",
    serializer=s.CreditObjectionReviewSerializer,
    act=lambda *, actor, obj, data: services.objection_review(
        actor=actor,
        objection_id=selectors.finding_row_get(
            finding=obj, model=Objection, pk=data["objection"]
        ).pk,
        upheld=data["upheld"],
        note=data["note"],
    ),
    description="Review the objection: upheld withdraws the finding and undoes its sanctions.",
)
bind(
    "repair_apply",
    serializer=s.CreditRepairApplySerializer,
    act=lambda *, actor, obj, data: services.repair_apply(
        actor=actor,
        finding_id=obj.pk,
        correction=data["correction"],
        applied_on=data["applied_on"],
    ),
    description="Apply for repair after the interview, having corrected the behaviour.",
)
bind(
    "repair_decide",
    serializer=s.CreditRepairDecideSerializer,
    act=lambda *, actor, obj, data: services.repair_decide(
        actor=actor,
        repair_id=selectors.finding_row_get(finding=obj, model=Repair, pk=data["repair"]).pk,
        grant=data["grant"],
        note=data["note"],
    ),
    description="Grant or refuse the repair (the county for severe findings).",
)


def finding_step_views() -> dict:
    """The API view of every step of a finding, by slug (credit.api_urls routes them)."""
    return step_api_views(
        CREDIT_FINDING,
        gate=_finding_gate,
        parse=_parse_for,
        respond=_after_step,
        response_serializer=s.CreditFindingDetailSerializer,
    )


class BehaviourListView(generics.ListAPIView):
    """The catalogue of untrustworthy behaviours in use."""

    serializer_class = s.CreditBehaviourSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Behaviour.objects.none()
        access.require_role(self.request.user, permissions.READ_CASES)
        return Behaviour.objects.filter(active=True).order_by("source", "code")


class OutboxListView(generics.ListAPIView):
    """Messages to the credit-information platform and whether they were delivered."""

    serializer_class = s.CreditOutboxSerializer
    filterset_class = OutboxFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OutboxMessage.objects.none()
        access.require_role(self.request.user, permissions.KEEP_CREDIT_OUTBOX)
        return selectors.outbox_for_user(user=self.request.user)


class OutboxExportView(APIView):
    """Every record as JSON lines, for a platform reached by file."""

    @extend_schema(
        request=None,
        responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def post(self, request):
        body = services.outbox_export(actor=request.user)
        return HttpResponse(body, content_type="application/x-ndjson; charset=utf-8")


class BlockCheckView(APIView):
    """Is the person with this identity number barred from new applications?"""

    @extend_schema(
        parameters=[OpenApiParameter("identity_number", str, required=True)],
        responses=s.CreditBlockCheckSerializer,
    )
    def get(self, request):
        access.require_role(request.user, {Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_CASEWORKER})
        if "identity_number" not in request.query_params:
            # The schema makes it required: asking about nobody is a malformed request.
            raise DomainError(_("Enter the identity number."), field="identity_number")
        message = None
        try:
            number = identity_facts(request.query_params["identity_number"]).number
        except ValidationError:
            number = None
        if number:
            try:
                refuse_blocked_person(number)
            except DomainError as exc:
                message = exc.message
        return Response(
            s.CreditBlockCheckSerializer({"blocked": message is not None, "message": message}).data
        )
