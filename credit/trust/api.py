"""The trust API (credit.trust.services): the honest-declarant status of an application, trust
records, the rewards list and grants, the untrustworthy rates and their recomputation.

One small view per operation, through the same selectors and services as the pages;
errors are mapped by aid_portal.api.exception_handler (DomainError 400, Conflict 409,
PermissionDenied 403, outside one's places 404).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_portal import access, permissions
from aid_portal.models import Region
from cases import selectors as case_selectors
from cases.models import Household
from credit import lists as credit_lists
from credit.trust import services as trust
from credit.trust.filters import RewardCandidateFilter, TrustRecordFilter
from credit.trust.models import Reward, TrustRecord

# --- serializers -----------------------------------------------------------------------------


class ConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    met = serializers.BooleanField()
    reason = serializers.CharField()


class HonestDeclarantSerializer(serializers.Serializer):
    application = serializers.IntegerField()
    qualifies = serializers.BooleanField(
        help_text="All four conditions hold: the case qualifies for the simplified path."
    )
    conditions = ConditionSerializer(many=True)


# Kinds are plain strings here (the services refuse unknown ones with a field error), so
# that the schema's enums of "kind" do not collide across apps.
TRUST_KINDS = ", ".join(TrustRecord.Kind.values)
REWARD_KINDS = ", ".join(Reward.Kind.values)


class TrustRecordInSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    kind = serializers.CharField(help_text=f"One of: {TRUST_KINDS}.")
    facts = serializers.CharField(max_length=4000)
    person = serializers.IntegerField(required=False, allow_null=True, default=None)
    application = serializers.IntegerField(required=False, allow_null=True, default=None)
    recorded_on = serializers.DateField(required=False, allow_null=True, default=None)


class TrustRecordOutSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=f"One of: {TRUST_KINDS}.")
    kind_display = serializers.CharField(source="get_kind_display")
    village = serializers.CharField(source="household.village.code")
    person_name = serializers.CharField(source="person.name", default=None)
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = TrustRecord
        fields = [
            "id",
            "household",
            "village",
            "person",
            "person_name",
            "application",
            "kind",
            "kind_display",
            "facts",
            "recorded_on",
            "recorded_by",
        ]


class RewardOutSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=f"One of: {REWARD_KINDS}.")
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Reward
        fields = ["id", "household", "year", "kind", "kind_display", "note", "granted_on"]


class RewardCandidateSerializer(serializers.Serializer):
    household = serializers.IntegerField(source="pk")
    applicant_name = serializers.CharField(allow_null=True)
    village = serializers.CharField(source="village.code")
    village_name = serializers.CharField(source="village.name")
    trust_count = serializers.IntegerField()
    trust_kinds = serializers.ListField(child=serializers.CharField())
    rewards = RewardOutSerializer(many=True, source="year_rewards")


class RewardGrantSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    year = serializers.IntegerField()
    kind = serializers.CharField(help_text=f"One of: {REWARD_KINDS}.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RateSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    households = serializers.IntegerField()
    untrustworthy = serializers.IntegerField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    provisional = serializers.BooleanField(help_text="The current year, computed live.")


class TownshipRatesSerializer(serializers.Serializer):
    township = serializers.CharField(help_text="The township's division code.")
    name = serializers.CharField()
    rates = RateSerializer(many=True)


class RatesSerializer(serializers.Serializer):
    years = serializers.ListField(child=serializers.IntegerField())
    townships = TownshipRatesSerializer(many=True)
    total = RateSerializer(many=True)


class YearlyComputeSerializer(serializers.Serializer):
    county = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level=Region.Level.COUNTY),
        help_text="The county's 12-digit division code.",
    )
    year = serializers.IntegerField()


def _parse(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- views -----------------------------------------------------------------------------------


class HonestDeclarantView(APIView):
    """NC Hubei's honest-declarant status of an application, with each condition's reason."""

    @extend_schema(responses=HonestDeclarantSerializer)
    def get(self, request, application_id: int):
        application = case_selectors.application_get_for_user(
            user=request.user, application_id=application_id
        )
        status_ = trust.honest_declarant_status(application=application)
        return Response(
            HonestDeclarantSerializer(
                {
                    "application": application.pk,
                    "qualifies": status_.qualifies,
                    "conditions": status_.conditions,
                }
            ).data
        )


class TrustRecordListView(generics.ListAPIView):
    """Trust records in the user's places (``?year=``), newest first; POST records one
    (a township caseworker of the household's village)."""

    serializer_class = TrustRecordOutSerializer
    filterset_class = TrustRecordFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrustRecord.objects.none()
        return credit_lists.TRUST_RECORDS.rows(self.request.user)

    @extend_schema(request=TrustRecordInSerializer, responses={201: TrustRecordOutSerializer})
    def post(self, request):
        data = _parse(TrustRecordInSerializer, request)
        household = case_selectors.household_get_for_user(
            user=request.user, household_id=data["household"]
        )
        record = trust.trust_record(
            actor=request.user,
            household_id=household.pk,
            kind=data["kind"],
            facts=data["facts"],
            person_id=data["person"],
            application_id=data["application"],
            recorded_on=data["recorded_on"],
        )
        record = trust.trust_record_list_for_user(user=request.user).get(pk=record.pk)
        return Response(TrustRecordOutSerializer(record).data, status=status.HTTP_201_CREATED)


class RewardCandidateListView(generics.ListAPIView):
    """Households with trustworthy behaviour in the year and no finding standing in it,
    with the rewards granted (``?year=``)."""

    serializer_class = RewardCandidateSerializer
    filterset_class = RewardCandidateFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Household.objects.none()
        return credit_lists.REWARDS.rows(self.request.user)


class RewardGrantView(APIView):
    """The township approver grants a reward to a trustworthy household for a year."""

    @extend_schema(request=RewardGrantSerializer, responses={201: RewardOutSerializer})
    def post(self, request):
        data = _parse(RewardGrantSerializer, request)
        household = case_selectors.household_get_for_user(
            user=request.user, household_id=data["household"]
        )
        reward = trust.reward_grant(
            actor=request.user,
            household_id=household.pk,
            year=data["year"],
            kind=data["kind"],
            note=data["note"],
        )
        return Response(RewardOutSerializer(reward).data, status=status.HTTP_201_CREATED)


class UntrustworthyRatesView(APIView):
    """The untrustworthy rate by township and year in the county auditor's counties: past
    years from the stored yearly results, the current year live (provisional)."""

    @extend_schema(responses=RatesSerializer)
    def get(self, request):
        access.require_role(request.user, permissions.READ_CREDIT_DASHBOARD)
        dashboard = trust.untrustworthy_rates_for_user(user=request.user)

        def rate(year, cell):
            if cell is None:
                return None
            return {
                "year": year,
                "households": cell.households,
                "untrustworthy": cell.untrustworthy,
                "percent": cell.percent,
                "provisional": cell.provisional,
            }

        def rates(cells):
            return [
                rate(year, cell)
                for year, cell in zip(dashboard.years, cells, strict=True)
                if cell is not None
            ]

        data = {
            "years": dashboard.years,
            "townships": [
                {"township": township.code, "name": township.name, "rates": rates(cells)}
                for township, cells in dashboard.rows
            ],
            "total": rates(dashboard.totals),
        }
        return Response(RatesSerializer(data).data)


class YearlyResultsComputeView(APIView):
    """The county auditor has a past year's results of a county computed again (202)."""

    @extend_schema(request=YearlyComputeSerializer, responses={202: None})
    def post(self, request):
        access.require_role(request.user, permissions.READ_CREDIT_DASHBOARD)
        data = _parse(YearlyComputeSerializer, request)
        county = access.get_object_or_404(
            Region.objects.all(),
            request.user,
            region_field=None,
            roles=permissions.READ_CREDIT_DASHBOARD,
            pk=data["county"].pk,
        )
        trust.yearly_results_request(actor=request.user, county=county, year=data["year"])
        return Response(status=status.HTTP_202_ACCEPTED)
