"""List pages and API lists cost the same number of queries for 1 row and for 50."""

import importlib

import pytest
from django.db import transaction
from django.urls import get_resolver, reverse
from rest_framework.generics import ListAPIView
from rest_framework.test import APIClient

from aid_portal.audit import audit_record
from aid_portal.listing import REGISTRY
from aid_portal.models import ApiToken
from tests.queries import assert_get_query_count

pytestmark = pytest.mark.django_db


def add_events(people, places, count):
    with transaction.atomic():
        for number in range(count):
            audit_record(
                actor=people.caseworker_a,
                action="test.row",
                obj=places.village_a,
                region=places.village_a,
                new={"n": number},
            )


# The audit list, page or API, for a county auditor:
#   1 the session, 2 the user, 3 the user's role assignments with their regions (nav,
#   the role check and the jurisdiction all share them), 4 per-object region grants,
#   5 the count for the pager, 6 the page of rows with their regions.
AUDIT_LIST_QUERIES = 6


@pytest.mark.parametrize(("name", "api"), [("audit-list", False), ("api-audit-list", True)])
def test_audit_list_queries_are_pinned_and_do_not_grow_with_rows(name, api, people, places):
    client = APIClient() if api else APIClient(enforce_csrf_checks=True)
    client.force_login(people.auditor)
    url = reverse(name) + "?action=test."
    client.get(url)  # the first request after login records the session's start
    # The page also reads the last walk of the audit chain, the repeated denials and
    # the latest unmaskings.
    expected = AUDIT_LIST_QUERIES if api else AUDIT_LIST_QUERIES + 3
    add_events(people, places, 1)
    assert_get_query_count(client, url, expected)
    add_events(people, places, 49)
    assert_get_query_count(client, url, expected)


# The API tokens page: 1 the session, 2 the user, 3 the user's tokens, 4 the user's role
# assignments (the navigation).
API_TOKEN_LIST_QUERIES = 4


def test_api_token_page_queries_are_pinned_and_do_not_grow_with_tokens(people):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(people.caseworker_a)
    url = reverse("api-token-list")
    client.get(url)
    ApiToken.objects.create(user=people.caseworker_a, name="first")
    assert_get_query_count(client, url, API_TOKEN_LIST_QUERIES)
    for number in range(19):
        ApiToken.objects.create(user=people.caseworker_a, name=f"script {number}")
    assert_get_query_count(client, url, API_TOKEN_LIST_QUERIES)


# --- every list is pinned ------------------------------------------------------------------
#
# Each registered list (aid_portal.listing.REGISTRY) and each API list view is pinned at
# a fixed number of queries for one row and for many, by the test named here, beside the
# fixtures that make its rows. A new list fails below until it is named: in PINNED with
# its test, or (knowingly) in NOT_PINNED_YET.
PINNED = {
    "public-rosters": "tests.cases.test_publicity::"
    "test_the_staff_grid_costs_the_same_for_one_village_and_for_many",
    "feed-uploads": "tests.verification.test_lists::"
    "test_a_feeds_page_costs_the_same_for_one_upload_and_for_many",
    "work-queue": "tests.cases.test_casework_pages::test_queue_query_count_does_not_grow_with_rows",
    "decisions": "tests.cases.test_casework_pages::"
    "test_decisions_query_count_is_the_same_for_1_and_50_cases",
    "reviews": "tests.cases.test_reviews_pages::"
    "test_the_review_list_costs_the_same_for_one_review_and_many",
    "adjustments": "tests.cases.test_adjustment_pages::"
    "test_the_list_costs_the_same_for_one_proposal_and_many",
    "file-checks": "tests.cases.test_reviews_pages::"
    "test_the_monthly_check_list_costs_the_same_for_one_check_and_many",
    "rosters": "tests.cases.test_payment_lists::"
    "test_payment_lists_cost_the_same_for_one_row_and_for_many",
    "roster-lines": "tests.cases.test_payment_lists::"
    "test_payment_lists_cost_the_same_for_one_row_and_for_many",
    "failed-payments": "tests.cases.test_payment_lists::"
    "test_payment_lists_cost_the_same_for_one_row_and_for_many",
    "public-reports": "tests.cases.test_publicity::"
    "test_the_reports_page_costs_the_same_for_one_report_and_for_many",
    "credit-findings": "tests.credit.test_pages::"
    "test_findings_lists_cost_the_same_for_one_and_fifty",
    "credit-decisions": "tests.credit.test_pages::test_queues_cost_the_same_for_one_and_twenty",
    "credit-interviews": "tests.credit.test_pages::test_queues_cost_the_same_for_one_and_twenty",
    "credit-objections": "tests.credit.test_pages::test_queues_cost_the_same_for_one_and_twenty",
    "credit-repairs": "tests.credit.test_pages::test_queues_cost_the_same_for_one_and_twenty",
    "credit-outbox": "tests.credit.test_pages::test_queues_cost_the_same_for_one_and_twenty",
    "trust-records": "tests.credit.test_trust_pages::"
    "test_list_queries_are_pinned_and_do_not_grow_with_rows",
    "rewards": "tests.credit.test_trust_pages::"
    "test_list_queries_are_pinned_and_do_not_grow_with_rows",
    "verification-requests": "tests.verification.test_requests::"
    "test_the_officer_list_costs_the_same_queries_for_one_request_or_many",
    "batch-findings": "tests.verification.test_batch::test_findings_page_query_count_does_not_grow",
    "spot-check-cases": "tests.verification.test_spotcheck_pages::test_list_queries_are_pinned",
    "spot-check-campaigns": "tests.verification.test_spotcheck_pages::test_list_queries_are_pinned",
    "batch-runs": "tests.verification.test_lists::"
    "test_the_runs_page_costs_the_same_for_one_run_and_for_many",
    "feed-bad-rows": "tests.verification.test_lists::"
    "test_an_imports_page_costs_the_same_for_one_bad_row_and_for_many",
    "audit-log": "tests.test_query_counts::"
    "test_audit_list_queries_are_pinned_and_do_not_grow_with_rows",
    # API lists, by view.
    "api:AuditEventListView": "tests.test_query_counts::"
    "test_audit_list_queries_are_pinned_and_do_not_grow_with_rows",
    "api:ApplicationListView": "tests.cases.test_api::"
    "test_the_list_costs_the_same_for_1_and_20_applications",
    "api:ReviewListView": "tests.cases.test_reviews_pages::"
    "test_the_review_list_costs_the_same_for_one_review_and_many",
    "api:AdjustmentListView": "tests.cases.test_adjustment_pages::"
    "test_the_list_costs_the_same_for_one_proposal_and_many",
    "api:FindingListView": "tests.credit.test_pages::"
    "test_findings_lists_cost_the_same_for_one_and_fifty",
    "api:TrustRecordListView": "tests.credit.test_trust_pages::"
    "test_list_queries_are_pinned_and_do_not_grow_with_rows",
    "api:RewardCandidateListView": "tests.credit.test_trust_pages::"
    "test_list_queries_are_pinned_and_do_not_grow_with_rows",
    "api:SampleItemListView": "tests.verification.test_spotcheck_pages::"
    "test_list_queries_are_pinned",
}
# Lists with no pin yet (issue 16 item 3 left them): each needs its rows' fixture.
NOT_PINNED_YET = {
    "reconciliation-exceptions",
    "api:RegionListView",
    "api:RosterListView",
    "api:FailedLineListView",
    "api:PublicRosterListView",
    "api:PublicReportListView",
    "api:BehaviourListView",
    "api:OutboxListView",
    "api:CampaignListView",
}


def _api_list_views() -> set[str]:
    found = set()

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            view = getattr(pattern.callback, "view_class", None)
            if view is not None and issubclass(view, ListAPIView):
                found.add(f"api:{view.__name__}")

    walk(get_resolver().url_patterns)
    return found


def _lists() -> list[str]:
    return sorted(set(REGISTRY) | _api_list_views())


@pytest.mark.parametrize("name", _lists())
def test_every_list_is_pinned_at_one_row_and_many(name):
    assert name in PINNED or name in NOT_PINNED_YET, (
        f"the list {name!r} has no query-count pin: add a test that gets it with 1 row and "
        "with 50 and asserts the same pinned count (tests/queries.py), and name it in PINNED"
    )
    if name in PINNED:
        module, function = PINNED[name].split("::")
        assert callable(getattr(importlib.import_module(module), function, None)), PINNED[name]


def test_the_pin_tables_name_only_lists_that_exist():
    assert set(PINNED) | NOT_PINNED_YET <= set(_lists())
    assert not set(PINNED) & NOT_PINNED_YET
