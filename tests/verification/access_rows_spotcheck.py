"""Access-matrix rows of the spot-check pages and API (tests/test_access_matrix.py).

A campaign of each county is made here with the ORM, each with one sampled case (the
world's case_a in township A, case_other in the other county) assigned to that county's
auditor: the county auditor reads their county's campaigns, cases and downloads; the
other county's auditor gets 404 for them; every other role is refused (403).
"""

import datetime
from decimal import Decimal

from django.urls import reverse

from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row
from verification.spotcheck.api_urls import CAMPAIGN_STEP_VIEWS, SAMPLE_STEP_VIEWS
from verification.spotcheck.models import SampleItem, SpotCheckCampaign

AUDITORS = {"auditor", "outsider_auditor", "superuser"}


def statuses(allowed, *, otherwise: int, anon: int = PAGE_LOGIN, **others: int) -> dict:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: anon}


def campaigns(w) -> tuple[SpotCheckCampaign, SpotCheckCampaign]:
    """A running campaign of the county (case_a sampled) and one of the other county."""
    if "spotcheck_campaigns" not in w.__dict__:
        made = []
        pairs = (
            (w.places.county, w.places.township_a, w.cases.case_a, w.people.auditor),
            (
                w.places.other_county,
                w.places.other_township,
                w.cases.case_other,
                w.people.outsider_auditor,
            ),
        )
        for county, township, case, auditor in pairs:
            campaign = SpotCheckCampaign.objects.create(
                county=county,
                rule=SpotCheckCampaign.Rule.NEW_CASES,
                ratio=Decimal("0.30"),
                window_start=datetime.date(2026, 9, 1),
                window_end=datetime.date(2026, 9, 30),
                seed=20261001,
                population_size=1,
                sample_size=1,
                status=SpotCheckCampaign.Status.RUNNING,
            )
            SampleItem.objects.create(
                campaign=campaign,
                application=case,
                township=township,
                due_on=datetime.date(2026, 12, 31),
                assigned_to=auditor,
            )
            made.append(campaign)
        w.__dict__["spotcheck_campaigns"] = tuple(made)
    return w.__dict__["spotcheck_campaigns"]


def item_of(campaign) -> int:
    return campaign.items.get().pk


ROWS = [
    Row(
        "spot-checks: campaigns",
        lambda w: (campaigns(w), reverse("verification:spotcheck-campaigns"))[1],
        statuses(AUDITORS, otherwise=403),
        url_name="verification:spotcheck-campaigns",
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "search: spot-check campaigns",
        lambda w: (campaigns(w), reverse("verification:spotcheck-campaigns") + "?q=户主")[1],
        statuses(AUDITORS, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "export: spot-check campaigns, CSV",
        lambda w: (campaigns(w), reverse("verification:spotcheck-campaigns") + "?export=csv")[1],
        statuses(AUDITORS, otherwise=403),
        must_not_contain={
            "auditor": lambda w: w.places.other_county.name,
            "outsider_auditor": lambda w: w.places.county.name,
        },
    ),
    Row(
        "export: spot-check campaigns, XLSX",
        lambda w: (campaigns(w), reverse("verification:spotcheck-campaigns") + "?export=xlsx")[1],
        statuses(AUDITORS, otherwise=403),
    ),
    Row(
        "spot-checks: draw form",
        lambda w: reverse("verification:spotcheck-draw"),
        statuses(AUDITORS, otherwise=403),
        url_name="verification:spotcheck-draw",
        must_not_contain={"auditor": lambda w: w.places.other_county.name},
    ),
    Row(
        "spot-checks: draw preview",
        lambda w: reverse("verification:spotcheck-preview"),
        statuses(AUDITORS, otherwise=403),
        url_name="verification:spotcheck-preview",
    ),
    Row(
        "spot-checks: campaign, the county",
        lambda w: reverse("verification:spotcheck-campaign", args=[campaigns(w)[0].pk]),
        statuses({"auditor", "superuser"}, otherwise=403, outsider_auditor=404),
        url_name="verification:spotcheck-campaign",
    ),
    Row(
        "spot-checks: campaign, other county",
        lambda w: reverse("verification:spotcheck-campaign", args=[campaigns(w)[1].pk]),
        statuses({"outsider_auditor", "superuser"}, otherwise=403, auditor=404),
    ),
    Row(
        "spot-checks: campaign XLSX, the county",
        lambda w: reverse("verification:spotcheck-campaign-xlsx", args=[campaigns(w)[0].pk]),
        statuses({"auditor", "superuser"}, otherwise=403, outsider_auditor=404),
        url_name="verification:spotcheck-campaign-xlsx",
    ),
    Row(
        "spot-checks: sampled case, the county",
        lambda w: reverse("verification:spotcheck-item", args=[item_of(campaigns(w)[0])]),
        statuses({"auditor", "superuser"}, otherwise=403, outsider_auditor=404),
        url_name="verification:spotcheck-item",
    ),
    Row(
        "spot-checks: sampled case, other county",
        lambda w: reverse("verification:spotcheck-item", args=[item_of(campaigns(w)[1])]),
        statuses({"outsider_auditor", "superuser"}, otherwise=403, auditor=404),
    ),
    Row(
        "api spot-check campaigns",
        lambda w: (campaigns(w), reverse("api-spotcheck-campaign-list"))[1],
        statuses(AUDITORS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-spotcheck-campaign-list",
        must_not_contain={
            "auditor": lambda w: w.places.other_county.code,
            "outsider_auditor": lambda w: w.places.county.code,
        },
    ),
    Row(
        "api spot-check campaign, the county",
        lambda w: reverse("api-spotcheck-campaign-detail", args=[campaigns(w)[0].pk]),
        statuses({"auditor", "superuser"}, otherwise=403, anon=API_ANON, outsider_auditor=404),
        api=True,
        url_name="api-spotcheck-campaign-detail",
    ),
    Row(
        "api spot-check campaign, other county",
        lambda w: reverse("api-spotcheck-campaign-detail", args=[campaigns(w)[1].pk]),
        statuses({"outsider_auditor", "superuser"}, otherwise=403, anon=API_ANON, auditor=404),
        api=True,
    ),
    Row(
        "api spot-check cases, the county",
        lambda w: reverse("api-spotcheck-item-list", args=[campaigns(w)[0].pk]),
        statuses({"auditor", "superuser"}, otherwise=403, anon=API_ANON, outsider_auditor=404),
        api=True,
        url_name="api-spotcheck-item-list",
    ),
]

# Writes only: the steps are tried as each person in tests/verification/
# test_spotcheck_steps.py.
POST_ONLY = {
    "verification:spotcheck-assign",
    "api-spotcheck-campaign-draw",
    *(f"api-spotcheck-campaign-{slug}" for slug in CAMPAIGN_STEP_VIEWS),
    *(f"api-spotcheck-item-{slug}" for slug in SAMPLE_STEP_VIEWS),
}
