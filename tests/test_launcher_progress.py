"""bin/start says what it is doing: each phase as it starts and ends, and a line every few
seconds while a long one (initdb, migrations, demo data) runs, so it never looks hung."""

from __future__ import annotations

import threading
from pathlib import Path

from aid_portal import launcher

ROOT = Path(__file__).resolve().parent.parent


def test_a_phase_says_when_it_starts_while_it_runs_and_when_it_ends():
    lines: list[str] = []
    ticked = threading.Event()

    def out(line: str) -> None:
        lines.append(line)
        if "still" in line:
            ticked.set()

    with launcher.phase("migrating the database", tick=0.01, out=out):
        # The phase lasts until its ticker has spoken at least once.
        assert ticked.wait(30)
    assert lines[0] == "migrating the database …"
    assert lines[1].startswith("  still migrating the database (")
    assert lines[-1].startswith("migrating the database: done in ")
    count = len(lines)
    ticked.clear()
    assert not ticked.wait(0.1)  # the ticker stops with the phase
    assert len(lines) == count


def test_start_runs_every_phase_inside_a_progress_phase():
    source = (ROOT / "aid_portal" / "launcher.py").read_text()
    for what, command in [
        ("migrating the database", '"migrate"'),
        ("collecting static files", '"collectstatic"'),
        ("loading the demo data", '"load_demo"'),
    ]:
        start = source.index(f'with phase("{what}")')
        assert command in source[start : start + 200], what
    embedded = (ROOT / "aid_portal" / "embedded.py").read_text()
    assert 'with phase("starting the embedded PostgreSQL' in embedded


def test_setup_lets_pip_show_what_it_installs():
    setup = (ROOT / "bin" / "_setup.sh").read_text()
    installs = [line for line in setup.splitlines() if "pip install" in line]
    assert len(installs) == 2
    assert all("--quiet" not in line and " -q" not in line for line in installs)
