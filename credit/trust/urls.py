"""Trust pages, included from credit.urls under /credit/ (namespace "credit")."""

from django.urls import path

from credit.trust import views

urlpatterns = [
    path(
        "trust/applications/<int:application_id>/record/",
        views.record,
        name="trust-record",
    ),
    path("trust/records/", views.records, name="trust-records"),
    path("trust/rewards/", views.rewards, name="rewards"),
    path("trust/rewards/xlsx/", views.rewards_xlsx, name="rewards-xlsx"),
    path("trust/rewards/<int:household_id>/grant/", views.reward_grant, name="reward-grant"),
    path("trust/dashboard/", views.dashboard, name="dashboard"),
    path("trust/dashboard/compute/", views.yearly_compute, name="yearly-compute"),
]
