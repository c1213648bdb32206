"""Credit discipline in a real Chromium: a caseworker records a second light finding on a
family and sees it become moderate; the approver decides it; the family's applicant is
refused at the intake start page with the block's end date; an objection is rejected; a
repair after the interview lifts the block, and intake starts again."""

from __future__ import annotations

import datetime
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from playwright.sync_api import expect

from cases.casework import services as case_services
from credit.findings import services
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour, Finding
from tests.browser.helpers import log_in, take, zh
from tests.cases import conftest as case_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family


def state_is(page, label: str) -> None:
    expect(page.locator("#finding-state")).to_have_text(zh(label))


def type_identity_number(page, number: str) -> None:
    page.goto("/cases/new/")
    with page.expect_response(re.compile("/credit/block-check/")):
        page.fill("#id_identity_number", number)
        page.locator("#id_identity_number").press("Tab")


def test_second_light_finding_to_block_to_objection_to_repair(page, people, make_family):
    catalogue_load(Behaviour)  # a transactional test starts from emptied tables
    today = timezone.localdate()
    family = make_family()
    # The family withdrew its application: its members are free to apply again.
    case_services.application_withdraw(
        actor=people.caseworker_a, application_id=family.application.pk, reason="外出务工"
    )
    first = services.finding_record(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        person_id=family.applicant.person_id,
        behaviour_code="xj-false-material-minor",
        facts="申报时少报务工收入",
        source_kind="case",
        found_on=today - datetime.timedelta(days=40),
    )
    services.finding_decide(
        actor=people.approver_a, finding_id=first.pk, today=today - datetime.timedelta(days=38)
    )
    number = family.applicant.person.identity_number

    # The caseworker records a second light finding from the case page: it is moderate.
    log_in(page, "caseworker_a")
    page.goto(f"/cases/{family.application.pk}/")
    page.click("#credit-finding-new")
    page.select_option("#id_person", str(family.applicant.person_id))
    page.select_option("#id_behaviour", "xj-admits-at-once")
    page.fill("#id_facts", "复核时再次少报子女务工收入，核对发现后承认")
    with page.expect_navigation():
        page.click("form button[type=submit].primary")
    state_is(page, "awaiting the township's decision")
    expect(page.locator("#finding-level")).to_contain_text(zh("moderate"))
    expect(page.locator(".messages")).to_contain_text(zh("moderate"))
    finding_url = page.url
    second = Finding.objects.exclude(pk=first.pk).get()
    assert second.level == "moderate"

    # The approver decides it: the sanctions are on.
    log_in(page, "approver_a")
    page.goto(finding_url)
    take(page, "decide")
    state_is(page, "in force")
    expect(page.locator("#sanctions")).to_contain_text(zh("new applications refused"))

    # A new application for the applicant is refused before the form is filled in.
    ends = today + relativedelta(months=6)
    end_text = f"至{ends.year}年{ends.month}月{ends.day}日"
    log_in(page, "caseworker_a")
    type_identity_number(page, number)
    expect(page.locator("#credit-block-refusal")).to_contain_text(end_text)
    # ... and refused again if the form is sent anyway.
    page.fill("#id_address", "龙王坝村20号")
    page.fill("#id_name", family.applicant.person.name)
    with page.expect_navigation():
        page.click("form.stepform button[type=submit]")
    expect(page.locator("body")).to_contain_text(end_text)

    # The family objects; the approver (not the finder) rejects the objection.
    page.goto(finding_url)
    take(page, "object", lambda form: form.locator("textarea").fill("收入系临时帮工，不是长期务工"))
    state_is(page, "in force, objection under review")
    log_in(page, "approver_a")
    page.goto(finding_url)

    def reject(form):
        form.locator("input[name=outcome][value=reject]").check()
        form.locator("textarea[name=note]").fill("经核实，务工收入持续三个月以上，异议不成立")

    take(page, "objection_review", reject)
    state_is(page, "in force")

    # After the interview, the repair is applied for and granted.
    log_in(page, "caseworker_a")
    page.goto(finding_url)
    take(page, "interview", lambda form: form.locator("textarea").fill("已约谈，本人承认并补报"))
    take(page, "repair_apply", lambda form: form.locator("textarea").fill("已如实补报全部收入"))
    log_in(page, "approver_a")
    page.goto(finding_url)

    def grant(form):
        form.locator("input[name=outcome][value=grant]").check()
        form.locator("textarea[name=note]").fill("已纠正，同意修复")

    take(page, "repair_decide", grant)
    state_is(page, "repaired")

    # Intake starts again for the applicant.
    log_in(page, "caseworker_a")
    type_identity_number(page, number)
    expect(page.locator("#credit-block-clear")).to_be_visible()
    page.fill("#id_address", "龙王坝村20号")
    page.fill("#id_name", family.applicant.person.name)
    with page.expect_navigation():
        page.click("form.stepform button[type=submit]")
    expect(page).to_have_url(re.compile(r"/cases/\d+/members/"))
