"""API routes of the verification app (under /api/). Names: api-spotcheck-*."""

from django.urls import path

from verification import api_spotcheck as api

urlpatterns = [
    path(
        "spot-checks/campaigns/",
        api.CampaignListView.as_view(),
        name="api-spotcheck-campaign-list",
    ),
    path(
        "spot-checks/campaigns/draw/",
        api.CampaignDrawView.as_view(),
        name="api-spotcheck-campaign-draw",
    ),
    path(
        "spot-checks/campaigns/<int:campaign_id>/",
        api.CampaignDetailView.as_view(),
        name="api-spotcheck-campaign-detail",
    ),
    path(
        "spot-checks/campaigns/<int:campaign_id>/items/",
        api.SampleItemListView.as_view(),
        name="api-spotcheck-item-list",
    ),
    path(
        "spot-checks/items/<int:item_id>/findings/",
        api.FindingSubmitView.as_view(),
        name="api-spotcheck-finding-submit",
    ),
]
