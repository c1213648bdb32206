"""API routes of the public roster's staff side (cases.publicity.api), joined by
cases.api_urls."""

from django.urls import path

from cases.publicity import api

urlpatterns = [
    path("public-rosters/", api.PublicRosterListView.as_view(), name="api-cases-public-rosters"),
    path(
        "public-rosters/<int:public_roster_id>/withdraw/",
        api.PublicRosterWithdrawView.as_view(),
        name="api-cases-public-roster-withdraw",
    ),
    path("public-reports/", api.PublicReportListView.as_view(), name="api-cases-public-reports"),
    path(
        "public-reports/<int:report_id>/handle/",
        api.PublicReportHandleView.as_view(),
        name="api-cases-public-report-handle",
    ),
]
