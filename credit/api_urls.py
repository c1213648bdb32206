"""API routes of credit discipline, under /api/. Names: api-credit-*."""

from django.urls import path

from credit.findings import api
from credit.trust import api_urls as api_urls_trust

# POST /api/credit/findings/<id>/<step>/: one view per step of a finding
# (credit.findings.steps.CREDIT_FINDING), the step's name with dashes.
STEP_VIEWS = api.finding_step_views()

urlpatterns = [
    path("credit/findings/", api.FindingListView.as_view(), name="api-credit-findings"),
    path(
        "credit/findings/<int:finding_id>/",
        api.FindingDetailView.as_view(),
        name="api-credit-finding",
    ),
    *(
        path(f"credit/findings/<int:pk>/{slug}/", view.as_view(), name=f"api-credit-{slug}")
        for slug, view in STEP_VIEWS.items()
    ),
    path("credit/behaviours/", api.BehaviourListView.as_view(), name="api-credit-behaviours"),
    path("credit/outbox/", api.OutboxListView.as_view(), name="api-credit-outbox"),
    path("credit/outbox/export/", api.OutboxExportView.as_view(), name="api-credit-outbox-export"),
    path("credit/block-check/", api.BlockCheckView.as_view(), name="api-credit-block-check"),
    *api_urls_trust.urlpatterns,
]
