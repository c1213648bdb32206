"""The outbox to the credit-information sharing platform, delivered by a real Celery
worker to the simulator's platform over HTTP: exactly once, across a worker killed in
the middle of a delivery, and retried while the platform is away."""

from __future__ import annotations

import datetime
import json
import time

import httpx
import pytest
from django.db.models import F
from django.utils import timezone

from aid_portal.models import AuditEvent
from credit.findings import services, tasks
from credit.findings.models import FindingEvent, OutboxMessage
from tests.conftest import InThread, lock_wait_at_most, wait_for
from tests.verification.conftest import _start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(tmp_path, monkeypatch):
    """The simulator's platform, slow to answer (it keeps the record first, then waits 4
    s), and the worker pointed at it. Listed before celery_worker_process in the tests, so
    the worker starts with this address."""
    running = _start(tmp_path, platform_latency_ms=4000)
    url = f"{running.url}/credit-platform/records"
    monkeypatch.setenv("CREDIT_PLATFORM_URL", url)
    running.records = lambda: httpx.get(url, timeout=10).json()
    yield running
    running.stop()


def severe_finding(people, family):
    today = timezone.localdate()
    finding = services.finding_record(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        person_id=family.applicant.person_id,
        behaviour_code="xj-hides-assets-refuses",
        facts="转移房产后申请低保，拒不退回",
        source_kind="case",
        found_on=today,
    )
    services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=today)
    services.finding_confirm(
        actor=people.auditor,
        finding_id=finding.pk,
        repayment_amount="2400",
        repayment_deadline=today + datetime.timedelta(days=30),
        today=today,
    )
    return finding


def test_a_worker_killed_mid_delivery_leaves_one_record_delivered_once(
    platform, celery_worker_process, people, make_family
):
    finding = severe_finding(people, make_family())
    message = OutboxMessage.objects.get(finding=finding)
    key = str(message.key)

    # The first worker sends the record; the platform keeps it and is slow to answer.
    # (Test runs in other checkouts share the broker and may take a queued task: ask
    # again now and then, which is harmless, until this worker has it.)
    def received_once():
        if platform.records()["received"].get(key) == 1:
            return True
        if time.monotonic() > kicked[0] + 10:
            tasks.outbox_deliver.delay(message.pk)
            kicked[0] = time.monotonic()
        return False

    kicked = [time.monotonic()]
    wait_for(received_once, timeout=90)
    celery_worker_process.process.kill()  # mid-delivery: no answer read, nothing committed
    celery_worker_process.process.wait()
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert message.claimed_at is not None  # the dead worker's claim

    # While the claim is young its worker may still be waiting for the answer: nobody
    # else sends the message.
    assert services.outbox_deliver(message_id=message.pk) == OutboxMessage.State.PENDING
    assert platform.records()["received"][key] == 1
    # No task outlives the time limit, so by then the claim is known dead; age it rather
    # than wait.
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=F("claimed_at") - services.CLAIM_LEASE
    )

    celery_worker_process.restart()
    tasks.outbox_relay.delay()

    def delivered():
        message.refresh_from_db()
        if message.state == OutboxMessage.State.DELIVERED:
            return True
        if time.monotonic() > kicked[0] + 15:
            tasks.outbox_relay.delay()
            kicked[0] = time.monotonic()
        return False

    kicked[0] = time.monotonic()
    wait_for(delivered, timeout=90)
    held = platform.records()
    assert [record["key"] for record in held["records"]] == [key]
    assert held["records"][0]["finding"] == finding.pk
    assert held["received"][key] == 2  # sent twice, the same key, kept once
    assert message.attempts == 2 and message.delivered_at is not None  # both sends count
    assert message.claimed_at is None
    assert FindingEvent.objects.filter(finding=finding, action="outbox_delivered").count() == 1
    assert AuditEvent.objects.filter(action="credit_outbox.deliver").count() == 1
    # A third attempt (a late duplicate of the task) changes nothing.
    assert services.outbox_deliver(message_id=message.pk) == OutboxMessage.State.DELIVERED
    assert platform.records()["received"][key] == 2


def deliver_in_thread(platform, settings, message) -> InThread:
    """Deliver ``message`` in a thread (as a worker would), and wait until the platform
    has it: it answers 4 s later."""
    settings.CREDIT_PLATFORM_URL = f"{platform.url}/credit-platform/records"
    sending = InThread(lambda: services.outbox_deliver(message_id=message.pk))
    wait_for(lambda: platform.records()["received"].get(str(message.key)) == 1, timeout=10)
    return sending


def test_the_message_row_is_free_while_the_platform_holds_its_answer(
    platform, people, make_family, settings
):
    finding = severe_finding(people, make_family())
    message = OutboxMessage.objects.get(finding=finding)
    sending = deliver_in_thread(platform, settings, message)

    # Meanwhile the county exports the outbox, which writes on the message's row.
    with lock_wait_at_most(1):
        exported = services.outbox_export(actor=people.auditor)
    assert sending.session_state() == "idle"  # no transaction open while it waits
    assert sending.thread.is_alive(), "the platform answered before the checks ran"
    line = json.loads(exported)
    assert (line["key"], line["state"]) == (str(message.key), OutboxMessage.State.PENDING)

    assert sending.join() == OutboxMessage.State.DELIVERED
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.DELIVERED
    assert message.attempts == 1 and message.claimed_at is None and not message.last_error
    assert message.exported_at is not None  # the export's change stands
    assert FindingEvent.objects.filter(finding=finding, action="outbox_delivered").count() == 1
    assert AuditEvent.objects.filter(action="credit_outbox.deliver").count() == 1
    assert platform.records()["received"] == {str(message.key): 1}


def test_a_finding_withdrawn_while_its_record_is_sent_is_withdrawn_after_it(
    platform, people, make_family, settings
):
    finding = severe_finding(people, make_family())
    record = OutboxMessage.objects.get(finding=finding)
    sending = deliver_in_thread(platform, settings, record)

    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=finding.pk, statement="房产为父母所有"
    )
    with lock_wait_at_most(1):
        services.objection_review(
            actor=people.approver_a, objection_id=objection.pk, upheld=True, note="核实属实"
        )
    assert sending.thread.is_alive(), "the platform answered before the checks ran"
    # The platform may hold the record already: it is not called off but followed by a
    # withdrawal, which waits until the record is delivered.
    withdrawal = OutboxMessage.objects.get(finding=finding, kind=OutboxMessage.Kind.WITHDRAWAL)
    assert services.outbox_deliver(message_id=withdrawal.pk) == OutboxMessage.State.PENDING
    withdrawal.refresh_from_db()
    assert withdrawal.attempts == 0 and withdrawal.claimed_at is None

    assert sending.join() == OutboxMessage.State.DELIVERED
    assert services.outbox_deliver(message_id=withdrawal.pk) == OutboxMessage.State.DELIVERED
    held = platform.records()["records"]
    assert [(r["kind"], r["finding"]) for r in held] == [
        ("record", finding.pk),
        ("withdrawal", finding.pk),
    ]


@pytest.mark.django_db  # no worker: the service is called here, as the task calls it
def test_a_platform_that_is_away_is_retried_and_an_upheld_objection_is_sent_after(
    people, make_family, settings, tmp_path
):
    settings.CREDIT_PLATFORM_URL = "http://127.0.0.1:9/credit-platform/records"  # nobody there
    finding = severe_finding(people, make_family())
    record = OutboxMessage.objects.get(finding=finding)
    assert services.outbox_deliver(message_id=record.pk) == OutboxMessage.State.PENDING
    record.refresh_from_db()
    assert record.attempts >= 1 and record.last_error

    running = _start(tmp_path)
    try:
        settings.CREDIT_PLATFORM_URL = f"{running.url}/credit-platform/records"
        assert services.outbox_deliver(message_id=record.pk) == OutboxMessage.State.DELIVERED
        objection = services.objection_lodge(
            actor=people.caseworker_a, finding_id=finding.pk, statement="房产为父母所有"
        )
        services.objection_review(
            actor=people.approver_a, objection_id=objection.pk, upheld=True, note="核实属实"
        )
        withdrawal = OutboxMessage.objects.get(finding=finding, kind="withdrawal")
        assert services.outbox_deliver(message_id=withdrawal.pk) == OutboxMessage.State.DELIVERED
        held = httpx.get(settings.CREDIT_PLATFORM_URL, timeout=10).json()["records"]
        assert [(r["kind"], r["finding"]) for r in held] == [
            ("record", finding.pk),
            ("withdrawal", finding.pk),
        ]
    finally:
        running.stop()


def test_two_workers_delivering_one_message_at_once_send_it_once(
    platform, two_celery_workers, people, make_family
):
    """The delivery queued at commit and a duplicate of it, taken by two worker processes
    at once (as on two machines) while the platform takes 4 s to answer: the record is
    sent once; the second worker finds the first one's claim and leaves it."""
    finding = severe_finding(people, make_family())  # the first delivery, sent at commit
    message = OutboxMessage.objects.get(finding=finding)
    key = str(message.key)
    started = time.monotonic()
    tasks.outbox_deliver.delay(message.pk)  # the duplicate

    def delivered():
        message.refresh_from_db()
        return message.state == OutboxMessage.State.DELIVERED

    wait_for(delivered, timeout=90)
    elapsed = time.monotonic() - started
    # One on each worker (the one that found the claim also holds its retry, in 30 s).
    wait_for(lambda: all(two_celery_workers.received("credit.outbox_deliver")))
    print(f"outbox_deliver ×2 on two workers at once: delivered in {elapsed:.1f} s")
    assert platform.records()["received"][key] == 1  # sent once
    assert message.attempts == 1
    assert FindingEvent.objects.filter(finding=finding, action="outbox_delivered").count() == 1
    assert AuditEvent.objects.filter(action="credit_outbox.deliver").count() == 1
