"""Lists: search (the FilterSets shared by page and API), exports, masking and large exports.

alice is caseworker_a (township A), bob caseworker_b (township B); their queues must never
show each other's cases, whatever they search for.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from aid_portal import listing
from aid_portal.crypto import blind_index
from aid_portal.exports import csv_bytes
from aid_portal.identity import mask_identity_number
from aid_portal.models import AuditEvent, ExportJob
from cases.intake import services as intake_services
from cases.models import Application, Member
from tests.cases.conftest import identity

S = Application.State


@pytest.fixture
def cases(places, people, policy, proof_items):
    def family(actor, village, name, sequence, area="642222"):
        household = intake_services.household_create(actor=actor, village=village, address="1号")
        number = identity(area, "19650505", sequence)
        intake_services.member_add(
            actor=actor,
            household=household,
            identity_number=number,
            name=name,
            relation=Member.Relation.SELF,
        )
        app = intake_services.application_create(
            actor=actor, household=household, assistance_type="dibao_rural"
        )
        # The queue shows submitted cases; the path to submission is tested in cases/.
        Application.objects.filter(pk=app.pk).update(state=S.SUBMITTED)
        app.refresh_from_db()
        app.identity = number
        return app

    yang_he = places.village_a.parent.children.get(name="杨河村")
    return {
        "ma": family(people.caseworker_a, places.village_a, "马文忠", 11),
        "yang": family(people.caseworker_a, yang_he, "杨秀兰", 12),
        "formula": family(people.caseworker_a, places.village_a, '=HYPERLINK("x")', 13),
        "b": family(people.caseworker_b, places.village_b, "马文忠", 15),
    }


def queue(client, **params):
    response = client.get(reverse("cases:queue"), params)
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('id="queue-table"') :]  # the rows, not the search box's echo


def numbers_in(html: str, cases: dict) -> set[str]:
    return {key for key, app in cases.items() if app.number in html}


def test_search_finds_by_name_village_number_and_identity_in_jurisdiction_only(
    client, people, cases
):
    client.force_login(people.caseworker_a)
    assert numbers_in(queue(client), cases) == {"ma", "yang", "formula"}
    # A name: bob's 马文忠 lives in township B and never appears in alice's answer.
    assert numbers_in(queue(client, q="文忠"), cases) == {"ma"}
    assert numbers_in(queue(client, q="杨河"), cases) == {"yang"}  # a village's name
    assert numbers_in(queue(client, q=cases["yang"].number), cases) == {"yang"}
    household = f"#{cases['ma'].household_id}"
    assert numbers_in(queue(client, q=household), cases) == {"ma"}
    # The identity number, typed with a space and a lower-case x, is found exactly.
    spaced = cases["ma"].identity[:6] + " " + cases["ma"].identity[6:].lower()
    with CaptureQueriesContext(connection) as queries:
        assert numbers_in(queue(client, q=spaced), cases) == {"ma"}
    # through the blind index: the query carries the keyed hash, not the number
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert blind_index(cases["ma"].identity) in sql
    assert cases["ma"].identity not in sql
    assert numbers_in(queue(client, q=cases["ma"].identity[:-1]), cases) == set()
    # Another township's case, by its own number or identity: nothing.
    assert numbers_in(queue(client, q=cases["b"].number), cases) == set()
    assert numbers_in(queue(client, q=cases["b"].identity), cases) == set()
    assert numbers_in(queue(client, village=places_code(cases["yang"])), cases) == {"yang"}


def places_code(app) -> str:
    return app.village.code


def test_the_api_list_takes_the_same_filters(people, cases):
    api = APIClient()
    api.force_authenticate(people.caseworker_a)
    url = reverse("api-cases-application-list")

    def ids(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(q="文忠") == {cases["ma"].pk}
    assert ids(q=cases["ma"].identity) == {cases["ma"].pk}
    assert ids(q=cases["yang"].number) == {cases["yang"].pk}
    assert ids(q=cases["b"].identity) == set()
    assert ids(village=cases["yang"].village.code) == {cases["yang"].pk}


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_is_what_the_filters_show_masked_and_formula_safe(client, people, cases):
    client.force_login(people.caseworker_a)
    response = client.get(reverse("cases:queue"), {"q": "文忠", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = read_csv(response)
    assert header[:4] == ["申请编号", "申请人", "身份证号码", "村（社区）"]
    assert [row[0] for row in rows] == [cases["ma"].number]
    assert rows[0][2] == mask_identity_number(cases["ma"].identity)
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["rows"] == 1 and event.new_values["list"] == "work-queue"

    rows = read_csv(client.get(reverse("cases:queue"), {"q": "HYPERLINK", "export": "csv"}))[1:]
    assert rows[0][1] == '\'=HYPERLINK("x")'  # read as text, never run


def test_csv_cells_that_look_like_formulas_are_escaped():
    text = csv_bytes(header=["a"], rows=[["=1+1"], ["+1"], ["-x"], ["@A1"], [-5], ["ok"]])
    values = [row[0] for row in csv.reader(io.StringIO(text.decode("utf-8-sig")))]
    assert values == ["a", "'=1+1", "'+1", "'-x", "'@A1", "-5", "ok"]


def test_xlsx_export_masks_identity_numbers(client, people, cases):
    client.force_login(people.caseworker_a)
    response = client.get(reverse("cases:queue"), {"q": "杨河", "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == cases["yang"].number
    assert rows[1][2] == mask_identity_number(cases["yang"].identity)
    assert len(rows) == 2


def test_unmasking_takes_the_role_and_a_reason_and_is_audited(client, people, cases):
    client.force_login(people.caseworker_a)
    url = reverse("cases:queue")
    refused = client.get(url, {"q": "文忠", "export": "csv", "unmask": "1", "purpose": ""})
    assert refused.status_code == 400
    assert "export-unmasked" in refused.content.decode()
    assert not AuditEvent.objects.filter(action__endswith="export").exists()

    response = client.get(url, {"q": "文忠", "export": "csv", "unmask": "1", "purpose": "核对户籍"})
    assert read_csv(response)[1][2] == cases["ma"].identity
    event = AuditEvent.objects.get(action="sensitive.export")
    assert event.reason == "核对户籍" and event.actor == people.caseworker_a

    client.force_login(people.assistant_a)  # reads the queue, may not unmask
    assert "export-unmasked" not in queue(client)
    denied = client.get(url, {"export": "csv", "unmask": "1", "purpose": "核对户籍"})
    assert denied.status_code == 403


def test_global_search_groups_by_kind_within_the_jurisdiction(client, people, cases):
    client.force_login(people.caseworker_a)
    page = client.get(reverse("cases:search"), {"q": "马文忠"}).content.decode()
    assert cases["ma"].number in page and cases["b"].number not in page
    assert 'id="search-persons"' in page
    assert mask_identity_number(cases["ma"].identity) in page
    assert cases["ma"].identity not in page
    none = client.get(reverse("cases:search"), {"q": cases["b"].identity}).content.decode()
    assert 'id="search-none"' in none
    client.force_login(people.feedadmin)
    assert client.get(reverse("cases:search"), {"q": "马"}).status_code == 403


def test_lists_page_and_the_pager_keeps_the_search(client, people, cases, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    client.force_login(people.caseworker_a)
    first = queue(client, q="642222")  # no such shape: a name search that finds none
    assert numbers_in(first, cases) == set()
    first = queue(client)
    assert len(numbers_in(first, cases)) == 2
    assert "page=2" in first
    second = queue(client, page=2)
    assert len(numbers_in(second, cases)) == 1
    assert numbers_in(first, cases) | numbers_in(second, cases) == {"ma", "yang", "formula"}
    searched = queue(client, q="龙王坝")
    assert "q=%E9%BE%99%E7%8E%8B%E5%9D%9D&amp;page=2" not in searched  # two rows: one page
    assert numbers_in(searched, cases) == {"ma", "formula"}


@pytest.mark.django_db(transaction=True)
def test_a_large_export_is_built_by_a_worker_for_its_user_alone(
    client, people, cases, settings, celery_worker_process
):
    settings.EXPORT_ASYNC_ROWS = 2  # three rows are "large"
    client.force_login(people.caseworker_a)
    response = client.get(reverse("cases:queue"), {"export": "csv"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("export-job", args=[job.pk])
    assert (job.user, job.total, job.list_name) == (people.caseworker_a, 3, "work-queue")
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page
    deadline = time.monotonic() + 60
    while job.state in {"pending", "running"} and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.state == "done", job.error
    progress = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert reverse("export-job-download", args=[job.pk]) in progress
    download = client.get(reverse("export-job-download", args=[job.pk]))
    rows = read_csv(download)[1:]
    assert {row[0] for row in rows} == {cases[k].number for k in ("ma", "yang", "formula")}
    assert mask_identity_number(cases["ma"].identity) in {row[2] for row in rows}

    client.force_login(people.approver_a)  # same township, not the one who asked
    assert client.get(reverse("export-job-download", args=[job.pk])).status_code == 404
    assert client.get(reverse("export-job", args=[job.pk])).status_code == 404


def test_an_unmasked_export_counts_toward_the_daily_limit(client, people, cases, settings):
    settings.UNMASK_DAILY_LIMIT = 1
    client.force_login(people.caseworker_a)
    url = reverse("cases:queue")
    params = {"q": "文忠", "export": "csv", "unmask": "1", "purpose": "核对户籍"}
    assert client.get(url, params).status_code == 200
    refused = client.get(url, params)
    assert refused.status_code == 429
    assert cases["ma"].identity not in refused.content.decode()
    assert AuditEvent.objects.filter(action="sensitive.export").count() == 1
    # A masked export is still there.
    assert client.get(url, {"q": "文忠", "export": "csv"}).status_code == 200


def test_a_list_counts_up_to_the_cap_and_says_more_than(
    client, people, cases, monkeypatch, settings
):
    """Past LIST_COUNT_CAP the pager counts no further (a COUNT over a LIMIT) and says
    so; under it the count is exact."""
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    settings.LIST_COUNT_CAP = 2
    client.force_login(people.caseworker_a)
    with CaptureQueriesContext(connection) as queries:
        first = queue(client)
    counts = [q["sql"] for q in queries if q["sql"].upper().startswith("SELECT COUNT(*)")]
    assert counts and all("LIMIT 3" in sql for sql in counts), counts
    assert "第 1 页，共 2 页以上" in first  # three cases, counted to 2 + 1
    assert "超过 2 条" in first
    assert "page=2" in first
    last = queue(client, page=2)
    assert "page=3" not in last  # the pages end at the cap
    settings.LIST_COUNT_CAP = 3
    exact = queue(client)
    assert "第 1 页，共 3 页" in exact
    assert "页以上" not in exact and "超过" not in exact
