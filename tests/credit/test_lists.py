"""The credit lists (credit.lists): the findings, the decisions queue and the queues of
interviews, objections, repairs and the outbox, searched and filtered as the API's lists
are, and exported as the filters show them.

The families of tests.cases.test_listing: 马文忠 (龙王坝村) and 杨秀兰 (杨河村) in township
A, another 马文忠 in township B.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aid_portal.identity import mask_identity_number
from aid_portal.models import AuditEvent
from cases.models import Member
from credit.findings import services
from credit.findings.models import Finding, OutboxMessage
from credit.trust import services as trust
from tests.cases import conftest as case_fixtures
from tests.cases import test_listing
from tests.cases.test_listing import read_csv

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
cases = test_listing.cases


@pytest.fixture
def findings(cases, people):
    """A finding on each family, the 马文忠 of township A's on the person; all proposed."""
    made = {}
    for key in ("ma", "yang", "b"):
        app = cases[key]
        person = None
        if key == "ma":
            person = Member.objects.get(household=app.household, relation="self").person_id
        made[key] = services.finding_record(
            actor=people.caseworker_b if key == "b" else people.caseworker_a,
            household_id=app.household_id,
            person_id=person,
            behaviour_code="xj-false-material-minor",
            facts="少报收入",
            source_kind="case",
            application_id=app.pk,
        ).pk
    return made


def shown(client, name, findings, **params) -> set[str]:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    html = response.content.decode()
    return {key for key, pk in findings.items() if f'id="finding-{pk}"' in html}


def test_findings_are_searched_in_the_users_places_as_the_api_does(client, people, cases, findings):
    client.force_login(people.caseworker_a)
    name = "credit:findings"
    assert shown(client, name, findings) == {"ma", "yang"}
    assert shown(client, name, findings, q="文忠") == {"ma"}  # never township B's
    assert shown(client, name, findings, q=cases["yang"].identity) == {"yang"}
    assert shown(client, name, findings, q=cases["yang"].number) == {"yang"}
    assert shown(client, name, findings, village=cases["yang"].village.code) == {"yang"}
    assert shown(client, name, findings, household=cases["ma"].household_id) == {"ma"}
    assert shown(client, name, findings, q=cases["b"].identity) == set()

    api = APIClient()
    api.force_authenticate(people.caseworker_a)
    response = api.get(reverse("api-credit-findings"), {"q": "文忠"})
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {findings["ma"]}


def test_the_findings_export_is_what_the_filters_show(client, people, cases, findings):
    client.force_login(people.caseworker_a)
    response = client.get(reverse("credit:findings"), {"q": "文忠", "export": "csv"})
    header, *rows = read_csv(response)
    assert header[:2] == ["编号", "发现日期"]
    assert [row[0] for row in rows] == [f"#{findings['ma']}"]
    assert rows[0][5] == mask_identity_number(cases["ma"].identity)
    assert AuditEvent.objects.get(action="list.export").new_values["list"] == "credit-findings"


def test_the_decisions_queue_is_searched_and_exported(client, people, cases, findings):
    client.force_login(people.approver_a)
    name = "credit:decisions"
    assert shown(client, name, findings) == {"ma", "yang"}
    assert shown(client, name, findings, q="杨河") == {"yang"}
    rows = read_csv(client.get(reverse(name), {"q": "杨河", "export": "csv"}))[1:]
    assert [row[0] for row in rows] == [f"#{findings['yang']}"]
    client.force_login(people.caseworker_a)
    assert client.get(reverse(name), {"export": "csv"}).status_code == 403


# --- the queues of a finding's rows ---------------------------------------------------------


@pytest.fixture
def queues(cases, people):
    """On each family of township A (马文忠 on the person): a light finding with its
    interview to hold and an objection lodged, a light finding whose interview was held
    and whose repair is applied for, and a severe finding sent to the platform."""
    made = {}
    for key in ("ma", "yang"):
        app = cases[key]
        person = None
        if key == "ma":
            person = Member.objects.get(household=app.household, relation="self").person_id

        def finding(code, app=app, person=person):
            found = services.finding_record(
                actor=people.caseworker_a,
                household_id=app.household_id,
                person_id=person,
                behaviour_code=code,
                facts="排队",
                source_kind="case",
                application_id=app.pk,
            )
            services.finding_decide(actor=people.approver_a, finding_id=found.pk)
            return Finding.objects.get(pk=found.pk)

        objected = finding("xj-admits-at-once")
        objection = services.objection_lodge(
            actor=people.caseworker_a, finding_id=objected.pk, statement="不服"
        )
        repaired = finding("xj-admits-at-once")
        services.interview_hold(
            actor=people.caseworker_a, interview_id=repaired.interviews.get().pk, notes="已约谈"
        )
        repair = services.repair_apply(
            actor=people.caseworker_a, finding_id=repaired.pk, correction="已改正"
        )
        severe = finding("xj-obstructs-staff")
        services.finding_confirm(actor=people.auditor, finding_id=severe.pk)
        made[key] = {
            "interview": objected.interviews.get().pk,
            "objection": objection.pk,
            "repair": repair.pk,
            "message": OutboxMessage.objects.get(finding=severe).pk,
        }
    return made


def rows_shown(client, name, queues, kind, **params) -> set[str]:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    html = response.content.decode()
    return {key for key, rows in queues.items() if f'id="{kind}-{rows[kind]}"' in html}


QUEUES = [
    ("credit:interviews", "caseworker_a", "interview"),
    ("credit:objections", "approver_a", "objection"),
    ("credit:repairs", "approver_a", "repair"),
    ("credit:outbox", "auditor", "message"),
]


@pytest.mark.parametrize(("name", "who", "kind"), QUEUES)
def test_each_queue_is_searched_within_the_users_places(
    client, people, cases, queues, name, who, kind
):
    client.force_login(getattr(people, who))
    assert rows_shown(client, name, queues, kind) == {"ma", "yang"}
    assert rows_shown(client, name, queues, kind, q="文忠") == {"ma"}
    assert rows_shown(client, name, queues, kind, q=cases["yang"].identity) == {"yang"}
    assert rows_shown(client, name, queues, kind, q=cases["yang"].number) == {"yang"}
    assert rows_shown(client, name, queues, kind, q="杨河") == {"yang"}
    assert rows_shown(client, name, queues, kind, village=cases["ma"].village.code) == {"ma"}
    assert rows_shown(client, name, queues, kind, q=cases["b"].identity) == set()


@pytest.mark.parametrize(("name", "who", "kind"), QUEUES)
def test_each_queue_exports_what_its_filters_show(client, people, cases, queues, name, who, kind):
    client.force_login(getattr(people, who))
    header, *rows = read_csv(client.get(reverse(name), {"q": "文忠", "export": "csv"}))
    assert rows
    households = {row[header.index("家庭")] for row in rows}
    assert households == {str(cases["ma"].household_id)}
    if "身份证号码" in header:  # the outbox shows messages, not people
        assert {row[header.index("身份证号码")] for row in rows} == {
            mask_identity_number(cases["ma"].identity)
        }
        assert cases["ma"].identity not in str(rows)
    assert all(row[header.index("失信认定")].startswith("#") for row in rows)
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == f"credit-{name.split(':')[1]}"
    # Nobody of township B sees township A's rows in an export either.
    client.force_login(people.caseworker_b)
    response = client.get(reverse(name), {"export": "csv"})
    if response.status_code == 200:
        assert read_csv(response)[1:] == []


def test_the_outbox_api_takes_the_pages_filters(people, cases, queues):
    api = APIClient()
    api.force_authenticate(people.auditor)
    response = api.get(reverse("api-credit-outbox"), {"q": "杨河"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [queues["yang"]["message"]]
    response = api.get(reverse("api-credit-outbox"), {"state": "nonsense"})
    assert response.status_code == 400


# --- the trust lists ------------------------------------------------------------------------


@pytest.fixture
def trust_records(cases, people):
    """A trust record this year on each family of township A, last year's on 马文忠's too,
    and one on township B's family."""
    today = timezone.localdate()
    made = {}
    for key in ("ma", "yang", "b"):
        app = cases[key]
        made[key] = trust.trust_record(
            actor=people.caseworker_b if key == "b" else people.caseworker_a,
            household_id=app.household_id,
            application_id=app.pk,
            person_id=Member.objects.get(household=app.household, relation="self").person_id,
            kind="truthful_declaration",
            facts="如实申报",
        ).pk
    made["ma-last-year"] = trust.trust_record(
        actor=people.caseworker_a,
        household_id=cases["ma"].household_id,
        kind="prompt_change_report",
        facts="去年主动报告",
        recorded_on=today.replace(year=today.year - 1, month=6, day=1),
    ).pk
    return made


def test_trust_records_are_searched_by_year_within_the_users_places(
    client, people, cases, trust_records
):
    client.force_login(people.approver_a)

    def shown(**params):
        response = client.get(reverse("credit:trust-records"), params)
        assert response.status_code == 200
        html = response.content.decode()
        return {key for key, pk in trust_records.items() if f'id="record-{pk}"' in html}

    assert shown() == {"ma", "yang"}  # this year, township A
    assert shown(q="文忠") == {"ma"}
    assert shown(q=cases["yang"].identity) == {"yang"}
    assert shown(q=cases["ma"].number) == {"ma"}
    assert shown(year=timezone.localdate().year - 1) == {"ma-last-year"}
    assert shown(q=cases["b"].identity) == set()
    assert (
        "小于或等于" in client.get(reverse("credit:trust-records"), {"year": 2999}).content.decode()
    )

    header, *rows = read_csv(client.get(reverse("credit:trust-records"), {"export": "csv"}))
    identity = header.index("身份证号码")
    assert sorted(row[identity] for row in rows) == sorted(
        mask_identity_number(cases[key].identity) for key in ("ma", "yang")
    )
    api = APIClient()
    api.force_authenticate(people.approver_a)
    response = api.get(reverse("api-credit-trust-records"), {"q": "杨河"})
    assert [row["id"] for row in response.json()["results"]] == [trust_records["yang"]]
    assert api.get(reverse("api-credit-trust-records"), {"year": 1990}).status_code == 400


def test_the_rewards_list_is_searched_and_exported_as_shown(client, people, cases, trust_records):
    client.force_login(people.approver_a)

    def shown(**params):
        response = client.get(reverse("credit:rewards"), params)
        assert response.status_code == 200
        html = response.content.decode()
        return {key for key in cases if f'id="household-{cases[key].household_id}"' in html}

    assert shown() == {"ma", "yang"}
    assert shown(q="杨河") == {"yang"}
    assert shown(q=cases["ma"].identity) == {"ma"}
    assert shown(q=cases["b"].identity) == set()

    header, *rows = read_csv(client.get(reverse("credit:rewards"), {"q": "文忠", "export": "csv"}))
    assert [row[header.index("申请人")] for row in rows] == ["马文忠"]
    assert rows[0][header.index("身份证号码")] == mask_identity_number(cases["ma"].identity)
    response = client.get(
        reverse("credit:rewards"),
        {"q": "文忠", "export": "csv", "unmask": "1", "purpose": "核对奖励名单"},
    )
    assert read_csv(response)[1][header.index("身份证号码")] == cases["ma"].identity
    assert AuditEvent.objects.filter(action="sensitive.export").count() == 1

    api = APIClient()
    api.force_authenticate(people.approver_a)
    response = api.get(reverse("api-credit-rewards"), {"q": "文忠"})
    assert [row["household"] for row in response.json()["results"]] == [cases["ma"].household_id]
