"""API routes of casework: the household file's documents, the applications and
the steps of their path."""

from django.urls import path

from cases.casework import api

# POST /api/applications/<id>/<step>/: one view per step of the declared path
# (cases.casework.steps.APPLICATION), the step's name with dashes; built once every app
# has bound its steps (AppConfig.ready), since verification binds the step it performs.
STEP_VIEWS = api.application_step_views()

urlpatterns = [
    path(
        "households/<int:household_id>/documents/",
        api.DocumentUploadView.as_view(),
        name="api-households-document-upload",
    ),
    path(
        "documents/<int:document_id>/download/",
        api.DocumentDownloadView.as_view(),
        name="api-cases-document-download",
    ),
    path("applications/", api.ApplicationListView.as_view(), name="api-cases-application-list"),
    path(
        "applications/<int:application_id>/",
        api.ApplicationDetailView.as_view(),
        name="api-cases-application-detail",
    ),
    path(
        "applications/<int:application_id>/amount/",
        api.AmountView.as_view(),
        name="api-cases-amount",
    ),
    *(
        path(f"applications/<int:pk>/{slug}/", view.as_view(), name=f"api-cases-{slug}")
        for slug, view in STEP_VIEWS.items()
    ),
]
