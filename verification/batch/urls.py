"""Batch comparison pages, included under /verification/ (namespace "verification")."""

from django.urls import path

from verification.batch import views

urlpatterns = [
    path("batch/", views.runs, name="batch-runs"),
    path("batch/<int:run_id>/", views.run_detail, name="batch-run"),
    path("batch/<int:run_id>/xlsx/", views.run_xlsx, name="batch-run-xlsx"),
    path("findings/", views.findings, name="findings"),
    path("findings/<int:finding_id>/resolve/", views.finding_resolve, name="finding-resolve"),
]
