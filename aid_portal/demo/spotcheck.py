"""The demo's spot-checks: one finished campaign (every case visited, one decrease
adopted by the township) and one running campaign, both over the demo's new cases.

Windows are placed relative to the day the demo is loaded: the finished campaign covers
the cases confirmed five and four months ago, the running one those of three and two
months ago. Last month is left free, so that a newcomer can draw it (the monthly
schedule would draw it on the 2nd of the month). Idempotent: a window already drawn is
left alone. Everything goes through verification.spotcheck.services and the cases services.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from aid_portal.demo.cases import TOWNSHIP_STAFF
from aid_portal.errors import DomainError
from aid_portal.models import Region, User
from cases import transitions
from cases.reviews import services as review_services
from verification.spotcheck import services as spotcheck
from verification.spotcheck.models import SpotCheckCampaign

DEMO_COUNTY = "640422000000"
SEEDS = {"finished": 2026_0422_01, "running": 2026_0422_02}
FACTS = [
    "家庭成员、收入与申报一致，住房条件未变。",
    "户主仍因病无劳动能力，子女在校就读，生活困难情况属实。",
    "入户核实家庭人口和收入，与审批时一致。",
]
FACTS_DECREASE = "儿子已在县城务工半年，月收入约2200元，家庭人均收入有所提高。"


def _months_back(today: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` before today's."""
    return transitions.add_months(today.replace(day=1), -months)


def _window(today: datetime.date, first: int, until: int) -> tuple[datetime.date, datetime.date]:
    """From the 1st of ``first`` months back to the day before the 1st of ``until``."""
    return _months_back(today, first), _months_back(today, until) - datetime.timedelta(days=1)


def _draw(county, auditor, window, seed, today) -> SpotCheckCampaign | None:
    existing = SpotCheckCampaign.objects.filter(
        county=county,
        rule=SpotCheckCampaign.Rule.NEW_CASES,
        window_start=window[0],
        window_end=window[1],
    ).first()
    if existing is not None:
        return None
    try:
        return spotcheck.campaign_draw(
            actor=auditor,
            county=county,
            rule=SpotCheckCampaign.Rule.NEW_CASES,
            window_start=window[0],
            window_end=window[1],
            seed=seed,
            assign_to=[auditor],
            today=today,
        )
    except DomainError:
        return None  # no case confirmed in that window on this demo


def _decider(application) -> User:
    username = TOWNSHIP_STAFF.get(application.village.township_prefix, {}).get("decider", "admin")
    return User.objects.get(username=username)


def load_spotcheck_demo() -> list[SpotCheckCampaign]:
    """Draw the two demo campaigns unless their windows are drawn already; returns the
    campaigns made now."""
    county = Region.objects.filter(code=DEMO_COUNTY).first()
    auditor = User.objects.filter(username="auditor").first()
    if county is None or auditor is None:
        return []
    today = timezone.localdate()
    made = []
    finished = _draw(county, auditor, _window(today, 5, 3), SEEDS["finished"], today)
    if finished is not None:
        made.append(finished)
        items = list(
            finished.items.select_related("application__village").order_by("application_id")
        )
        decrease = next(
            (i for i in items if (i.application.monthly_amount or 0) > Decimal("150")), None
        )
        for n, item in enumerate(items):
            if item is decrease:
                spotcheck.sample_finding_record(
                    actor=auditor,
                    item_id=item.pk,
                    visited_on=today,
                    visitors="田明、何丽",
                    facts=FACTS_DECREASE,
                    still_eligible=True,
                    action="decrease",
                    proposed_amount=item.application.monthly_amount - Decimal("100"),
                )
                proposal = item.application.adjustment_proposals.get(source="spot_check")
                review_services.adjustment_handle(
                    actor=_decider(item.application),
                    proposal_id=proposal.pk,
                    adopt=True,
                    note="经乡镇复核，同意按县级抽查意见调减保障金额。",
                )
            else:
                spotcheck.sample_finding_record(
                    actor=auditor,
                    item_id=item.pk,
                    visited_on=today,
                    visitors="田明、何丽",
                    facts=FACTS[n % len(FACTS)],
                    still_eligible=True,
                    action="keep",
                )
    running = _draw(county, auditor, _window(today, 3, 1), SEEDS["running"], today)
    if running is not None:
        made.append(running)
        first = running.items.order_by("application_id").first()
        spotcheck.sample_finding_record(
            actor=auditor,
            item_id=first.pk,
            visited_on=today,
            visitors="田明",
            facts=FACTS[0],
            still_eligible=True,
            action="keep",
        )
    return made
