"""The audit log's hash chain (issue 17, item 4): sealing, and finding what was changed."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from aid_portal import audit_chain
from aid_portal.audit import audit_record
from aid_portal.models import AuditCheck, AuditEvent, AuditSeal
from aid_portal.tasks import audit_verify as audit_verify_task

pytestmark = pytest.mark.django_db


def _events(people, places, count: int) -> list[AuditEvent]:
    with transaction.atomic():
        return [
            audit_record(
                actor=people.caseworker_a,
                action="test.change",
                obj=places.village_a,
                region=places.village_a,
                new={"n": n, "名": "张三"},
                reason=f"reason {n}",
            )
            for n in range(count)
        ]


def _as_superuser(sql: str, params=()):
    """What someone who owns the database can do: run with triggers off (the
    append-only ones included), as replication does."""
    with connection.cursor() as cursor:
        # The seals' deferred key checks run now, as they did when the seals committed.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def test_every_event_is_sealed_in_order_and_the_chain_holds(people, places):
    events = _events(people, places, 5)
    assert audit_chain.audit_seal() == AuditEvent.objects.count()
    seals = list(AuditSeal.objects.order_by("event_id"))
    assert [s.event_id for s in seals][-5:] == [e.pk for e in events]
    # Each digest follows from the one before and the event's row.
    assert len({s.digest for s in seals}) == len(seals)
    check = audit_chain.audit_verify()
    assert check.ok and check.events_checked == len(seals)
    assert (check.sealed_up_to, check.head_digest) == (events[-1].pk, seals[-1].digest)
    # Run again: nothing new to seal, the chain still holds.
    assert audit_chain.audit_seal() == 0
    assert audit_chain.audit_verify().ok


def test_an_edited_event_is_found_at_its_link(people, places):
    events = _events(people, places, 5)
    audit_chain.audit_seal()
    _as_superuser(
        "UPDATE aid_portal_auditevent SET reason = 'nothing happened' WHERE id = %s",
        [events[2].pk],
    )
    check = audit_chain.audit_verify()
    assert not check.ok and check.broken_at == events[2].pk
    assert str(events[2].pk) in check.problem


def test_an_edit_inside_the_json_is_found_too(people, places):
    events = _events(people, places, 3)
    audit_chain.audit_seal()
    _as_superuser(
        """UPDATE aid_portal_auditevent SET new_values = '{"n": 1, "名": "李四"}'
        WHERE id = %s""",
        [events[1].pk],
    )
    assert audit_chain.audit_verify().broken_at == events[1].pk


def test_a_deleted_event_is_found(people, places):
    events = _events(people, places, 4)
    audit_chain.audit_seal()
    _as_superuser(
        "DELETE FROM aid_portal_auditseal WHERE event_id = %s",
        [events[1].pk],
    )
    _as_superuser("DELETE FROM aid_portal_auditevent WHERE id = %s", [events[1].pk])
    check = audit_chain.audit_verify()
    # The seal went with it, so the next event's link no longer follows.
    assert check.broken_at == events[2].pk


def test_a_deleted_event_whose_seal_stayed_is_found(people, places):
    events = _events(people, places, 3)
    audit_chain.audit_seal()
    _as_superuser("DELETE FROM aid_portal_auditevent WHERE id = %s", [events[1].pk])
    check = audit_chain.audit_verify()
    assert check.broken_at == events[1].pk


def test_a_rebuilt_chain_misses_the_last_checks_anchor(people, places):
    events = _events(people, places, 3)
    audit_chain.audit_seal()
    assert audit_chain.audit_verify().ok
    # The superuser changes an event and recomputes every seal after it.
    _as_superuser(
        "UPDATE aid_portal_auditevent SET reason = 'nothing happened' WHERE id = %s",
        [events[0].pk],
    )
    _as_superuser("DELETE FROM aid_portal_auditseal")
    audit_chain.audit_seal()
    check = audit_chain.audit_verify()
    assert check.broken_at == events[-1].pk


def test_a_cut_off_tail_is_found(people, places):
    events = _events(people, places, 3)
    audit_chain.audit_seal()
    assert audit_chain.audit_verify().ok
    _as_superuser(
        "DELETE FROM aid_portal_auditseal WHERE event_id = %s",
        [events[-1].pk],
    )
    _as_superuser("DELETE FROM aid_portal_auditevent WHERE id = %s", [events[-1].pk])
    check = audit_chain.audit_verify()
    assert not check.ok and check.broken_at == events[-1].pk


def test_the_command_exits_with_an_error_on_a_broken_chain(people, places, capsys):
    events = _events(people, places, 2)
    call_command("audit_verify")
    assert "whole" in capsys.readouterr().out
    _as_superuser("UPDATE aid_portal_auditevent SET action = 'x' WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[0].pk}"):
        call_command("audit_verify")


def test_county_auditors_see_a_broken_chain_on_their_pages(client, people, places):
    events = _events(people, places, 2)
    audit_verify_task.apply()  # seals, then walks
    client.force_login(people.auditor)
    assert "audit-chain-alert" not in client.get(reverse("home")).content.decode()
    assert "audit-chain-status" in client.get(reverse("audit-list")).content.decode()
    _as_superuser("UPDATE aid_portal_auditevent SET reason = '' WHERE id = %s", [events[1].pk])
    audit_verify_task.apply()
    for url in (reverse("home"), reverse("audit-list")):
        page = client.get(url).content.decode()
        assert "audit-chain-alert" in page
    # Not a caseworker's business.
    client.force_login(people.caseworker_a)
    assert "audit-chain-alert" not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_event_still_in_flight_is_not_skipped(people, places):
    """An insert that has drawn its id but not committed holds the chain lock: the
    sealer does not seal past it, and seals it once it commits."""
    inserted, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                audit_record(actor=None, action="test.slow", region=places.village_a)
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(10)
    _events(people, places, 1)  # a later id, committed first
    assert audit_chain.audit_seal() == 0  # the writer still holds the lock
    release.set()
    writer.join(10)
    audit_chain.audit_seal()
    slow = AuditEvent.objects.get(action="test.slow")
    assert AuditSeal.objects.filter(event_id=slow.pk).exists()
    assert audit_chain.audit_verify().ok
    assert AuditCheck.objects.count() == 1
