"""Casework pages, included under /cases/ in the "cases" namespace (cases.urls)."""

from django.urls import path

from cases.casework import views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("decisions/", views.decisions, name="decisions"),
    path("search/", views.search, name="search"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:policy_id>/edit/", views.policy_edit, name="policy-edit"),
    path("policies/<int:policy_id>/withdraw/", views.policy_withdraw, name="policy-withdraw"),
    path("<int:application_id>/", views.detail, name="detail"),
    path("<int:application_id>/act/<str:action>/", views.act, name="act"),
    path(
        "<int:application_id>/rejection-notice/",
        views.rejection_notice,
        name="rejection-notice",
    ),
]
