"""Item 10 of issue 15: the case page tells where verification stands and the next step.

Real Chromium: the caseworker keeps the case page open while the one department in use
answers; the page refreshes itself, every part of it says the same, the first action is
to issue the report, and the success banner that follows can be dismissed.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation
from playwright.sync_api import expect

from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application
from tests.browser.helpers import log_in, zh
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import DataItem, Department, Feed, Snapshot, SnapshotRecord
from verification.requests import selectors
from verification.requests import services as verification_services
from verification.requests.models import VerificationRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def stage_label(app_id: int) -> str:
    with translation.override("zh-hans"):
        return selectors.verification_stage(Application.objects.get(pk=app_id)).label


def test_the_case_page_follows_verification_and_offers_the_report_first(page, people, make_family):
    load_catalogue()
    # Only the banks answer, from a snapshot made here: undeclared deposits, a clear gap.
    Department.objects.exclude(code="bank").update(active=False)
    feed = Feed.objects.get(department__code="bank")
    snapshot = Snapshot.objects.create(
        feed=feed,
        status=Snapshot.Status.COMPLETE,
        file="feeds/bank.csv",
        original_name="bank.csv",
        uploaded_by=people.feedadmin,
    )
    Feed.objects.filter(pk=feed.pk).update(current=snapshot)
    family = make_family(income="300")
    SnapshotRecord.objects.create(
        snapshot=snapshot,
        identity_hash=family.applicant.person.identity_hash,
        name=family.applicant.person.name,
        item=DataItem.objects.get(department__code="bank", code="deposit"),
        value=Decimal("85000"),
        record_date=datetime.date(2026, 3, 1),
    )
    cw = people.caseworker_a
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    request = VerificationRequest.objects.get(application_id=app_id)

    log_in(page, "caseworker_a")
    page.goto(f"/cases/{app_id}/")
    waiting = stage_label(app_id)
    expect(page.locator("#verification-status")).to_have_text(waiting)
    expect(page.locator("#condition-no_anomaly")).to_contain_text(waiting)

    # The departments answer while the page is open: it refreshes itself.
    for query in request.queries.all():
        verification_services.query_run(query_id=query.pk)
    answered = stage_label(app_id)
    assert answered != waiting and zh("clear gap") in answered
    expect(page.locator("#verification-status")).to_have_text(answered, timeout=15_000)
    # One reading everywhere on the page, and not "not verified yet".
    expect(page.locator("#condition-no_anomaly")).to_contain_text(answered)
    expect(page.locator("main")).not_to_contain_text(zh("Not verified yet."))
    # The next step is the first action, a primary button.
    first = page.locator("#next-actions button").first
    expect(first).to_have_id("first-action")
    expect(first).to_have_text(zh("Issue the report"))
    expect(first).to_have_class("primary big")
    expect(first).to_be_visible()

    with page.expect_navigation():
        first.click()
    expect(page).to_have_url(f"{page.url.split('/cases/')[0]}/cases/{app_id}/")
    issued = stage_label(app_id)
    expect(page.locator("#verification-status")).to_have_text(issued)
    expect(page.locator("#condition-no_anomaly")).to_contain_text(issued)
    expect(page.locator("#first-action")).to_have_count(0)

    # The success banner can be dismissed.
    banner = page.locator(".message.success")
    expect(banner).to_contain_text(zh("The report is issued to the case."))
    banner.locator("button.dismiss").click()
    expect(page.locator(".message.success")).to_have_count(0)
