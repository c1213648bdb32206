"""The credit API: the operations of the pages, through the same services and gate.

One small view per operation: fetch what the URL names through a selector (outside the
user's places: 404), parse the input with a small serializer (400 with field errors),
call one service (DomainError 400, Conflict 409, PermissionDenied 403, mapped by
aid_portal.api.exception_handler), and answer with one output serializer.
"""

from __future__ import annotations

import django_filters
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
from cases.models import Document
from cases.services import refuse_blocked_person
from credit import selectors, services
from credit import serializers as s
from credit.models import Behaviour, Finding, Level, OutboxMessage


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


class FindingFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Finding.State.choices, label=_("State"))
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("Level"))
    household = django_filters.NumberFilter(field_name="household_id", label=_("Household"))

    class Meta:
        model = Finding
        fields = ["state", "level", "household"]


class FindingListView(generics.ListAPIView):
    """Findings in the user's places (GET, filtered and paged); record one (POST)."""

    serializer_class = s.CreditFindingListSerializer
    filterset_class = FindingFilter

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


class FindingActionView(APIView):
    """One step of a finding: the gate, the input, one service; the answer is the finding
    as it stands after the step."""

    input_serializer = s.CreditNoteSerializer

    def act(self, *, actor, finding: Finding, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, finding_id: int):
        finding = selectors.finding_gate_for_user(user=request.user, finding_id=finding_id)
        data = _parse(self.input_serializer, request)
        self.act(actor=request.user, finding=finding, data=data)
        return _finding_response(request, finding_id)


def action_schema(input_serializer):
    return extend_schema(request=input_serializer, responses=s.CreditFindingDetailSerializer)


@action_schema(s.CreditNoteSerializer)
class DecideView(FindingActionView):
    """The township's decision: light and moderate take effect; severe goes to the county."""

    def act(self, *, actor, finding, data):
        services.finding_decide(actor=actor, finding_id=finding.pk, note=data["note"])


@action_schema(s.CreditConfirmSerializer)
class ConfirmView(FindingActionView):
    """The county confirms a severe finding, with a repayment order if an amount is given."""

    input_serializer = s.CreditConfirmSerializer

    def act(self, *, actor, finding, data):
        services.finding_confirm(actor=actor, finding_id=finding.pk, **data)


@action_schema(s.CreditReasonSerializer)
class DismissView(FindingActionView):
    """The township (or, for a proposed severe finding, the county) does not confirm it."""

    input_serializer = s.CreditReasonSerializer

    def act(self, *, actor, finding, data):
        services.finding_dismiss(actor=actor, finding_id=finding.pk, reason=data["reason"])


@action_schema(s.CreditInterviewSerializer)
class InterviewView(FindingActionView):
    """Record the reminder interview as held."""

    input_serializer = s.CreditInterviewSerializer

    def act(self, *, actor, finding, data):
        if not finding.interviews.filter(pk=data["interview"]).exists():
            raise DomainError(_("No such interview."), field="interview")
        services.interview_hold(
            actor=actor,
            interview_id=data["interview"],
            notes=data["notes"],
            held_on=data["held_on"],
        )


@action_schema(s.CreditRepaymentSerializer)
class RepaymentView(FindingActionView):
    """Record a payment against the finding's repayment order."""

    input_serializer = s.CreditRepaymentSerializer

    def act(self, *, actor, finding, data):
        order = getattr(finding, "repayment_order", None)
        if order is None:
            raise DomainError(_("No such repayment order."))
        services.repayment_record(
            actor=actor, order_id=order.pk, amount=data["amount"], paid_on=data["paid_on"]
        )


@action_schema(s.CreditObjectionSerializer)
class ObjectionView(FindingActionView):
    """The person's objection, before the deadline on the notice, with evidence."""

    input_serializer = s.CreditObjectionSerializer

    def act(self, *, actor, finding, data):
        evidence = _documents(data["evidence"], finding.household_id) if data["evidence"] else []
        services.objection_lodge(
            actor=actor,
            finding_id=finding.pk,
            statement=data["statement"],
            evidence=evidence,
            lodged_on=data["lodged_on"],
        )


@action_schema(s.CreditObjectionReviewSerializer)
class ObjectionReviewView(FindingActionView):
    """Review the objection: upheld withdraws the finding and undoes its sanctions."""

    input_serializer = s.CreditObjectionReviewSerializer

    def act(self, *, actor, finding, data):
        if not finding.objections.filter(pk=data["objection"]).exists():
            raise DomainError(_("No such objection."), field="objection")
        services.objection_review(
            actor=actor, objection_id=data["objection"], upheld=data["upheld"], note=data["note"]
        )


@action_schema(s.CreditRepairApplySerializer)
class RepairApplyView(FindingActionView):
    """Apply for repair after the interview, having corrected the behaviour."""

    input_serializer = s.CreditRepairApplySerializer

    def act(self, *, actor, finding, data):
        services.repair_apply(
            actor=actor,
            finding_id=finding.pk,
            correction=data["correction"],
            applied_on=data["applied_on"],
        )


@action_schema(s.CreditRepairDecideSerializer)
class RepairDecideView(FindingActionView):
    """Grant or refuse the repair (the county for severe findings)."""

    input_serializer = s.CreditRepairDecideSerializer

    def act(self, *, actor, finding, data):
        if not finding.repairs.filter(pk=data["repair"]).exists():
            raise DomainError(_("No such repair application."), field="repair")
        services.repair_decide(
            actor=actor, repair_id=data["repair"], grant=data["grant"], note=data["note"]
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
        message = None
        try:
            number = identity_facts(request.query_params.get("identity_number", "")).number
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
