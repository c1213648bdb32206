"""Request-wide concerns: session lifetime and the client address for the audit log."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from aid_portal.audit import client_address
from aid_portal.denials import denial_note, denial_record

SESSION_STARTED = "aid_portal.started_at"
SESSION_LAST_SEEN = "aid_portal.last_seen_at"


class SessionLifetimeMiddleware:
    """End a session after SESSION_IDLE_MINUTES without a request, or SESSION_MAX_HOURS
    after login, whichever comes first. Enforced on the server: a copied cookie dies too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.get(SESSION_STARTED)
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            if started is None:
                request.session[SESSION_STARTED] = started = now
            idle = now - last_seen > settings.SESSION_IDLE_MINUTES * 60
            too_old = now - started > settings.SESSION_MAX_HOURS * 3600
            if idle or too_old:
                return self._expire(request)
            # Writing the session on every request would cost three queries each time;
            # a minute's precision is plenty for a 30-minute idle limit.
            if now - last_seen >= 60 or SESSION_LAST_SEEN not in request.session:
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)

    def _expire(self, request):
        logout(request)
        messages.info(request, _("Your session has ended; please log in again."))
        login_url = f"{reverse('login')}?next={request.get_full_path()}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login_url
            return response
        if request.path.startswith("/api/"):
            return HttpResponse(status=401)
        return redirect(login_url)


class ClientAddressMiddleware:
    """Make the client's address available to audit_record for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_address.set(client_address_of(request))
        try:
            return self.get_response(request)
        finally:
            client_address.reset(token)


class DenialAuditMiddleware:
    """Record every request the access gate refused (aid_portal.denials): the view's
    exception is noted here, the row is written after the response, outside the view's
    transaction."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        denial_record(request, response.status_code)
        return response

    def process_exception(self, request, exception):
        denial_note(request, exception, getattr(request, "user", None))


def client_address_of(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry TRUSTED_PROXY_COUNT proxies back
    in X-Forwarded-For (entries further left can be forged by the client)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class LanguageMiddleware:
    """Chinese unless the user picked another language with the switcher.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a township
    office's shared computer often has an English browser, and the portal must still
    open in Chinese. So only the language cookie set by the switcher counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
