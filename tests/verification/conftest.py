"""The department simulator, started for real on a free loopback port.

``simulator`` is one well-behaved simulator for the whole session; ``start_simulator``
starts one with the misbehaviour a test needs (latency, failures, garbage) and stops it
after the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aid_portal.simulator import check_character

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SEED = 7


def identity_number(sequence: int, *, birth: str = "19800101", area: str = "640422") -> str:
    """A valid identity number of the demo county; the sequence makes it unique."""
    first17 = f"{area}{birth}{sequence:03d}"
    return first17 + check_character(first17)


@dataclass
class RunningSimulator:
    url: str
    process: subprocess.Popen
    log_path: Path

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/stats", timeout=5).json()

    def attempts(self, request_id: str) -> int:
        return self.stats()["attempts"].get(str(request_id), 0)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(log_dir: Path, **options) -> RunningSimulator:
    """Start ``python -m aid_portal.simulator`` with ``options`` as its command line
    (latency_ms=1500 becomes --latency-ms 1500) and wait until /health answers."""
    options.setdefault("seed", SEED)
    port = _free_port()
    command = [sys.executable, "-m", "aid_portal.simulator", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    # The simulator's own defaults come from these; a developer's shell must not leak in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("SIMULATOR_")}
    log_path = Path(tempfile.mkstemp(prefix="simulator-", suffix=".log", dir=log_dir)[1])
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    running = RunningSimulator(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the simulator stopped at start:\n{running.log()}")
        try:
            if httpx.get(f"{running.url}/health", timeout=1).text == "ok":
                return running
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    running.stop()
    pytest.fail(f"the simulator did not answer /health within 15 s:\n{running.log()}")


@pytest.fixture(scope="session")
def simulator(tmp_path_factory) -> RunningSimulator:
    running = _start(tmp_path_factory.mktemp("simulator"))
    yield running
    running.stop()


@pytest.fixture
def start_simulator(tmp_path):
    started: list[RunningSimulator] = []

    def start(**options) -> RunningSimulator:
        running = _start(tmp_path, **options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
