"""Access-matrix rows of the cases API (cases/api_urls.py): every GET endpoint, inside
township A and in the other county. Anonymous callers get 401; people outside the
object's places get 404, never a hint that it exists."""

from __future__ import annotations

from django.urls import reverse

from cases.casework import documents
from cases.casework.api_urls import STEP_VIEWS
from cases.intake.api_urls import DECLARATION_EDITS
from tests.cases.conftest import scan
from tests.test_access_matrix import ANON, API_ANON, PEOPLE, Row

# Who reads township A's cases, and who reads the other county's.
INSIDE_A = {"assistant_a", "caseworker_a", "approver_a", "auditor", "verifier", "superuser"}
INSIDE_OTHER = {"outsider_auditor", "superuser"}


def expect(inside: set[str], *, otherwise: int = 404) -> dict[str, int]:
    return {p: (200 if p in inside else otherwise) for p in PEOPLE} | {ANON: API_ANON}


def document_a(w) -> int:
    """A scan in case A's household file, made once per world (the world has none)."""
    if not hasattr(w, "api_document_a"):
        w.api_document_a = documents.document_upload(
            actor=w.people.caseworker_a,
            household=w.cases.case_a.household,
            application=w.cases.case_a,
            kind="id_card",
            upload=scan(),
        )
    return w.api_document_a.pk


ROWS = [
    Row(
        "api applications",
        lambda w: reverse("api-cases-application-list"),
        expect(INSIDE_A | INSIDE_OTHER | {"caseworker_b"}, otherwise=403),
        api=True,
        url_name="api-cases-application-list",
        must_not_contain={
            **{p: (lambda w: w.cases.case_other.number) for p in INSIDE_A - {"superuser"}},
            "caseworker_b": lambda w: w.cases.case_a.number,
            "outsider_auditor": lambda w: w.cases.case_a.number,
        },
    ),
    Row(
        "api application, township A",
        lambda w: reverse("api-cases-application-detail", args=[w.cases.case_a.pk]),
        expect(INSIDE_A),
        api=True,
        url_name="api-cases-application-detail",
    ),
    Row(
        "api application, other county",
        lambda w: reverse("api-cases-application-detail", args=[w.cases.case_other.pk]),
        expect(INSIDE_OTHER),
        api=True,
    ),
    Row(
        "api amount, township A",
        lambda w: reverse("api-cases-amount", args=[w.cases.case_a.pk]),
        expect(INSIDE_A),
        api=True,
        url_name="api-cases-amount",
    ),
    Row(
        "api amount, other county",
        lambda w: reverse("api-cases-amount", args=[w.cases.case_other.pk]),
        expect(INSIDE_OTHER),
        api=True,
    ),
    Row(
        "api household, township A",
        lambda w: reverse("api-households-detail", args=[w.cases.case_a.household_id]),
        expect(INSIDE_A),
        api=True,
        url_name="api-households-detail",
    ),
    Row(
        "api household, other county",
        lambda w: reverse("api-households-detail", args=[w.cases.case_other.household_id]),
        expect(INSIDE_OTHER),
        api=True,
    ),
    Row(
        "api document download, township A",
        lambda w: reverse("api-cases-document-download", args=[document_a(w)]),
        expect(INSIDE_A),
        api=True,
        url_name="api-cases-document-download",
    ),
]

# Writes only (POST or DELETE): tried as each person in tests/cases/test_api.py.
POST_ONLY = {
    "api-households-create",
    "api-households-member-add",
    "api-households-member-remove",
    "api-households-income-add",
    "api-households-income-remove",
    "api-households-asset-add",
    "api-households-asset-remove",
    "api-households-expenditure-add",
    "api-households-expenditure-remove",
    "api-households-document-upload",
    *(f"api-cases-{name}" for name in [*STEP_VIEWS, *DECLARATION_EDITS]),
}
