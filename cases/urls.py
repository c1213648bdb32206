"""Pages of the cases app: intake (cases.urls_intake) and casework (cases.urls_casework)."""

from django.urls import path

from cases import views_review
from cases.urls_casework import urlpatterns as casework
from cases.urls_intake import urlpatterns as intake

# After approval: reviews, adjustments, the county's monthly check (cases.views_review).
review = [
    path("reviews/", views_review.review_list, name="reviews"),
    path("reviews/<int:review_id>/", views_review.review_detail, name="review"),
    path("reviews/<int:review_id>/act/<str:step>/", views_review.review_act, name="review-act"),
    path("<int:application_id>/review/", views_review.review_open, name="review-open"),
    path("<int:application_id>/death/", views_review.member_death, name="member-death"),
    path("adjustments/", views_review.adjustments, name="adjustments"),
    path(
        "adjustments/<int:proposal_id>/handle/",
        views_review.adjustment_handle,
        name="adjustment-handle",
    ),
    path("file-checks/", views_review.file_checks, name="file-checks"),
    path("file-checks/<int:check_id>/", views_review.file_check, name="file-check"),
    path(
        "file-checks/<int:check_id>/items/<int:item_id>/",
        views_review.file_check_item,
        name="file-check-item",
    ),
    path("file-checks/<int:check_id>/done/", views_review.file_check_done, name="file-check-done"),
]

app_name = "cases"
urlpatterns = [*intake, *casework, *review]
