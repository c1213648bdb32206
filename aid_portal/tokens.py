"""API tokens: made, listed and revoked by their owner, revoked by a data-feed admin.

The tokens are django-rest-knox's (settings.REST_KNOX), kept in the portal's own table
(aid_portal.models.ApiToken): only a digest of the secret is stored, every token expires
API_TOKEN_HOURS after it was made, and revoking deletes it. Knox's authentication
answers 401 to a token that has expired (deleting it then) or that is gone.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import DomainError
from aid_portal.models import ApiToken, RoleAssignment, User

# "Last used" is written at most this often per token: a script that calls the API in a
# loop must not turn every read into a write.
LAST_USED_EVERY = timedelta(minutes=1)
NAME_MAX = ApiToken._meta.get_field("name").max_length


class ApiTokenAuthentication(TokenAuthentication):
    """Knox's authentication, plus the token's "last used" time."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used is None or now - token.last_used > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return user, token


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI schema's description of the header (drf-spectacular's, for knox)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its secret, which is never stored and so
    can be shown only now."""
    name = name.strip()
    if not name:
        raise DomainError(_("Say what the token is for."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(
            _("The purpose may be at most %(max)d characters.") % {"max": NAME_MAX}, field="name"
        )
    if not user.is_active:
        raise DomainError(_("A disabled account cannot have API tokens."))
    with transaction.atomic():
        token, secret = ApiToken.objects.create(
            user=user, expiry=timedelta(hours=settings.API_TOKEN_HOURS), name=name
        )
        audit_record(
            actor=user,
            action="api_token.create",
            obj=token,
            region=access.home_region(user),
            new={"user": user.username, "name": name, "expiry": token.expiry},
        )
    return token, secret


def api_token_revoke(*, actor: User, token: ApiToken, reason: str = "") -> None:
    """Revoke ``token``: it answers 401 from the next request on. The caller has found the
    token through :func:`api_tokens_for_user` or :func:`api_tokens_managed_by`."""
    with transaction.atomic():
        deleted, _rows = ApiToken.objects.filter(pk=token.pk).delete()
        if not deleted:
            raise DomainError(_("This token has already been revoked or has expired."))
        audit_record(
            actor=actor,
            action="api_token.revoke",
            obj=token,
            region=access.home_region(token.user),
            old={
                "user": token.user.username,
                "name": token.name,
                "created": token.created,
                "expiry": token.expiry,
            },
            reason=reason,
        )


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens that still work (expired ones are left out; knox deletes
    them when they are next presented)."""
    return ApiToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens; anyone else's is "not found"."""
    try:
        return api_tokens_for_user(user=user).select_related("user").get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise Http404(_("No such API token.")) from None


def api_tokens_managed_by(*, user: User) -> QuerySet[ApiToken]:
    """Tokens a data-feed admin may revoke: those of staff with a role inside the admin's
    jurisdiction (a superuser: everyone's)."""
    tokens = ApiToken.objects.select_related("user")
    if user.is_superuser:
        return tokens
    staff = access.restrict(
        RoleAssignment.objects.all(),
        user,
        region_field="region",
        roles=permissions.MANAGE_STAFF,
    ).values("user_id")
    return tokens.filter(user__in=staff, user__is_superuser=False)
