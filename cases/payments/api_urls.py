"""API routes of the payment feature (cases.payments.api), joined by cases.api_urls."""

from django.urls import path

from cases.payments import api

# POST /api/rosters/<id>/<step>/: one view per step of a roster
# (cases.payments.steps.ROSTER), the step's name with dashes.
ROSTER_STEP_VIEWS = api.roster_step_views()

urlpatterns = [
    path("rosters/", api.RosterListView.as_view(), name="api-cases-rosters"),
    path(
        "rosters/supplementary/",
        api.SupplementaryView.as_view(),
        name="api-cases-roster-supplementary",
    ),
    path(
        "rosters/<int:roster_id>/",
        api.RosterDetailView.as_view(),
        name="api-cases-roster-detail",
    ),
    path(
        "rosters/<int:roster_id>/bank-file/",
        api.BankFileView.as_view(),
        name="api-cases-roster-bank-file",
    ),
    *(
        path(f"rosters/<int:pk>/{slug}/", view.as_view(), name=f"api-cases-roster-{slug}")
        for slug, view in ROSTER_STEP_VIEWS.items()
    ),
    path("payments/failed/", api.FailedLineListView.as_view(), name="api-cases-payments-failed"),
    path(
        "households/<int:household_id>/payment-account/",
        api.AccountView.as_view(),
        name="api-cases-payment-account",
    ),
    path("funds/", api.FundsView.as_view(), name="api-cases-funds"),
]
