"""API routes of the spot-checks (under /api/, joined by verification.api_urls).
Names: api-spotcheck-*."""

from django.urls import path

from verification.spotcheck import api

# POST /api/spot-checks/campaigns/<id>/<step>/ and /api/spot-checks/items/<id>/<step>/:
# one view per step of verification.spotcheck.steps, the step's name with dashes.
CAMPAIGN_STEP_VIEWS = api.campaign_step_views()
SAMPLE_STEP_VIEWS = api.sample_step_views()

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
    *(
        path(
            f"spot-checks/campaigns/<int:pk>/{slug}/",
            view.as_view(),
            name=f"api-spotcheck-campaign-{slug}",
        )
        for slug, view in CAMPAIGN_STEP_VIEWS.items()
    ),
    *(
        path(
            f"spot-checks/items/<int:pk>/{slug}/", view.as_view(), name=f"api-spotcheck-item-{slug}"
        )
        for slug, view in SAMPLE_STEP_VIEWS.items()
    ),
]
