"""URLs of the public roster's staff pages under /cases/publicity/ (the public pages
are cases.publicity.public_urls)."""

from django.urls import path

from cases.publicity import views

urlpatterns = [
    path("publicity/", views.publicity_list, name="publicity"),
    path("publicity/<int:public_roster_id>/", views.public_roster_detail, name="public-roster"),
    path("publicity/reports/", views.public_reports, name="public-reports"),
    path(
        "publicity/reports/<int:report_id>/handle/",
        views.public_report_handle,
        name="public-report-handle",
    ),
]
