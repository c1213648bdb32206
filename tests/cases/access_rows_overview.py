"""Access-matrix rows of the case overview (tests/test_access_matrix.py): the page and
its exports. The county auditor and the township approver see it, each for their own
places (the world's cases lie in township A and in the other county); everyone else is
refused, and an unknown table is not found."""

from __future__ import annotations

from django.urls import reverse

from tests.test_access_matrix import ANON, PAGE_LOGIN, PEOPLE, Row

READERS = {"approver_a", "auditor", "outsider_auditor", "superuser"}


def statuses(*, otherwise: int = 403) -> dict:
    return {p: (200 if p in READERS else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def _outside(w) -> str:
    return w.places.other_township.name


def _inside(w) -> str:
    return w.places.township_a.name


ROWS = [
    Row(
        "case overview",
        lambda w: reverse("cases:overview"),
        statuses(),
        url_name="cases:overview",
        must_not_contain={
            "auditor": _outside,
            "approver_a": _outside,
            "outsider_auditor": _inside,
        },
    ),
    Row(
        "case overview: states table as CSV",
        lambda w: reverse("cases:overview-export", args=["states", "csv"]),
        statuses(),
        url_name="cases:overview-export",
        must_not_contain={"auditor": _outside, "outsider_auditor": _inside},
    ),
    Row(
        "case overview: overdue table as XLSX",
        lambda w: reverse("cases:overview-export", args=["overdue", "xlsx"]),
        statuses(),
        url_name="cases:overview-export",
    ),
    Row(
        "case overview: an unknown table",
        lambda w: reverse("cases:overview-export", args=["households", "csv"]),
        {p: 404 if p in READERS else 403 for p in PEOPLE} | {ANON: PAGE_LOGIN},
        url_name="cases:overview-export",
    ),
]
