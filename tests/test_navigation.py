"""The navigation bar: each role's entries, and the credit pages folded into one menu."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from aid_portal.navigation import NavGroup, navigation_for


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # labels read as their source strings
        yield


def labels(entries) -> list:
    return [
        (str(e.label), [str(i.label) for i in e.items]) if isinstance(e, NavGroup) else str(e.label)
        for e in entries
    ]


@pytest.mark.django_db
def test_the_auditors_credit_pages_are_one_menu_in_the_bar(people):
    entries = navigation_for(people.auditor)
    groups = [e for e in entries if isinstance(e, NavGroup)]
    assert [str(g.label) for g in groups] == ["Credit management", "Payments", "API"]
    assert [str(i.label) for i in groups[0].items] == [
        "Credit findings",
        "Credit decisions",
        "Objections",
        "Credit repairs",
        "Trustworthy households",
        "Credit dashboard",
        "Credit platform",
    ]
    assert [str(i.label) for i in groups[1].items] == [
        "Payment rosters",
        "Failed payments",
        "Funds ledger",
        "Reconciliation",
        "Public roster",
        "Reports from the public",
    ]
    # The group stands where its first entry would: after the spot-checks, before the log.
    flat = labels(entries)
    assert flat.index("Spot-checks") < flat.index(labels([groups[0]])[0]) < flat.index("Audit log")


@pytest.mark.django_db
def credit_groups(entries):
    return [e for e in entries if isinstance(e, NavGroup) and str(e.label) != "API"]


def test_a_single_credit_page_stays_a_plain_link(people):
    entries = navigation_for(people.feedadmin)
    assert not credit_groups(entries)
    assert "Credit platform" in labels(entries)
    # The verification officer reads findings, and has no other credit page.
    assert not credit_groups(navigation_for(people.verifier))
    assert "Credit findings" in labels(navigation_for(people.verifier))


@pytest.mark.django_db
def test_the_menu_is_marked_current_on_one_of_its_pages(client, people):
    client.force_login(people.caseworker_a)
    html = client.get(reverse("credit:findings")).content.decode()
    assert '<details class="navgroup">' in html
    assert '<summary aria-current="page">' in html
    html = client.get(reverse("cases:queue")).content.decode()
    assert '<details class="navgroup">' in html and '<summary aria-current="page">' not in html


def test_everyone_finds_the_api_documentation_and_their_tokens_in_one_menu(people):
    for user in (people.nobody, people.caseworker_a, people.superuser):
        groups = [e for e in navigation_for(user) if isinstance(e, NavGroup)]
        api = next(g for g in groups if str(g.label) == "API")
        assert [i.url_name for i in api.items] == ["api-docs", "api-token-list"]
