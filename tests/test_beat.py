"""Beat runs once across machines (aid_portal/beat.py): two real ``celery beat``
processes on the test database and broker, one schedule due every second. The second
beat waits as a standby and sends nothing; when the first stops it takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from aid_portal.beat import LOCK_KEY, broker_client
from aid_portal.celery import app as celery_app
from tests.conftest import _test_database_url, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parent.parent


class Beat:
    def __init__(self, name: str, tmp_path: Path):
        self.log = tmp_path / f"beat-{name}.log"
        env = {**os.environ, "DATABASE_URL": _test_database_url(), "BEAT_LOCK_SECONDS": "10"}
        command = [sys.executable, "-m", "celery", "-A", "aid_portal", "beat", "--loglevel"]
        command += ["INFO", "--schedule", str(tmp_path / f"schedule-{name}")]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def says(self, text: str) -> bool:
        return text in self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def every_second():
    """Only one schedule, due every second, sent to a queue of its own (no worker
    takes from it: the messages stay there to be counted)."""
    queue = f"beat-test-{os.getpid()}"
    client = broker_client(celery_app)
    client.delete(queue, LOCK_KEY)
    PeriodicTask.objects.update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="beat once test", task="aid_portal.health", interval=every, queue=queue
    )
    PeriodicTasks.update_changed()
    yield lambda: client.llen(queue)
    client.delete(queue)


def test_a_second_beat_waits_and_sends_nothing_until_the_first_stops(every_second, tmp_path):
    first = Beat("first", tmp_path)
    beats = [first]
    try:
        wait_for(lambda: first.says("took the lock"), timeout=60)
        second = Beat("second", tmp_path)
        beats.append(second)
        wait_for(lambda: second.says("waiting as a standby"), timeout=60)
        wait_for(lambda: every_second() >= 1, timeout=30)

        # Both running: the task is sent once a second, not twice.
        start_count, started = every_second(), time.monotonic()
        time.sleep(8)
        sent, seconds = every_second() - start_count, time.monotonic() - started
        print(f"two beats: {sent} sends in {seconds:.1f} s")
        assert 0.5 * seconds <= sent <= seconds + 2
        assert not second.says("took the lock")
        assert second.process.poll() is None  # waiting, not dead

        # The first stops (its machine is shut down): the standby takes over at once.
        first.stop()
        stopped = time.monotonic()
        wait_for(lambda: second.says("took the lock"), timeout=30)
        print(f"standby took over {time.monotonic() - stopped:.1f} s after the first stopped")
        count = every_second()
        wait_for(lambda: every_second() >= count + 3, timeout=30)
    finally:
        for beat in beats:
            beat.stop()
