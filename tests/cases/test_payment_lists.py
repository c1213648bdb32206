"""The payment lists (cases.lists: rosters, a roster's lines, failed payments): their
search and filters, shared by the page and the API list, their exports (identity numbers
masked unless unmasked with a purpose) and their pinned query counts.

The families of tests.cases.test_listing: 马文忠 (龙王坝村) and 杨秀兰 (杨河村) in township
A, another 马文忠 in township B of the same county. Each township has one roster of
October; every family's line on it failed at the bank.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aid_portal.identity import mask_identity_number
from aid_portal.models import AuditEvent
from cases.models import Member
from cases.payments.models import Reconciliation, ReconciliationException, Roster, RosterLine
from tests.cases import conftest as case_fixtures
from tests.cases import test_listing
from tests.cases.test_listing import read_csv
from tests.queries import assert_same_query_count, queries_of

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
cases = test_listing.cases

MONTH = datetime.date(2026, 10, 1)


def line_for(roster, app, *, outcome=RosterLine.Outcome.FAILED, problems=()) -> RosterLine:
    payee = Member.objects.get(household=app.household, relation=Member.Relation.SELF).person
    return RosterLine.objects.create(
        roster=roster,
        application=app,
        household=app.household,
        village=app.village,
        programme=app.assistance_type,
        kind=RosterLine.Kind.MONTHLY,
        amount=Decimal("500.00"),
        net_amount=Decimal("500.00"),
        months_from=roster.month,
        months_to=roster.month,
        payee=payee,
        payee_name=payee.name,
        outcome=outcome,
        failure=RosterLine.Failure.ACCOUNT_CLOSED if outcome == "failed" else "",
        problems=list(problems),
    )


def roster_of(township, preparer, *, month=MONTH, state=Roster.State.PAID) -> Roster:
    return Roster.objects.create(
        township=township,
        month=month,
        kind=Roster.Kind.REGULAR,
        state=state,
        prepared_by=preparer,
        due_on=month.replace(day=15),
    )


@pytest.fixture
def rosters(cases, people):
    a = roster_of(cases["ma"].village.parent, people.caseworker_a)
    b = roster_of(cases["b"].village.parent, people.caseworker_b)
    lines = {
        "ma": line_for(a, cases["ma"], problems=["no_account"]),
        "yang": line_for(a, cases["yang"]),
        "formula": line_for(a, cases["formula"], outcome=RosterLine.Outcome.PAID),
        "b": line_for(b, cases["b"]),
    }
    return {"a": a, "b": b, "lines": lines}


def shown(response, marks: dict[str, str]) -> set[str]:
    """The keys whose mark is in the page's table (not in the search box's echo)."""
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    html = html[html.index("<tbody", html.index('id="list-search"')) :]
    return {key for key, mark in marks.items() if mark in html}


def test_rosters_are_searched_in_the_jurisdiction_on_the_page_and_the_api(
    client, people, cases, rosters
):
    marks = {key: f'id="roster-{rosters[key].pk}"' for key in ("a", "b")}
    client.force_login(people.caseworker_a)
    url = reverse("cases:rosters")
    assert shown(client.get(url), marks) == {"a"}  # never township B's
    assert shown(client.get(url, {"q": "杨秀兰"}), marks) == {"a"}
    assert shown(client.get(url, {"q": cases["ma"].identity}), marks) == {"a"}
    assert shown(client.get(url, {"q": cases["b"].identity}), marks) == set()
    assert shown(client.get(url, {"q": "张三"}), marks) == set()
    assert shown(client.get(url, {"month": "2026-11"}), marks) == set()
    assert shown(client.get(url, {"month": "2026-10", "state": "paid"}), marks) == {"a"}
    assert shown(client.get(url, {"q": f"#{rosters['a'].pk}"}), marks) == {"a"}

    client.force_login(people.auditor)  # the county: both townships
    assert shown(client.get(url, {"q": "文忠"}), marks) == {"a", "b"}
    assert shown(client.get(url, {"q": cases["b"].number}), marks) == {"b"}
    assert shown(client.get(url, {"township": rosters["b"].township_id}), marks) == {"b"}

    api = APIClient()
    api.force_authenticate(people.auditor)
    response = api.get(reverse("api-cases-rosters"), {"q": cases["b"].identity})
    assert [row["id"] for row in response.json()["results"]] == [rosters["b"].pk]

    export = client.get(url, {"q": "杨秀兰", "export": "csv"})
    header, *rows = read_csv(export)
    assert header[:3] == ["名册", "乡镇", "月份"]
    assert [row[0] for row in rows] == [f"#{rosters['a'].pk}"]
    client.force_login(people.assistant_a)  # reads no payments
    assert client.get(url, {"export": "csv"}).status_code == 403


def test_a_rosters_lines_are_searched_and_exported_masked(client, people, cases, rosters):
    lines = rosters["lines"]
    marks = {key: f'id="line-{line.pk}"' for key, line in lines.items()}
    client.force_login(people.caseworker_a)
    url = reverse("cases:roster", args=[rosters["a"].pk])
    assert shown(client.get(url), marks) == {"ma", "yang", "formula"}
    assert shown(client.get(url, {"q": cases["yang"].identity}), marks) == {"yang"}
    assert shown(client.get(url, {"q": "杨河"}), marks) == {"yang"}
    assert shown(client.get(url, {"outcome": "paid"}), marks) == {"formula"}
    assert shown(client.get(url, {"problems": "1"}), marks) == {"ma"}
    # The roster is the page's: another one asked for in the query changes nothing.
    assert shown(client.get(url, {"roster": rosters["b"].pk}), marks) == {"ma", "yang", "formula"}

    header, *rows = read_csv(client.get(url, {"q": "马文忠", "export": "csv"}))
    assert header[:5] == ["流水号", "月份", "村（社区）", "收款人", "身份证号码"]
    assert [(row[0], row[4]) for row in rows] == [
        (lines["ma"].reference, mask_identity_number(cases["ma"].identity))
    ]
    purpose = {"unmask": "1", "purpose": "核对发放"}
    rows = read_csv(client.get(url, {"q": "马文忠", "export": "csv", **purpose}))[1:]
    assert rows[0][4] == cases["ma"].identity
    assert AuditEvent.objects.get(action="sensitive.export").reason == "核对发放"

    client.force_login(people.caseworker_b)  # another township's roster: not found
    assert client.get(url, {"export": "csv"}).status_code == 404


def test_failed_payments_are_searched_on_the_page_and_the_api_and_exported(
    client, people, cases, rosters
):
    lines = rosters["lines"]
    marks = {key: f'id="failed-{line.pk}"' for key, line in lines.items()}
    client.force_login(people.caseworker_a)
    url = reverse("cases:payments-failed")
    assert shown(client.get(url), marks) == {"ma", "yang"}  # paid lines and B's: never
    assert shown(client.get(url, {"q": "文忠"}), marks) == {"ma"}
    assert shown(client.get(url, {"q": cases["b"].identity}), marks) == set()
    assert shown(client.get(url, {"village": cases["yang"].village.code}), marks) == {"yang"}
    assert shown(client.get(url, {"failure": "frozen"}), marks) == set()

    api = APIClient()
    api.force_authenticate(people.caseworker_a)
    response = api.get(reverse("api-cases-payments-failed"), {"q": cases["yang"].number})
    assert [row["id"] for row in response.json()["results"]] == [lines["yang"].pk]

    response = client.get(url, {"export": "csv"})
    _header, *rows = read_csv(response)
    assert {row[0] for row in rows} == {lines["ma"].reference, lines["yang"].reference}
    assert cases["ma"].identity not in response.content.decode("utf-8-sig")
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "failed-payments" and event.new_values["rows"] == 2


# The rosters page for a township's caseworker:
#   1 session, 2 user, 3 role assignments, 4 whether the user prepares rosters somewhere,
#   5 per-object grants, 6 the count for the pager, 7-8 the prepare form's townships
#   (its select is drawn twice), 9 the townships for the search's select, 10 the page of
#   rosters with their townships.
ROSTERS_PAGE_QUERIES = 10
# Failed payments: 1-3 as above, 4 per-object grants, 5 whether the user prepares
# rosters, 6 the pager's count, 7 the villages for the search's select, 8 the page of
# lines, 9-10 the supplementary form's townships, 11 the failed lines it offers.
# A roster's page is pinned as costing the same for one line and for many.
FAILED_PAGE_QUERIES = 11


def test_payment_lists_cost_the_same_for_one_row_and_for_many(client, people, cases, rosters):
    client.force_login(people.caseworker_a)
    client.get(reverse("cases:rosters"))  # the first request after login records the session
    pages = [
        reverse("cases:rosters"),
        reverse("cases:roster", args=[rosters["a"].pk]),
        reverse("cases:payments-failed"),
    ]
    first = [queries_of(client, page) for page in pages]
    for month in range(1, 8):
        extra = roster_of(
            rosters["a"].township, people.caseworker_a, month=MONTH.replace(month=month)
        )
        for key in ("ma", "yang"):
            line_for(extra, cases[key])
            line_for(rosters["a"], cases[key])
    then = [queries_of(client, page) for page in pages]
    for before, after in zip(first, then, strict=True):
        assert_same_query_count(before, after)
    assert len(then[0]) == ROSTERS_PAGE_QUERIES
    assert len(then[2]) == FAILED_PAGE_QUERIES


def test_a_reconciliations_exceptions_are_searched_and_exported_in_the_township(
    client, people, cases, places
):
    done = Reconciliation.objects.create(
        county=places.county, month=MONTH, computed_at=timezone.now(), computed_by=people.auditor
    )
    K = ReconciliationException.Kind

    def exception(key, kind):
        app = cases[key]
        return ReconciliationException.objects.create(
            reconciliation=done,
            township=app.village.parent,
            village=app.village,
            kind=kind,
            application=app,
            household=app.household,
            programme=app.assistance_type,
            expected=Decimal("500.00"),
            actual=Decimal("0"),
        )

    found = {
        "ma": exception("ma", K.FAILED),
        "yang": exception("yang", K.UNPAID),
        "b": exception("b", K.FAILED),
    }
    marks = {key: f'id="exception-{e.pk}"' for key, e in found.items()}
    url = reverse("cases:reconciliation", args=[done.pk])
    client.force_login(people.caseworker_a)  # township A reads its own exceptions only
    assert shown(client.get(url), marks) == {"ma", "yang"}
    assert shown(client.get(url, {"q": cases["yang"].identity}), marks) == {"yang"}
    assert shown(client.get(url, {"q": cases["b"].number}), marks) == set()
    assert shown(client.get(url, {"kind": "failed"}), marks) == {"ma"}
    client.force_login(people.auditor)  # the county: both townships
    assert shown(client.get(url, {"q": "马文忠"}), marks) == {"ma", "b"}

    header, *rows = read_csv(client.get(url, {"kind": "failed", "export": "csv"}))
    assert header[:4] == ["乡镇", "村（社区）", "类别", "案件"]
    assert {row[3] for row in rows} == {cases["ma"].number, cases["b"].number}
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "reconciliation-exceptions"
    # The page costs the same for three exceptions and for many: no query per row.
    few = queries_of(client, url)
    for _n in range(10):
        exception("yang", K.UNPAID)
    assert_same_query_count(few, queries_of(client, url))
    client.force_login(people.assistant_a)
    assert client.get(url, {"export": "csv"}).status_code == 403
