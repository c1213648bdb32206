"""The public roster's API for staff: publish and withdraw, and the reports queue,
through the same services and gate as the staff pages. The public pages themselves
are HTML only (cases.publicity.views)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from cases.payments.serializers import MonthField
from cases.publicity import selectors, services
from cases.publicity.filters import PublicReportFilter
from cases.publicity.models import PublicReport, PublicRoster, PublicRosterEntry


class PublicRosterEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PublicRosterEntry
        fields = [
            "shown_name",
            "household_size",
            "programme",
            "amount",
            "previous_amount",
            "change",
        ]


class PublicRosterSerializer(serializers.ModelSerializer):
    village = serializers.CharField(source="village.code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    month = MonthField(read_only=True)
    published_by = serializers.StringRelatedField()
    withdrawn_by = serializers.StringRelatedField()
    entries = PublicRosterEntrySerializer(many=True, read_only=True)

    class Meta:
        model = PublicRoster
        fields = [
            "id",
            "village",
            "village_name",
            "month",
            "contact",
            "changes_listed",
            "published_at",
            "published_by",
            "withdrawn_at",
            "withdrawn_by",
            "withdraw_reason",
            "entries",
        ]


class PublicRosterPublishSerializer(serializers.Serializer):
    village = serializers.IntegerField(help_text="The village's region id.")
    month = MonthField()
    contact = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class PublicRosterWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class PublicReportSerializer(serializers.ModelSerializer):
    village = serializers.CharField(source="village.code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    handled_by = serializers.StringRelatedField()

    class Meta:
        model = PublicReport
        fields = [
            "id",
            "village",
            "village_name",
            "public_roster",
            "text",
            "reporter_name",
            "reporter_contact",
            "received_at",
            "state",
            "handled_by",
            "handled_at",
            "note",
        ]


class PublicReportHandleSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000)


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicRosterListView(generics.ListAPIView):
    """Public rosters of the user's villages (GET); publish a village's month (POST)."""

    serializer_class = PublicRosterSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PublicRoster.objects.none()
        access.require_role(self.request.user, permissions.READ_PUBLICITY)
        return (
            selectors.public_rosters_for_user(user=self.request.user)
            .prefetch_related("entries")
            .order_by("-month", "village__code", "-published_at")
        )

    @extend_schema(request=PublicRosterPublishSerializer, responses={201: PublicRosterSerializer})
    def post(self, request):
        access.require_role(request.user, permissions.PUBLISH_ROSTERS)
        data = _parse(PublicRosterPublishSerializer, request)
        public = services.public_roster_publish(
            actor=request.user,
            village_id=data["village"],
            month=data["month"],
            contact=data["contact"],
        )
        public = selectors.public_roster_get(user=request.user, public_roster_id=public.pk)
        return Response(PublicRosterSerializer(public).data, status=status.HTTP_201_CREATED)


class PublicRosterWithdrawView(APIView):
    """Withdraw a public roster: its public page is gone (404) from then on."""

    @extend_schema(request=PublicRosterWithdrawSerializer, responses=PublicRosterSerializer)
    def post(self, request, public_roster_id: int):
        public = selectors.public_roster_get(user=request.user, public_roster_id=public_roster_id)
        data = _parse(PublicRosterWithdrawSerializer, request)
        services.public_roster_withdraw(
            actor=request.user, public_roster_id=public.pk, reason=data["reason"]
        )
        public = selectors.public_roster_get(user=request.user, public_roster_id=public.pk)
        return Response(PublicRosterSerializer(public).data)


class PublicReportListView(generics.ListAPIView):
    """The township's queue of objections and reports from the public page."""

    serializer_class = PublicReportSerializer
    filterset_class = PublicReportFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PublicReport.objects.none()
        access.require_role(self.request.user, permissions.READ_PUBLICITY)
        return selectors.reports_for_user(user=self.request.user)


class PublicReportHandleView(APIView):
    """Record how a report was handled."""

    @extend_schema(request=PublicReportHandleSerializer, responses=PublicReportSerializer)
    def post(self, request, report_id: int):
        report = selectors.report_get(user=request.user, report_id=report_id)
        data = _parse(PublicReportHandleSerializer, request)
        report = services.public_report_handle(
            actor=request.user, report_id=report.pk, note=data["note"]
        )
        return Response(PublicReportSerializer(report).data)
