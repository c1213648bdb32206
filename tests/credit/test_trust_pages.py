"""Trust pages and API: the case page's honest-declarant panel, recording trustworthy
behaviour, the rewards list with its grants and XLSX, the county dashboard (with the
yearly task on a real worker), and pinned query counts on the lists."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from aid_portal.models import AuditEvent
from cases.models import Application, Policy
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour
from credit.trust import services as trust
from credit.trust.models import Reward, TrustRecord, YearlyResult
from tests.conftest import wait_for
from tests.queries import assert_query_count, assert_same_query_count, queries_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def behaviours(db):
    """The catalogue is loaded by a data migration, which a transactional test (the
    worker's) flushes away: load it again (it adds only what is missing)."""
    catalogue_load(Behaviour)


Y = timezone.localdate().year
MODERATE = "xj-false-material-refuses"


def client_for(user, *, api: bool = False) -> APIClient:
    client = APIClient() if api else APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def record_trust(people, family, *, on=None, kind="truthful_declaration") -> TrustRecord:
    return trust.trust_record(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        application_id=family.application.pk,
        kind=kind,
        facts="入户核查结果与自主申报一致",
        recorded_on=on,
    )


# --- the case page -------------------------------------------------------------------------


def test_case_page_shows_the_honest_declarant_and_the_way_to_record(people, enrol):
    family = enrol(paying=False)
    url = reverse("cases:detail", args=[family.application.pk])
    body = client_for(people.caseworker_a).get(url).content.decode()
    assert "诚信申报对象：可走简易程序。" in body
    assert reverse("credit:trust-record", args=[family.application.pk]) in body
    # The approver sees the status but not the way to record.
    body = client_for(people.approver_a).get(url).content.decode()
    assert "诚信申报对象：可走简易程序。" in body
    assert reverse("credit:trust-record", args=[family.application.pk]) not in body


def test_case_page_of_an_unverified_case_lists_what_is_missing(people, make_family):
    family = make_family(complete=False)
    url = reverse("cases:detail", args=[family.application.pk])
    body = client_for(people.caseworker_a).get(url).content.decode()
    assert "（暂）不是诚信申报对象" in body
    assert "尚未核对。" in body
    assert family.spouse.person.name in body


def test_recording_from_the_case_page(people, make_family):
    family = make_family()
    client = client_for(people.caseworker_a)
    url = reverse("credit:trust-record", args=[family.application.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "kinship_declared",
            "person": family.spouse.person_id,
            "facts": "主动申报其兄为村委会委员",
            "recorded_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    record = TrustRecord.objects.get()
    assert (record.kind, record.person_id) == ("kinship_declared", family.spouse.person_id)
    body = client.get(response["Location"]).content.decode()
    assert "主动申报其兄为村委会委员" in body


def test_recording_with_bad_input_says_why_and_saves_nothing(people, make_family):
    family = make_family()
    client = client_for(people.caseworker_a)
    url = reverse("credit:trust-record", args=[family.application.pk])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        url, {"kind": "truthful_declaration", "facts": "如实申报", "recorded_on": tomorrow}
    )
    assert response.status_code == 400
    assert "日期不能晚于今天。" in response.content.decode()
    response = client.post(url, {"kind": "truthful_declaration", "facts": ""})
    assert response.status_code == 400
    assert not TrustRecord.objects.exists()


# --- rewards -------------------------------------------------------------------------------


def test_the_approver_grants_from_the_rewards_list(people, make_family, in_force):
    honest = make_family()
    record_trust(people, honest)
    sanctioned = make_family()
    record_trust(people, sanctioned)
    in_force(sanctioned, MODERATE, on=timezone.localdate())
    client = client_for(people.approver_a)
    body = client.get(reverse("credit:rewards")).content.decode()
    assert honest.applicant.person.name in body
    assert sanctioned.applicant.person.name not in body
    grant = reverse("credit:reward-grant", args=[honest.application.household_id])
    response = client.post(f"{grant}?year={Y}", {"kind": "holiday_visit", "note": "春节慰问"})
    assert response.status_code == 302
    assert Reward.objects.get().kind == "holiday_visit"
    # The household with a standing finding is refused, with the reason on the page.
    refused = reverse("credit:reward-grant", args=[sanctioned.application.household_id])
    response = client.post(f"{refused}?year={Y}", {"kind": "honour_roll"})
    assert response.status_code == 400
    assert "有生效的失信认定" in response.content.decode()
    assert Reward.objects.count() == 1
    # A caseworker reads the list but has no grant forms, and may not post.
    body = client_for(people.caseworker_a).get(reverse("credit:rewards")).content.decode()
    assert honest.applicant.person.name in body and grant not in body
    assert client_for(people.caseworker_a).post(grant, {"kind": "honour_roll"}).status_code == 403


def test_rewards_xlsx_lists_the_households_with_masked_numbers(people, make_family):
    honest = make_family()
    record_trust(people, honest, kind="asked_to_leave")
    trust.reward_grant(
        actor=people.approver_a,
        household_id=honest.application.household_id,
        year=Y,
        kind=Reward.Kind.HONOUR_ROLL,
    )
    response = client_for(people.auditor).get(reverse("credit:rewards-xlsx") + f"?year={Y}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("乡镇", "村（社区）", "申请人")
    [row] = rows[1:]
    full = honest.applicant.person.identity_number
    assert row[2] == honest.applicant.person.name
    assert row[3] != full and row[3][:4] == full[:4] and "*" in row[3]
    assert row[4] == 1
    assert row[5] == "不再符合条件时主动申请退出"
    assert row[6] == "光荣榜公示"


# --- query counts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "api"),
    [
        ("credit:trust-records", False),
        ("credit:rewards", False),
        ("api-credit-trust-records", True),
        ("api-credit-rewards", True),
    ],
)
def test_list_queries_are_pinned_and_do_not_grow_with_rows(name, api, people, make_family):
    client = client_for(people.approver_a, api=api)
    url = reverse(name)
    client.get(url)  # the first request after login records the session's start
    record_trust(people, make_family())
    one = queries_of(client, url)
    for _ in range(4):
        record_trust(people, make_family(), kind="prompt_change_report")
    many = queries_of(client, url)
    assert_same_query_count(one, many)
    # Pinned: the session, the user, the role assignments, the region grants, the count,
    # the page of rows; the rewards list also its rewards of the year (prefetch); the
    # pages also their search form's villages (one query: 6 -> 7 and 7 -> 8).
    expected = {
        "credit:trust-records": 7,
        "credit:rewards": 8,
        "api-credit-trust-records": 6,
        "api-credit-rewards": 7,
    }[name]
    assert_query_count(one, expected)


# --- the API -------------------------------------------------------------------------------


def test_api_honest_declarant_trust_record_and_reward(people, enrol, make_family):
    family = enrol(paying=False)
    api = client_for(people.caseworker_a, api=True)
    data = api.get(reverse("api-credit-honest-declarant", args=[family.application.pk])).json()
    assert data["qualifies"] is True
    assert [c["code"] for c in data["conditions"]] == [
        "no_bad_record",
        "no_anomaly",
        "no_notice_objection",
        "authorisations_signed",
    ]
    response = api.post(
        reverse("api-credit-trust-records"),
        {"household": family.application.household_id, "kind": "truthful_declaration", "facts": ""},
        format="json",
    )
    assert response.status_code == 400 and "facts" in response.json()
    response = api.post(
        reverse("api-credit-trust-records"),
        {
            "household": family.application.household_id,
            "kind": "truthful_declaration",
            "facts": "如实申报",
            "application": family.application.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "truthful_declaration"
    grant = {"household": family.application.household_id, "year": Y, "kind": "welfare_job"}
    approver = client_for(people.approver_a, api=True)
    outsider = client_for(people.caseworker_b, api=True)
    url = reverse("api-credit-reward-grant")
    assert approver.post(url, grant, format="json").status_code == 201
    assert approver.post(url, grant, format="json").status_code == 409  # already granted
    assert api.post(url, grant, format="json").status_code == 403  # a caseworker
    assert outsider.post(url, grant, format="json").status_code == 404  # another township
    rewards = approver.get(reverse("api-credit-rewards") + f"?year={Y}").json()["results"]
    assert [r["kind"] for r in rewards[0]["rewards"]] == ["welfare_job"]


# --- the dashboard and the yearly task -----------------------------------------------------


def backdate_decisions(year: int) -> None:
    """Move every approval into ``year`` (the clock of the case data, not of the test)."""
    Application.objects.filter(decided_at__isnull=False).update(
        decided_at=timezone.make_aware(datetime.datetime(year, 3, 1, 10, 0))
    )


def test_dashboard_shows_the_rate_by_township_and_year(people, places, enrol, in_force):
    families = [enrol(paying=False) for _ in range(3)]
    in_force(families[0], MODERATE, on=timezone.localdate())
    body = client_for(people.auditor).get(reverse("credit:dashboard")).content.decode()
    assert places.township_a.name in body
    assert "33.3%" in body and "1/3" in body  # this year, live
    # The home page of the county auditor leads there.
    body = client_for(people.auditor).get(reverse("home")).content.decode()
    assert reverse("credit:dashboard") in body
    body = client_for(people.caseworker_a).get(reverse("home")).content.decode()
    assert reverse("credit:dashboard") not in body
    rates = client_for(people.auditor, api=True).get(reverse("api-credit-untrustworthy-rates"))
    [township] = rates.json()["townships"]
    assert township["township"] == places.township_a.code
    assert township["rates"] == [
        {"year": Y, "households": 3, "untrustworthy": 1, "percent": "33.3", "provisional": True}
    ]


def test_dashboard_refuses_the_current_year_and_nothing_is_queued(people, places):
    response = client_for(people.auditor).post(
        reverse("credit:yearly-compute"), {"county": places.county.pk, "year": Y}
    )
    assert response.status_code == 400
    assert "只保存已结束年度的结果" in response.content.decode()
    assert not AuditEvent.objects.filter(action="yearly_result.request").exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_auditor_recomputes_last_year_on_a_real_worker(
    people, places, policy, enrol, in_force, celery_worker_process
):
    families = [enrol(paying=False) for _ in range(2)]
    backdate_decisions(Y - 1)
    # The finding takes effect last year, by the county's rules of last year (the
    # fixture's row when last year is the fixture's).
    Policy.objects.get_or_create(
        county=places.county,
        effective_from=datetime.date(Y - 1, 1, 1),
        defaults={
            "dibao_standard_urban": policy.dibao_standard_urban,
            "dibao_standard_rural": policy.dibao_standard_rural,
        },
    )
    in_force(families[1], MODERATE, on=datetime.date(Y - 1, 12, 1))
    response = client_for(people.auditor).post(
        reverse("credit:yearly-compute"), {"county": places.county.pk, "year": Y - 1}
    )
    assert response.status_code == 302
    stored = wait_for(lambda: YearlyResult.objects.filter(year=Y - 1).count() == 2, timeout=60)
    assert stored
    assert dict(YearlyResult.objects.values_list("household_id", "result")) == {
        families[0].application.household_id: "good",
        families[1].application.household_id: "untrustworthy",
    }
    body = client_for(people.auditor).get(reverse("credit:dashboard")).content.decode()
    assert "50.0%" in body
    # The scheduled entry point: every county with a policy, the year just ended by default.
    from credit.trust.tasks import yearly_results_all_task

    assert places.county.pk in yearly_results_all_task.delay(Y - 1).get(timeout=60)
