"""The trust demo: Xiji's control group, its untrustworthy rate falling from 9.5% in 2024
to 2.7% in 2025 on the county dashboard, trust records and rewards; loaded once."""

from __future__ import annotations

import datetime

import pytest

from aid_portal.demo.trust import load_trust_demo
from aid_portal.models import AuditEvent, Role
from cases.models import Household
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour, Finding
from credit.trust import services as trust
from credit.trust.models import Reward, TrustRecord, YearlyResult
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def behaviours(db):
    """The catalogue is loaded by a data migration, which a transactional test (the
    worker's) flushes away: load it again (it adds only what is missing)."""
    catalogue_load(Behaviour)


def test_the_trust_demo_shows_the_pilots_falling_rate(people, places, policy):
    make_user("approver_b", Role.TOWNSHIP_APPROVER, places.township_b)
    stored = load_trust_demo()
    assert stored[2024]["untrustworthy"] == 19 and stored[2025]["untrustworthy"] == 6

    dashboard = trust.untrustworthy_rates_for_user(
        user=people.auditor, today=datetime.date(2026, 6, 1)
    )
    assert dashboard.years[:2] == [2024, 2025]
    rates = {township.code: cells for township, cells in dashboard.rows}
    jiqiang = rates[places.township_a.code]
    assert [str(cell.percent) for cell in jiqiang[:2]] == ["9.5", "2.7"]
    assert (jiqiang[0].untrustworthy, jiqiang[0].households) == (14, 148)
    xinglong = rates[places.township_b.code]
    assert [str(cell.percent) for cell in xinglong[:2]] == ["8.3", "3.3"]
    assert TrustRecord.objects.count() >= 40
    assert Reward.objects.filter(year=2025).count() == 16
    # Every finding of the imported history is repaired: no sanction is in force today.
    assert not Finding.objects.exclude(state=Finding.State.REPAIRED).exists()

    counts = (
        Household.objects.count(),
        Finding.objects.count(),
        TrustRecord.objects.count(),
        Reward.objects.count(),
        YearlyResult.objects.count(),
        AuditEvent.objects.count(),
    )
    assert load_trust_demo() == {}
    assert counts == (
        Household.objects.count(),
        Finding.objects.count(),
        TrustRecord.objects.count(),
        Reward.objects.count(),
        YearlyResult.objects.count(),
        AuditEvent.objects.count(),
    )
