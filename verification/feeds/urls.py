"""Feed pages, included under /verification/ in the "verification" namespace."""

from django.urls import path

from verification.feeds import views

urlpatterns = [
    path("departments/", views.departments, name="departments"),
    path("feeds/<slug:department_code>/", views.feed, name="feed"),
    path("feeds/<slug:department_code>/settings/", views.feed_settings, name="feed-settings"),
    path("feeds/<slug:department_code>/upload/", views.feed_upload, name="feed-upload"),
    path(
        "feeds/<slug:department_code>/template.xlsx",
        views.feed_template,
        name="feed-template",
    ),
    path("snapshots/<int:snapshot_id>/", views.snapshot, name="snapshot"),
    path(
        "snapshots/<int:snapshot_id>/bad-rows.xlsx",
        views.snapshot_bad_rows,
        name="snapshot-bad-rows",
    ),
    path(
        "snapshots/<int:snapshot_id>/progress/",
        views.snapshot_progress,
        name="snapshot-progress",
    ),
]
