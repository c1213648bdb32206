"""API routes of intake: households, their members and declaration, and the
declaration's edits on an application."""

from django.urls import path

from cases.intake import api

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
    *(
        path(
            f"applications/<int:application_id>/{edit}/",
            view.as_view(),
            name=f"api-cases-{edit}",
        )
        for edit, view in DECLARATION_EDITS.items()
    ),
]
