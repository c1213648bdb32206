"""Backups that restore (issue 17, item 6): a family with its uploaded scans and a
sealed audit log is backed up, destroyed and restored, and comes back the same: every
table's rows, every file's bytes, the audit chain's head. An altered archive and a
database that holds data are refused before anything changes.

pg_dump and pg_restore run against the test database in processes of their own, so the
tests are transactional: what they dump must be committed."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from aid_portal import audit_chain, backup
from aid_portal.models import AuditEvent, AuditSeal
from cases.models import Document, Member
from tests.cases.conftest import make_family, policy, proof_items  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def backed_up(make_family, media, tmp_path):  # noqa: F811
    """A family of two with two uploaded scans, its audit log sealed, and its backup."""
    family = make_family()
    assert audit_chain.audit_seal() > 0
    folder = tmp_path / "backups"
    folder.mkdir()
    call_command("backup", str(folder), stdout=io.StringIO())
    (archive,) = folder.iterdir()
    return family, archive


def table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('%I', c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
        tables = [name for (name,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - names from pg_class
            counts[table.strip('"')] = cursor.fetchone()[0]
    return counts


def checksums(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def destroy(media: Path) -> None:
    """What a lost server leaves: every table empty (as the test database's owner, who
    alone may TRUNCATE the audit log), and no files. The record of applied migrations
    stays, so that a failed restore does not leave a kept test database unmigratable."""
    tables = ", ".join(f'"{name}"' for name in table_counts() if name != "django_migrations")
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    shutil.rmtree(media)


def rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of ``archive`` with each member's bytes passed through ``change(name, data)``."""
    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


def test_a_backup_restores_every_row_file_and_the_audit_chain(backed_up, media):
    family, archive = backed_up
    counts = table_counts()
    files = checksums(media)
    head = AuditSeal.objects.order_by("-event_id").first()
    assert Document.objects.count() == 2 and len(files) == 2
    assert AuditEvent.objects.filter(action="backup.create").count() == 1
    assert head.event_id == AuditEvent.objects.order_by("-id").first().id  # its own, sealed

    destroy(media)
    assert set(name for name, rows in table_counts().items() if rows) == {"django_migrations"}
    out = io.StringIO()
    call_command("restore", str(archive), stdout=out)

    # Each table as backed up; the restore adds its own audit event and chain check.
    restored = table_counts()
    assert restored == {
        **counts,
        "aid_portal_auditevent": counts["aid_portal_auditevent"] + 1,
        "aid_portal_auditcheck": counts["aid_portal_auditcheck"] + 1,
    }
    assert AuditEvent.objects.order_by("-id").first().action == "backup.restore"
    assert checksums(media) == files
    check = audit_chain.audit_verify()
    assert check.ok, check.problem
    assert (check.sealed_up_to, check.head_digest) == (head.event_id, head.digest)
    # The identity number decrypts with this installation's keys, kept apart.
    assert Member.objects.get(pk=family.applicant.pk).person.identity_number == (
        family.applicant.person.identity_number
    )
    # The privileges come back too: the snapshot import's SECURITY DEFINER functions
    # stay closed to PUBLIC, as migration verification/0010 left them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_function_privilege('public', 'aid_records_partition_drop(bigint)', "
            "'EXECUTE')"
        )
        assert cursor.fetchone()[0] is False
    document = Document.objects.first()
    assert hashlib.sha256(document.file.read()).hexdigest() == document.sha256
    report = out.getvalue()
    assert "the restore matches the backup" in report
    assert f"head digest {head.digest} as in the backup" in report


def test_the_archive_holds_no_secret_and_a_manifest(backed_up, settings):
    _, archive = backed_up
    raw = archive.read_bytes()
    for secret in (settings.SECRET_KEY, settings.FIELD_HASH_KEY, *settings.FIELD_ENCRYPTION_KEYS):
        assert secret.encode() not in raw
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = set(tar.getnames())
    assert names == {"manifest.json", "database.dump"} | {f"files/{n}" for n in manifest["files"]}
    assert manifest["row_counts"]["cases_document"] == 2
    assert manifest["audit_chain"]["head_digest"] == (
        AuditSeal.objects.order_by("-event_id").first().digest
    )
    leaves = MigrationLoader(connection).graph.leaf_nodes()
    assert sorted(f"{app}.{name}" for app, name in leaves) == sorted(manifest["migration_heads"])


def test_an_altered_file_in_the_archive_is_refused_before_anything_changes(
    backed_up, media, tmp_path
):
    _, archive = backed_up
    with tarfile.open(archive) as tar:
        victim = next(name for name in tar.getnames() if name.startswith("files/"))
    altered = rewrite(
        archive,
        tmp_path / "altered.tar",
        lambda name, data: data + b"tampered" if name == victim else data,
    )
    events = AuditEvent.objects.count()
    files = checksums(media)
    with pytest.raises(CommandError, match="does not match its manifest") as refused:
        call_command("restore", str(altered), "--force", stdout=io.StringIO())
    assert f"{victim}: its SHA-256 differs from the manifest" in str(refused.value)
    assert AuditEvent.objects.count() == events
    assert checksums(media) == files


def test_a_restore_over_a_database_that_holds_data_needs_force(backed_up, media):
    _, archive = backed_up
    counts = table_counts()
    with pytest.raises(CommandError, match=r"is not empty \(\d+ audit events, \d+ staff"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert table_counts() == counts


def test_a_restore_that_does_not_reach_the_manifests_chain_head_fails(backed_up, media, tmp_path):
    """The manifest is the record of what the backup held: a restored chain that ends
    elsewhere (here, a manifest naming another head) is a failure, with exit status 1."""
    _, archive = backed_up

    def other_head(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["audit_chain"]["head_digest"] = "f" * 64
        return json.dumps(manifest).encode()

    wrong = rewrite(archive, tmp_path / "wrong-head.tar", other_head)
    destroy(media)
    err = io.StringIO()
    with pytest.raises(CommandError, match="does not match the backup: 1 differences"):
        call_command("restore", str(wrong), stdout=io.StringIO(), stderr=err)
    assert "audit chain ends at event" in err.getvalue()
    assert AuditEvent.objects.order_by("-id").first().new_values["ok"] is False


def test_the_tools_are_those_of_the_servers_version():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    for name in ("pg_dump", "pg_restore"):
        assert backup._tool_major(backup.postgres_tool(name)) == major
