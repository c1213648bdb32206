"""The demo cases: every state present, real identity numbers, loaded once."""

import itertools

import pytest
from django.db.models import Count
from django.utils import timezone

from aid_portal.demo import load_demo
from aid_portal.demo.cases import load_case_demo
from aid_portal.identity import validate_identity_number
from aid_portal.models import AuditEvent
from cases.models import (
    Application,
    ApplicationEvent,
    Document,
    Household,
    Member,
    NearRelativeFiling,
    Person,
    Policy,
)

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    counts = {
        model.__name__: model.objects.count()
        for model in (Application, ApplicationEvent, Document, Household, Member, Person, Policy)
    }
    # Reloading the region tree is recorded each time; nothing else may be.
    counts["AuditEvent"] = AuditEvent.objects.exclude(action="region.load").count()
    return counts


def test_the_demo_loads_once_with_every_state():
    # One test, one load: the demo takes half a minute to build.
    load_demo()
    load_case_demo()  # a no-op once load_demo() loads the cases itself
    _a_lived_in_county()
    _identity_numbers_are_valid()
    _decided_cases_are_consistent()
    before = _counts()
    assert load_case_demo() == 0
    load_demo()
    assert _counts() == before


def _a_lived_in_county():
    assert Household.objects.filter(village__code__startswith="640422").count() >= 250
    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(Application.State.values)
    # Every village has cases, every township has households in payment.
    villages = Application.objects.values("village").annotate(n=Count("id"))
    assert len(villages) == 9 and min(v["n"] for v in villages) >= 20
    for township in ("640422100", "640422101", "640422102"):
        assert Application.objects.filter(
            village__code__startswith=township, state=Application.State.IN_PAYMENT
        ).exists()
    assert NearRelativeFiling.objects.exists()
    sizes = Household.objects.annotate(n=Count("members")).values_list("n", flat=True)
    assert min(sizes) >= 1 and max(sizes) >= 5
    policy = Policy.objects.get(county__code="640422000000")
    assert (policy.dibao_standard_urban, policy.dibao_standard_rural) == (820, 640)


def _identity_numbers_are_valid():
    people = list(Person.objects.all())
    assert len(people) >= 500
    for person in people:
        number = person.identity_number
        assert validate_identity_number(number) == number
        assert number[6:14] == f"{person.birth_date:%Y%m%d}"
        assert number[:6] == ("642222" if person.birth_date.year < 2001 else "640422")


def _decided_cases_are_consistent():
    for app in Application.objects.filter(state__in=Application.ENROLLED_STATES):
        assert app.monthly_amount is not None and app.amount_basis["eligible"] is True
        assert app.decided_at is not None and app.start_month.day == 1
    assert not Application.objects.filter(
        state=Application.State.REJECTED, rejection_reasons=""
    ).exists()
    # Some open cases are past their deadline: the queues have something to warn about.
    overdue = Application.objects.filter(
        state__in=Application.OPEN_STATES, due_on__lt=timezone.localdate()
    )
    assert overdue.exists()
    # Each timeline is in order and ends in the application's state.
    for app in Application.objects.prefetch_related("events"):
        events = list(app.events.all())
        assert events[-1].to_state == app.state, app.pk
        assert all(a.at <= b.at for a, b in itertools.pairwise(events)), app.pk
