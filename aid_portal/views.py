"""Pages of the shared core: login and logout, the home page, the audit log, health."""

from __future__ import annotations

import datetime
import sys
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from kombu.exceptions import KombuError

from aid_portal import access, audit_chain, listing, permissions, selectors, tokens
from aid_portal.audit import audit_record
from aid_portal.celery import app as celery_app
from aid_portal.errors import DomainError
from aid_portal.forms import ApiTokenForm, add_domain_error
from aid_portal.lists import AUDIT_LOG
from aid_portal.middleware import SESSION_LAST_SEEN, SESSION_STARTED


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        now = time.time()
        self.request.session[SESSION_STARTED] = now
        self.request.session[SESSION_LAST_SEEN] = now
        with transaction.atomic():
            audit_record(actor=user, action="user.login", obj=user, region=access.home_region(user))
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            with transaction.atomic():
                audit_record(
                    actor=user, action="user.logout", obj=user, region=access.home_region(user)
                )
        return super().post(request, *args, **kwargs)


@login_required
def home(request):
    """The user's work: each feature draws its own box with a template tag of its app
    (``{% cases_home %}``, ``{% credit_home %}``), so the core imports none of them."""
    return render(request, "home.html", {"audit_alert": _audit_alert(request.user)})


_NOT_READ = object()


def _audit_alert(user, check=_NOT_READ):
    """The last walk of the audit chain when it found a broken link, for the county
    auditors (who read the audit log); nothing otherwise. ``check``: the last walk, if
    the caller has read it already (None: there was none)."""
    if not access.has_role(user, permissions.READ_AUDIT_LOG):
        return None
    if check is _NOT_READ:
        check = audit_chain.latest_check()
    return check if check is not None and not check.ok else None


# The audit page's table of people the gate keeps refusing: over this many days.
REPEATED_DENIALS_DAYS = 7


@login_required
def audit_list(request):
    result = listing.list_page(request, AUDIT_LOG)
    if isinstance(result, HttpResponse):
        return result
    check = audit_chain.latest_check()
    context = {
        "listing": result,
        "page": result.page,
        "audit_alert": _audit_alert(request.user, check),
        "audit_check": check,
    }
    if request.htmx:
        return render(request, "audit/_table.html", context, status=result.status)
    since = timezone.now() - datetime.timedelta(days=REPEATED_DENIALS_DAYS)
    context["repeated_denials"] = list(
        selectors.denials_repeated_for_user(user=request.user, since=since)[:50]
    )
    context["repeated_denials_days"] = REPEATED_DENIALS_DAYS
    context["unmasks"] = list(
        selectors.unmasks_for_user(user=request.user, since=since).select_related("region")[:50]
    )
    return render(request, "audit/list.html", context, status=result.status)


@login_required
def export_job(request, job_id: int):
    """A large export being built: a progress bar (polled by htmx), then its download."""
    job = listing.export_job_get_for_user(user=request.user, job_id=job_id)
    template = "exports/_progress.html" if request.htmx else "exports/job.html"
    return render(request, template, {"job": job})


@login_required
def export_job_download(request, job_id: int):
    job = listing.export_job_get_for_user(user=request.user, job_id=job_id)
    if job.state != job.State.DONE:
        raise Http404(_("This export is not ready yet."))
    response = HttpResponse(bytes(job.content), content_type=listing.content_type(job.format))
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response


@login_required
def audit_detail(request, event_id: int):
    event = selectors.audit_event_get_for_user(user=request.user, event_id=event_id)
    return render(request, "audit/detail.html", {"event": event})


@login_required
@require_http_methods(["GET", "POST"])
def api_token_list(request):
    """The user's API tokens; a new one (its secret shown on this answer only, never
    stored, so the page is rendered rather than redirected to)."""
    form = ApiTokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, secret = tokens.api_token_create(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                form = ApiTokenForm()
        if form.errors:
            status = 400
    response = render(
        request,
        "api_tokens.html",
        {
            "tokens": list(tokens.api_tokens_for_user(user=request.user)),
            "form": form,
            "secret": secret,
            "token_hours": settings.API_TOKEN_HOURS,
        },
        status=status,
    )
    if secret is not None:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@login_required
@require_POST
def api_token_revoke(request, token_id: int):
    token = tokens.api_token_get_for_user(user=request.user, token_id=token_id)
    try:
        tokens.api_token_revoke(actor=request.user, token=token)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("API token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api-token-list")


@require_GET
def healthz(request):
    """For load balancers: the database and the broker answer. No data, no login."""
    status = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        status["database"] = "down"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
    except (OSError, KombuError):  # kombu wraps some failures (a name that does not resolve)
        status["broker"] = "down"
    healthy = set(status.values()) == {"ok"}
    return JsonResponse(status, status=200 if healthy else 503)


# Errors of the database connection itself (the server restarting, unreachable, a
# connection it dropped), as opposed to a refused statement: the request is answered
# 503 "try again", with Retry-After, and the next request reconnects
# (CONN_HEALTH_CHECKS), so the portal recovers without a restart of its own.
DATABASE_AWAY = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def page_not_found(request, exception):
    """handler404: the API answers in JSON, as its schema documents (aid_portal.openapi),
    also for a path no route matches (an id that is not a number, say); pages get the
    HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: a plain 500 page, or the 503 page when the database is away. Django
    calls it while handling the exception, so ``sys.exc_info`` names it."""
    exc = sys.exc_info()[1]
    if not isinstance(exc, DATABASE_AWAY):
        return HttpResponse(loader.get_template("500.html").render(), status=500)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": "数据库暂时无法访问，本次操作未保存，请稍后再试。"}, status=503
        )
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
