"""Access-matrix rows of the feed pages (tests/test_access_matrix.py runs them).

Departments are county-wide reference data: only data-feed admins (and superusers)
manage them; every other signed-in person gets 403.
"""

from django.urls import reverse

from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import Feed, Snapshot

FEED_ADMINS = {"feedadmin", "superuser"}


def statuses(allowed, *, otherwise: int = 403) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def _department(w) -> str:
    load_catalogue()
    return "hrss"


def _snapshot(w) -> int:
    """One finished import with a bad row, made once per world."""
    if getattr(w, "feed_snapshot", None) is None:
        feed = Feed.objects.get(department__code=_department(w))
        snapshot = Snapshot(
            feed=feed,
            original_name="hrss.csv",
            uploaded_by=w.people.feedadmin,
            status=Snapshot.Status.REJECTED,
            rows_total=1,
            rows_quarantined=1,
            error="1 of 1 rows are bad",
            file="feeds/access-matrix.csv",  # never opened by these pages
        )
        snapshot.save()
        w.feed_snapshot = snapshot.pk
    return w.feed_snapshot


ROWS = [
    Row(
        "feeds: departments",
        lambda w: reverse("verification:departments"),
        statuses(FEED_ADMINS),
        url_name="verification:departments",
    ),
    Row(
        "feeds: a department's feed",
        lambda w: reverse("verification:feed", args=[_department(w)]),
        statuses(FEED_ADMINS),
        url_name="verification:feed",
    ),
    Row(
        "feeds: a feed's uploads searched and filtered",
        lambda w: (
            reverse("verification:feed", args=[_department(w)])
            + "?q=csv&status=complete&with_bad_rows=1"
        ),
        statuses(FEED_ADMINS),
    ),
    Row(
        "feeds: a feed's uploads exported, CSV",
        lambda w: reverse("verification:feed", args=[_department(w)]) + "?export=csv",
        statuses(FEED_ADMINS),
    ),
    Row(
        "feeds: a feed's uploads exported, XLSX",
        lambda w: reverse("verification:feed", args=[_department(w)]) + "?export=xlsx",
        statuses(FEED_ADMINS),
    ),
    Row(
        "feeds: a department that does not exist",
        lambda w: reverse("verification:feed", args=["no_such_department"]),
        statuses(set(), otherwise=403) | {"feedadmin": 404, "superuser": 404},
    ),
    Row(
        "feeds: one import",
        lambda w: reverse("verification:snapshot", args=[_snapshot(w)]),
        statuses(FEED_ADMINS),
        url_name="verification:snapshot",
    ),
    Row(
        "search: one import's bad rows",
        lambda w: reverse("verification:snapshot", args=[_snapshot(w)]) + "?q=3",
        statuses(FEED_ADMINS),
    ),
    Row(
        "export: one import's bad rows, CSV",
        lambda w: reverse("verification:snapshot", args=[_snapshot(w)]) + "?export=csv",
        statuses(FEED_ADMINS),
    ),
    Row(
        "export: one import's bad rows, XLSX",
        lambda w: reverse("verification:snapshot", args=[_snapshot(w)]) + "?export=xlsx",
        statuses(FEED_ADMINS),
    ),
    Row(
        "feeds: the template file of a feed",
        lambda w: reverse("verification:feed-template", args=[_department(w)]),
        statuses(FEED_ADMINS),
        url_name="verification:feed-template",
    ),
    Row(
        "feeds: the bad rows of one import (audited download)",
        lambda w: reverse("verification:snapshot-bad-rows", args=[_snapshot(w)]),
        statuses(FEED_ADMINS),
        url_name="verification:snapshot-bad-rows",
    ),
    Row(
        "feeds: import progress",
        lambda w: reverse("verification:snapshot-progress", args=[_snapshot(w)]),
        statuses(FEED_ADMINS),
        url_name="verification:snapshot-progress",
    ),
]

POST_ONLY = {"verification:feed-settings", "verification:feed-upload"}
