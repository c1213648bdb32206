"""The README's two commands end here: ``start`` (the portal with demo data) and ``test``.

    python -m aid_portal.launcher start   # web, Celery worker and beat, demo data
    python -m aid_portal.launcher test [pytest arguments]

This process owns the embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are
not set (see aid_portal.embedded), so it stays in the foreground for the portal's
whole life and stops everything on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from aid_portal import config, embedded, queues

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


# How often a long phase says it is still at work: a first start spends minutes in
# initdb, the migrations and the demo data, and a silent terminal looks hung.
TICK_SECONDS = 5.0


def say(message: str) -> None:
    print(f"[aid-portal] {message}", flush=True)


@contextlib.contextmanager
def phase(what: str, *, tick: float = TICK_SECONDS, out=None):
    """Say ``what`` starts, then "still <what> (N s)" every ``tick`` seconds until it
    ends, then how long it took: something shows at least every few seconds."""
    write = out or say
    write(f"{what} …")
    done = threading.Event()
    started = time.monotonic()

    def ticker():
        while not done.wait(tick):
            write(f"  still {what} ({time.monotonic() - started:.0f} s)")

    thread = threading.Thread(target=ticker, name="launcher-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
    write(f"{what}: done in {time.monotonic() - started:.0f} s")


def check_environment() -> None:
    """Fail in one line on a malformed URL before anything starts."""
    if url := config.env_str("DATABASE_URL"):
        config.parse_database_url(url)
    if url := config.env_str("REDIS_URL"):
        config.validate_redis_url(url)


def compile_messages() -> None:
    """Compile the .po catalogues with Babel: no GNU gettext needed on the machine."""
    # Imported here, not for a cycle: only the launcher compiles the catalogue.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (BASE_DIR / "locale").glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), *args],
        check=True,
        cwd=BASE_DIR,
        env={**os.environ, **(env or {})},
    )


def start() -> int:
    host = config.env_str("PORTAL_HOST", "127.0.0.1")
    port = config.env_int("PORTAL_PORT", 8000, minimum=1)
    # -v 1: migrate names each migration as it applies it.
    if embedded.embedded_database():
        # As in production (docs/deploy.md): the owner migrates and grants; the portal's
        # processes run as the application role, which owns nothing.
        owner = {"DATABASE_URL": embedded.role_url(embedded.OWNER_ROLE)}
        with phase("migrating the database (as its owner)"):
            manage("migrate", "--noinput", "-v", "1", env=owner)
            manage("grant_app_role", embedded.APP_ROLE, env=owner)
        os.environ["DATABASE_URL"] = embedded.role_url(embedded.APP_ROLE)
    else:
        with phase("migrating the database"):
            manage("migrate", "--noinput", "-v", "1")
    with phase("collecting static files"):
        manage("collectstatic", "--noinput", "-v", "1")
    with phase("loading the demo data"):
        manage("load_demo")
    say("starting the web server, the Celery workers and beat, and the department simulator")
    processes = portal_processes(host, port)
    # The department simulator plays the live departments of the demo, on loopback only.
    simulator = urlsplit(config.env_str("SIMULATOR_URL", "http://127.0.0.1:8090"))
    if simulator.hostname in {"127.0.0.1", "localhost"}:
        processes["simulator"] = [
            PYTHON,
            "-m",
            "aid_portal.simulator",
            "--host",
            simulator.hostname,
            "--port",
            str(simulator.port or 80),
            "--latency-ms",
            "150",
            "--failure-rate",
            "0.05",
            "--seed",
            "7",
        ]
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children: dict[str, subprocess.Popen] = {}
    exit_code = 0
    try:
        for name, command in processes.items():
            children[name] = subprocess.Popen(command, cwd=BASE_DIR)
        print_welcome(f"http://{host}:{port}/")
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    say(f"{name} stopped with exit code {child.returncode}; stopping the portal")
                    exit_code = 1
                    stopping = True
            time.sleep(0.5)
    finally:
        say("stopping")
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return exit_code


def celery_worker(queues_: tuple[str, ...], *, name: str, concurrency: int) -> list[str]:
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "aid_portal",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--queues",
        ",".join(queues_),
        "--hostname",
        f"{name}@%h",
    ]


def portal_processes(host: str, port: int) -> dict[str, list[str]]:
    """The commands of the portal's processes on this one machine. Two workers, as on
    servers (docs/deploy.md): bulk work has its own, so a batch comparison never keeps
    a caseworker's department query or an outbox delivery waiting."""
    return {
        "web": [
            PYTHON,
            "-m",
            "gunicorn",
            "aid_portal.wsgi",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(config.env_int("WEB_WORKERS", 2, minimum=1)),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ],
        "worker": celery_worker(
            tuple(queue for queue in queues.QUEUES if queue != queues.BATCH),
            name="portal",
            concurrency=config.env_int("CELERY_CONCURRENCY", 2, minimum=1),
        ),
        "worker-batch": celery_worker((queues.BATCH,), name="portal-batch", concurrency=1),
        "beat": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "aid_portal",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(embedded.data_dir() / "celerybeat-schedule"),
        ],
    }


def print_welcome(address: str) -> None:
    # Imported here, not for a cycle: Django is set up only once the servers run.
    import django

    django.setup()
    # Imported after setup, not for a cycle: the demo's staff table names Role from models.
    from aid_portal.demo import DEMO_PASSWORD, DEMO_USERS

    lines = [f"the portal is up at {address}", f"demo logins (password {DEMO_PASSWORD}):"]
    for demo in DEMO_USERS:
        role = demo.role.label if demo.role else "superuser"
        lines.append(f"  {demo.username:<14} {demo.full_name:<8} {role}")
    lines.append("press Ctrl-C to stop")
    for line in lines:
        say(line)


def find_chromium() -> str | None:
    explicit = config.env_str("CHROMIUM_PATH")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def test(pytest_args: list[str]) -> int:
    chromium = find_chromium()
    in_ci = config.env_bool("CI", default=False)
    args = list(pytest_args)
    if chromium:
        os.environ["CHROMIUM_PATH"] = chromium
        say(f"browser tests run in {chromium}")
    elif in_ci:
        say("no Chromium found, and CI may not skip the browser tests: install Debian's chromium")
        return 1
    else:
        say(
            "no Chromium found: the browser tests are SKIPPED "
            "(install Debian's 'chromium' package, or set CHROMIUM_PATH)"
        )
        args = ["-m", "not browser", *args]
    # Imported here, not for a cycle: pytest is a development dependency.
    import pytest

    return int(pytest.main(args))


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("start", [])
    if command not in {"start", "test"}:
        print(
            f"usage: python -m aid_portal.launcher start|test [pytest args]; got {command!r}",
            file=sys.stderr,
        )
        return 2
    try:
        check_environment()
        if command == "test" and not os.environ.get("AID_PORTAL_DATA_DIR"):
            # Tests get servers of their own, so a running portal's worker never
            # picks up a test's task (and the reverse).
            os.environ["AID_PORTAL_DATA_DIR"] = str(BASE_DIR / ".data" / "test")
        embedded.ensure_services(phase=phase)
        # Import the settings now so that any bad value stops here, in one line.
        import aid_portal.settings  # noqa: F401
    except config.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with phase("compiling the translations"):
        compile_messages()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")
    try:
        return start() if command == "start" else test(rest)
    except config.ConfigError as exc:  # the launcher's own variables (PORTAL_PORT, CI, ...)
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    finally:
        embedded.release_services()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
