"""The charts beside the overview tables (issue 15 item 9): each selector's grouped counts
against rows made here, and each page embedding the same numbers with json_script."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Household
from credit.trust import services as trust
from credit.trust.models import YearlyResult
from tests.queries import queries_captured
from tests.verification.test_spotcheck import _case
from verification.batch import services as batch
from verification.batch.models import BatchFinding, BatchRun
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of the portal's local day (Asia/Shanghai, UTC+8)."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


def page_of(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def chart_data(html: str, data_id: str) -> dict:
    """The figures a page embeds for its chart, and proof the canvas points at them."""
    assert f'data-chart="{data_id}"' in html
    assert 'role="img"' in html
    found = re.search(rf'<script id="{data_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no json_script #{data_id}"
    return json.loads(found.group(1))


GATE = ('FROM "aid_portal_roleassignment"', 'FROM "aid_portal_regionuserobjectpermission"')


def work_queries(queries) -> list[str]:
    """The queries of a selector past the access gate's own (the user's roles, grants)."""
    return [q["sql"] for q in queries.captured_queries if not any(g in q["sql"] for g in GATE)]


def series(data: dict) -> dict[str, list]:
    return {d["label"]: d["data"] for d in data["datasets"]}


# --- the credit dashboard: untrustworthy rate by year ----------------------------------------


def _results(village, year: int, untrustworthy: int, good: int) -> None:
    for n in range(untrustworthy + good):
        household = Household.objects.create(village=village, address=f"{year}-{n}")
        YearlyResult.objects.create(
            household=household,
            year=year,
            village=village,
            result="untrustworthy" if n < untrustworthy else "good",
            computed_at=timezone.now(),
        )


@pytest.fixture
def yearly(places):
    y = timezone.localdate().year
    _results(places.village_a, y - 2, untrustworthy=1, good=3)  # A: 1/4
    _results(places.village_b, y - 2, untrustworthy=0, good=4)  # B: 0/4 → county 1/8
    _results(places.village_a, y - 1, untrustworthy=2, good=2)  # A: 2/4
    _results(places.village_b, y - 1, untrustworthy=1, good=3)  # B: 1/4 → county 3/8
    _results(places.other_village, y - 1, untrustworthy=5, good=0)  # the other county
    return y


def test_untrustworthy_rate_by_year_is_the_dashboards_total_row(people, yearly):
    y = yearly
    with queries_captured() as queries:
        rates = trust.untrustworthy_rates_for_user(user=people.auditor)
    # The stored years (grouped), the live year (one statement), the township names:
    # as many queries for two townships and three years as for fifty and five.
    work = work_queries(queries)
    assert len(work) <= 4, work
    assert sum("credit_yearlyresult" in q for q in work) == 1
    chart = trust.untrustworthy_rate_chart(rates)
    assert chart.data["labels"][:2] == [str(y - 2), str(y - 1)]
    assert str(y) in chart.data["labels"][2]  # the current year, provisional
    assert [d["data"] for d in chart.data["datasets"]] == [[12.5, 37.5, None]]
    assert "12.5%" in chart.summary and "37.5%" in chart.summary
    # The other county's auditor sees only their own year.
    other = trust.untrustworthy_rate_chart(
        trust.untrustworthy_rates_for_user(user=people.outsider_auditor)
    )
    assert other.data["datasets"][0]["data"] == [100.0, None]


def test_the_dashboard_embeds_the_rates_beside_its_table(people, yearly):
    html = page_of(people.auditor, reverse("credit:dashboard"))
    data = chart_data(html, "credit-rates-chart-data")
    assert data["datasets"][0]["data"] == [12.5, 37.5, None]
    assert data["percent"] is True
    # The labels are the page's language (Chinese), and the table still holds the figures.
    assert data["datasets"][0]["label"] == "失信率（%）"
    assert data["labels"][2] == f"{yearly}（临时）"
    assert 'id="credit-rates"' in html and "37.5%" in html and "3/8" in html
    # Drawn by the static script: the page's content holds no inline script.
    content = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "portal/charts.js" in content and "<script>" not in content


# --- spot-check progress: cases by state and township, deadlines met --------------------------


@pytest.fixture
def campaign(places, people):
    """Township A: one not assigned (not due), two assigned (one overdue), three visited
    (two in time, one the day after); township B: one visited in time, one overdue."""
    today = datetime.date(2026, 3, 16)
    campaign = SpotCheckCampaign.objects.create(
        county=places.county,
        rule="new_cases",
        ratio="0.30",
        window_start=datetime.date(2026, 2, 1),
        window_end=datetime.date(2026, 2, 28),
        seed=1,
        population_size=27,
        sample_size=8,
    )
    due = datetime.date(2026, 3, 10)

    def item(village, township, *, assigned=False, visited=None, due_on=due):
        return SampleItem.objects.create(
            campaign=campaign,
            application=_case(village, people.caseworker_a, decided=datetime.date(2026, 2, 3)),
            township=township,
            due_on=due_on,
            assigned_to=people.auditor if assigned or visited else None,
            visited_at=visited,
        )

    a, b = (places.village_a, places.township_a), (places.village_b, places.township_b)
    item(*a, due_on=datetime.date(2026, 3, 20))
    item(*a, assigned=True)
    item(*a, assigned=True, due_on=datetime.date(2026, 3, 31))
    item(*a, visited=at(due, 9))
    # 23:30 in Shanghai is 15:30 UTC on the same day: still in time.
    item(*a, visited=at(due, 23, 30))
    # 00:30 the next day is 16:30 UTC the day due: late all the same (the local day counts).
    item(*a, visited=at(due + datetime.timedelta(days=1), 0, 30))
    item(*b, visited=at(due - datetime.timedelta(days=2), 10))
    item(*b)
    campaign.today = today
    return campaign


def test_sampled_cases_by_state_and_township(people, places, campaign):
    with queries_captured() as queries:
        rows = spotcheck.sample_states_by_township(user=people.auditor, campaign=campaign)
    [grouped] = work_queries(queries)
    assert "GROUP BY" in grouped
    assert [(r.township.pk, r.drawn, r.assigned, r.visited) for r in rows] == [
        (places.township_a.pk, 1, 2, 3),
        (places.township_b.pk, 1, 0, 1),
    ]
    chart = spotcheck.sample_states_chart(rows)
    assert chart.data["labels"] == [places.township_a.name, places.township_b.name]
    assert [d["data"] for d in chart.data["datasets"]] == [[1, 1], [2, 0], [3, 1]]
    assert chart.data["stacked"] is True
    # Outside the county nothing is counted.
    assert (
        spotcheck.sample_states_by_township(user=people.outsider_auditor, campaign=campaign) == []
    )


def test_deadlines_met_by_township(people, places, campaign):
    with queries_captured() as queries:
        rows = spotcheck.sample_deadlines_by_township(
            user=people.auditor, campaign=campaign, today=campaign.today
        )
    [grouped] = work_queries(queries)
    assert "GROUP BY" in grouped
    assert [(r.township.pk, r.on_time, r.late, r.overdue, r.pending) for r in rows] == [
        (places.township_a.pk, 2, 1, 1, 2),
        (places.township_b.pk, 1, 0, 1, 0),
    ]
    assert [r.total for r in rows] == [6, 2]
    chart = spotcheck.sample_deadlines_chart(rows)
    assert [d["data"] for d in chart.data["datasets"]] == [[2, 1], [1, 0], [1, 1], [2, 0]]
    assert "3" in chart.summary  # three checked in time in all
    # The overdue count agrees with the progress table's.
    progress = spotcheck.campaign_progress(campaign=campaign, today=campaign.today)
    assert progress.total.overdue == sum(r.overdue for r in rows)


def test_the_campaign_page_embeds_both_charts(people, places, campaign):
    html = page_of(people.auditor, reverse("verification:spotcheck-campaign", args=[campaign.pk]))
    states = chart_data(html, "spotcheck-states-chart-data")
    assert series(states) == {"未分派": [1, 1], "已分派、未入户": [2, 0], "已入户": [3, 1]}
    deadlines = chart_data(html, "spotcheck-deadlines-chart-data")
    # The page's clock is today's: every unvisited case is overdue by now (due in 2026-03).
    rows = spotcheck.sample_deadlines_by_township(user=people.auditor, campaign=campaign)
    assert [d["data"] for d in deadlines["datasets"]] == [
        [getattr(r, f) for r in rows] for f in ("on_time", "late", "overdue", "pending")
    ]
    assert deadlines["datasets"][0]["data"] == [2, 1]
    assert 'id="spotcheck-states"' in html and 'id="spotcheck-deadlines"' in html
    assert html.count("portal/charts.js") == 1


# --- batch comparisons: findings by kind over months ------------------------------------------


@pytest.fixture
def runs(places, people):
    """Runs of the county in January and March 2026 and one of March 2025 (outside the
    twelve months to March 2026); one of the other county."""

    def run(county, started, findings):
        row = BatchRun.objects.create(
            kind="on_demand",
            county=county,
            period_start=started.date(),
            period_end=started.date(),
            status="finished",
        )
        BatchRun.objects.filter(pk=row.pk).update(started_at=started)
        village = places.village_a if county == places.county else places.other_village
        for kind, n in findings.items():
            for _i in range(n):
                application = _case(village, people.caseworker_a, decided=started.date())
                BatchFinding.objects.create(run=row, kind=kind, application=application)
        return row

    run(places.county, at(datetime.date(2026, 1, 10), 9), {"vehicle": 2, "dead_but_paid": 1})
    # 00:30 on 1 March in Shanghai is still February in UTC: it counts in March.
    run(places.county, at(datetime.date(2026, 3, 1), 0, 30), {"vehicle": 1, "business": 3})
    run(places.county, at(datetime.date(2025, 3, 20), 9), {"vehicle": 7})
    run(places.other_county, at(datetime.date(2026, 3, 5), 9), {"real_estate": 4})


def test_findings_by_kind_and_month(people, places, runs):
    with queries_captured() as queries:
        monthly = batch.finding_counts_by_month_for_user(
            user=people.auditor, today=datetime.date(2026, 3, 16)
        )
    [grouped] = work_queries(queries)
    assert "GROUP BY" in grouped
    assert monthly.months[0] == datetime.date(2025, 4, 1)
    assert monthly.months[-1] == datetime.date(2026, 3, 1) and len(monthly.months) == 12
    kinds = [value for value, _label in monthly.kinds]
    by_month = {
        m.strftime("%Y-%m"): {k: n for k, n in zip(kinds, counts, strict=True) if n}
        for m, counts, _total in monthly.rows
    }
    assert by_month["2026-01"] == {"vehicle": 2, "dead_but_paid": 1}
    assert by_month["2026-02"] == {}
    assert by_month["2026-03"] == {"vehicle": 1, "business": 3}
    assert sum(monthly.totals) == monthly.total == 7  # not March 2025, not the other county
    chart = batch.finding_counts_chart(monthly)
    assert chart.data["labels"][-3:] == ["2026-01", "2026-02", "2026-03"]
    vehicle = kinds.index("vehicle")
    assert chart.data["datasets"][vehicle]["data"][-3:] == [2, 0, 1]
    other = batch.finding_counts_by_month_for_user(
        user=people.outsider_auditor, today=datetime.date(2026, 3, 16)
    )
    assert other.totals[kinds.index("real_estate")] == 4 and other.total == 4


def test_the_runs_page_embeds_the_monthly_findings(people, places, runs):
    # The page counts back from today; the fixture's runs are moved into this month.
    this_month = timezone.localdate().replace(day=1)
    BatchRun.objects.filter(county=places.county).update(started_at=at(this_month, 9))
    html = page_of(people.auditor, reverse("verification:batch-runs"))
    data = chart_data(html, "batch-monthly-chart-data")
    assert len(data["labels"]) == 12 and data["labels"][-1] == this_month.strftime("%Y-%m")
    totals = {d["label"]: d["data"][-1] for d in data["datasets"] if d["data"][-1]}
    assert totals == {"未申报车辆": 10, "死亡未停发": 1, "未申报工商登记": 3}
    assert 'id="batch-monthly"' in html
    assert places.other_county.name not in html
