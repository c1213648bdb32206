"""The verification lists (verification.lists): their search and filters, shared by the
page and the API list, and their exports, which hold exactly what the filters show,
identity numbers masked unless unmasked with a purpose.

The families of tests.cases.test_listing: 马文忠 (龙王坝村) and 杨秀兰 (杨河村) in township
A, another 马文忠 in township B of the same county.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal import listing
from aid_portal.identity import mask_identity_number
from aid_portal.models import AuditEvent, ExportJob
from cases.models import Application, Member
from tests.cases import conftest as case_fixtures
from tests.cases import test_listing
from tests.cases.test_listing import read_csv
from tests.queries import assert_same_query_count, numbered, queries_of
from verification.batch.models import BatchFinding, BatchRun
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import Feed, QuarantinedRow, Snapshot
from verification.requests.models import VerificationRequest
from verification.spotcheck.models import SampleItem, SpotCheckCampaign

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
cases = test_listing.cases


def numbers(response, cases) -> set[str]:
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    rows = html.find("<tbody", html.index('id="list-search"'))  # not the search's echo
    html = html[rows:] if rows >= 0 else ""
    return {key for key, app in cases.items() if app.number in html}


def applicant(app):
    return Member.objects.get(household=app.household, relation=Member.Relation.SELF).person


# --- verification requests ---------------------------------------------------------------


@pytest.fixture
def requests(cases, people):
    for key in ("ma", "yang", "b"):
        app = cases[key]
        Application.objects.filter(pk=app.pk).update(state=Application.State.UNDER_VERIFICATION)
        VerificationRequest.objects.create(application=app, requested_by=people.caseworker_a)


def test_verification_requests_are_searched_and_exported(client, people, cases, requests):
    client.force_login(people.verifier)  # the county's centre: both townships
    url = reverse("verification:requests")
    assert numbers(client.get(url), cases) == {"ma", "yang", "b"}
    assert numbers(client.get(url, {"q": "文忠"}), cases) == {"ma", "b"}
    assert numbers(client.get(url, {"q": cases["b"].identity}), cases) == {"b"}
    assert numbers(client.get(url, {"village": cases["yang"].village.code}), cases) == {"yang"}
    assert numbers(client.get(url, {"status": "answered"}), cases) == set()

    response = client.get(url, {"q": "文忠", "export": "csv"})
    header, *rows = read_csv(response)
    assert header[:4] == ["申请编号", "申请人", "身份证号码", "村（社区）"]
    assert {row[0] for row in rows} == {cases["ma"].number, cases["b"].number}
    assert mask_identity_number(cases["ma"].identity) in {row[2] for row in rows}
    assert cases["ma"].identity not in response.content.decode("utf-8-sig")
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "verification-requests" and event.new_values["rows"] == 2

    client.force_login(people.caseworker_a)
    assert client.get(url, {"export": "csv"}).status_code == 403


# --- batch findings -----------------------------------------------------------------------


@pytest.fixture
def findings(cases, places):
    run = BatchRun.objects.create(
        county=places.county,
        kind=BatchRun.Kind.HALF_YEARLY_ALL,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 6, 30),
        status=BatchRun.Status.FINISHED,
    )
    kinds = {"ma": "vehicle", "yang": "business", "b": "vehicle"}
    for key, kind in kinds.items():
        BatchFinding.objects.create(
            run=run, kind=kind, application=cases[key], person=applicant(cases[key]), detail={}
        )


def test_batch_findings_are_filtered_and_exported_in_the_township(client, people, cases, findings):
    client.force_login(people.caseworker_a)
    url = reverse("verification:findings")
    assert numbers(client.get(url), cases) == {"ma", "yang"}  # never township B's
    assert numbers(client.get(url, {"kind": "vehicle"}), cases) == {"ma"}
    assert numbers(client.get(url, {"q": cases["yang"].identity}), cases) == {"yang"}
    assert numbers(client.get(url, {"q": cases["b"].number}), cases) == set()

    rows = read_csv(client.get(url, {"kind": "vehicle", "export": "csv"}))[1:]
    assert [(row[1], row[5]) for row in rows] == [
        (cases["ma"].number, mask_identity_number(cases["ma"].identity))
    ]
    purpose = {"unmask": "1", "purpose": "入户核实"}
    rows = read_csv(client.get(url, {"kind": "vehicle", "export": "csv", **purpose}))[1:]
    assert rows[0][5] == cases["ma"].identity
    assert AuditEvent.objects.get(action="sensitive.export").reason == "入户核实"


# --- a spot-check campaign's sampled cases -----------------------------------------------


@pytest.fixture
def campaign(cases, places, people):
    def draw(window_start):
        return SpotCheckCampaign.objects.create(
            county=places.county,
            rule=SpotCheckCampaign.Rule.NEW_CASES,
            ratio=Decimal("0.30"),
            window_start=window_start,
            window_end=window_start + datetime.timedelta(days=29),
            seed=1,
            population_size=4,
            sample_size=3,
            status=SpotCheckCampaign.Status.RUNNING,
        )

    this, other = draw(datetime.date(2026, 9, 1)), draw(datetime.date(2026, 10, 1))
    sampled = [(this, "ma", people.auditor), (this, "yang", None), (this, "b", None)]
    for drawn, key, auditor in [*sampled, (other, "formula", None)]:
        SampleItem.objects.create(
            campaign=drawn,
            application=cases[key],
            township=cases[key].village.parent,
            due_on=datetime.date(2026, 12, 31),
            assigned_to=auditor,
        )
    return this


def test_a_campaigns_cases_are_filtered_on_the_page_and_the_api_alike(
    client, people, cases, campaign
):
    client.force_login(people.auditor)
    url = reverse("verification:spotcheck-campaign", args=[campaign.pk])
    assert numbers(client.get(url), cases) == {"ma", "yang", "b"}  # not the other campaign's
    assert numbers(client.get(url, {"mine": "1"}), cases) == {"ma"}
    assert numbers(client.get(url, {"state": "drawn"}), cases) == {"yang", "b"}
    assert numbers(client.get(url, {"q": "杨河"}), cases) == {"yang"}
    # The campaign is the page's: another one asked for in the query changes nothing.
    other = SpotCheckCampaign.objects.exclude(pk=campaign.pk).get()
    assert numbers(client.get(url, {"campaign": other.pk}), cases) == {"ma", "yang", "b"}

    api = APIClient()
    api.force_authenticate(people.auditor)
    api_url = reverse("api-spotcheck-item-list", args=[campaign.pk])

    def ids(**params):
        response = api.get(api_url, params)
        assert response.status_code == 200, response.content
        return {row["application_number"] for row in response.json()["results"]}

    assert ids(q="杨河") == {cases["yang"].number}
    assert ids(mine="1") == {cases["ma"].number}
    assert ids(mine="0") == {cases[k].number for k in ("ma", "yang", "b")}


def test_a_campaigns_export_keeps_to_the_campaign_even_when_queued(
    client, people, cases, campaign, settings
):
    client.force_login(people.auditor)
    url = reverse("verification:spotcheck-campaign", args=[campaign.pk])
    _header, *rows = read_csv(client.get(url, {"state": "drawn", "export": "csv"}))
    assert {row[0] for row in rows} == {cases["yang"].number, cases["b"].number}
    assert mask_identity_number(cases["yang"].identity) in {row[2] for row in rows}

    settings.EXPORT_ASYNC_ROWS = 1  # built by the worker from the filters it was given
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    listing.export_job_build(job_id=job.pk)  # what the task runs
    job.refresh_from_db()
    exported = {row[0] for row in read_csv_bytes(bytes(job.content))[1:]}
    assert exported == {cases[k].number for k in ("ma", "yang", "b")}  # not "formula"


def read_csv_bytes(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# --- the spot-check campaigns ----------------------------------------------------------


def test_campaigns_are_found_by_the_cases_they_sampled_on_the_page_and_the_api(
    client, people, cases, campaign
):
    other = SpotCheckCampaign.objects.exclude(pk=campaign.pk).get()
    SpotCheckCampaign.objects.filter(pk=other.pk).update(status="finished")
    drawn = {"this": campaign, "other": other}

    def shown(**params) -> set[str]:
        response = client.get(reverse("verification:spotcheck-campaigns"), params)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {key for key, c in drawn.items() if f'id="campaign-{c.pk}"' in html}

    client.force_login(people.auditor)
    assert shown() == {"this", "other"}
    assert shown(q="杨秀兰") == {"this"}
    assert shown(q=cases["formula"].identity) == {"other"}
    assert shown(q=cases["b"].number) == {"this"}
    assert shown(q="张三") == set()
    assert shown(status="finished") == {"other"}
    assert shown(drawn_from="2999-01-01") == set()

    api = APIClient()
    api.force_authenticate(people.auditor)
    response = api.get(reverse("api-spotcheck-campaign-list"), {"q": cases["ma"].identity})
    assert [row["id"] for row in response.json()["results"]] == [campaign.pk]

    response = client.get(
        reverse("verification:spotcheck-campaigns"), {"status": "running", "export": "csv"}
    )
    header, *rows = read_csv(response)
    assert header[1:3] == ["县", "抽查规则"]
    assert [row[-1] for row in rows] == [str(campaign.seed)]
    assert AuditEvent.objects.get(action="list.export").new_values["list"] == "spot-check-campaigns"

    client.force_login(people.outsider_auditor)  # the other county: none of these
    assert shown() == set() and shown(q="马文忠") == set()
    client.force_login(people.caseworker_a)
    response = client.get(reverse("verification:spotcheck-campaigns"), {"export": "csv"})
    assert response.status_code == 403


# --- the batch comparison runs ------------------------------------------------------------


def test_batch_runs_are_found_by_the_cases_they_found_and_exported(
    client, people, cases, places, findings
):
    found = BatchRun.objects.get()
    BatchRun.objects.filter(pk=found.pk).update(counts={"vehicle": 2, "business": 1})
    quiet = BatchRun.objects.create(
        county=places.county,
        kind=BatchRun.Kind.ON_DEMAND,
        period_start=datetime.date(2026, 7, 1),
        period_end=datetime.date(2026, 7, 31),
        status=BatchRun.Status.FINISHED,
    )
    elsewhere = BatchRun.objects.create(
        county=places.other_county,
        kind=BatchRun.Kind.ON_DEMAND,
        period_start=datetime.date(2026, 7, 1),
        period_end=datetime.date(2026, 7, 31),
        status=BatchRun.Status.FAILED,
    )
    runs = {"found": found, "quiet": quiet, "elsewhere": elsewhere}
    url = reverse("verification:batch-runs")

    def shown(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {key for key, run in runs.items() if f'id="run-{run.pk}"' in html}

    client.force_login(people.auditor)
    assert shown() == {"found", "quiet"}  # never the other county's
    assert shown(q="杨秀兰") == {"found"}
    assert shown(q=cases["ma"].identity) == {"found"}
    assert shown(q="张三") == set()
    assert shown(finding="vehicle") == {"found"}
    assert shown(finding="real_estate") == set()
    assert shown(kind="on_demand") == {"quiet"}
    assert shown(status="failed") == set()

    header, *rows = read_csv(client.get(url, {"kind": "half_yearly_all", "export": "csv"}))
    assert header[1] == "县"
    assert len(rows) == 1 and rows[0][header.index("未申报车辆")] == "2"
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "batch-runs" and event.new_values["rows"] == 1

    client.force_login(people.outsider_auditor)
    assert shown() == {"elsewhere"} and shown(q="马文忠") == set()
    client.force_login(people.assistant_a)
    assert client.get(url, {"export": "csv"}).status_code == 403


# The runs page for a county auditor: 1 session, 2 user, 3 role assignments, 4 the
# counties where a run may be started, 5 per-object grants, 6 the count for the pager,
# 7 the page of runs with their counties, 8 the findings by kind and month (the table
# and chart under the list), 9-10 the start form's county select (asked whether it has
# any, then drawn). The filters read nothing to draw.
BATCH_RUNS_PAGE_QUERIES = 10


def test_the_runs_page_costs_the_same_for_one_run_and_for_many(client, people, places):
    def run(month):
        BatchRun.objects.create(
            county=places.county,
            kind=BatchRun.Kind.ON_DEMAND,
            period_start=datetime.date(2026, month, 1),
            period_end=datetime.date(2026, month, 28),
            status=BatchRun.Status.FINISHED,
            counts={"vehicle": month},
        )

    client.force_login(people.auditor)
    url = reverse("verification:batch-runs") + "?finding=vehicle&kind=on_demand"
    client.get(url)  # the first request after login records the session
    run(1)
    one = queries_of(client, url)
    for month in range(2, 12):
        run(month)
    many = queries_of(client, url)
    assert_same_query_count(one, many)
    assert len(many) == BATCH_RUNS_PAGE_QUERIES, numbered(many)


# --- an import's bad rows -------------------------------------------------------------------


def test_an_imports_bad_rows_are_searched_and_exported_as_kept(client, people):
    load_catalogue()
    feed = Feed.objects.get(department__code="hrss")

    def imported(name, rows):
        snapshot = Snapshot.objects.create(
            feed=feed,
            original_name=name,
            uploaded_by=people.feedadmin,
            status=Snapshot.Status.COMPLETE,
            rows_total=len(rows) + 1,
            rows_quarantined=len(rows),
            file=f"feeds/{name}",
        )
        return snapshot, [
            QuarantinedRow.objects.create(snapshot=snapshot, line=line, raw=raw, reasons=reasons)
            for line, raw, reasons in rows
        ]

    masked = "640422********0011"
    snapshot, (ma, li) = imported(
        "hrss-1.csv",
        [
            (3, {"身份证号": masked, "姓名": "马一", "金额": "-1"}, ["金额不能为负数"]),
            (7, {"身份证号": "", "姓名": "李二", "金额": "900"}, ["缺少身份证号"]),
        ],
    )
    _other, (elsewhere,) = imported("hrss-2.csv", [(3, {"姓名": "马三"}, ["缺少身份证号"])])
    rows = {"ma": ma, "li": li, "elsewhere": elsewhere}
    url = reverse("verification:snapshot", args=[snapshot.pk])

    def shown(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {key for key, row in rows.items() if f'id="bad-row-{row.pk}"' in html}

    client.force_login(people.feedadmin)
    assert shown() == {"ma", "li"}  # this import's rows only
    assert shown(q="马") == {"ma"}
    assert shown(q="缺少") == {"li"}  # a reason
    assert shown(q="7") == {"li"}  # a line
    assert shown(q="王") == set()
    assert shown(snapshot=_other.pk) == {"ma", "li"}  # the import is the page's

    header, *exported = read_csv(client.get(url, {"q": "马", "export": "csv"}))
    assert header == ["文件", "行号", "原因", "原始行内容"]
    assert [row[:3] for row in exported] == [["hrss-1.csv", "3", "金额不能为负数"]]
    # The cells as kept (jsonb keeps them in its own order), the number still masked.
    assert set(exported[0][3].split("; ")) == {f"身份证号={masked}", "姓名=马一", "金额=-1"}
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "feed-bad-rows" and event.new_values["rows"] == 1

    client.force_login(people.auditor)
    assert client.get(url, {"export": "csv"}).status_code == 403


# An import's page for the feed admin: 1 session, 2 user, 3 role assignments, 4 the
# import with its feed, department and uploader, 5 the pager's count of its bad rows,
# 6 the page of rows with their import (feeds have no places: no grants are read).
SNAPSHOT_PAGE_QUERIES = 6


def test_an_imports_page_costs_the_same_for_one_bad_row_and_for_many(client, people):
    load_catalogue()
    snapshot = Snapshot.objects.create(
        feed=Feed.objects.get(department__code="hrss"),
        original_name="hrss.csv",
        uploaded_by=people.feedadmin,
        status=Snapshot.Status.COMPLETE,
        file="feeds/hrss.csv",
    )

    def bad(*lines):
        QuarantinedRow.objects.bulk_create(
            QuarantinedRow(
                snapshot=snapshot, line=n, raw={"姓名": f"某{n}"}, reasons=["缺少身份证号"]
            )
            for n in lines
        )

    client.force_login(people.feedadmin)
    url = reverse("verification:snapshot", args=[snapshot.pk]) + "?q=某"
    client.get(url)  # the first request after login records the session
    bad(2)
    one = queries_of(client, url)
    bad(*range(3, 60))
    many = queries_of(client, url)
    assert_same_query_count(one, many)
    assert len(many) == SNAPSHOT_PAGE_QUERIES, numbered(many)


# --- a feed's upload history ------------------------------------------------------------------


def test_a_feeds_uploads_are_searched_filtered_and_exported(client, people):
    load_catalogue()
    feed = Feed.objects.get(department__code="hrss")
    other = Feed.objects.exclude(pk=feed.pk).first()

    def upload(name, status, bad=0, on=feed, error=""):
        return Snapshot.objects.create(
            feed=on,
            original_name=name,
            uploaded_by=people.feedadmin,
            status=status,
            rows_total=10,
            rows_quarantined=bad,
            error=error,
            file=f"feeds/{name}",
        )

    uploads = {
        "june": upload("hrss-june.csv", Snapshot.Status.REPLACED),
        "july": upload("hrss-july.csv", Snapshot.Status.COMPLETE, bad=2),
        "broken": upload("hrss-aug.csv", Snapshot.Status.REJECTED, error="缺少身份证号列"),
        "elsewhere": upload("other.csv", Snapshot.Status.COMPLETE, on=other),
    }
    url = reverse("verification:feed", args=["hrss"])

    def shown(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {key for key, s in uploads.items() if f'id="snapshot-{s.pk}"' in html}

    client.force_login(people.feedadmin)
    assert shown() == {"june", "july", "broken"}  # this feed's uploads only
    assert shown(q="july") == {"july"}
    assert shown(q="身份证") == {"broken"}  # the reason it was not loaded
    assert shown(status="replaced") == {"june"}
    assert shown(with_bad_rows="1") == {"july"}
    assert shown(feed=other.pk) == {"june", "july", "broken"}  # the feed is the page's

    header, *rows = read_csv(client.get(url, {"q": "hrss-j", "export": "csv"}))
    assert header[:3] == ["部门", "上传时间", "文件"]
    assert sorted(row[2] for row in rows) == ["hrss-july.csv", "hrss-june.csv"]
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "feed-uploads" and event.new_values["rows"] == 2

    client.force_login(people.auditor)
    assert client.get(url, {"export": "csv"}).status_code == 403


# A feed's page for the feed admin: 1 session, 2 user, 3 role assignments, 4 the feed
# with its department, 5 the pager's count of its uploads, 6 the department's items, 7 the
# page of uploads with their uploaders (feeds have no places: no grants are read).
FEED_PAGE_QUERIES = 7


def test_a_feeds_page_costs_the_same_for_one_upload_and_for_many(client, people):
    load_catalogue()
    feed = Feed.objects.get(department__code="hrss")

    def uploads(*numbers):
        Snapshot.objects.bulk_create(
            Snapshot(
                feed=feed,
                original_name=f"hrss-{n}.csv",
                uploaded_by=people.feedadmin,
                status=Snapshot.Status.REPLACED,
                file=f"feeds/hrss-{n}.csv",
            )
            for n in numbers
        )

    client.force_login(people.feedadmin)
    url = reverse("verification:feed", args=["hrss"]) + "?q=hrss"
    client.get(url)  # the first request after login records the session
    uploads(1)
    one = queries_of(client, url)
    uploads(*range(2, 60))
    many = queries_of(client, url)
    assert_same_query_count(one, many)
    assert len(many) == FEED_PAGE_QUERIES, numbered(many)
