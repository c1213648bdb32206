"""Pages of verification requests and reports (verification.requests.views)."""

from django.urls import path

from verification.requests import views

urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:verification_id>/", views.report, name="report"),
    path("requests/<int:verification_id>/issue/", views.report_issue, name="report-issue"),
    path("requests/<int:verification_id>/print/", views.report_print, name="report-print"),
    path(
        "requests/<int:verification_id>/feedback-letter/",
        views.feedback_letter,
        name="feedback-letter",
    ),
    path("cases/<int:application_id>/stage/", views.case_stage, name="case-stage"),
    path("queries/<int:query_id>/reask/", views.query_reask, name="query-reask"),
]
