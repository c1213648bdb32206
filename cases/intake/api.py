"""The cases API: the operations of the pages, through the same services and the same gate.

One small view per operation: fetch what the URL names through a selector (outside
the user's places: 404), parse the input with a small serializer (400 with field
errors), call one service (DomainError 400, Conflict 409, PermissionDenied 403, all
mapped by aid_portal.api.exception_handler), and answer with one output serializer.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors
from cases.casework import selectors as casework_selectors
from cases.casework import serializers as casework_serializers
from cases.intake import selectors as intake_selectors
from cases.intake import serializers as intake_serializers
from cases.intake import services
from cases.models import (
    Application,
    Household,
)


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
    return Response(
        casework_serializers.ApplicationDetailSerializer(application).data, status=status_code
    )


def _household_response(request, household_id: int, *, status_code=status.HTTP_200_OK):
    household = intake_selectors.household_detail_for_user(
        user=request.user, household_id=household_id
    )
    return Response(intake_serializers.HouseholdOutSerializer(household).data, status=status_code)


# --- households and their declaration --------------------------------------------------------


class HouseholdCreateView(APIView):
    """File a new household in a village (intake: village assistants and caseworkers)."""

    @extend_schema(
        request=intake_serializers.HouseholdCreateSerializer,
        responses={201: intake_serializers.HouseholdOutSerializer},
    )
    def post(self, request):
        data = _parse(intake_serializers.HouseholdCreateSerializer, request)
        household = services.household_create(
            actor=request.user,
            village=data["village"],
            address=data["address"],
            phone=data["phone"],
        )
        return _household_response(request, household.pk, status_code=status.HTTP_201_CREATED)


class HouseholdDetailView(APIView):
    """A household with its members (identity numbers masked), declaration and file."""

    @extend_schema(responses=intake_serializers.HouseholdOutSerializer)
    def get(self, request, household_id: int):
        return _household_response(request, household_id)


class MemberAddView(APIView):
    """Add a person to the household; birth date and sex come from the identity number."""

    @extend_schema(
        request=intake_serializers.MemberAddSerializer,
        responses={201: intake_serializers.MemberOutSerializer},
    )
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(intake_serializers.MemberAddSerializer, request, household=household)
        member = services.member_add(actor=request.user, household=household, **data)
        return Response(
            intake_serializers.MemberOutSerializer(member).data, status=status.HTTP_201_CREATED
        )


class MemberRemoveView(APIView):
    """Correct or remove a member while the application is still being filled in."""

    @extend_schema(
        request=intake_serializers.MemberUpdateSerializer,
        responses={200: intake_serializers.MemberOutSerializer},
    )
    def patch(self, request, member_id: int):
        member = intake_selectors.member_get_for_user(user=request.user, member_id=member_id)
        data = _parse(
            intake_serializers.MemberUpdateSerializer, request, household=member.household
        )
        current = {"name": member.person.name} | {
            field: getattr(member, field) for field in services.MEMBER_FIELDS if field != "name"
        }
        member = services.member_update(actor=request.user, member=member, **(current | data))
        return Response(intake_serializers.MemberOutSerializer(member).data)

    @extend_schema(responses={204: None})
    def delete(self, request, member_id: int):
        member = intake_selectors.member_get_for_user(user=request.user, member_id=member_id)
        services.member_remove(actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IncomeAddView(APIView):
    """Declare one source of a member's income: twelve monthly figures or an average."""

    @extend_schema(
        request=intake_serializers.IncomeAddSerializer,
        responses={201: intake_serializers.IncomeOutSerializer},
    )
    def post(self, request, member_id: int):
        member = intake_selectors.member_get_for_user(user=request.user, member_id=member_id)
        data = _parse(intake_serializers.IncomeAddSerializer, request, household=member.household)
        income = services.income_add(actor=request.user, member=member, **data)
        return Response(
            intake_serializers.IncomeOutSerializer(income).data, status=status.HTTP_201_CREATED
        )


class AssetAddView(APIView):
    """Declare one asset of the household (deposits, vehicle, real estate, ...)."""

    @extend_schema(
        request=intake_serializers.AssetAddSerializer,
        responses={201: intake_serializers.AssetOutSerializer},
    )
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(intake_serializers.AssetAddSerializer, request, household=household)
        asset = services.asset_add(actor=request.user, household=household, **data)
        return Response(
            intake_serializers.AssetOutSerializer(asset).data, status=status.HTTP_201_CREATED
        )


class ExpenditureAddView(APIView):
    """Declare one rigid expenditure (medical, education, disability care) per month."""

    @extend_schema(
        request=intake_serializers.ExpenditureAddSerializer,
        responses={201: intake_serializers.ExpenditureOutSerializer},
    )
    def post(self, request, household_id: int):
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        data = _parse(intake_serializers.ExpenditureAddSerializer, request, household=household)
        expenditure = services.expenditure_add(actor=request.user, household=household, **data)
        return Response(
            intake_serializers.ExpenditureOutSerializer(expenditure).data,
            status=status.HTTP_201_CREATED,
        )


class IncomeRemoveView(APIView):
    """Remove a declared income."""

    @extend_schema(responses={204: None})
    def delete(self, request, income_id: int):
        row = intake_selectors.income_get_for_user(user=request.user, income_id=income_id)
        services.declaration_row_remove(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssetRemoveView(APIView):
    """Remove a declared asset."""

    @extend_schema(responses={204: None})
    def delete(self, request, asset_id: int):
        row = intake_selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
        services.declaration_row_remove(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExpenditureRemoveView(APIView):
    """Remove a declared rigid expenditure."""

    @extend_schema(responses={204: None})
    def delete(self, request, expenditure_id: int):
        row = intake_selectors.expenditure_get_for_user(
            user=request.user, expenditure_id=expenditure_id
        )
        services.declaration_row_remove(actor=request.user, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- declaration edits (no step: the application stays where it is) ----------------------------


class DeclarationEditView(APIView):
    """A change to the declaration of an application: the gate, the input, one service."""

    input_serializer = casework_serializers.EmptySerializer

    def act(self, *, actor, application: Application, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, application_id: int):
        application = casework_selectors.application_gate_for_user(
            user=request.user, application_id=application_id
        )
        data = _parse(self.input_serializer, request, household=application.household)
        self.act(actor=request.user, application=application, data=data)
        return _application_response(request, application_id)


def action_schema(input_serializer):
    return extend_schema(
        request=input_serializer, responses=casework_serializers.ApplicationDetailSerializer
    )


@action_schema(intake_serializers.ProofSerializer)
class ProofView(DeclarationEditView):
    """A catalogue proof item was provided, or replaced by a commitment."""

    input_serializer = intake_serializers.ProofSerializer

    def act(self, *, actor, application, data):
        services.proof_record(
            actor=actor, application=application, item=data["item"], status=data["status"]
        )


@action_schema(intake_serializers.CommitmentSerializer)
class CommitmentView(DeclarationEditView):
    """The family was told its duties and signed the declaration commitment."""

    input_serializer = intake_serializers.CommitmentSerializer

    def act(self, *, actor, application, data):
        services.declaration_commit(actor=actor, application=application, **data)


@action_schema(intake_serializers.AuthorisationSerializer)
class AuthorisationView(DeclarationEditView):
    """A member's signed authorisation to verify their economic status."""

    input_serializer = intake_serializers.AuthorisationSerializer

    def act(self, *, actor, application, data):
        services.authorisation_record(
            actor=actor, member=data["member"], signed_on=data["signed_on"], scan=data["document"]
        )


@action_schema(intake_serializers.NearRelativeSerializer)
class NearRelativeView(DeclarationEditView):
    """File that a member is, or is close kin of, an official (forces the county check)."""

    input_serializer = intake_serializers.NearRelativeSerializer

    def act(self, *, actor, application, data):
        services.near_relative_file(actor=actor, application=application, **data)
