"""API routes of credit discipline, under /api/. Names: api-credit-*."""

from django.urls import path

from credit import api, api_urls_trust

# POST /api/credit/findings/<id>/<action>/: one view per step of a finding.
ACTIONS = {
    "decide": api.DecideView,
    "confirm": api.ConfirmView,
    "dismiss": api.DismissView,
    "interview": api.InterviewView,
    "repayment": api.RepaymentView,
    "objection": api.ObjectionView,
    "objection-review": api.ObjectionReviewView,
    "repair": api.RepairApplyView,
    "repair-decide": api.RepairDecideView,
}

urlpatterns = [
    path("credit/findings/", api.FindingListView.as_view(), name="api-credit-findings"),
    path(
        "credit/findings/<int:finding_id>/",
        api.FindingDetailView.as_view(),
        name="api-credit-finding",
    ),
    *(
        path(
            f"credit/findings/<int:finding_id>/{action}/",
            view.as_view(),
            name=f"api-credit-{action}",
        )
        for action, view in ACTIONS.items()
    ),
    path("credit/behaviours/", api.BehaviourListView.as_view(), name="api-credit-behaviours"),
    path("credit/outbox/", api.OutboxListView.as_view(), name="api-credit-outbox"),
    path("credit/outbox/export/", api.OutboxExportView.as_view(), name="api-credit-outbox-export"),
    path("credit/block-check/", api.BlockCheckView.as_view(), name="api-credit-block-check"),
    *api_urls_trust.urlpatterns,
]
