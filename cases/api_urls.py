"""API routes of the cases app (under /api/). Names: api-households-* and api-cases-*."""

from django.urls import path

from cases import api, api_review

# POST /api/applications/<id>/<step>/: one view per step of the declared path
# (cases.steps.APPLICATION), the step's name with dashes; built once every app has bound
# its steps (AppConfig.ready), since verification binds the step it performs.
STEP_VIEWS = api.application_step_views()
REVIEW_STEP_VIEWS = api_review.review_step_views()

# POST /api/applications/<id>/<edit>/: changes to the declaration, not steps.
DECLARATION_EDITS = {
    "proofs": api.ProofView,
    "commitment": api.CommitmentView,
    "authorisations": api.AuthorisationView,
    "near-relative": api.NearRelativeView,
}

urlpatterns = [
    path("households/", api.HouseholdCreateView.as_view(), name="api-households-create"),
    path(
        "households/<int:household_id>/",
        api.HouseholdDetailView.as_view(),
        name="api-households-detail",
    ),
    path(
        "households/<int:household_id>/members/",
        api.MemberAddView.as_view(),
        name="api-households-member-add",
    ),
    path(
        "households/<int:household_id>/assets/",
        api.AssetAddView.as_view(),
        name="api-households-asset-add",
    ),
    path(
        "households/<int:household_id>/expenditures/",
        api.ExpenditureAddView.as_view(),
        name="api-households-expenditure-add",
    ),
    path(
        "households/<int:household_id>/documents/",
        api.DocumentUploadView.as_view(),
        name="api-households-document-upload",
    ),
    path(
        "members/<int:member_id>/",
        api.MemberRemoveView.as_view(),
        name="api-households-member-remove",
    ),
    path(
        "members/<int:member_id>/incomes/",
        api.IncomeAddView.as_view(),
        name="api-households-income-add",
    ),
    path(
        "incomes/<int:income_id>/",
        api.IncomeRemoveView.as_view(),
        name="api-households-income-remove",
    ),
    path(
        "assets/<int:asset_id>/", api.AssetRemoveView.as_view(), name="api-households-asset-remove"
    ),
    path(
        "expenditures/<int:expenditure_id>/",
        api.ExpenditureRemoveView.as_view(),
        name="api-households-expenditure-remove",
    ),
    path(
        "documents/<int:document_id>/download/",
        api.DocumentDownloadView.as_view(),
        name="api-cases-document-download",
    ),
    path("applications/", api.ApplicationListView.as_view(), name="api-cases-application-list"),
    path(
        "applications/<int:application_id>/",
        api.ApplicationDetailView.as_view(),
        name="api-cases-application-detail",
    ),
    path(
        "applications/<int:application_id>/amount/",
        api.AmountView.as_view(),
        name="api-cases-amount",
    ),
    *(
        path(f"applications/<int:pk>/{slug}/", view.as_view(), name=f"api-cases-{slug}")
        for slug, view in STEP_VIEWS.items()
    ),
    *(
        path(
            f"applications/<int:application_id>/{edit}/",
            view.as_view(),
            name=f"api-cases-{edit}",
        )
        for edit, view in DECLARATION_EDITS.items()
    ),
    # Periodic reviews and adjustment proposals (cases.api_review).
    path("reviews/", api_review.ReviewListView.as_view(), name="api-cases-review-list"),
    path(
        "reviews/<int:review_id>/",
        api_review.ReviewDetailView.as_view(),
        name="api-cases-review-detail",
    ),
    *(
        path(f"reviews/<int:pk>/{slug}/", view.as_view(), name=f"api-cases-review-{slug}")
        for slug, view in REVIEW_STEP_VIEWS.items()
    ),
    path(
        "applications/<int:application_id>/review/",
        api_review.ReviewOpenView.as_view(),
        name="api-cases-review-open",
    ),
    path(
        "applications/<int:application_id>/death/",
        api_review.MemberDeathView.as_view(),
        name="api-cases-member-death",
    ),
    path("adjustments/", api_review.AdjustmentListView.as_view(), name="api-cases-adjustment-list"),
    path(
        "adjustments/<int:proposal_id>/",
        api_review.AdjustmentDetailView.as_view(),
        name="api-cases-adjustment-detail",
    ),
    path(
        "adjustments/<int:proposal_id>/handle/",
        api_review.AdjustmentHandleView.as_view(),
        name="api-cases-adjustment-handle",
    ),
]
