"""Shared fixtures: named people in named places, a real Celery worker, a real browser.

The places are the demo county (西吉县) with its townships A (吉强镇) and B (兴隆镇),
plus a second county (原州区) that is *outside* for everybody in the first.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.db import connection, transaction

from aid_portal import services
from aid_portal.celery import app as celery_app
from aid_portal.demo import REGIONS_CSV
from aid_portal.models import CalendarYear, Region, Role, User
from aid_portal.queues import QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "Correct-Horse-42"

OTHER_COUNTY_CSV = """code,name,parent_code
640402000000,原州区,640400000000
640402100000,三营镇,640402000000
640402100201,三营村,640402100000
"""


@pytest.fixture(autouse=True)
def _fast_hashing_and_plain_static(settings):
    # Password hashing is not under test; PBKDF2 would cost ~0.3 s per user per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest of collected static files does not exist in a test run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def behaviour_catalogue(request):
    """The catalogue of untrustworthy behaviours and the paying banks that data
    migrations load: a
    transactional test earlier in the run may have emptied the table since, so it is
    loaded again (idempotent) for every test that uses the database."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    ):
        request.getfixturevalue("transactional_db")
    elif "db" in request.fixturenames or marker is not None:
        request.getfixturevalue("db")
    else:
        return
    from cases.payments.catalogue import banks_load
    from cases.payments.models import Bank
    from credit.findings.catalogue import catalogue_load
    from credit.findings.models import Behaviour

    catalogue_load(Behaviour)
    banks_load(Bank)


@dataclass
class Places:
    county: Region
    township_a: Region
    village_a: Region
    township_b: Region
    village_b: Region
    other_county: Region
    other_township: Region
    other_village: Region


@pytest.fixture
def places(db) -> Places:
    # chinese-calendar knows the holiday schedules up to 2026; deadlines of cases
    # accepted "today" reach into later years, which an office enters by hand. The test
    # world has them entered, so the suite does not start failing as the year turns.
    for year in range(2027, datetime.date.today().year + 2):
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "tests"})
    services.region_tree_load(csv_text=REGIONS_CSV.read_text(encoding="utf-8"), actor=None)
    services.region_tree_load(csv_text=OTHER_COUNTY_CSV, actor=None)
    get = Region.objects.get
    return Places(
        county=get(code="640422000000"),
        township_a=get(code="640422100000"),
        village_a=get(code="640422100201"),
        township_b=get(code="640422101000"),
        village_b=get(code="640422101201"),
        other_county=get(code="640402000000"),
        other_township=get(code="640402100000"),
        other_village=get(code="640402100201"),
    )


@dataclass
class People:
    assistant_a: User
    caseworker_a: User
    approver_a: User
    caseworker_b: User
    auditor: User
    verifier: User
    feedadmin: User
    outsider_auditor: User  # county auditor of the other county
    nobody: User  # signed in, holds no role
    superuser: User
    finance: User  # the county's finance reviewer (reads and reviews payment rosters)

    def by_name(self) -> dict[str, User]:
        return dict(self.__dict__)


def make_user(
    username: str, role: str | None = None, region: Region | None = None, *, superuser: bool = False
) -> User:
    user = services.user_create(
        actor=None, username=username, full_name=username, password=PASSWORD, is_superuser=superuser
    )
    if role is not None:
        services.role_grant(actor=None, user=user, role=role, region=region)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def people(places) -> People:
    return People(
        assistant_a=make_user("assistant_a", Role.VILLAGE_ASSISTANT, places.village_a),
        caseworker_a=make_user("caseworker_a", Role.TOWNSHIP_CASEWORKER, places.township_a),
        approver_a=make_user("approver_a", Role.TOWNSHIP_APPROVER, places.township_a),
        caseworker_b=make_user("caseworker_b", Role.TOWNSHIP_CASEWORKER, places.township_b),
        auditor=make_user("auditor", Role.COUNTY_AUDITOR, places.county),
        verifier=make_user("verifier", Role.VERIFICATION_OFFICER, places.county),
        feedadmin=make_user("feedadmin", Role.FEED_ADMIN, places.county),
        outsider_auditor=make_user("outsider_auditor", Role.COUNTY_AUDITOR, places.other_county),
        nobody=make_user("nobody"),
        superuser=make_user("root", superuser=True),
        finance=make_user("finance", Role.FINANCE_REVIEWER, places.county),
    )


def _test_database_url() -> str:
    """The URL of the database this test run uses, for processes the test starts."""
    s = connection.settings_dict
    host = s["HOST"] or s.get("OPTIONS", {}).get("host", "")
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{quote(host, safe='')}{port}/{s['NAME']}"


WORKER_QUEUES = ",".join(QUEUES)


def _worker_command(hostname: str, loglevel: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aid_portal",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        loglevel,
        "--queues",
        WORKER_QUEUES,
        "--hostname",
        hostname,
        "--without-gossip",
        "--without-mingle",
    ]


def _purge_queues() -> None:
    """Tasks left in the broker by earlier tests (enqueued while no worker ran) refer to
    rows that no longer exist: empty the queues before a test's worker starts."""
    with celery_app.connection_for_write() as connection_:
        for queue in WORKER_QUEUES.split(","):
            connection_.default_channel.queue_purge(queue)


def _stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker in its own process, on the real broker and the test database.

    Yields a function that restarts it (for tests of delivery across a restart).
    """
    env = {**os.environ, "DATABASE_URL": _test_database_url()}
    command = _worker_command(f"test-{os.getpid()}@%h", "WARNING")
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env)
        processes.append(process)
        return process

    stop = _stop_worker

    _purge_queues()
    worker = start()

    class Handle:
        @staticmethod
        def restart():
            nonlocal worker
            stop(worker)
            worker = start()

        @property
        def process(self):
            return worker

    yield Handle()
    for process in processes:
        stop(process)


class WorkerPair:
    """Two worker processes, named as on two machines, and what each ran."""

    def __init__(self, processes: list[subprocess.Popen], logs: list[Path]):
        self.processes, self.logs = processes, logs

    def received(self, task_name: str) -> list[int]:
        """How many tasks named ``task_name`` each worker received (its INFO log)."""
        pattern = re.compile(rf"Task {re.escape(task_name)}\[[0-9a-f-]+\] received")
        return [
            len(pattern.findall(log.read_text(encoding="utf-8", errors="replace")))
            for log in self.logs
        ]


@pytest.fixture
def two_celery_workers(transactional_db, tmp_path):
    """Two real Celery workers on the same queues, the test database and the broker, as
    on two machines (issue 16 item 6): the same task can run on both at once."""
    env = {**os.environ, "DATABASE_URL": _test_database_url()}
    _purge_queues()
    processes, logs = [], []
    for host in ("host-a", "host-b"):
        log = tmp_path / f"worker-{host}.log"
        with log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    _worker_command(f"test-{os.getpid()}@{host}", "INFO"),
                    cwd=BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        logs.append(log)
    pair = WorkerPair(processes, logs)
    # Both ready before the test sends anything, or the first would take every task.
    wait_for(lambda: all("ready." in log.read_text(errors="replace") for log in logs), timeout=60)
    yield pair
    for process in processes:
        _stop_worker(process)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: no CHROMIUM_PATH (see .ci/run)")
        pytest.skip("no Chromium on this machine (bin/test says so at the start)")
    return path


def pytest_collection_modifyitems(items):
    """Browser tests last: while Playwright's event loop lives, Django must be told its
    synchronous calls are safe, and no other test should run under that waiver."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to
    # run beside one unless told the calls are really synchronous (they are).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # An English browser on purpose: the portal must still open in Chinese.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"gave up waiting after {timeout} s")


class InThread:
    """A call running in a thread of its own, on a database connection of its own (the
    test must be transactional to see what it commits)."""

    def __init__(self, call):
        self.result = self.error = self.pid = None
        self._connected = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(call,))
        self.thread.start()
        if not self._connected.wait(timeout=10):
            pytest.fail("the thread did not reach the database within 10 s")

    def _run(self, call) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self._connected.set()
            self.result = call()
        except Exception as exc:
            self.error = exc
        finally:
            self._connected.set()
            connection.close()

    def session_state(self) -> str:
        """Its connection as PostgreSQL sees it: "idle" between transactions, "idle in
        transaction" while one is open and waiting."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [self.pid])
            return cursor.fetchone()[0]

    def join(self, timeout: float = 60.0):
        """Wait for the call to end; its result, or its exception raised here."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            pytest.fail(f"the call still runs after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result


@contextlib.contextmanager
def lock_wait_at_most(seconds: int = 1):
    """A transaction that gives up on a row lock after ``seconds`` (LockNotAvailable)
    instead of queueing behind whoever holds it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(seconds)}s'")
        yield


# --- a worker killed in the middle of a task --------------------------------------------------


class Hold:
    """A transaction on a connection of its own (not Django's) that runs ``sql`` and stays
    open: a table locked IN EXCLUSIVE MODE (others read, nobody writes) or a row locked
    FOR UPDATE. A task that reaches the write waits there, in the middle of its work,
    until the hold is released; ``blocked()`` is that moment, as PostgreSQL sees it."""

    def __init__(self, sql: str, params=()):
        s = connection.settings_dict
        self.conn = psycopg2.connect(
            dbname=s["NAME"],
            user=s["USER"],
            password=s["PASSWORD"] or None,
            host=s["HOST"] or None,
            port=s["PORT"] or None,
        )
        self.cursor = self.conn.cursor()
        self.cursor.execute("SELECT pg_backend_pid()")
        self.pid = self.cursor.fetchone()[0]
        self.cursor.execute(sql, params)

    @classmethod
    def row(cls, model, pk: int) -> Hold:
        """One row of ``model`` locked FOR UPDATE."""
        table = connection.ops.quote_name(model._meta.db_table)
        return cls(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608 (a model's table)

    @classmethod
    def table(cls, model) -> Hold:
        """The table of ``model`` locked against writes (reads go on)."""
        table = connection.ops.quote_name(model._meta.db_table)
        return cls(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

    def blocked(self) -> int | None:
        """The backend waiting on this hold, once one is."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [self.pid],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def backends_waiting() -> int:
    """How many sessions of this database wait on a lock another holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
        )
        return cursor.fetchone()[0]


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def broker_redeliver() -> None:
    """What Redis does for a task whose worker died once the visibility timeout has
    passed (CELERY_BROKER_TRANSPORT_OPTIONS): put the unacknowledged message back on
    its queue. Done at once rather than waited for, as the claims' leases are aged."""
    with celery_app.connection_for_write(transport_options={"visibility_timeout": 0}) as conn:
        conn.default_channel.qos.restore_visible(num=1000, interval=1)


def kill_mid_task(worker, hold: Hold, *, timeout: float = 90.0) -> None:
    """Wait until the worker's task is stopped at ``hold``, SIGKILL the worker, release the
    hold and wait until the dead worker's database session has ended (it rolls back what
    it had not committed), so what follows sees what a crash leaves."""
    blocked = wait_for(hold.blocked, timeout=timeout)
    worker.process.kill()
    worker.process.wait()
    hold.release()
    wait_for(lambda: backend_gone(blocked), timeout=30)


def kill_and_redeliver(worker, hold: Hold, *, before_redelivery=None) -> None:
    """Kill the worker mid-task at ``hold``; let time pass for the broker (and, through
    ``before_redelivery``, for the task's own claims); start a worker again."""
    kill_mid_task(worker, hold)
    if before_redelivery is not None:
        before_redelivery()
    broker_redeliver()
    worker.restart()
