"""The scale data set (issue 16, item 1): loaded small, it has every state in about the
proportions asked for, and the portal's pages work on it as on data made by the services."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.urls import reverse

from aid_portal.crypto import blind_index
from aid_portal.demo.scale import PROVINCE, STATE_SHARES
from aid_portal.identity import validate_identity_number
from aid_portal.models import Region, Role, RoleAssignment
from cases.models import Application, Household, Income, Member, PeriodicReview, Person
from verification.batch.models import BatchFinding

HOUSEHOLDS = 300


@pytest.fixture
def scale(db):
    call_command(
        "load_scale", households=HOUSEHOLDS, counties=2, townships=2, villages=3, verbosity=0
    )


def caseworker_of(app: Application):
    return RoleAssignment.objects.get(role=Role.TOWNSHIP_CASEWORKER, region=app.village.parent).user


def test_counts_and_proportions(scale):
    assert Household.objects.count() == HOUSEHOLDS
    assert Application.objects.count() == HOUSEHOLDS
    assert (
        Region.objects.filter(code__startswith=PROVINCE, level=Region.Level.VILLAGE).count() == 12
    )
    by_state = dict(Application.objects.values_list("state").annotate(n=Count("id")))
    assert set(by_state) == set(STATE_SHARES), "every state occurs"
    # Shares within a wide margin of the per-mille asked for (300 draws, plus one each).
    for state, share in STATE_SHARES.items():
        expected = HOUSEHOLDS * share / 1000
        assert abs(by_state[state] - expected) <= max(12, expected * 0.35), state
    members = Member.objects.count()
    assert 1.8 * HOUSEHOLDS <= members <= 2.8 * HOUSEHOLDS  # 2.38 a household on average
    assert Person.objects.count() == members
    assert Member.objects.filter(relation="self").count() == HOUSEHOLDS
    assert Income.objects.exists()
    in_payment = by_state["in_payment"]
    reviews = PeriodicReview.objects.count()
    assert 0.25 * in_payment <= reviews <= 0.55 * in_payment  # 40% of them
    assert BatchFinding.objects.exists() or in_payment < 100


def test_identity_numbers_are_valid_and_indexed(scale):
    for person in Person.objects.order_by("?")[:50]:
        number = person.identity_number  # decrypted by the field
        assert validate_identity_number(number) == number
        assert person.identity_hash == blind_index(number)
    assert Person.objects.values("identity_hash").distinct().count() == Person.objects.count()


def test_queue_and_a_case_page_of_every_state_open(scale, client):
    app = Application.objects.filter(state="under_verification").first()
    caseworker = caseworker_of(app)
    client.force_login(caseworker)
    queue = client.get(reverse("cases:queue"))
    assert queue.status_code == 200
    assert app.number in queue.content.decode()
    for state in STATE_SHARES:
        app = Application.objects.filter(state=state).first()
        client.force_login(caseworker_of(app))
        page = client.get(reverse("cases:detail", kwargs={"application_id": app.pk}))
        assert page.status_code == 200, state
        assert app.number in page.content.decode(), state


def test_identity_search_finds_a_generated_person(scale, client):
    member = Member.objects.filter(relation="spouse").select_related("person").last()
    app = Application.objects.get(household_id=member.household_id)
    client.force_login(caseworker_of(app))
    found = client.get(reverse("cases:search"), {"q": member.person.identity_number})
    assert found.status_code == 200
    assert member.person.name in found.content.decode()
    assert app.number in found.content.decode()


def test_refuses_a_database_with_other_data(people):
    with pytest.raises(CommandError, match="not a scale data set"):
        call_command("load_scale", households=10, counties=1, townships=1, villages=1)
    assert not Region.objects.filter(code__startswith=PROVINCE).exists()


def test_refuses_a_second_scale_set(scale):
    with pytest.raises(CommandError, match="already holds a scale data set"):
        call_command("load_scale", households=10, counties=1, townships=1, villages=1)
