"""The layout of several machines (docs/deploy.md, issue 16 item 6): every task on a
named queue, every queue consumed by the launcher's and compose.yaml's workers, exactly
one beat, and the PgBouncer switch.

compose.yaml is only parsed here: docker is not available where the tests run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aid_portal import launcher, queues
from aid_portal.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE = BASE_DIR / "compose.yaml"


def registered_tasks() -> set[str]:
    celery_app.loader.import_default_modules()  # autodiscovery of every app's tasks
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


def test_every_registered_task_has_an_explicit_route_to_a_known_queue():
    tasks = registered_tasks()
    assert len(tasks) >= 20  # autodiscovery really ran
    assert sorted(tasks - set(settings.CELERY_TASK_ROUTES)) == []  # a new task needs a route
    assert sorted(set(settings.CELERY_TASK_ROUTES) - tasks) == []  # no route to nothing
    for name in tasks:
        queue = celery_app.amqp.router.route({}, name)["queue"].name
        assert queue in queues.QUEUES, name
        assert queue == queues.TASK_QUEUES[name]


def test_bulk_work_is_kept_off_the_interactive_queues():
    assert queues.TASK_QUEUES["verification.query_run"] == queues.VERIFICATION
    assert queues.TASK_QUEUES["credit.outbox_deliver"] == queues.OUTBOX
    for bulk in ("verification.batch_run", "verification.batch_run_all"):
        assert queues.TASK_QUEUES[bulk] == queues.BATCH
    assert queues.TASK_QUEUES["verification.feed_import"] == queues.BATCH
    on_interactive = {
        name for name, queue in queues.TASK_QUEUES.items() if queue == queues.VERIFICATION
    }
    assert on_interactive == {"verification.query_run"}


def worker_queues(command: list[str]) -> set[str]:
    """The queues a ``celery worker`` command line consumes (-Q / --queues)."""
    for flag in ("-Q", "--queues"):
        if flag in command:
            return set(command[command.index(flag) + 1].split(","))
    return {queues.DEFAULT}  # celery's default: only the default queue


def test_the_launcher_starts_workers_for_every_queue_and_batch_apart():
    processes = launcher.portal_processes("127.0.0.1", 8000)
    workers = {name: cmd for name, cmd in processes.items() if "worker" in cmd}
    consumed = [worker_queues(cmd) for cmd in workers.values()]
    assert set().union(*consumed) == set(queues.QUEUES)
    # The batch queue has a worker of its own: a comparison never occupies the worker
    # that answers a caseworker's department query.
    assert {queues.BATCH} in consumed
    assert all(queues.VERIFICATION not in q for q in consumed if queues.BATCH in q)
    assert sum("beat" in cmd for cmd in processes.values()) == 1


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def command_of(service: dict) -> list[str]:
    command = service.get("command", [])
    if isinstance(command, str):
        return shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2].split("exec ", 1)[-1])
    return [str(part) for part in command]


def test_compose_has_every_service_of_the_layout():
    services = compose()["services"]
    for name in ("postgres", "pgbouncer", "redis", "migrate", "web", "beat", "nginx"):
        assert name in services, name
    assert services["web"]["deploy"]["replicas"] >= 2
    assert "gunicorn" in command_of(services["web"])


def test_compose_runs_a_worker_per_queue_and_exactly_one_beat():
    services = compose()["services"]
    workers = {
        name: worker_queues(command_of(svc))
        for name, svc in services.items()
        if "worker" in command_of(svc)
    }
    assert sorted(q for consumed in workers.values() for q in consumed) == sorted(queues.QUEUES)
    assert all(len(consumed) == 1 for consumed in workers.values())  # a worker per queue
    beats = [name for name, svc in services.items() if "beat" in command_of(svc)]
    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    # beat's scheduler is the one with the lock (settings), not one given on the command line
    assert "-S" not in command_of(services["beat"]) and "--scheduler" not in command_of(
        services["beat"]
    )
    assert settings.CELERY_BEAT_SCHEDULER == "aid_portal.beat:SingleBeatScheduler"


def test_compose_session_state_goes_through_the_session_pool():
    """The workers whose tasks keep session state (the feed import on batch) reach
    PostgreSQL through PgBouncer's session pool; the rest through the transaction pool."""
    services = compose()["services"]
    ini = (BASE_DIR / "deploy" / "pgbouncer" / "pgbouncer.ini").read_text(encoding="utf-8")
    assert re.search(r"^aid_portal = .*pool_mode=transaction", ini, re.M)
    assert re.search(r"^aid_portal_session = .*pool_mode=session", ini, re.M)
    env = (BASE_DIR / "deploy" / "portal.env.example").read_text(encoding="utf-8")
    assert "DATABASE_POOLER=pgbouncer" in env and "@pgbouncer:6432/aid_portal\n" in env
    for name in ("worker-batch", "worker-default"):
        text = services[name]["command"][2]
        assert 'DATABASE_URL="$$DATABASE_SESSION_URL" DATABASE_POOLER=none' in text, name
    assert "aid_portal_session" in env
    # migrations go straight to PostgreSQL as the owner
    assert "@postgres:5432/" in (BASE_DIR / "deploy" / "owner.env.example").read_text()


def test_docs_name_the_compose_file_and_its_services():
    text = (BASE_DIR / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "compose.yaml" in text
    for queue in queues.QUEUES:
        assert f"`{queue}`" in text, queue


@pytest.mark.django_db
def test_the_feed_import_refuses_transaction_pooling(settings):
    from verification.feeds.services import snapshot_import

    settings.DATABASE_POOLER = "pgbouncer"
    with pytest.raises(ImproperlyConfigured, match="session"):
        snapshot_import(snapshot_id=1)


def settings_with(**env: str) -> subprocess.CompletedProcess:
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS', False))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "aid_portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_pgbouncer_switch_turns_off_server_side_cursors():
    assert settings_with(DATABASE_POOLER="pgbouncer").stdout.split()[-1] == "True"
    assert settings_with(DATABASE_POOLER="none").stdout.split()[-1] == "False"
    wrong = settings_with(DATABASE_POOLER="pgpool")
    assert (
        wrong.returncode != 0 and "DATABASE_POOLER: expected one of none, pgbouncer" in wrong.stderr
    )
