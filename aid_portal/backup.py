"""Backups that restore: the database, the private files and a manifest in one archive.

An archive (an uncompressed tar: the dump is compressed already, and so are the scans)
holds ``database.dump`` (``pg_dump -Fc``), the private files folder under ``files/`` and
``manifest.json``: when it was made, the portal's version and migrations, the row count
of every table, the SHA-256 of the dump and of every file, and the audit chain's head.
:func:`backup_restore` checks the archive against its manifest before it touches
anything, restores, and checks the result against the manifest again: the same rows,
the same files, and an audit chain that is whole and reaches the same head.

No secret goes into an archive: ``DJANGO_SECRET_KEY`` and the field keys are kept apart
(docs/deploy.md, Backups). Without the field keys a restored database's identity numbers
cannot be read; with them inside, a stolen backup could be.

The counts, the chain's head and the dump come from one snapshot (``pg_export_snapshot``
shared with ``pg_dump --snapshot``), so the manifest describes exactly what was dumped
while the portal goes on writing.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from psycopg2 import sql

from aid_portal import audit_chain, dbroles
from aid_portal.audit import audit_record
from aid_portal.models import AuditEvent, AuditSeal, User

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files"
CHUNK = 1 << 20


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why, in one sentence."""


# --- PostgreSQL's own tools ---------------------------------------------------------------


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)\.\d+", out)
    return int(found.group(1)) if found else None


def _tool_folders() -> list[Path]:
    """Where to look for pg_dump and pg_restore: the configured folder alone, or else the
    embedded server's (pgserver ships its own), the distribution's versioned folders and
    the PATH."""
    if settings.POSTGRES_BIN_DIR:
        return [Path(settings.POSTGRES_BIN_DIR)]
    folders = []
    spec = find_spec("pgserver")
    if spec is not None and spec.origin:
        folders.append(Path(spec.origin).parent / "pginstall" / "bin")
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    folders += [Path(p) for p in os.get_exec_path() if p]
    return folders


def postgres_tool(name: str, server_major: int | None = None) -> Path:
    """The ``name`` (pg_dump, pg_restore) made for the server's major version, or else the
    oldest newer one: an older pg_dump refuses a newer server, and a newer pg_restore may
    write what an older server does not understand."""
    server_major = server_major or _server_major()
    found: dict[int, Path] = {}
    for folder in _tool_folders():
        path = folder / name
        if path.is_file() and os.access(path, os.X_OK):
            major = _tool_major(path)
            if major is not None:
                found.setdefault(major, path)
    if server_major in found:
        return found[server_major]
    newer = sorted(major for major in found if major > server_major)
    if newer:
        return found[newer[0]]
    seen = ", ".join(f"{found[m]} ({m})" for m in sorted(found)) or "none"
    raise BackupError(
        f"no {name} for PostgreSQL {server_major} or newer (found: {seen}); "
        "set POSTGRES_BIN_DIR to the folder of the server's own binaries"
    )


def _libpq_env() -> dict[str, str]:
    """The connection of Django's default database, as libpq's variables: the password
    stays out of the command line (and out of ``ps``)."""
    s = connection.settings_dict
    options = s.get("OPTIONS", {})
    env = {**os.environ, "PGDATABASE": s["NAME"]}
    values = {
        "PGHOST": s.get("HOST") or options.get("host"),
        "PGPORT": s.get("PORT"),
        "PGUSER": s.get("USER"),
        "PGPASSWORD": s.get("PASSWORD"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
    }
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def _run(command: list[str]) -> str:
    result = subprocess.run(command, env=_libpq_env(), capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{Path(command[0]).name} failed (exit status {result.returncode}): "
            + " / ".join(message[-5:])
        )
    return result.stdout


# --- what the manifest describes ----------------------------------------------------------


def row_counts() -> dict[str, int]:
    """The number of rows of every table of the public schema, partitions included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
        tables = [name for (name,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(
                sql.SQL("SELECT count(*) FROM {}")
                .format(sql.Identifier(table))
                .as_string(cursor.connection)
            )
            counts[table] = cursor.fetchone()[0]
        return counts


def _chain_head() -> dict:
    last = AuditSeal.objects.order_by("-event_id").values_list("event_id", "digest").first()
    return {
        "sealed_up_to": last[0] if last else None,
        "head_digest": last[1] if last else "",
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def files_checksums(root: Path | None = None) -> dict[str, str]:
    """SHA-256 of every file under the private files folder, by its path in the folder."""
    root = Path(root or settings.MEDIA_ROOT)
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): _sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def _portal_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def migration_heads() -> list[str]:
    """The last migration of each app in this code, as ``app.name``."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.leaf_nodes())


# --- backup ---------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict


class _HashingReader:
    """A file read into the tar once, hashed as it goes."""

    def __init__(self, f):
        self.f = f
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.f.read(size)
        self.digest.update(data)
        return data


def _archive_path(target: Path, now: datetime.datetime) -> Path:
    if target.is_dir():
        return target / f"aid_portal-{now:%Y%m%d-%H%M%S}.tar"
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    if target.exists():
        raise BackupError(f"{target} exists already; a backup never overwrites one")
    return target


def backup_create(target: Path) -> BackupResult:
    """Write one archive into the folder ``target`` (named by the time) or to the file
    ``target``. Seals the audit log first, so the manifest's head covers every event
    written so far, this backup's own event included."""
    if connection.in_atomic_block:
        raise BackupError("a backup takes its own snapshot; run it outside a transaction")
    now = timezone.localtime()
    path = _archive_path(Path(target), now)
    with transaction.atomic():
        audit_record(actor=None, action="backup.create", new={"archive": path.name})
    # Sealed first, so that the head covers every event so far, this backup's own too.
    audit_chain.audit_seal()
    check = audit_chain.audit_verify()
    server_major = _server_major()
    pg_dump = postgres_tool("pg_dump", server_major)
    media_root = Path(settings.MEDIA_ROOT)
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".aid-backup-") as work:
        dump = Path(work) / DUMP
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            counts = row_counts()
            head = _chain_head()
            # The snapshot lives as long as this transaction: pg_dump must run inside it.
            _run([str(pg_dump), "-Fc", f"--snapshot={snapshot}", "-f", str(dump)])
        files: dict[str, dict] = {}
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(dump, arcname=DUMP)
            if media_root.is_dir():
                for file in sorted(media_root.rglob("*")):
                    if not file.is_file() or file.is_symlink():
                        continue
                    name = file.relative_to(media_root).as_posix()
                    info = tar.gettarinfo(file, arcname=f"{FILES}/{name}")
                    with file.open("rb") as f:
                        reader = _HashingReader(f)
                        tar.addfile(info, reader)
                    files[name] = {"sha256": reader.digest.hexdigest(), "size": info.size}
            manifest = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "portal_version": _portal_version(),
                "migration_heads": migration_heads(),
                "postgres": {
                    "server_version": server_version,
                    "pg_dump": str(pg_dump),
                    "pg_dump_major": _tool_major(pg_dump),
                },
                "database": connection.settings_dict["NAME"],
                "row_counts": counts,
                "audit_chain": {
                    **head,
                    "whole_before_backup": check.ok,
                    "problem": check.problem,
                },
                "dump": {"name": DUMP, "sha256": _sha256(dump), "size": dump.stat().st_size},
                "files": files,
                "not_included": (
                    "DJANGO_SECRET_KEY, FIELD_ENCRYPTION_KEYS and FIELD_HASH_KEY: keep them "
                    "apart from the backups; without the field keys the identity numbers "
                    "in this dump cannot be read"
                ),
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
    # Personal data: readable by the portal's user only. Renamed when whole, so a backup
    # that stopped half-way never looks like one.
    partial.chmod(0o600)
    os.replace(partial, path)
    return BackupResult(path=path, manifest=manifest)


# --- restore --------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    archive: Path
    manifest: dict = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_name(name: str) -> str | None:
    """The path of a member of ``files/`` inside the files folder, or None if it would
    leave it (an absolute path, ``..``)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return None
    return PurePosixPath(*path.parts[1:]).as_posix()


def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read())
    except (KeyError, AttributeError, ValueError):
        raise BackupError(
            "the archive has no readable manifest.json: not a portal backup"
        ) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"the archive's format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def archive_check(tar: tarfile.TarFile, manifest: dict) -> list[str]:
    """What in the archive differs from its manifest: the dump and every file, by SHA-256."""
    problems = []
    expected = {f"{FILES}/{name}": entry["sha256"] for name, entry in manifest["files"].items()}
    expected[DUMP] = manifest["dump"]["sha256"]
    seen = set()
    for member in tar.getmembers():
        if member.name == MANIFEST or member.isdir():
            continue
        if member.name not in expected:
            problems.append(f"{member.name}: in the archive but not in the manifest")
            continue
        if not member.isfile() or (member.name != DUMP and _safe_name(member.name) is None):
            problems.append(f"{member.name}: not a plain file")
            continue
        seen.add(member.name)
        digest = hashlib.sha256()
        f = tar.extractfile(member)
        while chunk := f.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != expected[member.name]:
            problems.append(f"{member.name}: its SHA-256 differs from the manifest (altered)")
    problems += [f"{name}: in the manifest but missing" for name in sorted(set(expected) - seen)]
    return problems


def database_holds_data() -> str:
    """What makes the database not empty (its audit events, its staff accounts), or ''."""
    found = []
    with connection.cursor() as cursor:
        for label, model in (("audit events", AuditEvent), ("staff accounts", User)):
            cursor.execute("SELECT to_regclass(%s)", [model._meta.db_table])
            if cursor.fetchone()[0] is None:
                continue
            count = model.objects.count()
            if count:
                found.append(f"{count} {label}")
    return ", ".join(found)


def _restore_role() -> str | None:
    """The database's owner, to own what is restored, if we are not connected as it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(datdba), current_user FROM pg_database "
            "WHERE datname = current_database()"
        )
        owner, current = cursor.fetchone()
    return owner if owner != current else None


_ACL_ENTRY = re.compile(r"^\d+;\s+\d+\s+\d+\s+(?:DEFAULT )?ACL\s")
# The roles a GRANT, REVOKE or ALTER DEFAULT PRIVILEGES line of pg_dump's names.
_ROLE_IN_ACL = re.compile(r'\b(?:TO|FROM|FOR ROLE|GRANTED BY)\s+("(?:[^"]|"")+"|[\w$]+)')


def _restore_scripts(
    dump: Path, work: Path, role: str | None, major: int, report: RestoreReport
) -> list[Path]:
    """The dump as two SQL scripts: the schema and rows, then the privileges.

    The privileges are restored, not rebuilt: migrations revoke what PostgreSQL grants
    by default (EXECUTE on the snapshot import's SECURITY DEFINER functions, from
    PUBLIC), and a restore without them would hand those functions to every role.
    Only a grant to a role that does not exist on this server is left out, and said.
    pg_restore writes both scripts whole before psql runs them, so a dump that cannot
    be read stops here, and psql never commits half a restore."""
    pg_restore = str(postgres_tool("pg_restore", major))
    toc = _run([pg_restore, "--list", str(dump)]).splitlines()
    lists = {"schema": work / "schema.list", "acl": work / "acl.list"}
    lists["schema"].write_text("\n".join(line for line in toc if not _ACL_ENTRY.match(line)))
    lists["acl"].write_text("\n".join(line for line in toc if _ACL_ENTRY.match(line)))
    scripts = []
    for part, listing in lists.items():
        script = work / f"{part}.sql"
        _run(
            [
                pg_restore,
                "--no-owner",
                *([f"--role={role}"] if role else []),
                f"--use-list={listing}",
                f"--file={script}",
                str(dump),
            ]
        )
        scripts.append(script)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles")
        roles = {name for (name,) in cursor.fetchall()} | {"PUBLIC"}
    kept, missing = [], set()
    for line in scripts[1].read_text().splitlines():
        named = {
            name[1:-1].replace('""', '"') if name.startswith('"') else name
            for name in _ROLE_IN_ACL.findall(line)
        }
        if named - roles:
            missing |= named - roles
            continue
        kept.append(line)
    scripts[1].write_text("\n".join(kept) + "\n")
    if missing:
        report.notes.append(
            "grants to roles that do not exist here were left out: "
            + ", ".join(sorted(missing))
            + " (create them, then run grant_app_role)"
        )
    return scripts


def _drop_everything() -> str:
    """SQL that drops every table, view, sequence, function and type of the public
    schema, so that the restore leaves exactly the backup's (the schema itself, its
    grants and default privileges stay, as made in docs/deploy.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 1, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                  ELSE 'TABLE' END,
                   format('%I.%I', n.nspname, c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d
                              WHERE d.objid = c.oid AND d.deptype = 'e')
              -- A column's own sequence (identity, serial) goes with its table.
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
            UNION ALL
            SELECT 2, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                   format('%I.%I(%s)', n.nspname, p.proname,
                          pg_get_function_identity_arguments(p.oid))
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d
                              WHERE d.objid = p.oid AND d.deptype = 'e')
            UNION ALL
            SELECT 3, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                   format('%I.%I', n.nspname, t.typname)
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d
                              WHERE d.objid = t.oid AND d.deptype = 'e')
            ORDER BY 1
            """
        )
        # Tables first: CASCADE takes their partitions, indexes, triggers and the
        # sequences they own with them, hence IF EXISTS on what follows.
        return "".join(
            f"DROP {kind} IF EXISTS {name} CASCADE;\n" for _, kind, name in cursor.fetchall()
        )


def _role_exists(role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None


def backup_restore(
    archive: Path, *, force: bool = False, app_role: str | None = "aid_app"
) -> RestoreReport:
    """Restore ``archive`` over this database and the private files folder, then check
    the result against the manifest. Raises BackupError before changing anything when
    the archive differs from its manifest, or when the database holds data and
    ``force`` is not given; afterwards every difference is in the report's problems."""
    archive = Path(archive)
    if connection.in_atomic_block:
        raise BackupError("a restore replaces the tables; run it outside a transaction")
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    report = RestoreReport(archive=archive)
    media_root = Path(settings.MEDIA_ROOT)
    try:
        tar = tarfile.open(archive, "r:")  # noqa: SIM115 - closed by the with below
    except tarfile.TarError as exc:
        raise BackupError(f"{archive} is not a readable tar archive: {exc}") from None
    with tar, tempfile.TemporaryDirectory(prefix="aid-restore-") as work:
        manifest = report.manifest = read_manifest(tar)
        problems = archive_check(tar, manifest)
        if problems:
            raise BackupError(
                "the archive does not match its manifest, nothing was restored: "
                + "; ".join(problems[:10])
                + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
            )
        report.lines.append(
            f"archive {archive.name} of {manifest['created_at']}: the dump and "
            f"{len(manifest['files'])} files match the manifest"
        )
        held = database_holds_data()
        if held and not force:
            raise BackupError(
                f"the database {connection.settings_dict['NAME']} is not empty ({held}); "
                "restore over it only with --force"
            )
        dump = Path(work) / DUMP
        with tar.extractfile(DUMP) as source, dump.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        server_major = _server_major()
        role = _restore_role()
        # A pg_restore older than the pg_dump cannot read its archive.
        dump_major = manifest.get("postgres", {}).get("pg_dump_major") or 0
        scripts = _restore_scripts(dump, Path(work), role, max(server_major, dump_major), report)
        drop = _drop_everything()
        # What pg_restore would drop, dropped first and in one transaction with the
        # restore (pg_restore --clean drops a partition's index before the partitioned
        # index that needs it, and fails, on PostgreSQL 16.2 among others).
        connection.close()
        _run(
            [
                str(postgres_tool("psql", server_major)),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "--command",
                drop,
                *(f"--file={script}" for script in scripts),
                "--dbname",
                connection.settings_dict["NAME"],
            ]
        )
        report.lines.append(
            f"database {connection.settings_dict['NAME']} restored"
            + (f", owned by {role}" if role else "")
        )
        _files_restore(tar, manifest, media_root, report)
    _check(manifest, media_root, report)
    _grant(app_role, report)
    heads = migration_heads()
    if heads != manifest.get("migration_heads"):
        report.notes.append(
            "the backup's migrations differ from this code's: run manage.py migrate "
            "(then grant_app_role) before starting the portal"
        )
    try:
        with transaction.atomic():
            audit_record(
                actor=None,
                action="backup.restore",
                new={
                    "archive": archive.name,
                    "created_at": manifest["created_at"],
                    "ok": report.ok,
                    "problems": report.problems[:20],
                },
            )
    except DatabaseError as exc:
        report.problems.append(f"the restore could not be recorded in the audit log: {exc}")
    return report


def _files_restore(tar, manifest: dict, media_root: Path, report: RestoreReport) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    wanted = set(manifest["files"])
    for member in tar.getmembers():
        name = _safe_name(member.name) if member.name.startswith(f"{FILES}/") else None
        if name is None or name not in wanted or not member.isfile():
            continue
        target = media_root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tar.extractfile(member) as source, partial.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        os.replace(partial, target)
    extra = sorted(set(files_checksums(media_root)) - wanted)
    report.lines.append(f"{len(wanted)} files restored into {media_root}")
    if extra:
        report.notes.append(
            f"{len(extra)} files in {media_root} are not in the backup and were left there: "
            + ", ".join(extra[:5])
        )


def _check(manifest: dict, media_root: Path, report: RestoreReport) -> None:
    """The restored rows, files and audit chain against the manifest (in this order: the
    chain's check writes a row)."""
    counts = row_counts()
    expected = manifest["row_counts"]
    differ = [
        f"{table}: {counts.get(table, 'missing')} rows, the backup had {rows}"
        for table, rows in sorted(expected.items())
        if counts.get(table) != rows
    ]
    report.problems += differ
    if not differ:
        report.lines.append(
            f"row counts: {len(expected)} tables, {sum(expected.values())} rows, as in the backup"
        )
    extra_tables = sorted(set(counts) - set(expected))
    if extra_tables:
        report.notes.append(
            "tables not in the backup, left as they were: " + ", ".join(extra_tables)
        )

    on_disk = files_checksums(media_root)
    bad = [
        name
        for name, entry in sorted(manifest["files"].items())
        if on_disk.get(name) != entry["sha256"]
    ]
    report.problems += [f"file {name}: missing or not as backed up" for name in bad]
    if not bad:
        report.lines.append(f"files: {len(manifest['files'])} checksums as in the backup")

    head = manifest["audit_chain"]
    check = audit_chain.audit_verify()
    if not check.ok:
        report.problems.append(f"audit chain broken at event {check.broken_at}: {check.problem}")
    elif (check.sealed_up_to, check.head_digest) != (head["sealed_up_to"], head["head_digest"]):
        report.problems.append(
            f"audit chain ends at event {check.sealed_up_to} ({check.head_digest or '-'}), "
            f"the backup's at {head['sealed_up_to']} ({head['head_digest'] or '-'})"
        )
    else:
        report.lines.append(
            f"audit chain whole: {check.events_checked} events, sealed up to "
            f"{check.sealed_up_to}, head digest {check.head_digest or '-'} as in the backup"
        )


def _grant(app_role: str | None, report: RestoreReport) -> None:
    if not app_role:
        report.notes.append("no application role granted: run grant_app_role as the owner")
    elif _role_exists(app_role):
        dbroles.app_role_grant(app_role)
        report.lines.append(f"granted {app_role} what the portal needs (grant_app_role)")
    else:
        report.notes.append(
            f"the role {app_role} does not exist here: create it, then run "
            f"manage.py grant_app_role {app_role} as the owner"
        )
