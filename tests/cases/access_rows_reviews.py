"""Access-matrix rows of reviews, adjustments and the monthly file check (pages and API).

A review, an adjustment proposal and a monthly check are made here with the ORM, on the
world's case_a (township A) and case_other (the other county), so that every list and
detail page is tried with data: township A's staff and the county auditor see A's,
township B's caseworker sees none of them, the other county's auditor sees only theirs.
"""

import datetime
from decimal import Decimal

from django.urls import reverse

from cases.models import AdjustmentProposal, MonthlyFileCheck, MonthlyFileCheckItem, PeriodicReview
from cases.reviews.api_urls import REVIEW_STEP_VIEWS
from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row

READERS = {"caseworker_a", "approver_a", "caseworker_b", "auditor", "outsider_auditor", "superuser"}
INSIDE_A = {"caseworker_a", "approver_a", "auditor", "superuser"}
CHECKERS = {"auditor", "outsider_auditor", "superuser"}


def statuses(allowed, *, otherwise: int, anon: int = PAGE_LOGIN, **others: int) -> dict:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: anon}


def made(w) -> dict:
    """One review, proposal and monthly check inside township A's county, one outside."""
    if "reviews_made" not in w.__dict__:
        objects = {}
        for key, case, county in (
            ("a", w.cases.case_a, w.places.county),
            ("other", w.cases.case_other, w.places.other_county),
        ):
            objects[f"review_{key}"] = PeriodicReview.objects.create(
                application=case,
                trigger=PeriodicReview.Trigger.SCHEDULE,
                due_on=datetime.date(2026, 1, 5),
            )
            objects[f"proposal_{key}"] = AdjustmentProposal.objects.create(
                application=case,
                action=AdjustmentProposal.Action.DECREASE,
                reasons="家庭收入增加",
                proposed_amount=Decimal("300"),
                source=AdjustmentProposal.Source.SPOT_CHECK,
                proposed_by=w.people.auditor,
            )
            check = MonthlyFileCheck.objects.create(
                county=county, month=datetime.date(2026, 10, 1), due_on=datetime.date(2026, 11, 15)
            )
            MonthlyFileCheckItem.objects.create(file_check=check, application=case)
            objects[f"check_{key}"] = check
        w.__dict__["reviews_made"] = objects
    return w.__dict__["reviews_made"]


def pk(key):
    return lambda w: made(w)[key].pk


def no_a(w):
    return w.cases.case_a.number


def no_other(w):
    return w.cases.case_other.number


ROWS = [
    Row(
        "reviews: list",
        lambda w: (made(w), reverse("cases:reviews"))[1],
        statuses(READERS, otherwise=403),
        url_name="cases:reviews",
        must_not_contain={
            "caseworker_a": no_other,
            "auditor": no_other,
            "caseworker_b": no_a,
            "outsider_auditor": no_a,
        },
    ),
    Row(
        "reviews: a review, township A",
        lambda w: reverse("cases:review", args=[pk("review_a")(w)]),
        statuses(INSIDE_A, otherwise=403, caseworker_b=404, outsider_auditor=404),
        url_name="cases:review",
    ),
    Row(
        "reviews: a review, other county",
        lambda w: reverse("cases:review", args=[pk("review_other")(w)]),
        statuses(
            {"outsider_auditor", "superuser"},
            otherwise=403,
            caseworker_a=404,
            approver_a=404,
            caseworker_b=404,
            auditor=404,
        ),
    ),
    Row(
        "adjustments: list",
        lambda w: (made(w), reverse("cases:adjustments"))[1],
        statuses(READERS, otherwise=403),
        url_name="cases:adjustments",
        must_not_contain={
            "approver_a": no_other,
            "caseworker_b": no_a,
            "outsider_auditor": no_a,
        },
    ),
    Row(
        "monthly file checks: list",
        lambda w: (made(w), reverse("cases:file-checks"))[1],
        statuses(CHECKERS, otherwise=403),
        url_name="cases:file-checks",
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "search: monthly file checks",
        lambda w: (made(w), reverse("cases:file-checks") + "?q=户主&done=open")[1],
        statuses(CHECKERS, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "export: monthly file checks, CSV",
        lambda w: (made(w), reverse("cases:file-checks") + "?export=csv")[1],
        statuses(CHECKERS, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "export: monthly file checks, XLSX",
        lambda w: (made(w), reverse("cases:file-checks") + "?export=xlsx")[1],
        statuses(CHECKERS, otherwise=403),
    ),
    Row(
        "monthly file checks: the county's",
        lambda w: reverse("cases:file-check", args=[pk("check_a")(w)]),
        statuses({"auditor", "superuser"}, otherwise=403, outsider_auditor=404),
        url_name="cases:file-check",
    ),
    Row(
        "monthly file checks: the other county's",
        lambda w: reverse("cases:file-check", args=[pk("check_other")(w)]),
        statuses({"outsider_auditor", "superuser"}, otherwise=403, auditor=404),
    ),
    # The API.
    Row(
        "api reviews",
        lambda w: (made(w), reverse("api-cases-review-list"))[1],
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-cases-review-list",
        must_not_contain={"caseworker_a": no_other, "caseworker_b": no_a},
    ),
    Row(
        "api review, township A",
        lambda w: reverse("api-cases-review-detail", args=[pk("review_a")(w)]),
        statuses(INSIDE_A, otherwise=403, anon=API_ANON, caseworker_b=404, outsider_auditor=404),
        api=True,
        url_name="api-cases-review-detail",
    ),
    Row(
        "api adjustments",
        lambda w: (made(w), reverse("api-cases-adjustment-list"))[1],
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-cases-adjustment-list",
        must_not_contain={"approver_a": no_other, "outsider_auditor": no_a},
    ),
    Row(
        "api adjustment, township A",
        lambda w: reverse("api-cases-adjustment-detail", args=[pk("proposal_a")(w)]),
        statuses(INSIDE_A, otherwise=403, anon=API_ANON, caseworker_b=404, outsider_auditor=404),
        api=True,
        url_name="api-cases-adjustment-detail",
    ),
]

POST_ONLY = {
    "cases:review-act",
    "cases:review-open",
    "cases:member-death",
    "cases:adjustment-handle",
    "cases:file-check-item",
    "cases:file-check-done",
    "api-cases-review-open",
    "api-cases-member-death",
    "api-cases-adjustment-handle",
    *(f"api-cases-review-{slug}" for slug in REVIEW_STEP_VIEWS),
}
