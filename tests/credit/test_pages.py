"""Credit pages: recording from a case, the steps as forms, the notice, the queues, the
intake's block check; bad input shown in Chinese with nothing saved; pinned query counts."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from credit.findings import services
from credit.findings.models import Finding, OutboxMessage
from tests.credit.conftest import DAY
from tests.queries import assert_get_query_count

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_case_page_links_to_recording_a_finding(people, make_family):
    family = make_family()
    page = client_for(people.caseworker_a).get(
        reverse("cases:detail", args=[family.application.pk])
    )
    assert (
        f"{reverse('credit:finding-new')}?application={family.application.pk}"
        in page.content.decode()
    )


def test_a_caseworker_records_a_finding_from_the_case(people, make_family):
    family = make_family()
    url = reverse("credit:finding-new") + f"?application={family.application.pk}"
    caseworker = client_for(people.caseworker_a)
    form = caseworker.get(url)
    assert "通过提供虚假申请材料" in form.content.decode()
    response = caseworker.post(
        url,
        {
            "application": family.application.pk,
            "person": family.applicant.person_id,
            "behaviour": "xj-false-material-minor",
            "facts": "少报务工收入",
            "source_kind": "case",
            "found_on": DAY.isoformat(),
        },
    )
    finding = Finding.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:finding", args=[finding.pk])
    assert (finding.person, finding.found_by, finding.application) == (
        family.applicant.person,
        people.caseworker_a,
        family.application,
    )


def test_a_finding_without_facts_is_shown_in_chinese_and_nothing_is_saved(people, make_family):
    family = make_family()
    url = reverse("credit:finding-new") + f"?application={family.application.pk}"
    response = client_for(people.caseworker_a).post(
        url,
        {
            "application": family.application.pk,
            "behaviour": "xj-false-material-minor",
            "facts": "",
            "source_kind": "case",
            "found_on": DAY.isoformat(),
        },
    )
    assert response.status_code == 400
    assert "请写明认定的事实" in response.content.decode()
    assert not Finding.objects.exists()


def test_the_case_number_is_asked_first_from_the_findings_list(people, make_family):
    family = make_family()
    caseworker = client_for(people.caseworker_a)
    assert caseworker.get(reverse("credit:finding-new")).status_code == 200
    found = caseworker.get(
        reverse("credit:finding-new"), {"application": family.application.number}
    )
    assert found.status_code == 200 and "facts" in found.content.decode()
    # Township B's caseworker cannot reach township A's case by its number.
    refused = client_for(people.caseworker_b).get(
        reverse("credit:finding-new"), {"application": family.application.number}
    )
    assert refused.status_code == 400 and "facts" not in refused.content.decode()


def test_the_second_light_finding_shows_as_moderate(people, make_family, in_force):
    family = make_family()
    first = in_force(family)
    url = reverse("credit:finding-new") + f"?application={family.application.pk}"
    response = client_for(people.caseworker_a).post(
        url,
        {
            "application": family.application.pk,
            "behaviour": "xj-admits-at-once",
            "facts": "再次少报收入",
            "source_kind": "case",
            "found_on": (DAY + datetime.timedelta(days=30)).isoformat(),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "中度" in page and "连续" in page
    second = Finding.objects.exclude(pk=first.pk).get()
    assert second.level == "moderate"


def test_the_approver_decides_on_the_finding_page(people, make_family, record):
    finding = record(make_family())
    detail = reverse("credit:finding", args=[finding.pk])
    assert 'id="action-decide"' not in client_for(people.caseworker_a).get(detail).content.decode()
    approver = client_for(people.approver_a)
    assert 'id="action-decide"' in approver.get(detail).content.decode()
    response = approver.post(reverse("credit:act", args=[finding.pk, "decide"]), {"note": ""})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.state == Finding.State.STANDING
    page = approver.get(detail).content.decode()
    assert "提醒约谈" in page and "列入重点监督" in page


def test_a_late_objection_is_refused_on_the_page(people, make_family, in_force):
    finding = in_force(make_family())
    response = client_for(people.caseworker_a).post(
        reverse("credit:act", args=[finding.pk, "object"]),
        {"lodged_on": (DAY + datetime.timedelta(days=16)).isoformat(), "statement": "不服"},
    )
    assert response.status_code == 400
    assert "异议期已于2026-03-17结束" in response.content.decode()
    assert not finding.objections.exists()


def test_the_notice_gives_the_objection_deadline(people, make_family, in_force):
    finding = in_force(make_family())
    page = client_for(people.caseworker_a).get(reverse("credit:notice", args=[finding.pk]))
    text = page.content.decode()
    assert "2026-03-17" in text and "15" in text and finding.facts in text
    assert "失信行为认定告知书" in text


def test_the_block_check_tells_the_caseworker_before_the_form(people, make_family, in_force):
    family = make_family()
    in_force(family, "xj-false-material-refuses", on=timezone.localdate())
    check = client_for(people.caseworker_a).get(
        reverse("credit:block-check"),
        {"identity_number": family.spouse.person.identity_number},
        HTTP_HX_REQUEST="true",
    )
    assert "被限制申请新的救助" in check.content.decode()
    clear = client_for(people.caseworker_a).get(
        reverse("credit:block-check"), {"identity_number": "64222219900101001X"}
    )
    assert "被限制" not in clear.content.decode()


def test_the_intake_start_page_refuses_a_blocked_applicant(people, places, make_family, in_force):
    family = make_family()
    today = timezone.localdate()
    finding = in_force(family, "xj-false-material-refuses", on=today)
    start = client_for(people.caseworker_a).get(reverse("cases:intake-start"))
    assert reverse("credit:block-check") in start.content.decode()
    response = client_for(people.caseworker_a).post(
        reverse("cases:intake-start"),
        {
            "village": places.village_a.pk,
            "address": "龙王坝村8号",
            "assistance_type": "dibao_rural",
            "identity_number": family.applicant.person.identity_number,
            "name": family.applicant.person.name,
        },
    )
    assert response.status_code == 400
    block_end = finding.sanctions.filter(kind="block").first().ends_on
    assert f"至{block_end.year}年{block_end.month}月{block_end.day}日" in response.content.decode()


def test_the_outbox_export_is_a_file_of_json_lines(people, make_family, in_force):
    in_force(make_family(), "xj-obstructs-staff")
    response = client_for(people.auditor).post(reverse("credit:outbox-export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    lines = response.content.decode().splitlines()
    assert len(lines) == 1 and '"kind": "record"' in lines[0]
    assert OutboxMessage.objects.get().exported_at is not None


# --- pinned query counts ---------------------------------------------------------------------


def _findings(people, family, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        services.finding_record(
            actor=people.caseworker_a,
            household_id=family.application.household_id,
            person_id=family.applicant.person_id,
            behaviour_code="xj-false-material-minor",
            facts=f"事实{n}",
            source_kind="case",
            found_on=DAY,
        )


# The findings list page for township A's caseworker:
#   1 the session, 2 the user, 3 role assignments (nav, role check, jurisdiction),
#   4 per-object region grants, 5 the pager's count, 6 the page of findings with their
#   village, behaviour, person and finder, 7 the user's villages for the search's select.
FINDINGS_PAGE_QUERIES = 7
# The API list: the first six (signed in with a session, no navigation bar, no form).
FINDINGS_API_QUERIES = 6


@pytest.mark.parametrize(
    ("name", "api", "expected"),
    [
        ("credit:findings", False, FINDINGS_PAGE_QUERIES),
        ("api-credit-findings", True, FINDINGS_API_QUERIES),
    ],
)
def test_findings_lists_cost_the_same_for_one_and_fifty(people, make_family, name, api, expected):
    family = make_family()
    client = APIClient() if api else Client()
    client.force_login(people.caseworker_a)
    url = reverse(name)
    client.get(url)
    _findings(people, family, 1)
    assert_get_query_count(client, url, expected)
    _findings(people, family, 49, start=1)
    assert_get_query_count(client, url, expected)


def test_a_feed_admin_adds_a_behaviour_to_the_catalogue(people):
    from aid_portal.models import AuditEvent
    from credit.findings.models import Behaviour

    admin = client_for(people.feedadmin)
    assert admin.get(reverse("admin:credit_behaviour_changelist")).status_code == 200
    response = admin.post(
        reverse("admin:credit_behaviour_add"),
        {
            "code": "local-fake-tenancy",
            "name": "伪造租房合同",
            "level": "moderate",
            "source": "local",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Behaviour.objects.get(code="local-fake-tenancy").portal_level == "moderate"
    assert AuditEvent.objects.filter(action="behaviour.add", actor=people.feedadmin).exists()
    # A caseworker does not keep the catalogue.
    caseworker = client_for(people.caseworker_a)
    assert caseworker.get(reverse("admin:credit_behaviour_changelist")).status_code == 302


# --- the queues: pinned too -----------------------------------------------------------------


def _queue_rows(people, family, count: int, kind: str) -> None:
    """``count`` more rows in the queue ``kind``, each on a finding of its own."""
    for _ in range(count):
        code = "xj-obstructs-staff" if kind in {"outbox", "decisions"} else "xj-admits-at-once"
        finding = services.finding_record(
            actor=people.caseworker_a,
            household_id=family.application.household_id,
            person_id=None,
            behaviour_code=code,
            facts="排队",
            source_kind="case",
            found_on=DAY,
        )
        services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=DAY)
        if kind == "decisions":
            continue  # waits for the county
        if finding.level == "severe" or code == "xj-obstructs-staff":
            services.finding_confirm(actor=people.auditor, finding_id=finding.pk, today=DAY)
        if kind == "objections":
            services.objection_lodge(
                actor=people.caseworker_a, finding_id=finding.pk, statement="不服", lodged_on=DAY
            )
        if kind == "repairs":
            interview = finding.interviews.get()
            services.interview_hold(
                actor=people.caseworker_a, interview_id=interview.pk, notes="已约谈", held_on=DAY
            )
            services.repair_apply(
                actor=people.caseworker_a,
                finding_id=finding.pk,
                correction="已改正",
                applied_on=DAY,
            )


# Each queue page: session, user, role assignments, grants, the pager's count, the page
# of rows with what they show (one query, joins only), and its search form, whose
# village select reads the user's villages (one query: each queue grew from 6 to 7).
QUEUE_QUERIES = 7


@pytest.mark.parametrize(
    ("name", "who", "kind"),
    [
        ("credit:interviews", "caseworker_a", "interviews"),
        ("credit:objections", "approver_a", "objections"),
        ("credit:repairs", "auditor", "repairs"),
        ("credit:decisions", "auditor", "decisions"),
        ("credit:outbox", "auditor", "outbox"),
    ],
)
def test_queues_cost_the_same_for_one_and_twenty(people, make_family, name, who, kind):
    family = make_family()
    client = client_for(getattr(people, who))
    url = reverse(name)
    client.get(url)
    expected = QUEUE_QUERIES
    _queue_rows(people, family, 1, kind)
    assert_get_query_count(client, url, expected)
    _queue_rows(people, family, 19, kind)
    assert_get_query_count(client, url, expected)
