"""The public roster (公示, domain.md §7; 2021 national measures art. 24): built from the
month's frozen payment roster, showing only name, household size, programme and amount;
names as the county sets them; open without login, noindex, throttled; withdrawn pages
gone; reports landing in the township's queue; staff pages inside the township only."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aid_portal.errors import DomainError
from aid_portal.models import AuditEvent
from cases.casework import services
from cases.models import Member, Policy
from cases.payments import services as payments
from cases.payments.models import PaymentAccount
from cases.publicity import selectors as publicity_selectors
from cases.publicity import services as publicity
from cases.publicity.models import PublicReport, PublicRoster, PublicRosterEntry
from tests.cases.conftest import luhn_number, to_decision
from tests.queries import assert_same_query_count, numbered, queries_of

THIS_MONTH = timezone.localdate().replace(day=1)
NEXT_MONTH = payments.next_month(THIS_MONTH)
E = PublicRosterEntry.Change


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def frozen_roster(people, places, finance, month=THIS_MONTH):
    roster = payments.roster_prepare(
        actor=people.caseworker_a, township_id=places.township_a.pk, month=month
    )
    payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    return payments.roster_finance_approve(actor=finance, roster_id=roster.pk)


def publish(people, places, month=THIS_MONTH, **kwargs) -> PublicRoster:
    return publicity.public_roster_publish(
        actor=people.caseworker_a, village_id=places.village_a.pk, month=month, **kwargs
    )


def page_url(places, month=THIS_MONTH) -> str:
    return reverse("public-roster", args=[places.village_a.code, f"{month:%Y-%m}"])


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


class Tables(HTMLParser):
    """Every table of a page: its header cells and its body rows."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table = self._row = self._cell = None
        self._section = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = {"head": [], "rows": []}
            self.tables[dict(attrs).get("class", "")] = self._table
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._section == "thead":
                self._table["head"] = self._row
            elif self._section == "tbody":
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def tables_of(html: str) -> dict:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def published_family(paying, people, places, finance, *, name="马小兰"):
    family = paying()
    family.applicant.person.name = name
    family.applicant.person.save(update_fields=["name"])
    PaymentAccount.objects.filter(household_id=family.application.household_id).update(
        holder_name=name
    )
    Member.objects.filter(pk=family.spouse.pk).update(
        disability="visual", disability_grade=2, health="serious"
    )
    frozen_roster(people, places, finance)
    return family, publish(people, places, contact="吉强镇民政办 0954-1234567")


# --- what the public page shows ----------------------------------------------------------------


def test_the_public_page_shows_only_name_size_programme_and_amount(paying, people, places, finance):
    family, public = published_family(paying, people, places, finance)
    app = family.refresh()
    response = english().get(page_url(places))
    assert response.status_code == 200
    html = response.content.decode()
    roster = tables_of(html)["roster"]
    assert roster["head"] == ["Name", "Household size", "Programme", "Amount (yuan)"]
    assert roster["rows"] == [["马小兰", "2", "dibao (rural)", f"{app.monthly_amount}"]]
    assert all(len(row) == 4 for row in roster["rows"])
    assert set(tables_of(html)) == {"roster"}  # the first month: no changes table
    assert "0954-1234567" in html  # the township office's contact
    household = app.household
    for secret in (
        family.applicant.person.identity_number,
        family.spouse.person.identity_number,
        family.applicant.person.identity_number[-4:] + "<",
        household.address,
        app.number,
        family.spouse.person.name,  # only the applicant's name is shown
        "visual",
        "serious",
        f"/{household.pk}/",
        f'"{household.pk}"',
        f'"{public.pk}"',
        f"/{public.pk}/",
        f"/{app.pk}/",
    ):
        # A table's colspan="3" is layout, not a household's id that happens to be 3.
        assert secret not in re.sub(r'(col|row)span="\d+"', "", html), secret


def test_names_are_shown_as_the_county_sets_them(paying, people, places, finance, policy):
    assert policy.public_name_display == Policy.PublicNameDisplay.FULL  # the default
    policy.public_name_display = Policy.PublicNameDisplay.MASKED
    policy.save(update_fields=["public_name_display"])
    published_family(paying, people, places, finance)
    html = Client().get(page_url(places)).content.decode()
    assert "马*兰" in html and "马小兰" not in html
    assert PublicRosterEntry.objects.get().shown_name == "马*兰"


def test_full_names_by_default(paying, people, places, finance):
    published_family(paying, people, places, finance)
    assert "马小兰" in Client().get(page_url(places)).content.decode()


@pytest.mark.parametrize(
    ("name", "shown"),
    [("马小兰", "马*兰"), ("马兰", "马*"), ("欧阳小明", "欧**明"), ("马", "马"), ("", "")],
)
def test_masking_keeps_the_first_and_last_character(name, shown):
    assert publicity.mask_name(name) == shown


def test_the_page_is_noindex_printable_on_a4_and_open_without_login(
    paying, people, places, finance
):
    published_family(paying, people, places, finance)
    response = Client().get(page_url(places))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex">' in html
    assert "@page { size: A4" in html
    township = Client().get(
        reverse("public-township", args=[places.township_a.code, f"{THIS_MONTH:%Y-%m}"])
    )
    assert township.status_code == 200 and township["X-Robots-Tag"] == "noindex, nofollow"
    assert places.village_a.name in township.content.decode()
    assert "马小兰" in township.content.decode()


# --- publishing and withdrawing ---------------------------------------------------------------


def test_publishing_is_refused_before_the_roster_is_frozen(paying, people, places, finance):
    paying()
    with pytest.raises(DomainError, match="尚未锁定"):
        publish(people, places)  # no roster at all
    roster = payments.roster_prepare(
        actor=people.caseworker_a, township_id=places.township_a.pk, month=THIS_MONTH
    )
    with pytest.raises(DomainError, match="尚未锁定"):
        publish(people, places)
    payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    with pytest.raises(DomainError, match="尚未锁定"):
        publish(people, places)
    payments.roster_finance_approve(actor=finance, roster_id=roster.pk)
    assert publish(people, places).entries.count() == 1
    with pytest.raises(DomainError, match="已公示"):
        publish(people, places)


def test_only_the_township_publishes_its_villages(paying, people, places, finance):
    paying()
    frozen_roster(people, places, finance)
    for actor in (people.caseworker_b, people.auditor, people.assistant_a):
        with pytest.raises((DomainError, PermissionDenied)):
            publicity.public_roster_publish(
                actor=actor, village_id=places.village_a.pk, month=THIS_MONTH
            )
    assert not PublicRoster.objects.exists()


def test_withdrawing_hides_the_page_and_both_steps_are_audited(paying, people, places, finance):
    _family, public = published_family(paying, people, places, finance)
    assert Client().get(page_url(places)).status_code == 200
    publicity.public_roster_withdraw(
        actor=people.approver_a, public_roster_id=public.pk, reason="金额有误，重新公示"
    )
    assert Client().get(page_url(places)).status_code == 404
    township_url = reverse("public-township", args=[places.township_a.code, f"{THIS_MONTH:%Y-%m}"])
    assert Client().get(township_url).status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="publicity.").values_list("action", "actor")
    )
    assert ("publicity.publish", people.caseworker_a.pk) in actions
    assert ("publicity.withdraw", people.approver_a.pk) in actions
    # The month can be published again.
    assert publish(people, places).pk != public.pk
    assert Client().get(page_url(places)).status_code == 200


def test_nothing_unpublished_is_found_whether_the_place_exists_or_not(
    paying, people, places, finance
):
    published_family(paying, people, places, finance)
    client = Client()
    for url in (
        reverse("public-roster", args=[places.village_b.code, f"{THIS_MONTH:%Y-%m}"]),
        reverse("public-roster", args=["640422100299", f"{THIS_MONTH:%Y-%m}"]),
        reverse("public-roster", args=[places.village_a.code, f"{NEXT_MONTH:%Y-%m}"]),
        reverse("public-roster", args=[places.village_a.code, "2026-13"]),
        reverse("public-roster", args=[places.township_a.code, f"{THIS_MONTH:%Y-%m}"]),
        reverse("public-roster", args=["abc", f"{THIS_MONTH:%Y-%m}"]),
        reverse("public-township", args=[places.township_b.code, f"{THIS_MONTH:%Y-%m}"]),
        reverse("public-township", args=[places.village_a.code, f"{THIS_MONTH:%Y-%m}"]),
    ):
        assert client.get(url).status_code == 404, url


def _approved_from_next_month(make_family, people, abc):
    family = make_family()
    app_id = to_decision(people, family)
    services.application_approve(
        actor=people.approver_a, application_id=app_id, start_month=NEXT_MONTH
    )
    payments.account_set(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        bank_id=abc.pk,
        number=luhn_number("6228555"),
        holder_name=family.applicant.person.name,
    )
    return family


def test_the_months_additions_stops_and_amount_changes_are_listed(
    paying, make_family, people, places, finance, abc
):
    changed, stopped, same = paying(), paying(), paying()
    amount_before = changed.application.monthly_amount
    services.application_amount_adjust(
        actor=people.approver_a,
        application_id=changed.application.pk,
        monthly_amount="123.00",
        reason="收入变化",
    )
    services.application_stop(
        actor=people.approver_a, application_id=stopped.application.pk, reason="不再符合条件"
    )
    added = _approved_from_next_month(make_family, people, abc)
    frozen_roster(people, places, finance)
    first = publish(people, places)
    assert not first.changes_listed  # nothing of the month before to compare with
    assert set(first.entries.values_list("change", flat=True)) == {E.UNCHANGED}
    frozen_roster(people, places, finance, month=NEXT_MONTH)
    second = publish(people, places, month=NEXT_MONTH)
    assert second.compared_with == first
    by_household = {e.household_id: e for e in second.entries.all()}
    household = lambda family: family.application.household_id  # noqa: E731
    assert by_household[household(changed)].change == E.AMOUNT_CHANGED
    assert by_household[household(changed)].previous_amount == amount_before
    assert str(by_household[household(changed)].amount) == "123.00"
    assert by_household[household(stopped)].change == E.STOPPED
    assert by_household[household(same)].change == E.UNCHANGED
    assert by_household[household(added)].change == E.NEW
    html = english().get(page_url(places, NEXT_MONTH)).content.decode()
    tables = tables_of(html)
    assert len(tables["roster"]["rows"]) == 3  # the stop is not paid
    changes = {row[0]: row[3] for row in tables["changes"]["rows"]}
    assert changes == {
        changed.applicant.person.name: "amount changed",
        stopped.applicant.person.name: "stopped",
        added.applicant.person.name: "added",
    }


# --- throttling ---------------------------------------------------------------------------------


def test_the_public_pages_are_throttled_per_address(paying, people, places, finance, settings):
    published_family(paying, people, places, finance)
    settings.PUBLIC_RATE_LIMITS = {"page": (3, 60), "report": (1, 3600)}
    client = Client()
    assert [client.get(page_url(places)).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.get(page_url(places)).status_code == 200  # another address is counted apart
    cache.clear()
    report_url = reverse("public-report", args=[places.village_a.code, f"{THIS_MONTH:%Y-%m}"])
    data = {"contact": "13900000000", "text": "此户有车辆"}
    assert client.post(report_url, data).status_code == 200
    assert client.post(report_url, data).status_code == 429
    assert PublicReport.objects.count() == 1


# --- reports ------------------------------------------------------------------------------------


def test_a_report_lands_in_the_townships_queue(paying, people, places, finance):
    _family, public = published_family(paying, people, places, finance)
    client = Client(enforce_csrf_checks=True)
    client.get(page_url(places))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    report_url = reverse("public-report", args=[places.village_a.code, f"{THIS_MONTH:%Y-%m}"])
    assert client.post(report_url, {"text": "此户有车辆", "contact": ""}).status_code == 403
    response = client.post(
        report_url, {"csrfmiddlewaretoken": token, "text": "此户有车辆", "contact": ""}
    )
    assert response.status_code == 400 and not PublicReport.objects.exists()
    response = client.post(
        report_url,
        {
            "csrfmiddlewaretoken": token,
            "name": "王五",
            "contact": "13900000000",
            "text": "此户家中有车辆",
        },
    )
    assert response.status_code == 200 and 'id="report-received"' in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    report = PublicReport.objects.get()
    assert (report.village, report.public_roster, report.state) == (
        places.village_a,
        public,
        PublicReport.State.OPEN,
    )
    with connection.cursor() as cursor:  # the reporter is stored encrypted
        cursor.execute(
            "SELECT reporter_name, reporter_contact FROM cases_publicreport WHERE id = %s",
            [report.pk],
        )
        stored = " ".join(cursor.fetchone())
    assert "13900000000" not in stored and "王五" not in stored

    queue = reverse("cases:public-reports")
    inside, outside = Client(), Client()
    inside.force_login(people.caseworker_a)
    outside.force_login(people.caseworker_b)
    assert "此户家中有车辆" in inside.get(queue).content.decode()
    assert "13900000000" in inside.get(queue).content.decode()
    page = outside.get(queue)
    assert page.status_code == 200 and "此户家中有车辆" not in page.content.decode()
    handle = reverse("cases:public-report-handle", args=[report.pk])
    assert outside.post(handle, {f"r{report.pk}-note": "已核实"}).status_code == 404
    assert (
        inside.post(handle, {f"r{report.pk}-note": "已入户核实，车辆为他人所有"}).status_code == 302
    )
    report.refresh_from_db()
    assert (report.state, report.handled_by) == (PublicReport.State.HANDLED, people.caseworker_a)


def test_a_report_names_the_listed_household_by_its_entry_as_shown(paying, people, places, finance):
    family, public = published_family(paying, people, places, finance)
    entry = public.entries.get()
    client = english()
    html = client.get(page_url(places)).content.decode()
    # The choice is the entry as the page shows it; its value is its place on the page.
    assert '<option value="row-1">马小兰 · dibao (rural) · ' in html
    assert f'value="{entry.pk}"' not in html and f'value="{family.application.pk}"' not in html
    report_url = reverse("public-report", args=[places.village_a.code, f"{THIS_MONTH:%Y-%m}"])
    data = {"contact": "13900000000", "text": "此户家中有车辆"}
    assert client.post(report_url, data | {"about": "row-2"}).status_code == 400
    assert not PublicReport.objects.exists()
    assert client.post(report_url, data | {"about": "row-1"}).status_code == 200
    assert client.post(report_url, data | {"about": ""}).status_code == 200
    about, general = PublicReport.objects.order_by("pk")
    assert (about.entry, general.entry) == (entry, None)
    event = AuditEvent.objects.filter(action="publicity.report_receive").order_by("pk").first()
    assert event.new_values == {"entry": entry.pk}

    staff = english()
    staff.force_login(people.caseworker_a)
    queue = staff.get(reverse("cases:public-reports")).content.decode()
    assert "About: 马小兰, dibao (rural)" in queue


# --- staff pages and API ------------------------------------------------------------------------


def test_the_staff_pages_are_the_townships_own(paying, people, places, finance):
    paying()
    frozen_roster(people, places, finance)
    inside, outside = Client(), Client()
    inside.force_login(people.caseworker_a)
    outside.force_login(people.caseworker_b)
    listing = inside.get(reverse("cases:publicity"))
    assert listing.status_code == 200 and places.village_a.name in listing.content.decode()
    assert places.village_a.name not in outside.get(reverse("cases:publicity")).content.decode()
    response = outside.post(
        reverse("cases:publicity"),
        {"village": places.village_a.pk, "month": f"{THIS_MONTH:%Y-%m-%d}"},
    )
    assert response.status_code == 302 and not PublicRoster.objects.exists()
    response = inside.post(
        reverse("cases:publicity"),
        {"village": places.village_a.pk, "month": f"{THIS_MONTH:%Y-%m-%d}", "contact": "电话1"},
    )
    public = PublicRoster.objects.get()
    detail = reverse("cases:public-roster", args=[public.pk])
    assert response.status_code == 302 and response["Location"] == detail
    assert inside.get(detail).status_code == 200
    assert outside.get(detail).status_code == 404
    assert outside.post(detail, {"reason": "撤回"}).status_code == 404
    assert inside.post(detail, {"reason": "撤回重发"}).status_code == 302
    public.refresh_from_db()
    assert public.withdrawn and Client().get(page_url(places)).status_code == 404


def test_the_api_publishes_withdraws_and_lists_reports(paying, people, places, finance):
    paying()
    frozen_roster(people, places, finance)
    api = APIClient()
    api.force_authenticate(people.caseworker_a)
    response = api.post(
        reverse("api-cases-public-rosters"),
        {"village": places.village_a.pk, "month": f"{THIS_MONTH:%Y-%m}"},
        format="json",
    )
    assert response.status_code == 201, response.content
    public_id = response.json()["id"]
    assert response.json()["entries"][0]["change"] == "unchanged"
    outside = APIClient()
    outside.force_authenticate(people.caseworker_b)
    withdraw = reverse("api-cases-public-roster-withdraw", args=[public_id])
    assert outside.post(withdraw, {"reason": "撤回"}, format="json").status_code == 404
    assert outside.get(reverse("api-cases-public-rosters")).json()["count"] == 0
    response = api.post(withdraw, {"reason": "撤回重发"}, format="json")
    assert response.status_code == 200 and response.json()["withdrawn_at"]
    assert api.get(reverse("api-cases-public-reports")).status_code == 200


# --- the reports as a list: search, filters, export ------------------------------------------


def test_reports_are_searched_by_the_households_listed_and_exported(
    paying, people, places, finance
):
    family, public = published_family(paying, people, places, finance)
    about = PublicReport.objects.create(
        village=places.village_a,
        public_roster=public,
        text="此户家中有车辆",
        reporter_contact="139",
    )
    other = PublicReport.objects.create(
        village=places.village_a, text="村里有人冒领", reporter_contact="138"
    )
    elsewhere = PublicReport.objects.create(
        village=places.village_b, text="此户家中有车辆", reporter_contact="137"
    )
    reports = {"about": about, "other": other, "elsewhere": elsewhere}
    url = reverse("cases:public-reports")
    client = Client()

    def shown(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {key for key, report in reports.items() if f'id="report-{report.pk}"' in html}

    client.force_login(people.caseworker_a)
    assert shown() == {"about", "other"}  # never township B's
    assert shown(q="马小兰") == {"about"}  # listed on the public roster reported on
    assert shown(q=family.applicant.person.identity_number) == {"about"}
    assert shown(q="车辆") == {"about"}
    assert shown(q="冒领") == {"other"}
    assert shown(q="张三") == set()
    PublicReport.objects.filter(pk=other.pk).update(state=PublicReport.State.HANDLED)
    assert shown(state="handled") == {"other"}

    api = APIClient()
    api.force_authenticate(people.caseworker_a)
    response = api.get(reverse("api-cases-public-reports"), {"q": "马小兰"})
    assert [row["id"] for row in response.json()["results"]] == [about.pk]

    response = client.get(url, {"q": "车辆", "export": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][3] == "此户家中有车辆" and rows[1][5] == "139"
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "public-reports" and event.new_values["rows"] == 1

    client.force_login(people.caseworker_b)
    assert shown(q="马小兰") == set() and shown() == {"elsewhere"}


# The reports page for a township's caseworker: 1 session, 2 user, 3 role assignments,
# 4 per-object grants, 5 the count for the pager, 6 the page of reports with their
# villages, public rosters and handlers, 7 the villages for the search's select.
PUBLIC_REPORTS_PAGE_QUERIES = 7


def test_the_reports_page_costs_the_same_for_one_report_and_for_many(people, places):
    client = Client()
    client.force_login(people.caseworker_a)
    url = reverse("cases:public-reports")
    client.get(url)  # the first request after login records the session

    def report():
        PublicReport.objects.create(village=places.village_a, text="冒领", reporter_contact="1")

    report()
    one = queries_of(client, url)
    for _n in range(12):
        report()
    many = queries_of(client, url)
    assert_same_query_count(one, many)
    assert len(many) == PUBLIC_REPORTS_PAGE_QUERIES, numbered(many)


# --- the staff grid as a list: search, filters, pages, export --------------------------------


def test_the_grid_is_searched_filtered_and_exported_for_the_month(paying, people, places, finance):
    family, _public = published_family(paying, people, places, finance)
    url = reverse("cases:publicity")
    client = Client()
    client.force_login(people.caseworker_a)

    def shown(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {code for code in codes if f'id="village-{code}"' in html}

    codes = set(
        publicity_selectors.villages_for_user(user=people.caseworker_a).values_list(
            "code", flat=True
        )
    )
    a = places.village_a.code
    assert len(codes) > 1 and shown() == codes  # this month by default
    assert shown(state="published") == {a}
    assert shown(state="ready") == codes - {a}  # the township's roster is frozen
    assert shown(state="waiting") == set()
    assert shown(q="马小兰") == {a}  # a household listed this month
    assert shown(q=family.applicant.person.identity_number) == {a}
    assert shown(q=places.village_a.name) == {a}
    month = f"{NEXT_MONTH:%Y-%m}"
    assert shown(month=month, state="published") == set()  # nothing published next month
    assert shown(month=month, state="waiting") == codes
    assert shown(month=month, q="马小兰") == set()
    assert client.get(url, {"month": "2026-13"}).status_code == 200  # a field error, no rows

    response = client.get(url, {"state": "published", "export": "csv"})
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(header) == 8 and len(rows) == 1
    total = family.refresh().monthly_amount
    assert rows[0][1:3] == [places.village_a.name, a] and rows[0][5:7] == ["1", f"{total}"]
    event = AuditEvent.objects.get(action="list.export")
    assert event.new_values["list"] == "public-rosters" and event.new_values["rows"] == 1

    client.force_login(people.caseworker_b)
    assert a not in {row for row in shown()} and shown(q="马小兰") == set()


# The grid for a township's caseworker: 1 session, 2 user, 3 role assignments, 4 per-object
# grants, 5 the pager's count of villages, 6 the page of villages with their public
# rosters of the month, 7 the villages for the search's select.
PUBLICITY_GRID_QUERIES = 7


def test_the_staff_grid_costs_the_same_for_one_village_and_for_many(people, places):
    """The publicity grid shows a row per village of the township and month; its cost
    must not grow with the villages (each row's right to publish included)."""
    from aid_portal.models import Region

    township = places.village_a.parent
    client = Client()
    client.force_login(people.caseworker_a)
    url = reverse("cases:publicity")
    client.get(url)  # the first request after login records the session
    one = queries_of(client, url)
    first = client.get(url).content.decode()
    for n in range(12):
        Region.objects.create(
            code=f"{township.prefix}{900 + n:03d}",
            name=f"新设村{n}",
            level=Region.Level.VILLAGE,
            parent=township,
        )
    many = queries_of(client, url)
    html = client.get(url).content.decode()
    assert "新设村11" in html and "新设村11" not in first  # the rows did grow
    assert_same_query_count(one, many)
    assert len(many) == PUBLICITY_GRID_QUERIES, numbered(many)
