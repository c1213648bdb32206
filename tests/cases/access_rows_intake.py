"""Access-matrix rows of the intake pages (cases/intake/urls.py).

Step pages of an application in township A: everyone who reads cases there gets the
page (read-only without an intake role); everyone else, "not found". The start page
is for the people who file (village assistants, township caseworkers).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.casework import documents
from tests.cases.conftest import PNG
from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row

READERS_A = ["assistant_a", "caseworker_a", "approver_a", "auditor", "verifier", "superuser"]
READERS_OTHER = ["outsider_auditor", "superuser"]
FILERS = ["assistant_a", "caseworker_a", "caseworker_b", "superuser"]


def expect(allowed: list[str], otherwise: int) -> dict[str, int]:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def document_a(w) -> int:
    """One scan in case A's household file, made once per world."""
    if "_intake_document" not in w.__dict__:
        w._intake_document = documents.document_upload(
            actor=w.people.caseworker_a,
            household=w.cases.case_a.household,
            kind="id_card",
            upload=SimpleUploadedFile("id.png", PNG),
        )
    return w._intake_document.pk


STEP_PAGES = [
    ("intake-members", "members"),
    ("intake-declaration", "declaration"),
    ("intake-commitments", "commitments"),
    ("intake-documents", "household file"),
    ("intake-submit", "submit"),
]

ROWS = [
    Row(
        "intake: start",
        lambda w: reverse("cases:intake-start"),
        expect(FILERS, 403),
        url_name="cases:intake-start",
        must_not_contain={
            "assistant_a": lambda w: w.places.village_b.name,
            "caseworker_a": lambda w: w.places.village_b.name,
            "caseworker_b": lambda w: w.places.village_a.name,
        },
    ),
    *[
        Row(
            f"intake: {label}, township A",
            lambda w, name=name: reverse(f"cases:{name}", args=[w.cases.case_a.pk]),
            expect(READERS_A, 404),
            url_name=f"cases:{name}",
        )
        for name, label in STEP_PAGES
    ],
    *[
        Row(
            f"intake: {label}, other county",
            lambda w, name=name: reverse(f"cases:{name}", args=[w.cases.case_other.pk]),
            expect(READERS_OTHER, 404),
        )
        for name, label in STEP_PAGES
    ],
    # Correcting a member is for who files in township A; who only reads it gets 403.
    Row(
        "intake: member edit, township A",
        lambda w: reverse(
            "cases:intake-member-edit",
            args=[w.cases.case_a.pk, w.cases.case_a.household.members.get().pk],
        ),
        expect(["assistant_a", "caseworker_a", "superuser"], 404)
        | {"approver_a": 403, "auditor": 403, "verifier": 403},
        url_name="cases:intake-member-edit",
    ),
    Row(
        "intake: member edit, other county",
        lambda w: reverse(
            "cases:intake-member-edit",
            args=[w.cases.case_other.pk, w.cases.case_other.household.members.get().pk],
        ),
        expect(["superuser"], 404) | {"outsider_auditor": 403},
    ),
    Row(
        "intake: document download, township A",
        lambda w: reverse(
            "cases:document-download", args=[w.cases.case_a.household_id, document_a(w)]
        ),
        expect(READERS_A, 404),
        url_name="cases:document-download",
    ),
    Row(
        "intake: household file zip, township A",
        lambda w: reverse("cases:household-file-zip", args=[w.cases.case_a.household_id]),
        expect(READERS_A, 404),
        url_name="cases:household-file-zip",
    ),
    Row(
        "intake: household file zip, other county",
        lambda w: reverse("cases:household-file-zip", args=[w.cases.case_other.household_id]),
        expect(READERS_OTHER, 404),
    ),
]

POST_ONLY = {
    "cases:intake-member-add",
    "cases:intake-member-remove",
    "cases:intake-income-add",
    "cases:intake-asset-add",
    "cases:intake-expenditure-add",
    "cases:intake-row-remove",
    "cases:intake-proof",
    "cases:intake-commit",
    "cases:intake-authorisation",
    "cases:intake-near-relative",
    "cases:intake-document-upload",
}
