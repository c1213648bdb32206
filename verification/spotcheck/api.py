"""The spot-check API for county auditors: campaigns (list, detail, draw), a campaign's
sampled cases, and the steps of verification.spotcheck.steps: ``POST
/api/spot-checks/campaigns/<id>/assign/`` and ``POST /api/spot-checks/items/<id>/finding/``.

One small view per operation, through the same selectors and services as the pages:
outside the user's places 404; a step the user may not take 403 whatever was sent; bad
input 400 with field errors; a second draw of the same window or a second submission of
findings 409 (aid_portal.api.exception_handler).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from aid_portal.models import User
from aid_portal.steps import step_api_views
from cases.casework.selectors import with_applicant
from verification.filters import CampaignFilter, SampleItemFilter
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign, SpotCheckFinding
from verification.spotcheck.steps import SPOT_CHECK, SPOT_CHECK_CAMPAIGN

# --- serializers ------------------------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer):
    county_code = serializers.CharField(source="county.code", read_only=True)
    drawn_by = serializers.CharField(source="drawn_by.username", default=None, read_only=True)
    seed = serializers.CharField(read_only=True, help_text="The random seed (a 62-bit integer).")
    status = serializers.CharField(read_only=True, help_text="drawn, running or finished")

    class Meta:
        model = SpotCheckCampaign
        fields = [
            "id",
            "county_code",
            "rule",
            "ratio",
            "window_start",
            "window_end",
            "seed",
            "population_size",
            "sample_size",
            "status",
            "drawn_by",
            "drawn_at",
            "finished_at",
        ]


class ProgressRowSerializer(serializers.Serializer):
    township_code = serializers.CharField(source="township.code")
    township_name = serializers.CharField(source="township.name")
    sampled = serializers.IntegerField()
    visited = serializers.IntegerField()
    ineligible = serializers.IntegerField()
    adjusted = serializers.IntegerField()
    overdue = serializers.IntegerField()


class CampaignDetailSerializer(CampaignSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "progress"]

    @extend_schema_field(ProgressRowSerializer(many=True))
    def get_progress(self, campaign) -> list[dict]:
        rows = spotcheck.campaign_progress(campaign=campaign).rows
        return ProgressRowSerializer(rows, many=True).data


class CampaignDrawSerializer(serializers.Serializer):
    county = serializers.CharField(help_text="The county's 12-digit division code.")
    rule = serializers.ChoiceField(choices=SpotCheckCampaign.Rule.choices)
    window_start = serializers.DateField(required=False, allow_null=True, default=None)
    window_end = serializers.DateField(required=False, allow_null=True, default=None)
    ratio = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="e.g. 0.3 or 30%"
    )
    seed = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    auditors = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Usernames."
    )


class CampaignAssignSerializer(serializers.Serializer):
    auditors = serializers.ListField(
        child=serializers.CharField(), help_text="Usernames: the cases are dealt in turn."
    )


class FindingOutSerializer(serializers.ModelSerializer):
    proposal_status = serializers.CharField(source="proposal.status", default=None, read_only=True)

    class Meta:
        model = SpotCheckFinding
        fields = [
            "visited_on",
            "visitors",
            "facts",
            "still_eligible",
            "action",
            "proposed_amount",
            "proposal",
            "proposal_status",
            "credit_finding",
            "recorded_at",
        ]


class SampleItemSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="application_id")
    application_number = serializers.CharField(source="application.number")
    applicant = serializers.SerializerMethodField()
    township_code = serializers.CharField(source="township.code")
    village_code = serializers.CharField(source="application.village.code")
    assigned_to = serializers.CharField(source="assigned_to.username", default=None, read_only=True)
    finding = FindingOutSerializer(read_only=True, default=None)

    class Meta:
        model = SampleItem
        fields = [
            "id",
            "campaign",
            "application",
            "application_number",
            "applicant",
            "township_code",
            "village_code",
            "reason",
            "due_on",
            "assigned_to",
            "visited_at",
            "finding",
        ]

    def get_applicant(self, item) -> str:
        return "".join(m.person.name for m in item.application.household.applicants)


class FindingSubmitSerializer(serializers.Serializer):
    visited_on = serializers.DateField()
    visitors = serializers.CharField(max_length=200)
    facts = serializers.CharField(max_length=4000)
    still_eligible = serializers.BooleanField()
    action = serializers.ChoiceField(choices=SpotCheckFinding.Action.choices)
    proposed_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )
    credit_behaviour = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A behaviour code, to open a credit finding.",
    )
    evidence = serializers.ListField(child=serializers.FileField(), required=False, default=list)


# --- views ------------------------------------------------------------------------------


def _with_applicants(items):
    return with_applicant(items, through="application__")


def _users_named(usernames: list[str]) -> list[User]:
    users = list(User.objects.filter(username__in=usernames))
    if len(users) != len(set(usernames)):
        raise serializers.ValidationError({"auditors": [_("Unknown username.")]})
    return users


class CampaignListView(generics.ListAPIView):
    """The campaigns of the auditor's counties, newest first."""

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SpotCheckCampaign.objects.none()
        access.require_role(self.request.user, permissions.RUN_SPOT_CHECKS)
        return spotcheck.campaign_list_for_user(user=self.request.user)


class CampaignDetailView(APIView):
    """A campaign with its progress by township."""

    @extend_schema(responses=CampaignDetailSerializer)
    def get(self, request, campaign_id: int):
        access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
        campaign = spotcheck.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
        return Response(CampaignDetailSerializer(campaign).data)


class CampaignDrawView(APIView):
    """Draw a campaign: the sample is frozen, its seed returned; auditors (usernames)
    are handed the cases in turn."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=CampaignDrawSerializer, responses={201: CampaignDetailSerializer})
    def post(self, request):
        access.require_role(request.user, permissions.RUN_SPOT_CHECKS)
        serializer = CampaignDrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        county = get_object_or_404(
            spotcheck.campaign_county_list_for_user(user=request.user), code=data["county"]
        )
        auditors = _users_named(data["auditors"])
        campaign = spotcheck.campaign_draw(
            actor=request.user,
            county=county,
            rule=data["rule"],
            window_start=data["window_start"],
            window_end=data["window_end"],
            ratio=data["ratio"],
            seed=data["seed"],
            assign_to=auditors,
        )
        return Response(CampaignDetailSerializer(campaign).data, status=status.HTTP_201_CREATED)


class SampleItemListView(generics.ListAPIView):
    """A campaign's sampled cases with their findings (``?mine=1``: yours only; the
    filters and the search of the campaign's page)."""

    serializer_class = SampleItemSerializer
    filterset_class = SampleItemFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SampleItem.objects.none()
        access.require_role(self.request.user, permissions.RUN_SPOT_CHECKS)
        campaign = spotcheck.campaign_get_for_user(
            user=self.request.user, campaign_id=self.kwargs["campaign_id"]
        )
        return _with_applicants(
            spotcheck.sample_item_list_for_campaign(user=self.request.user, campaign=campaign)
        )


# --- the steps (verification.spotcheck.steps) ---------------------------------------------


def _parse(serializer_class, request, obj) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _campaign_gate(*, user, pk: int) -> SpotCheckCampaign:
    access.require_role(user, permissions.RUN_SPOT_CHECKS)
    return spotcheck.campaign_get_for_user(user=user, campaign_id=pk)


def _after_campaign_step(request, campaign):
    campaign = spotcheck.campaign_get_for_user(user=request.user, campaign_id=campaign.pk)
    return Response(CampaignDetailSerializer(campaign).data)


def _item_gate(*, user, pk: int) -> SampleItem:
    access.require_role(user, permissions.RUN_SPOT_CHECKS)
    return spotcheck.sample_item_get_for_user(user=user, item_id=pk)


def _after_item_step(request, item):
    item = _with_applicants(
        spotcheck.sample_item_list_for_campaign(user=request.user, campaign=item.campaign)
    ).get(pk=item.pk)
    return Response(SampleItemSerializer(item).data, status=status.HTTP_201_CREATED)


SPOT_CHECK_CAMPAIGN.bind_api(
    "assign",
    serializer=CampaignAssignSerializer,
    act=lambda *, actor, obj, data: spotcheck.sample_items_assign(
        actor=actor, campaign_id=obj.pk, auditors=_users_named(data["auditors"])
    ),
    description="Hand the campaign's unvisited cases to these auditors in turn.",
)
SPOT_CHECK.bind_api(
    "finding",
    serializer=FindingSubmitSerializer,
    act=lambda *, actor, obj, data: spotcheck.sample_finding_record(
        actor=actor, item_id=obj.pk, **data
    ),
    description="Record the findings of a sampled case assigned to you (multipart, for evidence).",
)


def campaign_step_views() -> dict:
    """The API view of every campaign step, by slug (routed by verification.spotcheck.api_urls)."""
    return step_api_views(
        SPOT_CHECK_CAMPAIGN,
        gate=_campaign_gate,
        parse=_parse,
        respond=_after_campaign_step,
        response_serializer=CampaignDetailSerializer,
    )


def sample_step_views() -> dict:
    """The API view of every sampled case's step, by slug (verification.spotcheck.api_urls)."""
    return step_api_views(
        SPOT_CHECK,
        gate=_item_gate,
        parse=_parse,
        respond=_after_item_step,
        response_serializer={201: SampleItemSerializer},
    )


__all__ = [
    "CampaignDetailView",
    "CampaignDrawView",
    "CampaignListView",
    "SampleItemListView",
    "campaign_step_views",
    "sample_step_views",
]
