"""The intake pages, under /cases/ in the "cases" namespace (see cases/urls.py)."""

from django.urls import path

from cases.intake import views

APP = "<int:application_id>"
HOUSEHOLD = "households/<int:household_id>"

urlpatterns = [
    path("new/", views.start, name="intake-start"),
    # Step pages (GET).
    path(f"{APP}/members/", views.members, name="intake-members"),
    path(f"{APP}/declaration/", views.declaration, name="intake-declaration"),
    path(f"{APP}/commitments/", views.commitments, name="intake-commitments"),
    path(f"{APP}/documents/", views.household_file, name="intake-documents"),
    path(f"{APP}/submit/", views.submit, name="intake-submit"),
    # Their sections (POST; htmx answers with the section, plain posts redirect).
    path(
        f"{APP}/members/add/",
        views.section_post,
        {"section": "members"},
        name="intake-member-add",
    ),
    path(
        f"{APP}/members/<int:member_id>/edit/",
        views.member_edit,
        name="intake-member-edit",
    ),
    path(
        f"{APP}/members/<int:member_id>/remove/",
        views.member_remove,
        name="intake-member-remove",
    ),
    path(
        f"{APP}/declaration/income/add/",
        views.section_post,
        {"section": "incomes"},
        name="intake-income-add",
    ),
    path(
        f"{APP}/declaration/asset/add/",
        views.section_post,
        {"section": "assets"},
        name="intake-asset-add",
    ),
    path(
        f"{APP}/declaration/expenditure/add/",
        views.section_post,
        {"section": "expenditures"},
        name="intake-expenditure-add",
    ),
    path(
        f"{APP}/declaration/<str:kind>/<int:row_id>/remove/",
        views.declaration_row_remove,
        name="intake-row-remove",
    ),
    path(
        f"{APP}/commitments/proof/",
        views.section_post,
        {"section": "proofs"},
        name="intake-proof",
    ),
    path(
        f"{APP}/commitments/declaration/",
        views.section_post,
        {"section": "commitment"},
        name="intake-commit",
    ),
    path(
        f"{APP}/commitments/authorisation/",
        views.section_post,
        {"section": "authorisations"},
        name="intake-authorisation",
    ),
    path(
        f"{APP}/commitments/near-relative/",
        views.section_post,
        {"section": "near_relatives"},
        name="intake-near-relative",
    ),
    path(
        f"{APP}/documents/upload/",
        views.section_post,
        {"section": "documents"},
        name="intake-document-upload",
    ),
    # The household file, read through the access gate on the household.
    path(
        f"{HOUSEHOLD}/documents/<int:document_id>/",
        views.document_download,
        name="document-download",
    ),
    path(f"{HOUSEHOLD}/documents.zip", views.household_file_zip, name="household-file-zip"),
]
