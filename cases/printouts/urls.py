"""The case's printed documents, under /cases/<id>/print/ (cases.printouts.views)."""

from django.urls import path

from cases.printouts import views

urlpatterns = [
    path(
        "<int:application_id>/print/approval-notice/",
        views.approval_notice,
        name="print-approval-notice",
    ),
    path(
        "<int:application_id>/print/home-visit/<int:visit_id>/",
        views.home_visit_record,
        name="print-home-visit",
    ),
    path(
        "<int:application_id>/print/application-form/",
        views.application_form,
        name="print-application-form",
    ),
]
