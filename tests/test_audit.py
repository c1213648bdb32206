import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from aid_portal.audit import AuditOutsideTransaction, audit_record, audit_sensitive_read
from aid_portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(places, people):
    with transaction.atomic():
        return audit_record(
            actor=people.caseworker_a,
            action="test.change",
            obj=places.village_a,
            region=places.village_a,
            old={"a": 1},
            new={"a": 2},
            reason="why",
        )


def test_a_row_holds_who_what_when_and_why(event, people, places):
    row = AuditEvent.objects.get(pk=event.pk)
    assert row.actor == people.caseworker_a and row.actor_label == "caseworker_a"
    assert (row.action, row.object_type, row.object_id) == (
        "test.change",
        "aid_portal.region",
        str(places.village_a.pk),
    )
    assert (row.old_values, row.new_values, row.reason) == ({"a": 1}, {"a": 2}, "why")
    assert row.at is not None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE aid_portal_auditevent SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM aid_portal_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete(event, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "why"


def test_the_orm_cannot_change_it_either(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk, reason="why").exists()


@pytest.mark.django_db(transaction=True)
def test_a_state_change_must_write_its_row_inside_its_transaction(people):
    with pytest.raises(AuditOutsideTransaction):
        audit_record(actor=people.caseworker_a, action="test.loose")


def test_a_rolled_back_change_leaves_no_row(people):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=people.caseworker_a, action="test.rolled_back")
        raise RuntimeError
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()


def test_sensitive_reads_are_recorded(people, places):
    audit_sensitive_read(
        actor=people.caseworker_a,
        obj=people.caseworker_a,
        field="identity_number",
        region=places.township_a,
    )
    row = AuditEvent.objects.get(action="sensitive.read")
    assert row.new_values == {"field": "identity_number"}


def test_login_records_actor_and_client_address(client, people):
    from tests.conftest import PASSWORD

    client.post(
        reverse("login"), {"username": "caseworker_a", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    row = AuditEvent.objects.get(action="user.login")
    assert row.actor == people.caseworker_a
    assert row.client_address == "10.1.2.3"
    assert row.region.code == "640422100000"


def test_auditor_filters_the_log_page(client, people, event):
    with transaction.atomic():
        audit_record(
            actor=people.caseworker_b,
            action="other.thing",
            region=people.caseworker_b.role_assignments.first().region,
        )
    client.force_login(people.auditor)
    page = client.get(reverse("audit-list"), {"action": "test."})
    assert page.status_code == 200
    content = page.content.decode()
    assert "test.change" in content and "other.thing" not in content
    login = client.get(reverse("audit-list"), {"action": "role.grant"}).content.decode()
    assert "授予角色" in login  # actions read in Chinese
    # htmx asks for the table alone.
    partial = client.get(reverse("audit-list"), {"actor": "caseworker_b"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "other.thing" in partial.content.decode()
