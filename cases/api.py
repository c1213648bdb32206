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
from cases import documents, selectors, selectors_api, services
from cases import serializers as s
from cases.models import Application, AssistanceType, Household, Member


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


class ApplicationActionView(APIView):
    """One step of the application's path: the gate, the input, one service.

    Subclasses name their input serializer and call their service in ``act``; the
    answer is the application as it stands after the step.
    """

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


@action_schema(s.EmptySerializer)
class SubmitView(ApplicationActionView):
    """The family's application is complete as far as they know: hand it in."""

    def act(self, *, actor, application, data):
        services.application_submit(actor=actor, application_id=application.pk)


@action_schema(s.AcceptSerializer)
class AcceptView(ApplicationActionView):
    """Accept, or return with everything missing at once (also_missing adds to the list)."""

    input_serializer = s.AcceptSerializer

    def act(self, *, actor, application, data):
        services.application_accept(
            actor=actor, application_id=application.pk, also_missing=data["also_missing"]
        )


@action_schema(s.ReasonSerializer)
class ExtendView(ApplicationActionView):
    """Use the extended time limit, with the reason."""

    input_serializer = s.ReasonSerializer

    def act(self, *, actor, application, data):
        services.application_extend(
            actor=actor, application_id=application.pk, reason=data["reason"]
        )


@action_schema(s.EmptySerializer)
class VerificationRequestView(ApplicationActionView):
    """Ask for economic-status verification (every person must have authorised it)."""

    def act(self, *, actor, application, data):
        services.verification_request(actor=actor, application_id=application.pk)


@action_schema(s.VerificationOutcomeSerializer)
class VerificationOutcomeView(ApplicationActionView):
    """Record verification's outcome: basically consistent, or a clear gap item by item."""

    input_serializer = s.VerificationOutcomeSerializer

    def act(self, *, actor, application, data):
        services.verification_outcome_record(
            actor=actor,
            application_id=application.pk,
            outcome=data["outcome"],
            gap_items=data["gap_items"],
            reason=data["reason"],
        )


@action_schema(s.FeedbackObjectionSerializer)
class FeedbackObjectionView(ApplicationActionView):
    """The family's objection to the gap; with evidence, a home visit follows."""

    input_serializer = s.FeedbackObjectionSerializer

    def act(self, *, actor, application, data):
        services.feedback_objection_record(
            actor=actor,
            application_id=application.pk,
            text=data["text"],
            has_evidence=data["has_evidence"],
        )


@action_schema(s.EmptySerializer)
class FeedbackCloseView(ApplicationActionView):
    """The objection window is over: go on to the home visit."""

    def act(self, *, actor, application, data):
        services.feedback_close(actor=actor, application_id=application.pk)


@action_schema(s.HomeVisitSerializer)
class HomeVisitView(ApplicationActionView):
    """Record the home visit: two investigators or more, both sides' signatures scanned."""

    input_serializer = s.HomeVisitSerializer

    def act(self, *, actor, application, data):
        services.home_visit_record(actor=actor, application_id=application.pk, **data)


@action_schema(s.DemocraticReviewSerializer)
class DemocraticReviewView(ApplicationActionView):
    """Record the democratic review held after an objection."""

    input_serializer = s.DemocraticReviewSerializer

    def act(self, *, actor, application, data):
        services.democratic_review_record(actor=actor, application_id=application.pk, **data)


@action_schema(s.NoticeSerializer)
class NoticeView(ApplicationActionView):
    """Post the public notice in the village (it runs for the policy's number of days)."""

    input_serializer = s.NoticeSerializer

    def act(self, *, actor, application, data):
        services.notice_post(actor=actor, application_id=application.pk, **data)


@action_schema(s.NoticeCloseSerializer)
class NoticeCloseView(ApplicationActionView):
    """Close the ended notice: to the decision, or back to a home visit (reinvestigate)."""

    input_serializer = s.NoticeCloseSerializer

    def act(self, *, actor, application, data):
        services.notice_close(
            actor=actor, application_id=application.pk, reinvestigate=data["reinvestigate"]
        )


@action_schema(s.CountyCheckSerializer)
class CountyCheckView(ApplicationActionView):
    """The county's key check of a near-relative case (county auditors)."""

    input_serializer = s.CountyCheckSerializer

    def act(self, *, actor, application, data):
        services.county_check_record(actor=actor, application_id=application.pk, **data)


@action_schema(s.ApproveSerializer)
class ApproveView(ApplicationActionView):
    """Approve with the amount computed now (see amount_basis in the answer)."""

    input_serializer = s.ApproveSerializer

    def act(self, *, actor, application, data):
        services.application_approve(
            actor=actor, application_id=application.pk, start_month=data["start_month"]
        )


@action_schema(s.RejectSerializer)
class RejectView(ApplicationActionView):
    """Reject with written reasons."""

    input_serializer = s.RejectSerializer

    def act(self, *, actor, application, data):
        services.application_reject(
            actor=actor, application_id=application.pk, reasons=data["reasons"]
        )


@action_schema(s.ReasonSerializer)
class WithdrawView(ApplicationActionView):
    """The family withdraws before the decision."""

    input_serializer = s.ReasonSerializer

    def act(self, *, actor, application, data):
        services.application_withdraw(
            actor=actor, application_id=application.pk, reason=data["reason"]
        )


@action_schema(s.ProofSerializer)
class ProofView(ApplicationActionView):
    """A catalogue proof item was provided, or replaced by a commitment."""

    input_serializer = s.ProofSerializer

    def act(self, *, actor, application, data):
        services.proof_record(
            actor=actor, application=application, item=data["item"], status=data["status"]
        )


@action_schema(s.CommitmentSerializer)
class CommitmentView(ApplicationActionView):
    """The family was told its duties and signed the declaration commitment."""

    input_serializer = s.CommitmentSerializer

    def act(self, *, actor, application, data):
        services.declaration_commit(actor=actor, application=application, **data)


@action_schema(s.AuthorisationSerializer)
class AuthorisationView(ApplicationActionView):
    """A member's signed authorisation to verify their economic status."""

    input_serializer = s.AuthorisationSerializer

    def act(self, *, actor, application, data):
        services.authorisation_record(
            actor=actor, member=data["member"], signed_on=data["signed_on"], scan=data["document"]
        )


@action_schema(s.NearRelativeSerializer)
class NearRelativeView(ApplicationActionView):
    """File that a member is, or is close kin of, an official (forces the county check)."""

    input_serializer = s.NearRelativeSerializer

    def act(self, *, actor, application, data):
        services.near_relative_file(actor=actor, application=application, **data)
