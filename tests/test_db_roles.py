"""Least privilege in the database (issue 17, item 3): the application's role does the
portal's work and cannot TRUNCATE, DROP or ALTER anything, nor change audit rows.

The test switches its own connection to a role granted by ``aid_portal.dbroles`` (SET
ROLE, inside the test's transaction: the role and its grants are rolled back with it),
so what runs after the switch runs with exactly the application role's privileges."""

import contextlib
import os

import pytest
from django.db import DatabaseError, connection, transaction

from aid_portal.audit import audit_record
from aid_portal.dbroles import app_role_grant
from aid_portal.models import AuditEvent
from tests.verification.test_feeds import csv_file, good_lines, hrss, upload_and_import  # noqa: F401
from verification.feeds.models import Snapshot

pytestmark = pytest.mark.django_db

ROLE = f"aid_app_test_{os.getpid()}"


@pytest.fixture
def as_app_role(db):
    """Run what follows as a role with the application's grants, then switch back."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{ROLE}" NOLOGIN')
    app_role_grant(ROLE)

    @contextlib.contextmanager
    def switched():
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{ROLE}"')
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")

    return switched


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE aid_portal_auditevent",
        "TRUNCATE cases_application CASCADE",
        "DROP TABLE cases_application CASCADE",
        "ALTER TABLE cases_application ADD COLUMN sneaky integer",
        "DROP TRIGGER audit_no_update_or_delete ON aid_portal_auditevent",
        "ALTER TABLE aid_portal_auditevent DISABLE TRIGGER ALL",
        "UPDATE aid_portal_auditevent SET reason = 'rewritten'",
        "DELETE FROM aid_portal_auditevent",
        "DELETE FROM aid_portal_auditseal",
        "CREATE TABLE public.sneaky (id integer)",
    ],
)
def test_the_application_role_cannot(as_app_role, statement):
    with as_app_role(), transaction.atomic():
        audit_record(actor=None, action="test.before")  # something to refuse to remove
    with (
        as_app_role(),
        pytest.raises(DatabaseError, match=r"permission denied|must be owner|append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(action="test.before").exists()


def test_the_application_role_does_the_portals_work(as_app_role, hrss, people):  # noqa: F811
    """Writes rows and audit rows, and imports a department's snapshot, which creates,
    indexes, attaches and drops a partition: through the owner's functions."""
    with as_app_role():
        first = upload_and_import(hrss, people, csv_file(good_lines()))
        second = upload_and_import(hrss, people, csv_file(good_lines()))
    assert (first.status, second.status) == (Snapshot.Status.COMPLETE, Snapshot.Status.COMPLETE)
    assert second.records.count() == 3
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname ~ '^verification_snapshotrecord_[0-9]+$'"
        )
        tables = {row[0] for row in cursor.fetchall()}
    # The replaced snapshot's partition was dropped, the current one attached.
    assert f"verification_snapshotrecord_{second.pk}" in tables
    assert f"verification_snapshotrecord_{first.pk}" not in tables
    assert AuditEvent.objects.filter(action="snapshot.complete").count() == 2


def test_a_role_granted_truncate_by_mistake_is_still_refused(as_app_role):
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT TRUNCATE ON aid_portal_auditevent, aid_portal_auditseal TO "{ROLE}"')
    with (
        as_app_role(),
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE aid_portal_auditevent, aid_portal_auditseal")


def test_the_partition_functions_are_not_for_everyone(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_function_privilege('public', 'aid_records_partition_drop(bigint)', "
            "'EXECUTE')"
        )
        assert cursor.fetchone()[0] is False
