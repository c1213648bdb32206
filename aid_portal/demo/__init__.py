"""Demo data: a lived-in Xiji county (Ningxia) for a newcomer to click through.

Loading is idempotent: everything is looked up before it is created. The demo sits in
the project package, above every app: it is the one place that may use them all (the
import contract in pyproject.toml names it as part of the composition root).
"""

from __future__ import annotations

from django.conf import settings

from aid_portal.demo.base import (
    COUNTY_CODE,
    DEMO_PASSWORD,
    DEMO_USERS,
    REGIONS_CSV,
    DemoUser,
    load_staff,
)
from aid_portal.demo.batch import load_batch_demo
from aid_portal.demo.cases import load_case_demo
from aid_portal.demo.credit import load_credit_demo
from aid_portal.demo.feeds import load_feeds_demo
from aid_portal.demo.payments import load_payment_demo
from aid_portal.demo.reviews import load_review_demo
from aid_portal.demo.spotcheck import load_spotcheck_demo
from aid_portal.demo.trust import load_trust_demo
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import Department

__all__ = ["COUNTY_CODE", "DEMO_PASSWORD", "DEMO_USERS", "REGIONS_CSV", "DemoUser", "load_demo"]


def load_demo() -> list[DemoUser]:
    load_staff()
    # The department catalogue first, so that the demo cases under verification send
    # their queries (the worker answers them once the portal runs); the housing fund
    # answers live, through the department simulator that bin/start runs beside the portal.
    load_catalogue()
    Department.objects.filter(code="provident_fund").update(
        channel=Department.Channel.LIVE, live_url=settings.SIMULATOR_URL
    )
    load_case_demo()
    load_feeds_demo()
    load_batch_demo()
    load_spotcheck_demo()
    load_review_demo()
    load_credit_demo()
    # Trust last, after every other credit demo: the yearly results count their findings.
    load_trust_demo()
    # Payments after every demo that enrols, adjusts or blocks a case (the trust demo's
    # control group is enrolled too): the rosters pay what those left due.
    load_payment_demo()
    return DEMO_USERS
