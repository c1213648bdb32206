"""Spot-check pages and API: drawing with the preview, the campaign's progress and XLSX,
the findings form (assigned auditor only, once), pinned query counts, the OpenAPI
schema of these views."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import include, path, reverse
from django.utils import translation
from openpyxl import load_workbook
from rest_framework.test import APIClient

from aid_portal.errors import DomainError
from aid_portal.models import Role
from cases.models import AdjustmentProposal
from tests.cases import conftest as cases_fixtures
from tests.conftest import make_user
from tests.queries import assert_get_query_count
from tests.verification.test_spotcheck import _case
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign, SpotCheckFinding

make_family = cases_fixtures.make_family
policy = cases_fixtures.policy
proof_items = cases_fixtures.proof_items
enrol = cases_fixtures.enrol

pytestmark = pytest.mark.django_db

# A URL configuration holding only this API, for the schema check of these views alone.
urlpatterns = [path("api/", include("verification.api_urls"))]


def client_for(user, *, api: bool = False) -> APIClient:
    client = APIClient() if api else APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def _last_month() -> tuple[datetime.date, datetime.date]:
    return spotcheck.default_window("new_cases", datetime.date.today())


@pytest.fixture
def new_cases(places, people, policy):
    """Ten cases confirmed last month: seven in township A, three in township B."""
    start, _end = _last_month()
    cases = [
        _case(places.village_a, people.caseworker_a, decided=start + datetime.timedelta(days=n))
        for n in range(7)
    ]
    cases += [
        _case(places.village_b, people.caseworker_b, decided=start + datetime.timedelta(days=n))
        for n in range(3)
    ]
    return cases


@pytest.fixture
def auditor2(places):
    return make_user("auditor2", Role.COUNTY_AUDITOR, places.county)


def test_the_draw_preview_shows_each_townships_share(new_cases, people, places):
    client = client_for(people.auditor)
    page = client.get(reverse("verification:spotcheck-draw"))
    assert page.status_code == 200
    assert "hx-get" in page.content.decode()
    preview = client.get(
        reverse("verification:spotcheck-preview"),
        {"county": places.county.pk, "rule": "new_cases", "ratio": "0.3"},
    )
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "10" in html and places.township_a.name in html and places.township_b.name in html
    assert SpotCheckCampaign.objects.count() == 0  # a preview saves nothing
    bad = client.get(
        reverse("verification:spotcheck-preview"),
        {"county": places.county.pk, "rule": "new_cases", "ratio": "2"},
    )
    # The preview repeats no error: those show next to their fields on submit.
    assert bad.status_code == 200 and 'role="alert"' not in bad.content.decode()
    assert "<table" not in bad.content.decode()


def test_an_auditor_draws_sees_the_seed_and_records_a_finding(enrol, people, places, auditor2):
    app = enrol().application
    client = client_for(people.auditor)
    response = client.post(
        reverse("verification:spotcheck-draw"),
        {
            "county": places.county.pk,
            "rule": "annual",
            "ratio": "100%",
            "auditors": [people.auditor.pk],
        },
    )
    campaign = SpotCheckCampaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("verification:spotcheck-campaign", args=[campaign.pk])
    page = client.get(response["Location"]).content.decode()
    assert str(campaign.seed) in page and app.number in page and places.township_a.name in page

    item = SampleItem.objects.get()
    url = reverse("verification:spotcheck-item", args=[item.pk])
    form = {
        "visited_on": datetime.date.today().isoformat(),
        "visitors": "田明",
        "facts": "儿子外出务工，收入增加。",
        "still_eligible": "yes",
        "action": "decrease",
        "proposed_amount": "300",
        "credit_behaviour": "",
    }
    # Another auditor: the page says so, and a POST saves nothing.
    other = client_for(auditor2)
    with translation.override("zh-hans"):
        not_yours = translation.gettext(
            "This case is not in your sample: it is assigned to someone else."
        )
    assert not_yours in other.get(url).content.decode()
    refused = other.post(url, form)
    assert refused.status_code == 400 and not SpotCheckFinding.objects.exists()

    assert client.post(url, form).status_code == 302
    assert AdjustmentProposal.objects.get().application == app
    again = client.post(url, form, follow=True)
    assert again.status_code == 200
    assert SpotCheckFinding.objects.count() == 1 and AdjustmentProposal.objects.count() == 1

    xlsx = client.get(reverse("verification:spotcheck-campaign-xlsx", args=[campaign.pk]))
    book = load_workbook(io.BytesIO(xlsx.content))
    progress, cases = book.worksheets
    assert [c.value for c in progress[7]][:3] == [places.township_a.name, 1, 1]
    assert cases.max_row == 2 and cases["C2"].value == app.number


def test_bad_input_on_the_draw_form_is_shown_and_saves_nothing(new_cases, people, places):
    client = client_for(people.auditor)
    for ratio in ("0", "1.2", "0.1"):
        response = client.post(
            reverse("verification:spotcheck-draw"),
            {"county": places.county.pk, "rule": "new_cases", "ratio": ratio},
        )
        assert response.status_code == 400, ratio
        assert 'role="alert"' in response.content.decode()
    empty = client.post(
        reverse("verification:spotcheck-draw"),
        {
            "county": places.county.pk,
            "rule": "new_cases",
            "window_start": "2020-01-01",
            "window_end": "2020-01-31",
        },
    )
    assert empty.status_code == 400
    assert not SpotCheckCampaign.objects.exists()


def _zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def test_two_bad_fields_are_both_reported_once_each_next_to_their_field(new_cases, people, places):
    client = client_for(people.auditor)
    ratio_error = _zh("The share must be more than 0 and at most 1 (100%).")
    window_error = _zh("The window ends before it starts.")
    seed_error = "0"  # the seed's own bound, from the form's field
    # Two refusals of the service at once.
    response = client.post(
        reverse("verification:spotcheck-draw"),
        {
            "county": places.county.pk,
            "rule": "new_cases",
            "ratio": "1.2",
            "window_start": "2024-03-01",
            "window_end": "2024-02-01",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count(ratio_error) == 1 and html.count(window_error) == 1
    assert html.index('id="id_ratio_error"') < html.index(ratio_error)
    assert html.index('id="id_window_end_error"') < html.index(window_error)
    # One refusal of the form (a negative seed) and one of the service, in one submit.
    response = client.post(
        reverse("verification:spotcheck-draw"),
        {"county": places.county.pk, "rule": "new_cases", "ratio": "abc", "seed": "-5"},
    )
    html = response.content.decode()
    share_error = _zh("Give the share as a number, e.g. 0.3.")
    assert response.status_code == 400
    assert html.count(share_error) == 1 and 'id="id_seed_error"' in html
    assert seed_error in html[html.index('id="id_seed_error"') :]
    assert not SpotCheckCampaign.objects.exists()


def test_the_service_refuses_every_bad_field_at_once(new_cases, people, places):
    with pytest.raises(DomainError) as refused:
        spotcheck.campaign_draw(
            actor=people.auditor,
            county=places.county,
            rule="new_cases",
            ratio="5",
            window_start=datetime.date(2024, 3, 1),
            window_end=datetime.date(2024, 2, 1),
        )
    assert set(refused.value.field_errors) == {"ratio", "window_end"}
    assert set(refused.value.as_api_detail()) == {"ratio", "window_end"}
    assert not SpotCheckCampaign.objects.exists()


# --- query counts ------------------------------------------------------------------------


# The campaign page: 1 session, 2 user, 3 role assignments, 4 region grants, 5 the
# campaign, 6 the count for the pager, 7 and 8 the charts' cases by state and by deadline
# (one grouped query each), 9 progress by township, 10 the auditors to assign to, 11 the
# auditor's villages for the search's village select, 12 the page of cases with their
# township, village, household, auditor, finding and proposal, 13 their applicants.
CAMPAIGN_PAGE_QUERIES = 13
# The campaigns list: 1 session, 2 user, 3 roles, 4 grants, 5 count, 6 the page.
CAMPAIGN_LIST_QUERIES = 6
# The API's case list: 1 session, 2 user, 3 roles, 4 grants, 5 the campaign, 6 count,
# 7 the page, 8 applicants.
ITEM_LIST_API_QUERIES = 8


def test_list_queries_are_pinned(places, people, policy):
    client = client_for(people.auditor)
    start, _end = _last_month()
    api = client_for(people.auditor, api=True)
    for warm in (client, api):  # the session's first request records its start
        warm.get(reverse("verification:spotcheck-campaigns"))

    def campaign_with(n: int, offset: int) -> SpotCheckCampaign:
        """A running campaign of ``n`` + 1 cases, one of them visited."""
        for i in range(n + 1):
            _case(
                places.village_a if i % 2 else places.village_b,
                people.caseworker_a,
                decided=start + datetime.timedelta(days=offset),
            )
        day = start + datetime.timedelta(days=offset)
        return spotcheck.campaign_draw(
            actor=people.auditor,
            county=places.county,
            rule="new_cases",
            window_start=day,
            window_end=day,
            ratio="1",
            assign_to=[people.auditor],
        )

    one = campaign_with(1, 0)
    for label, campaign in (("one", one), ("many", campaign_with(30, 1))):
        sample = campaign.items.first()
        spotcheck.sample_finding_record(
            actor=people.auditor,
            item_id=sample.pk,
            visited_on=datetime.date.today(),
            visitors="田明",
            facts="属实",
            still_eligible=True,
            action="increase",
            proposed_amount=Decimal("700"),
        )
        for who, url, expected in (
            (
                client,
                reverse("verification:spotcheck-campaign", args=[campaign.pk]),
                CAMPAIGN_PAGE_QUERIES,
            ),
            (client, reverse("verification:spotcheck-campaigns"), CAMPAIGN_LIST_QUERIES),
            (api, reverse("api-spotcheck-item-list", args=[campaign.pk]), ITEM_LIST_API_QUERIES),
        ):
            assert_get_query_count(who, url, expected, label=f"{label}: GET {url}")


# --- API -----------------------------------------------------------------------------------


def test_the_api_draws_lists_and_takes_findings(enrol, people, places, auditor2):
    app = enrol().application
    api = client_for(people.auditor, api=True)
    bad = api.post(
        reverse("api-spotcheck-campaign-draw"),
        {"county": places.county.code, "rule": "annual", "ratio": "1.5"},
        format="json",
    )
    assert bad.status_code == 400 and "ratio" in bad.json()
    drawn = api.post(
        reverse("api-spotcheck-campaign-draw"),
        {
            "county": places.county.code,
            "rule": "annual",
            "ratio": "1",
            "seed": 12345,
            "auditors": ["auditor"],
        },
        format="json",
    )
    assert drawn.status_code == 201, drawn.content
    body = drawn.json()
    assert body["seed"] == "12345" and body["sample_size"] == 1
    assert body["progress"][0]["township_code"] == places.township_a.code
    again = api.post(
        reverse("api-spotcheck-campaign-draw"),
        {"county": places.county.code, "rule": "annual", "ratio": "1"},
        format="json",
    )
    assert again.status_code == 409

    listing = api.get(reverse("api-spotcheck-campaign-list")).json()
    assert [c["id"] for c in listing["results"]] == [body["id"]]
    detail = api.get(reverse("api-spotcheck-campaign-detail", args=[body["id"]]))
    assert detail.status_code == 200
    items = api.get(reverse("api-spotcheck-item-list", args=[body["id"]])).json()["results"]
    assert [i["application"] for i in items] == [app.pk]
    item_id = items[0]["id"]

    finding = {
        "visited_on": datetime.date.today().isoformat(),
        "visitors": "田明",
        "facts": "已不符合条件",
        "still_eligible": "false",
        "action": "stop",
        "evidence": [cases_fixtures.scan()],
    }
    url = reverse("api-spotcheck-item-finding", args=[item_id])
    refused = client_for(auditor2, api=True).post(url, finding, format="multipart")
    assert refused.status_code == 400 and not SpotCheckFinding.objects.exists()
    finding["evidence"] = [cases_fixtures.scan()]
    made = api.post(url, finding, format="multipart")
    assert made.status_code == 201, made.content
    assert made.json()["finding"]["action"] == "stop"
    assert made.json()["finding"]["proposal_status"] == "open"
    finding["evidence"] = [cases_fixtures.scan()]
    assert api.post(url, finding, format="multipart").status_code == 409
    assert SpotCheckFinding.objects.count() == 1


def test_the_schema_of_these_views_has_no_warnings(tmp_path):
    call_command(
        "spectacular",
        urlconf="tests.verification.test_spotcheck_pages",
        validate=True,
        fail_on_warn=True,
        file=str(tmp_path / "schema.yaml"),
    )
