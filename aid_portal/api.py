"""The API of the shared core, and the API's error format.

One small view per operation; reads go through the same selectors (and so the same
access gate) as the pages.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, parsers, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from aid_portal import access, permissions, selectors, tokens
from aid_portal.denials import denial_note
from aid_portal.errors import DomainError
from aid_portal.filters import AuditEventFilter
from aid_portal.models import AuditEvent, Region, RoleAssignment


def exception_handler(exc, context):
    """DRF's handler, plus domain errors as field errors and Django's own errors.

    DRF catches its views' exceptions before any middleware sees them, so a refusal of
    the access gate is noted here for the audit log (aid_portal.denials)."""
    request = context.get("request")
    if request is not None:
        denial_note(request._request, exc, request.user)
    if isinstance(exc, DomainError):
        return Response(exc.as_api_detail(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"detail": str(exc) or "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


class ApiRootView(APIView):
    """What the API offers; the full description is the OpenAPI schema."""

    @extend_schema(exclude=True)
    def get(self, request):
        def link(name: str) -> str:
            return request.build_absolute_uri(reverse(name))

        return Response(
            {
                "me": link("api-me"),
                "regions": link("api-region-list"),
                "audit_events": link("api-audit-list"),
                "token": link("api-token"),
                "schema": link("api-schema"),
                "docs": link("api-docs"),
            }
        )


class TokenRequestSerializer(AuthTokenSerializer):
    name = serializers.CharField(
        required=False, max_length=tokens.NAME_MAX, default="API", write_only=True
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown only in this answer; the portal keeps none.")
    expiry = serializers.DateTimeField()


class TokenCreateView(APIView):
    """A new API token for a username and password. It expires API_TOKEN_HOURS later and
    is listed, and can be revoked, on the "API tokens" page."""

    permission_classes = ()
    authentication_classes = ()
    parser_classes = (parsers.FormParser, parsers.MultiPartParser, parsers.JSONParser)

    @extend_schema(
        request=TokenRequestSerializer,
        responses=TokenSerializer,
        summary="Make an API token that expires",
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, secret = tokens.api_token_create(
            user=serializer.validated_data["user"], name=serializer.validated_data["name"]
        )
        return Response(TokenSerializer({"token": secret, "expiry": token.expiry}).data)


class RegionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent.code", default=None, read_only=True, allow_null=True
    )
    level = serializers.ChoiceField(choices=Region.Level.choices)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent_code"]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    region = RegionSerializer()

    class Meta:
        model = RoleAssignment
        fields = ["role", "region"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    is_superuser = serializers.BooleanField()
    roles = RoleAssignmentSerializer(many=True)


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user and their roles")
    def get(self, request):
        user = request.user
        data = {
            "username": user.username,
            "full_name": user.full_name,
            "is_superuser": user.is_superuser,
            "roles": access.role_assignments_of(user),
        }
        return Response(MeSerializer(data).data)


class RegionListView(generics.ListAPIView):
    """Region nodes inside the places where the user holds a role."""

    serializer_class = RegionSerializer

    def get_queryset(self):
        return selectors.region_list_for_user(user=self.request.user)


class RegionDetailView(generics.RetrieveAPIView):
    serializer_class = RegionSerializer

    def get_object(self):
        return selectors.region_get_for_user(user=self.request.user, code=self.kwargs["code"])


class AuditEventSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(
        source="region.code", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "region_code",
            "old_values",
            "new_values",
            "reason",
            "client_address",
        ]


class AuditEventListView(generics.ListAPIView):
    """The audit log, for county auditors, limited to their county."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return AuditEvent.objects.none()
        access.require_role(self.request.user, permissions.READ_AUDIT_LOG)
        return selectors.audit_event_list_for_user(user=self.request.user)


class AuditEventDetailView(generics.RetrieveAPIView):
    serializer_class = AuditEventSerializer

    def get_object(self):
        return selectors.audit_event_get_for_user(
            user=self.request.user, event_id=self.kwargs["event_id"]
        )
