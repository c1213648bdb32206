"""Spot-check pages, included under /verification/ (namespace "verification")."""

from django.urls import path

from verification.spotcheck import views

urlpatterns = [
    path("spot-checks/", views.campaigns, name="spotcheck-campaigns"),
    path("spot-checks/draw/", views.campaign_draw, name="spotcheck-draw"),
    path("spot-checks/draw/preview/", views.campaign_preview, name="spotcheck-preview"),
    path("spot-checks/<int:campaign_id>/", views.campaign_detail, name="spotcheck-campaign"),
    path("spot-checks/<int:campaign_id>/assign/", views.campaign_assign, name="spotcheck-assign"),
    path(
        "spot-checks/<int:campaign_id>/xlsx/", views.campaign_xlsx, name="spotcheck-campaign-xlsx"
    ),
    path("spot-checks/cases/<int:item_id>/", views.item_detail, name="spotcheck-item"),
]
