"""Pages after approval: reviews, adjustments, the county's monthly check."""

from django.urls import path

from cases.reviews import views

urlpatterns = [
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<int:review_id>/", views.review_detail, name="review"),
    path("reviews/<int:review_id>/act/<str:step>/", views.review_act, name="review-act"),
    path("<int:application_id>/review/", views.review_open, name="review-open"),
    path("<int:application_id>/death/", views.member_death, name="member-death"),
    path("adjustments/", views.adjustments, name="adjustments"),
    path(
        "adjustments/<int:proposal_id>/handle/",
        views.adjustment_handle,
        name="adjustment-handle",
    ),
    path("file-checks/", views.file_checks, name="file-checks"),
    path("file-checks/<int:check_id>/", views.file_check, name="file-check"),
    path(
        "file-checks/<int:check_id>/items/<int:item_id>/",
        views.file_check_item,
        name="file-check-item",
    ),
    path("file-checks/<int:check_id>/done/", views.file_check_done, name="file-check-done"),
]
