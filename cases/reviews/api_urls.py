"""API routes of periodic reviews and adjustment proposals (cases.reviews.api)."""

from django.urls import path

from cases.reviews import api

# POST /api/reviews/<id>/<step>/: one view per step of cases.reviews.steps.REVIEW.
REVIEW_STEP_VIEWS = api.review_step_views()

urlpatterns = [
    path("reviews/", api.ReviewListView.as_view(), name="api-cases-review-list"),
    path(
        "reviews/<int:review_id>/",
        api.ReviewDetailView.as_view(),
        name="api-cases-review-detail",
    ),
    *(
        path(f"reviews/<int:pk>/{slug}/", view.as_view(), name=f"api-cases-review-{slug}")
        for slug, view in REVIEW_STEP_VIEWS.items()
    ),
    path(
        "applications/<int:application_id>/review/",
        api.ReviewOpenView.as_view(),
        name="api-cases-review-open",
    ),
    path(
        "applications/<int:application_id>/death/",
        api.MemberDeathView.as_view(),
        name="api-cases-member-death",
    ),
    path("adjustments/", api.AdjustmentListView.as_view(), name="api-cases-adjustment-list"),
    path(
        "adjustments/<int:proposal_id>/",
        api.AdjustmentDetailView.as_view(),
        name="api-cases-adjustment-detail",
    ),
    path(
        "adjustments/<int:proposal_id>/handle/",
        api.AdjustmentHandleView.as_view(),
        name="api-cases-adjustment-handle",
    ),
]
