"""The credit demo: findings of every level on the demo households, loaded once."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aid_portal.demo import load_demo
from aid_portal.demo.credit import FIRST_FACTS, load_credit_demo
from aid_portal.models import User
from credit.findings import selectors
from credit.findings.models import Finding, Objection, OutboxMessage, Repair
from tests.verification.conftest import _start

pytestmark = pytest.mark.django_db


def test_the_credit_demo_has_every_level_a_block_an_objection_and_a_repair(settings, tmp_path):
    platform = _start(tmp_path)
    settings.CREDIT_PLATFORM_URL = f"{platform.url}/credit-platform/records"
    try:
        load_demo()  # the credit demo is loaded by the demo itself, after the cases
    finally:
        platform.stop()
    today = timezone.localdate()
    # The demo's own findings: those of caseworker_a's township recorded by its stories
    # (other demos, spot-checks and last years' results, add findings of their own).
    stories = Finding.objects.filter(facts=FIRST_FACTS).values_list("household_id", flat=True)
    first_day = Finding.objects.get(facts=FIRST_FACTS).created_at
    findings = Finding.objects.filter(
        created_at__gte=first_day,
        found_by__username="caseworker_a",
        found_on__gte=today - datetime.timedelta(days=120),
    )
    assert len(stories) == 1
    assert {f.level for f in findings} == {"light", "moderate", "severe"}
    escalated = findings.get(level="moderate", level_recorded="light")
    assert escalated.state == Finding.State.STANDING
    members = escalated.household.members.select_related("person")
    block = selectors.block_in_force(
        identity_hashes=[m.person.identity_hash for m in members], on=today
    )
    assert block is not None and block.finding == escalated
    assert Objection.objects.filter(state="pending", finding__in=findings).count() == 1
    assert findings.filter(state=Finding.State.REPAIRED).count() == 1
    assert Repair.objects.filter(state="granted", finding__in=findings).count() == 1
    severe = findings.get(level="severe", state=Finding.State.STANDING)
    assert severe.repayment_order.paid_amount > 0 and severe.repayment_order.state == "open"
    assert OutboxMessage.objects.get(finding=severe).state == "delivered"
    assert findings.filter(state=Finding.State.PROPOSED).count() == 1
    assert findings.filter(state=Finding.State.COUNTY_PENDING).count() == 1
    # Every finding is in township A, where the demo's caseworker_a works.
    assert all(f.village.code.startswith("640422100") for f in findings)
    assert load_credit_demo() == 0
    # Every page of the demo's findings renders for the people who work on them.

    pages = {
        "caseworker_a": [reverse("credit:findings"), reverse("credit:interviews")],
        "approver_a": [reverse("credit:decisions"), reverse("credit:objections")],
        "auditor": [
            reverse("credit:decisions"),
            reverse("credit:repairs"),
            reverse("credit:outbox"),
        ],
    }
    for finding in findings:
        pages["caseworker_a"].append(reverse("credit:finding", args=[finding.pk]))
        if finding.effective_on:
            pages["caseworker_a"].append(reverse("credit:notice", args=[finding.pk]))
    for username, urls in pages.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        for url in urls:
            assert client.get(url).status_code == 200, (username, url)
