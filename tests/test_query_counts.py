"""List pages and API lists cost the same number of queries for 1 row and for 50."""

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from aid_portal.audit import audit_record
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
