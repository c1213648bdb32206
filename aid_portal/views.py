"""Pages of the shared core: login and logout, the home page, the audit log, health."""

from __future__ import annotations

import time

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aid_portal import access, audit_chain, permissions, selectors
from aid_portal.audit import audit_record
from aid_portal.celery import app as celery_app
from aid_portal.filters import AuditEventFilter
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
            audit_record(actor=user, action="user.login", obj=user, region=_home_region(user))
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            with transaction.atomic():
                audit_record(actor=user, action="user.logout", obj=user, region=_home_region(user))
        return super().post(request, *args, **kwargs)


def _home_region(user):
    """The region a login is filed under, so the county's auditors see their staff's logins."""
    assignments = access.role_assignments_of(user)
    return assignments[0].region if assignments else None


@login_required
def home(request):
    """The user's work: each feature draws its own box with a template tag of its app
    (``{% cases_home %}``, ``{% credit_home %}``), so the core imports none of them."""
    return render(request, "home.html", {"audit_alert": _audit_alert(request.user)})


def _audit_alert(user):
    """The last walk of the audit chain when it found a broken link, for the county
    auditors (who read the audit log); nothing otherwise."""
    if not access.has_role(user, permissions.READ_AUDIT_LOG):
        return None
    check = audit_chain.latest_check()
    return check if check is not None and not check.ok else None


@login_required
def audit_list(request):
    access.require_role(request.user, permissions.READ_AUDIT_LOG)
    events = AuditEventFilter(
        request.GET, queryset=selectors.audit_event_list_for_user(user=request.user)
    )
    page = Paginator(events.qs, 50).get_page(request.GET.get("page"))
    context = {
        "filter": events,
        "page": page,
        "audit_alert": _audit_alert(request.user),
        "audit_check": audit_chain.latest_check(),
    }
    template = "audit/_table.html" if request.htmx else "audit/list.html"
    return render(request, template, context)


@login_required
def audit_detail(request, event_id: int):
    event = selectors.audit_event_get_for_user(user=request.user, event_id=event_id)
    return render(request, "audit/detail.html", {"event": event})


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
    except OSError:
        status["broker"] = "down"
    healthy = set(status.values()) == {"ok"}
    return JsonResponse(status, status=200 if healthy else 503)
