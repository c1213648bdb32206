"""The case overview (issue 15 item 9): each selector's counts against rows made here, at
the local day's and month's edges, with the other county left out; the page, its charts
and its exports; the queries it costs."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.models import Application, Household
from cases.overview import charts
from cases.overview import selectors as overview
from tests.queries import assert_get_query_count, queries_captured
from tests.test_charts import at, chart_data, page_of, series, work_queries
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign

pytestmark = pytest.mark.django_db

S = Application.State
TODAY = datetime.date(2026, 3, 16)


def app(village, user, state, *, submitted=None, decided=None, due=None, kind="dibao_rural"):
    household = Household.objects.create(village=village, address="某村2号")
    return Application.objects.create(
        household=household,
        village=village,
        assistance_type=kind,
        state=state,
        submitted_at=submitted,
        decided_at=decided,
        due_on=due,
        monthly_amount=Decimal("500") if decided else None,
        created_by=user,
    )


# --- cases by state and township --------------------------------------------------------


@pytest.fixture
def states(places, people):
    cw = people.caseworker_a
    for state in (S.AWAITING_DECISION, S.AWAITING_DECISION, S.IN_PAYMENT, S.DRAFT):
        app(places.village_a, cw, state)
    app(places.village_b, cw, S.REJECTED)
    for _n in range(3):
        app(places.other_village, cw, S.IN_PAYMENT)


def test_cases_by_state_and_township(people, places, states):
    with queries_captured() as queries:
        table = overview.case_states_by_township(user=people.auditor)
    [grouped] = work_queries(queries)
    assert "GROUP BY" in grouped
    # Drafts are not counted; only the states a case is in make columns, in path order.
    assert [v for v, _label in table.states] == [S.AWAITING_DECISION, S.IN_PAYMENT, S.REJECTED]
    assert [(r.township.pk, r.counts, r.total) for r in table.rows] == [
        (places.township_a.pk, [2, 1, 0], 3),
        (places.township_b.pk, [0, 0, 1], 1),
    ]
    assert table.totals == [2, 1, 1] and table.total == 4
    chart = charts.case_states_chart(table)
    assert chart.data["labels"] == [places.township_a.name, places.township_b.name]
    assert [d["data"] for d in chart.data["datasets"]] == [[2, 0], [1, 0], [0, 1]]
    assert chart.data["stacked"] is True
    # The township's approver sees their township only; the other county its own.
    mine = overview.case_states_by_township(user=people.approver_a)
    assert [(r.township.pk, r.counts) for r in mine.rows] == [(places.township_a.pk, [2, 1])]
    other = overview.case_states_by_township(user=people.outsider_auditor)
    assert [(r.township.pk, r.counts) for r in other.rows] == [(places.other_township.pk, [3])]


# --- deadlines met ----------------------------------------------------------------------------


@pytest.fixture
def decided(places, people):
    cw, a, b = people.caseworker_a, places.village_a, places.village_b
    feb10 = datetime.date(2026, 2, 10)
    # 23:30 in Shanghai on the day due is 15:30 UTC the same day: in time.
    app(a, cw, S.IN_PAYMENT, decided=at(feb10, 23, 30), due=feb10)
    # 00:30 the day after is still the day due in UTC: late all the same.
    app(a, cw, S.REJECTED, decided=at(feb10 + datetime.timedelta(days=1), 0, 30), due=feb10)
    # 00:30 on 1 March is 28 February in UTC: it counts in March, in time.
    app(
        b,
        cw,
        S.APPROVED,
        decided=at(datetime.date(2026, 3, 1), 0, 30),
        due=datetime.date(2026, 3, 1),
    )
    app(b, cw, S.IN_PAYMENT, decided=at(datetime.date(2026, 1, 5), 9), due=None)
    # 1 April 2025 00:30 is 31 March in UTC: the first of the twelve months.
    app(
        a,
        cw,
        S.IN_PAYMENT,
        decided=at(datetime.date(2025, 4, 1), 0, 30),
        due=datetime.date(2025, 3, 1),
    )
    # The evening before is outside the twelve months.
    app(
        a,
        cw,
        S.IN_PAYMENT,
        decided=at(datetime.date(2025, 3, 31), 23, 30),
        due=datetime.date(2025, 4, 30),
    )
    app(
        places.other_village,
        cw,
        S.IN_PAYMENT,
        decided=at(datetime.date(2026, 3, 2), 9),
        due=datetime.date(2026, 3, 9),
    )


def test_decisions_in_time_by_month(people, places, decided):
    with queries_captured() as queries:
        monthly = overview.decisions_in_time_by_month(user=people.auditor, today=TODAY)
    [grouped] = work_queries(queries)
    assert "GROUP BY" in grouped
    assert monthly.rows[0].month == datetime.date(2025, 4, 1)
    assert len(monthly.rows) == 12 and monthly.rows[-1].month == datetime.date(2026, 3, 1)
    by_month = {
        r.month.strftime("%Y-%m"): (r.in_time, r.late, r.undated) for r in monthly.rows if r.total
    }
    assert by_month == {
        "2025-04": (0, 1, 0),
        "2026-01": (0, 0, 1),
        "2026-02": (1, 1, 0),
        "2026-03": (1, 0, 0),
    }
    assert (monthly.in_time, monthly.late, monthly.undated, monthly.total) == (2, 2, 1, 5)
    assert monthly.rows[-2].share_in_time == 50.0 and monthly.rows[-4].share_in_time is None
    chart = charts.decisions_chart(monthly)
    assert chart.data["labels"][-3:] == ["2026-01", "2026-02", "2026-03"]
    assert [d["data"][-3:] for d in chart.data["datasets"]] == [[0, 1, 1], [0, 1, 0], [1, 0, 0]]
    # The approver of township A: only A's decisions; the other county: only its own.
    mine = overview.decisions_in_time_by_month(user=people.approver_a, today=TODAY)
    assert (mine.in_time, mine.late, mine.undated) == (1, 2, 0)
    other = overview.decisions_in_time_by_month(user=people.outsider_auditor, today=TODAY)
    assert (other.in_time, other.total) == (1, 1)


@pytest.fixture
def open_cases(places, people):
    cw = people.caseworker_a
    app(places.village_a, cw, S.HOME_VISIT, due=TODAY - datetime.timedelta(days=1))
    app(places.village_a, cw, S.AWAITING_DECISION, due=TODAY)  # due today: still in time
    app(places.village_a, cw, S.SUBMITTED)  # not accepted yet: no due date
    app(places.village_a, cw, S.DRAFT, due=TODAY - datetime.timedelta(days=9))  # not filed
    app(places.village_a, cw, S.IN_PAYMENT, due=TODAY - datetime.timedelta(days=9))  # decided
    app(places.village_b, cw, S.PUBLIC_NOTICE, due=datetime.date(2026, 3, 1))
    app(places.other_village, cw, S.HOME_VISIT, due=datetime.date(2026, 3, 1))


def test_open_cases_past_due_by_township(people, places, open_cases):
    with queries_captured() as queries:
        rows = overview.open_cases_past_due_by_township(user=people.auditor, today=TODAY)
    [grouped] = work_queries(queries)
    assert "GROUP BY" in grouped
    assert [(r.township.pk, r.past_due, r.not_due, r.total) for r in rows] == [
        (places.township_a.pk, 1, 2, 3),
        (places.township_b.pk, 1, 0, 1),
    ]
    chart = charts.overdue_chart(rows)
    assert [d["data"] for d in chart.data["datasets"]] == [[1, 1], [2, 0]]
    mine = overview.open_cases_past_due_by_township(user=people.approver_a, today=TODAY)
    assert [r.township.pk for r in mine] == [places.township_a.pk]
    other = overview.open_cases_past_due_by_township(user=people.outsider_auditor, today=TODAY)
    assert [(r.past_due, r.not_due) for r in other] == [(1, 0)]


# --- the counts the county watches ------------------------------------------------------------


def test_this_months_counts(people, places):
    cw, a = people.caseworker_a, places.village_a
    march1, feb28 = datetime.date(2026, 3, 1), datetime.date(2026, 2, 28)
    app(a, cw, S.SUBMITTED, submitted=at(march1, 0, 30))  # March locally, February in UTC
    app(a, cw, S.ACCEPTED, submitted=at(feb28, 23, 30))  # February
    app(a, cw, S.IN_PAYMENT, submitted=at(feb28, 9), decided=at(march1, 0, 30))
    app(places.village_b, cw, S.STOPPED, decided=at(TODAY, 9))  # approved, stopped since
    app(a, cw, S.REJECTED, decided=at(TODAY, 23, 59))
    app(a, cw, S.REJECTED, decided=at(feb28, 23, 59))  # February
    app(a, cw, S.IN_PAYMENT, decided=at(datetime.date(2025, 12, 1), 9))
    app(a, cw, S.AWAITING_DECISION)
    app(places.other_village, cw, S.IN_PAYMENT, submitted=at(TODAY, 9), decided=at(TODAY, 10))
    with queries_captured() as queries:
        counts = overview.month_counts(user=people.auditor, today=TODAY)
    assert len(work_queries(queries)) == 1
    assert (counts.received, counts.approved, counts.rejected) == (1, 2, 1)
    assert (counts.in_payment, counts.awaiting_decision) == (2, 1)
    mine = overview.month_counts(user=people.approver_a, today=TODAY)
    assert (mine.approved, mine.rejected, mine.in_payment) == (1, 1, 2)
    other = overview.month_counts(user=people.outsider_auditor, today=TODAY)
    assert (other.received, other.approved, other.in_payment) == (1, 1, 1)


def test_spot_check_coverage_of_new_cases(people, places):
    cw, a = people.caseworker_a, places.village_a
    jan1 = datetime.date(2026, 1, 1)
    # 00:30 on 1 January is still 2025 in UTC: inside the window all the same.
    first = app(a, cw, S.IN_PAYMENT, decided=at(jan1, 0, 30))
    app(a, cw, S.IN_PAYMENT, decided=at(datetime.date(2026, 2, 28), 23, 30))
    app(places.village_b, cw, S.STOPPED, decided=at(datetime.date(2026, 2, 3), 9))
    app(a, cw, S.IN_PAYMENT, decided=at(datetime.date(2025, 12, 31), 23, 30))  # last year
    app(a, cw, S.IN_PAYMENT, decided=at(datetime.date(2026, 3, 1), 0, 30))  # this month
    app(a, cw, S.REJECTED, decided=at(datetime.date(2026, 2, 3), 9))  # not a new case
    app(a, cw, S.IN_PAYMENT, decided=at(datetime.date(2026, 2, 3), 9), kind="temporary_emergency")
    outside = app(places.other_village, cw, S.IN_PAYMENT, decided=at(datetime.date(2026, 2, 3), 9))
    campaign = SpotCheckCampaign.objects.create(
        county=places.county,
        rule="new_cases",
        ratio="0.30",
        window_start=jan1,
        window_end=datetime.date(2026, 1, 31),
        seed=1,
        population_size=1,
        sample_size=1,
    )
    SampleItem.objects.create(
        campaign=campaign, application=first, township=places.township_a, due_on=TODAY
    )
    annual = SpotCheckCampaign.objects.create(
        county=places.county,
        rule="annual",
        ratio="0.20",
        window_start=jan1,
        window_end=datetime.date(2026, 12, 31),
        seed=2,
        population_size=1,
        sample_size=1,
    )
    later = Application.objects.filter(village=a, decided_at__date=datetime.date(2026, 2, 28)).get()
    # An annual visit is not a check of a new case.
    SampleItem.objects.create(
        campaign=annual, application=later, township=places.township_a, due_on=TODAY
    )
    with queries_captured() as queries:
        coverage = spotcheck.new_case_coverage_for_user(user=people.auditor, today=TODAY)
    assert len(work_queries(queries)) == 1
    assert (coverage.window_start, coverage.window_end) == (jan1, datetime.date(2026, 2, 28))
    assert (coverage.new_cases, coverage.sampled, coverage.percent) == (3, 1, 33.3)
    mine = spotcheck.new_case_coverage_for_user(user=people.approver_a, today=TODAY)
    assert (mine.new_cases, mine.sampled) == (2, 1)
    other = spotcheck.new_case_coverage_for_user(user=people.outsider_auditor, today=TODAY)
    assert (other.new_cases, other.sampled) == (1, 0) and outside.pk
    # In January the window is the year just ended.
    assert spotcheck.coverage_window(datetime.date(2026, 1, 20)) == (
        datetime.date(2025, 1, 1),
        datetime.date(2025, 12, 31),
    )


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture
def now_cases(places, people):
    """Cases about today, so that the page (which reads the real clock) counts them."""
    today = timezone.localdate()
    cw = people.caseworker_a
    app(
        places.village_a,
        cw,
        S.AWAITING_DECISION,
        submitted=at(today, 8),
        due=today - datetime.timedelta(days=2),
    )
    app(places.village_a, cw, S.IN_PAYMENT, decided=at(today, 9), due=today)
    app(
        places.village_b,
        cw,
        S.REJECTED,
        decided=at(today, 10),
        due=today - datetime.timedelta(days=1),
    )
    app(places.other_village, cw, S.AWAITING_DECISION, submitted=at(today, 8))
    return today


def test_the_auditor_sees_the_overview_with_its_charts(people, places, now_cases):
    html = page_of(people.auditor, reverse("cases:overview"))
    states = chart_data(html, "case-states-chart-data")
    assert states["labels"] == [places.township_a.name, places.township_b.name]
    assert series(states) == {"待审核确认": [1, 0], "发放中": [1, 0], "不予批准": [0, 1]}
    decisions = chart_data(html, "case-decisions-chart-data")
    assert [d["data"][-1] for d in decisions["datasets"]] == [1, 1, 0]
    overdue = chart_data(html, "case-overdue-chart-data")
    assert [d["data"] for d in overdue["datasets"]] == [[1], [0]]
    # The awaiting count links to the decisions list of its township.
    prefix = places.township_a.prefix
    assert f'href="/cases/decisions/?state=awaiting_decision&amp;village={prefix}"' in html
    assert 'id="stat-spotcheck-coverage"' in html and 'id="stat-objections"' in html
    assert (
        reverse("credit:objections") in html and reverse("verification:spotcheck-campaigns") in html
    )
    assert places.other_township.name not in html
    content = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "portal/charts.js" in content and "<script>" not in content
    assert html.count("portal/charts.js") == 1


def test_the_approver_sees_their_township_only(people, places, now_cases):
    html = page_of(people.approver_a, reverse("cases:overview"))
    states = chart_data(html, "case-states-chart-data")
    assert states["labels"] == [places.township_a.name]
    assert places.township_b.name not in html
    # No audit log and no spot-checks for a township approver: those counts carry no link.
    assert reverse("audit-list") not in html
    assert reverse("verification:spotcheck-campaigns") not in html


def test_the_overview_is_in_the_navigation_and_on_the_home_page(people):
    url = reverse("cases:overview")
    for user in (people.auditor, people.approver_a):
        assert f'href="{url}"' in page_of(user, reverse("home"))
    assert f'href="{url}"' not in page_of(people.caseworker_a, reverse("home"))


@pytest.mark.parametrize("table", ["states", "decisions", "overdue"])
def test_each_table_exports_as_xlsx_and_csv(people, places, now_cases, table):
    client = Client()
    client.force_login(people.auditor)
    response = client.get(reverse("cases:overview-export", args=[table, "xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header_at = next(i for i, r in enumerate(rows) if r[0] in ("乡镇", "月份"))
    body = rows[header_at + 1 :]
    assert body[-1][0] == "合计"
    response = client.get(reverse("cases:overview-export", args=[table, "csv"]))
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == rows[header_at]
    assert [str(v) if v is not None else "" for v in body[-1]] == lines[-1]
    if table == "states":
        assert lines[1][0] == places.township_a.name and lines[-1][-1] == "3"
    if table == "overdue":
        assert lines[-1][1:] == ["1", "0", "1"]
    assert places.other_township.name not in response.content.decode("utf-8-sig")


def test_an_unknown_table_or_format_is_not_found(people):
    client = Client()
    client.force_login(people.auditor)
    assert client.get(reverse("cases:overview-export", args=["people", "xlsx"])).status_code == 404
    assert client.get(reverse("cases:overview-export", args=["states", "pdf"])).status_code == 404


# The overview for a county auditor:
#   1 the session, 2 the user, 3 the role assignments with their regions, 4 the region
#   grants, 5 cases by state and township, 6 decisions by month, 7 open cases past due,
#   8 this month's counts, 9 the policy's required share, 10 the spot-check coverage,
#   11 the region grants again (the objections read the case jurisdiction, a purpose of
#   its own), 12 the open credit objections.
def test_the_overview_costs_the_same_queries_for_one_township_or_many(people, places):
    client = Client()
    client.force_login(people.auditor)
    url = reverse("cases:overview")
    client.get(url)
    today = timezone.localdate()
    app(places.village_a, people.caseworker_a, S.AWAITING_DECISION, due=today)
    expected = OVERVIEW_QUERIES
    assert_get_query_count(client, url, expected)
    for village in (places.village_b, places.village_a, places.village_b):
        for state in (S.IN_PAYMENT, S.HOME_VISIT, S.REJECTED):
            app(village, people.caseworker_a, state, decided=at(today, 9), due=today)
    assert_get_query_count(client, url, expected)


OVERVIEW_QUERIES = 12
