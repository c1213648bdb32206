"""The payment API: the operations of the payment pages, through the same services and
gate. Lists and objects start from the user's jurisdiction for payments; steps go through
the declared table (cases.payments.steps.ROSTER)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from aid_portal.errors import DomainError
from aid_portal.steps import step_api_views
from cases.payments import bankfiles, selectors, services
from cases.payments import serializers as s
from cases.payments.filters import FailedLineFilter, RosterFilter
from cases.payments.models import Bank, Roster, RosterLine
from cases.payments.steps import ROSTER


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _bank(code: str) -> Bank:
    bank = Bank.objects.filter(code=code, active=True).first()
    if bank is None:
        raise DomainError(_("No such bank."), field="bank")
    return bank


def _roster_response(request, roster_id: int, *, status_code=status.HTTP_200_OK):
    roster = selectors.roster_get(user=request.user, roster_id=roster_id)
    return Response(s.RosterDetailSerializer(roster).data, status=status_code)


class RosterListView(generics.ListAPIView):
    """Rosters in the user's places (GET); prepare a township's month (POST)."""

    serializer_class = s.RosterSerializer
    filterset_class = RosterFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Roster.objects.none()
        access.require_role(self.request.user, permissions.READ_PAYMENTS)
        return selectors.roster_list_for_user(user=self.request.user)

    @extend_schema(request=s.RosterPrepareSerializer, responses={201: s.RosterDetailSerializer})
    def post(self, request):
        access.require_role(request.user, permissions.PREPARE_ROSTERS)
        data = _parse(s.RosterPrepareSerializer, request)
        roster = services.roster_prepare(
            actor=request.user, township_id=data["township"], month=data["month"]
        )
        return _roster_response(request, roster.pk, status_code=status.HTTP_201_CREATED)


class SupplementaryView(APIView):
    """Prepare a supplementary roster: failed lines re-issued, lines still due."""

    @extend_schema(
        request=s.SupplementaryPrepareSerializer, responses={201: s.RosterDetailSerializer}
    )
    def post(self, request):
        access.require_role(request.user, permissions.PREPARE_ROSTERS)
        data = _parse(s.SupplementaryPrepareSerializer, request)
        roster = services.supplementary_prepare(
            actor=request.user,
            township_id=data["township"],
            month=data["month"],
            reissue_line_ids=data["reissue_lines"],
        )
        return _roster_response(request, roster.pk, status_code=status.HTTP_201_CREATED)


class RosterDetailView(APIView):
    """A roster with its lines (accounts masked)."""

    @extend_schema(responses=s.RosterDetailSerializer)
    def get(self, request, roster_id: int):
        access.require_role(request.user, permissions.READ_PAYMENTS)
        return _roster_response(request, roster_id)


class BankFileView(APIView):
    """The file for one bank of a frozen roster (audited: it carries full numbers)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("bank", str, required=True, description="The bank's code."),
            OpenApiParameter("form", str, enum=["csv", "xlsx", "jsonl"], required=True),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, roster_id: int):
        access.require_role(request.user, permissions.READ_PAYMENTS)
        roster = selectors.roster_get(user=request.user, roster_id=roster_id)
        access.require_role(request.user, permissions.EXCHANGE_BANK_FILES, roster.township)
        content, kind, name = bankfiles.bank_file(
            actor=request.user,
            roster=roster,
            bank=_bank(request.query_params.get("bank", "")),
            form=request.query_params.get("form", ""),
        )
        response = HttpResponse(content, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class FailedLineListView(generics.ListAPIView):
    """Failed payments not yet re-issued, in the user's places."""

    serializer_class = s.RosterLineSerializer
    filterset_class = FailedLineFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RosterLine.objects.none()
        access.require_role(self.request.user, permissions.READ_PAYMENTS)
        return selectors.failed_lines_for_user(user=self.request.user)


class AccountView(APIView):
    """Record a household's payment account (the current one is kept, replaced)."""

    @extend_schema(request=s.PaymentAccountSetSerializer, responses={201: None})
    def post(self, request, household_id: int):
        access.require_role(request.user, permissions.PREPARE_ROSTERS)
        data = _parse(s.PaymentAccountSetSerializer, request)
        account = services.account_set(
            actor=request.user,
            household_id=household_id,
            bank_id=_bank(data["bank"]).pk,
            number=data["number"],
            holder_name=data["holder_name"],
            reason=data["reason"],
        )
        return Response(
            {"id": account.pk, "bank": account.bank.code, "account": account.masked},
            status=status.HTTP_201_CREATED,
        )


class FundsView(APIView):
    """The funds ledger of a county and month (GET); enter an allocation (POST)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("county", int, required=True),
            OpenApiParameter("month", s.MONTH_SCHEMA, required=True, description="YYYY-MM"),
        ],
        responses=s.FundsLedgerRowSerializer(many=True),
    )
    def get(self, request):
        access.require_role(request.user, permissions.READ_PAYMENTS)
        query = s.FundAllocationInputSerializer(
            data={**request.query_params.dict(), "programme": "dibao_rural", "amount": "0"}
        )
        query.is_valid(raise_exception=True)
        county = get_object_or_404(
            selectors.counties_for_user(user=request.user, roles=permissions.READ_PAYMENTS),
            pk=query.validated_data["county"],
        )
        rows = selectors.funds_ledger(county=county, month=query.validated_data["month"])
        return Response(s.FundsLedgerRowSerializer(rows, many=True).data)

    @extend_schema(
        request=s.FundAllocationInputSerializer, responses={201: s.FundAllocationSerializer}
    )
    def post(self, request):
        access.require_role(request.user, permissions.ALLOCATE_FUNDS)
        data = _parse(s.FundAllocationInputSerializer, request)
        allocation = services.funds_allocate(
            actor=request.user,
            county_id=data["county"],
            programme=data["programme"],
            month=data["month"],
            amount=data["amount"],
            note=data["note"],
        )
        return Response(s.FundAllocationSerializer(allocation).data, status=status.HTTP_201_CREATED)


# --- the steps of a roster (cases.payments.steps.ROSTER) ----------------------------------------


def _roster_gate(*, user, pk: int) -> Roster:
    access.require_role(user, permissions.READ_PAYMENTS)
    return selectors.roster_get(user=user, roster_id=pk)


def _parse_for(serializer_class, request, roster: Roster) -> dict:
    return _parse(serializer_class, request)


def _after_step(request, roster: Roster):
    return _roster_response(request, roster.pk)


def _return_apply(*, actor, obj: Roster, data: dict) -> None:
    upload = data["file"]
    bankfiles.return_apply(
        actor=actor,
        roster_id=obj.pk,
        bank_id=_bank(data["bank"]).pk,
        file_name=upload.name,
        content=upload,
    )


bind = ROSTER.bind_api
bind(
    "recheck",
    serializer=s.RosterStepSerializer,
    act=lambda *, actor, obj, data: services.roster_recheck(actor=actor, roster_id=obj.pk),
    description="Check the lines again (after accounts were corrected).",
)
bind(
    "line_hold",
    serializer=s.RosterLineHoldSerializer,
    act=lambda *, actor, obj, data: services.line_hold(
        actor=actor, roster_id=obj.pk, line_id=data["line"], reason=data["reason"]
    ),
    description="Hold one line back from the roster; it is due again later.",
)
bind(
    "county_approve",
    serializer=s.RosterStepSerializer,
    act=lambda *, actor, obj, data: services.roster_county_approve(actor=actor, roster_id=obj.pk),
    description="The county approves (no line with a problem; not the preparer).",
)
bind(
    "finance_approve",
    serializer=s.RosterStepSerializer,
    act=lambda *, actor, obj, data: services.roster_finance_approve(actor=actor, roster_id=obj.pk),
    description="Finance reviews; the roster is frozen with its content hash.",
)
bind(
    "send_back",
    serializer=s.RosterSendBackSerializer,
    act=lambda *, actor, obj, data: services.roster_send_back(
        actor=actor, roster_id=obj.pk, reason=data["reason"]
    ),
    description="Send the roster back to the township with reasons.",
)
bind(
    "return_apply",
    serializer=s.RosterReturnApplySerializer,
    act=_return_apply,
    description="Apply a bank's return file (multipart: bank, file), whole or not at all.",
)


def roster_step_views() -> dict:
    """The API view of every step of a roster, by slug (cases.api_urls routes them)."""
    views = step_api_views(
        ROSTER,
        gate=_roster_gate,
        parse=_parse_for,
        respond=_after_step,
        response_serializer=s.RosterDetailSerializer,
        tags=["payments"],
    )
    for view in views.values():
        view.parser_classes = [JSONParser, FormParser, MultiPartParser]
    return views
