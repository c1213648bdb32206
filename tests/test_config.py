"""Start-up with a malformed DATABASE_URL or REDIS_URL: one line naming it, non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aid_portal import config

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DATABASE_URL", "mysql://u@h/db", "must start with postgres://"),
        ("DATABASE_URL", "postgres://u@h:notaport/db", "port"),
        ("DATABASE_URL", "postgres://u@h", "no database name"),
        ("REDIS_URL", "http://localhost:6379", "must start with redis://"),
        ("REDIS_URL", "redis://", "no host"),
        ("REDIS_URL", "redis+socket://", "socket's path"),
        ("FIELD_ENCRYPTION_KEYS", "not-a-key", "is not a Fernet key"),
        # A county rule that moved onto the county's policy: set, it would be lost.
        ("CREDIT_OBJECTION_DAYS", "20", "enter it as credit_objection_days"),
    ],
)
@pytest.mark.parametrize("entry", ["manage.py", "launcher"])
def test_a_malformed_url_stops_start_up_in_one_line(variable, value, words, entry):
    command = (
        [sys.executable, "manage.py", "check"]
        if entry == "manage.py"
        else [sys.executable, "-m", "aid_portal.launcher", "start"]
    )
    result = subprocess.run(
        command,
        cwd=BASE_DIR,
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {variable}:") and words in lines[0]


def test_numbers_and_booleans_are_checked(monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "half an hour")
    with pytest.raises(config.ConfigError, match="SESSION_IDLE_MINUTES"):
        config.env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(config.ConfigError, match="DJANGO_DEBUG"):
        config.env_bool("DJANGO_DEBUG", default=False)


def test_good_urls_parse():
    parsed = config.parse_database_url("postgres://app:secret@db.example:5433/aid")
    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"]) == ("db.example", 5433, "aid")
    assert config.validate_redis_url("redis+socket:///tmp/redis.sock")


def test_any_bad_setting_stops_the_launcher_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "aid_portal.launcher", "start"],
        cwd=BASE_DIR,
        env={**os.environ, "SESSION_IDLE_MINUTES": "soon"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: SESSION_IDLE_MINUTES: expected a whole number, got 'soon'"
    )


def test_every_environment_variable_read_is_documented():
    """A variable the code reads without a row of its own in docs/configuration.md's
    tables (named in passing does not count) fails here."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    read = re.compile(
        r"""(?:env_(?:str|bool|int)|parse_level_mapping|parse_fernet_keys"""
        r"""|os\.environ\.get|os\.environ\.setdefault|os\.getenv)\(\s*"([A-Z][A-Z0-9_]+)"""
        r"""|os\.environ\[\s*"([A-Z][A-Z0-9_]+)"\]"""
    )
    names = set()
    for path in (root / "aid_portal").rglob("*.py"):
        for match in read.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    assert {"SIMULATOR_URL", "DATABASE_URL", "CREDIT_LEVEL_MAPPING"} <= names  # it reads
    documented = set(
        re.findall(
            r"^\| `([A-Z][A-Z0-9_]+)` \|", (root / "docs/configuration.md").read_text(), re.M
        )
    )
    missing = sorted(names - documented)
    assert not missing, f"read from the environment but not in docs/configuration.md: {missing}"
