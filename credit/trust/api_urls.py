"""API routes of trust (credit.trust.api), under /api/. Names: api-credit-*."""

from django.urls import path

from credit.trust import api

urlpatterns = [
    path(
        "applications/<int:application_id>/honest-declarant/",
        api.HonestDeclarantView.as_view(),
        name="api-credit-honest-declarant",
    ),
    path(
        "credit/trust-records/", api.TrustRecordListView.as_view(), name="api-credit-trust-records"
    ),
    path("credit/rewards/", api.RewardCandidateListView.as_view(), name="api-credit-rewards"),
    path("credit/rewards/grant/", api.RewardGrantView.as_view(), name="api-credit-reward-grant"),
    path(
        "credit/untrustworthy-rates/",
        api.UntrustworthyRatesView.as_view(),
        name="api-credit-untrustworthy-rates",
    ),
    path(
        "credit/yearly-results/compute/",
        api.YearlyResultsComputeView.as_view(),
        name="api-credit-yearly-compute",
    ),
]
