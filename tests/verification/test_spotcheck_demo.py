"""The demo's spot-checks: one finished campaign (every case visited, one adjustment
adopted) and one running, over the demo's new cases; loading again adds nothing."""

import pytest

from aid_portal.demo import load_demo
from aid_portal.demo.spotcheck import load_spotcheck_demo
from aid_portal.models import AuditEvent
from cases.models import AdjustmentProposal
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SampleItem, SpotCheckCampaign, SpotCheckFinding

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_finished_and_a_running_campaign():
    load_demo()  # loads the spot-check demo after the cases
    finished = SpotCheckCampaign.objects.get(status=SpotCheckCampaign.Status.FINISHED)
    running = SpotCheckCampaign.objects.get(status=SpotCheckCampaign.Status.RUNNING)
    assert not finished.items.filter(visited_at__isnull=True).exists()
    total = spotcheck.campaign_progress(campaign=finished).total
    assert total.sampled == total.visited >= 2 and total.adjusted == 1
    assert (
        AdjustmentProposal.objects.filter(
            source="spot_check", status=AdjustmentProposal.Status.ADOPTED
        ).count()
        == 1
    )
    assert running.items.filter(visited_at__isnull=False).count() == 1
    assert running.items.filter(visited_at__isnull=True).exists()
    # Both over new cases, neither over last month: that one is left for a newcomer to draw.
    assert {finished.rule, running.rule} == {SpotCheckCampaign.Rule.NEW_CASES}
    last_month = spotcheck.default_window("new_cases", running.drawn_at.date())
    assert last_month[0] > running.window_end
    # Every township's share is at least 30%.
    for campaign in (finished, running):
        payload = spotcheck.campaign_audit_payload(campaign=campaign)
        for code, ids in payload["population"].items():
            assert len(payload["sample"][code]) >= 0.3 * len(ids)

    counts = (
        SpotCheckCampaign.objects.count(),
        SampleItem.objects.count(),
        SpotCheckFinding.objects.count(),
        AuditEvent.objects.filter(action__startswith="spot_check.").count(),
    )
    assert load_spotcheck_demo() == []
    assert counts == (
        SpotCheckCampaign.objects.count(),
        SampleItem.objects.count(),
        SpotCheckFinding.objects.count(),
        AuditEvent.objects.filter(action__startswith="spot_check.").count(),
    )
