"""Access-matrix rows of the public roster (cases.publicity): the public pages, open to
everyone including anonymous visitors, and the staff pages and API of the township.

A public roster and a report are made here with the ORM in village A (township A) and
in the other county, so that each list is tried with data from both sides."""

import datetime

from django.core.cache import cache
from django.urls import reverse

from cases.publicity.models import PublicReport, PublicRoster, PublicRosterEntry
from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row

MONTH = datetime.date(2026, 10, 1)
READERS = {"caseworker_a", "approver_a", "caseworker_b", "auditor", "outsider_auditor", "superuser"}
INSIDE_A = {"caseworker_a", "approver_a", "auditor", "superuser"}


def statuses(allowed, *, otherwise: int, anon: int = PAGE_LOGIN, **others: int) -> dict:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: anon}


def made(w) -> dict:
    if "publicity_made" not in w.__dict__:
        cache.clear()  # the public pages count requests per address
        objects = {}
        for key, case, village, actor in (
            ("a", w.cases.case_a, w.places.village_a, w.people.caseworker_a),
            ("other", w.cases.case_other, w.places.other_village, w.people.superuser),
        ):
            public = PublicRoster.objects.create(village=village, month=MONTH, published_by=actor)
            PublicRosterEntry.objects.create(
                public_roster=public,
                household=case.household,
                shown_name=f"公示{key}",
                household_size=1,
                programme=case.assistance_type,
                amount="500.00",
                change=PublicRosterEntry.Change.UNCHANGED,
            )
            objects[f"public_{key}"] = public
            objects[f"report_{key}"] = PublicReport.objects.create(
                village=village,
                public_roster=public,
                text=f"举报内容{key}",
                reporter_contact="13900000000",
            )
        w.__dict__["publicity_made"] = objects
    return w.__dict__["publicity_made"]


def public_url(name, code):
    return lambda w: (made(w), reverse(name, args=[code(w), f"{MONTH:%Y-%m}"]))[1]


def text(key):
    return lambda w: made(w)[f"report_{key}"].text


def village_name(attr):
    return lambda w: getattr(w.places, attr).name


ROWS = [
    # Public: 200 for everyone, signed in or not.
    Row(
        "public roster: village page",
        public_url("public-roster", lambda w: w.places.village_a.code),
        {},
        url_name="public-roster",
    ),
    Row(
        "public roster: township page",
        public_url("public-township", lambda w: w.places.township_a.code),
        {},
        url_name="public-township",
        must_not_contain={p: (lambda w: "公示other") for p in [ANON, *PEOPLE]},
    ),
    Row(
        "public roster: report form",
        public_url("public-report", lambda w: w.places.village_a.code),
        {},
        url_name="public-report",
    ),
    # Staff pages.
    Row(
        "public roster: staff list",
        lambda w: (made(w), reverse("cases:publicity"))[1],
        statuses(READERS, otherwise=403),
        url_name="cases:publicity",
        must_not_contain={
            "caseworker_b": village_name("village_a"),
            "outsider_auditor": village_name("village_a"),
            "caseworker_a": village_name("other_village"),
        },
    ),
    Row(
        "public roster: staff list searched and filtered",
        lambda w: (made(w), reverse("cases:publicity") + "?q=村&state=published&month=2026-10")[1],
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_b": village_name("village_a"),
            "caseworker_a": village_name("other_village"),
        },
    ),
    Row(
        "public roster: staff list exported, CSV",
        lambda w: (made(w), reverse("cases:publicity") + "?month=2026-10&export=csv")[1],
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_b": village_name("village_a"),
            "outsider_auditor": village_name("village_a"),
            "caseworker_a": village_name("other_village"),
        },
    ),
    Row(
        "public roster: staff list exported, XLSX",
        lambda w: (made(w), reverse("cases:publicity") + "?export=xlsx")[1],
        statuses(READERS, otherwise=403),
    ),
    Row(
        "public roster: staff detail, village A",
        lambda w: reverse("cases:public-roster", args=[made(w)["public_a"].pk]),
        statuses(INSIDE_A, otherwise=403, caseworker_b=404, outsider_auditor=404),
        url_name="cases:public-roster",
    ),
    Row(
        "public roster: reports queue",
        lambda w: (made(w), reverse("cases:public-reports"))[1],
        statuses(READERS, otherwise=403),
        url_name="cases:public-reports",
        must_not_contain={
            "caseworker_a": text("other"),
            "auditor": text("other"),
            "caseworker_b": text("a"),
            "outsider_auditor": text("a"),
        },
    ),
    Row(
        "search: reports from the public",
        lambda w: (made(w), reverse("cases:public-reports") + "?q=户主&state=open")[1],
        statuses(READERS, otherwise=403),
        must_not_contain={"caseworker_a": text("other"), "outsider_auditor": text("a")},
    ),
    Row(
        "export: reports from the public, CSV",
        lambda w: (made(w), reverse("cases:public-reports") + "?export=csv")[1],
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_a": text("other"),
            "auditor": text("other"),
            "caseworker_b": text("a"),
            "outsider_auditor": text("a"),
        },
    ),
    Row(
        "export: reports from the public, XLSX",
        lambda w: (made(w), reverse("cases:public-reports") + "?export=xlsx")[1],
        statuses(READERS, otherwise=403),
    ),
    Row(
        "api public reports, searched",
        lambda w: (made(w), reverse("api-cases-public-reports") + "?q=户主")[1],
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        must_not_contain={"caseworker_a": text("other"), "outsider_auditor": text("a")},
    ),
    # API.
    Row(
        "api public rosters",
        lambda w: (made(w), reverse("api-cases-public-rosters"))[1],
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-cases-public-rosters",
        must_not_contain={
            "caseworker_a": lambda w: "公示other",
            "caseworker_b": lambda w: "公示a",
            "outsider_auditor": lambda w: "公示a",
        },
    ),
    Row(
        "api public reports",
        lambda w: (made(w), reverse("api-cases-public-reports"))[1],
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-cases-public-reports",
        must_not_contain={
            "caseworker_a": text("other"),
            "caseworker_b": text("a"),
            "outsider_auditor": text("a"),
        },
    ),
]

# POST-only: tested in tests/cases/test_publicity.py.
POST_ONLY = {
    "cases:public-report-handle",
    "api-cases-public-roster-withdraw",
    "api-cases-public-report-handle",
}
