"""The county's monthly checks of new dibao files as a list (cases.lists.FILE_CHECKS):
searched by the files on their checklists, filtered by month and by whether they are
done, exported; only the county's own.

The families of tests.cases.test_listing: 马文忠 (龙王坝村) and 杨秀兰 (杨河村) in township
A, another 马文忠 in township B of the same county.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from aid_portal.models import AuditEvent
from cases.models import MonthlyFileCheck, MonthlyFileCheckItem
from tests.cases import conftest as case_fixtures
from tests.cases import test_listing
from tests.cases.test_listing import read_csv

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
cases = test_listing.cases


@pytest.fixture
def checks(cases, places, people):
    def check(county, month, keys, *, done=False):
        made = MonthlyFileCheck.objects.create(
            county=county,
            month=month,
            due_on=month.replace(month=month.month + 1, day=15),
            done_at=timezone.now() if done else None,
            done_by=people.auditor if done else None,
        )
        for key in keys:
            MonthlyFileCheckItem.objects.create(file_check=made, application=cases[key])
        return made

    return {
        "sep": check(places.county, datetime.date(2026, 9, 1), ["ma", "b"], done=True),
        "oct": check(places.county, datetime.date(2026, 10, 1), ["yang"]),
        "other": check(places.other_county, datetime.date(2026, 10, 1), []),
    }


def shown(response, checks) -> set[str]:
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    html = html[html.index("<tbody", html.index('id="list-search"')) :]
    return {key for key, check in checks.items() if f'id="check-{check.pk}"' in html}


def test_monthly_checks_are_searched_by_their_files_and_exported(client, people, cases, checks):
    client.force_login(people.auditor)
    url = reverse("cases:file-checks")
    assert shown(client.get(url), checks) == {"sep", "oct"}  # never the other county's
    assert shown(client.get(url, {"q": "杨秀兰"}), checks) == {"oct"}
    assert shown(client.get(url, {"q": cases["b"].identity}), checks) == {"sep"}
    assert shown(client.get(url, {"q": cases["ma"].number}), checks) == {"sep"}
    assert shown(client.get(url, {"q": "张三"}), checks) == set()
    assert shown(client.get(url, {"done": "open"}), checks) == {"oct"}
    assert shown(client.get(url, {"month": "2026-09"}), checks) == {"sep"}
    bad = client.get(url, {"month": "九月"})
    assert shown(bad, checks) == set() and 'role="alert"' in bad.content.decode()

    header, *rows = read_csv(client.get(url, {"done": "done", "export": "csv"}))
    assert header[:2] == ["县", "审批月份"]
    assert [row[1] for row in rows] == ["2026-09"]
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "file-checks" and event.new_values["rows"] == 1

    client.force_login(people.outsider_auditor)  # the other county: its check alone
    assert shown(client.get(url, {"q": "马文忠"}), checks) == set()
    assert shown(client.get(url), checks) == {"other"}
    client.force_login(people.caseworker_a)
    assert client.get(url, {"export": "csv"}).status_code == 403
