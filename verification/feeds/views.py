"""Feed pages for data-feed admins: the department catalogue, one feed's settings,
upload and import history (a list: search, filters, pages, XLSX/CSV) with a live
progress bar, and one import's bad rows.

Thin views: a form parses the input, one service in verification.feeds.services acts, the page
redirects. Everyone but a data-feed admin gets 403 from the selectors and services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aid_portal import listing
from aid_portal.errors import DomainError
from aid_portal.exports import xlsx_response
from verification import lists as verification_lists
from verification.feeds import services as feeds
from verification.feeds.forms import FeedSettingsForm, SnapshotUploadForm
from verification.feeds.models import Feed, Snapshot

QUARANTINE_PAGE_SIZE = 100


@login_required
@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    rows = feeds.department_list_for_admin(user=request.user)
    return render(request, "verification/feeds/departments.html", {"departments": rows})


def _render_feed(
    request: HttpRequest,
    feed: Feed,
    *,
    settings_form: FeedSettingsForm | None = None,
    upload_form: SnapshotUploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The feed's page; its upload history is a list (search, filters, pages, exports).
    A form sent back with errors is drawn at the address it was posted to, which takes
    no GET: there the history shows its first page without the list's tools."""
    result = listing.list_page(
        request, verification_lists.FEED_UPLOADS, scope={"feed": str(feed.pk)}
    )
    if isinstance(result, HttpResponse):
        return result
    context = {
        "feed": feed,
        "department": feed.department,
        "items": feed.department.items.all(),
        "settings_form": settings_form or FeedSettingsForm.for_feed(feed),
        "upload_form": upload_form or SnapshotUploadForm(),
        "page": result.page,
        "listing": result if request.method == "GET" else None,
    }
    return render(
        request,
        "verification/feeds/feed.html",
        context,
        status=result.status if status == 200 else status,
    )


@login_required
@require_GET
def feed(request: HttpRequest, department_code: str) -> HttpResponse:
    feed = feeds.feed_get_for_admin(user=request.user, department_code=department_code)
    return _render_feed(request, feed)


@login_required
@require_POST
def feed_settings(request: HttpRequest, department_code: str) -> HttpResponse:
    feed = feeds.feed_get_for_admin(user=request.user, department_code=department_code)
    form = FeedSettingsForm(request.POST)
    if form.is_valid():
        try:
            feeds.feed_configure(
                actor=request.user,
                feed=feed,
                column_mapping=form.column_mapping(),
                bad_rows=form.cleaned_data["bad_rows"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The feed settings were saved."))
            return redirect("verification:feed", department_code=department_code)
    return _render_feed(request, feed, settings_form=form, status=400)


@login_required
@require_POST
def feed_upload(request: HttpRequest, department_code: str) -> HttpResponse:
    feed = feeds.feed_get_for_admin(user=request.user, department_code=department_code)
    form = SnapshotUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            snapshot = feeds.snapshot_upload(
                actor=request.user, feed=feed, upload=form.cleaned_data["file"]
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("%(file)s was uploaded; it is being checked and loaded.")
                % {"file": snapshot.original_name},
            )
            return redirect("verification:feed", department_code=department_code)
    return _render_feed(request, feed, upload_form=form, status=400)


@login_required
@require_GET
def snapshot_progress(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    """The progress bar of one import, polled by htmx every second while it loads."""
    snapshot = feeds.snapshot_get_for_admin(user=request.user, snapshot_id=snapshot_id)
    response = render(request, "verification/feeds/_progress.html", {"snapshot": snapshot})
    if snapshot.status != Snapshot.Status.LOADING and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the history table shows the outcome
    return response


@login_required
@require_GET
def feed_template(request: HttpRequest, department_code: str) -> HttpResponse:
    """The file to fill in: the header row the feed's settings expect."""
    feed = feeds.feed_get_for_admin(user=request.user, department_code=department_code)
    try:
        sheets = feeds.feed_template(actor=request.user, feed=feed)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("verification:feed", department_code=department_code)
    return xlsx_response(filename=f"{department_code}-template.xlsx", sheets=sheets)


@login_required
@require_GET
def snapshot_bad_rows(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    """An import's bad rows with their reasons, for the department to correct (audited)."""
    snapshot = feeds.snapshot_get_for_admin(user=request.user, snapshot_id=snapshot_id)
    sheet = feeds.snapshot_bad_rows_export(actor=request.user, snapshot=snapshot)
    return xlsx_response(filename=f"bad-rows-{snapshot.pk}.xlsx", sheets=[sheet])


@login_required
@require_GET
def snapshot(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = feeds.snapshot_get_for_admin(user=request.user, snapshot_id=snapshot_id)
    result = listing.list_page(
        request,
        verification_lists.FEED_BAD_ROWS,
        page_size=QUARANTINE_PAGE_SIZE,
        scope={"snapshot": str(snapshot.pk)},
    )
    if isinstance(result, HttpResponse):
        return result
    context = {
        "snapshot": snapshot,
        "department": snapshot.feed.department,
        "page": result.page,
        "listing": result,
    }
    return render(request, "verification/feeds/snapshot.html", context, status=result.status)
