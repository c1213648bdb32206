"""``manage.py check --deploy`` with the production environment of docs/deploy.md, and
the HTTPS behaviour those settings give (issue 17, item 8).

The check runs in a process of its own, because settings are read once per process, with
the environment block of docs/deploy.md exactly as written there; only its placeholders
(``<...>``: keys) get real values. So the documentation and the settings cannot drift
apart: a variable the page forgets shows up here as a warning.

nginx answers TLS and the port-80 redirect, and sets no header (docs/deploy.md, "What
nginx answers"). The headers are tested here through Django, and through a real nginx
running deploy/nginx.conf in tests/test_nginx.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parent.parent
DEPLOY_MD = BASE_DIR / "docs" / "deploy.md"

# Warnings of `check --deploy` that no setting can answer, with the reason; each must be
# named in docs/deploy.md. None today: nginx answers TLS and port 80, neither of which
# Django checks.
ANSWERED_OUTSIDE_THE_SETTINGS: dict[str, str] = {}


def deploy_environment() -> dict[str, str]:
    """The ``## Environment`` block of docs/deploy.md, placeholders filled in."""
    text = DEPLOY_MD.read_text(encoding="utf-8")
    section = text.split("## Environment", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    filled = {
        "DJANGO_SECRET_KEY": "k" * 10 + os.urandom(32).hex(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": os.urandom(24).hex(),
    }
    env = {}
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, value = line.split("=", 1)
        env[name] = filled[name] if value.startswith("<") else value
    return env


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Only what Python needs from this process; no development variable leaks in.
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=BASE_DIR,
        env={**base, "PYTHONPATH": str(BASE_DIR), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_environment_block_is_the_production_one():
    env = deploy_environment()
    assert env["AID_PORTAL_DEV"] == "false" and env["DJANGO_SECURE_COOKIES"] == "true"
    assert env["DATABASE_URL"].startswith("postgres://") and "DJANGO_DEBUG" not in env


def test_check_deploy_with_the_documented_environment_warns_of_nothing():
    result = run_check(deploy_environment(), "--deploy", "--fail-level", "WARNING")
    issues = set(re.findall(r"\(([\w.]+\.[WE]\d+)\)", result.stdout + result.stderr))
    unexplained = issues - set(ANSWERED_OUTSIDE_THE_SETTINGS)
    assert not unexplained, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_check_can_fail_without_the_https_settings():
    """The test above would notice a variable missing from docs/deploy.md."""
    env = deploy_environment()
    del env["DJANGO_HSTS_SECONDS"], env["DJANGO_SSL_REDIRECT"]
    result = run_check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 1
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_ssl_redirect_without_a_trusted_proxy_stops_start_up():
    env = deploy_environment() | {"TRUSTED_PROXY_COUNT": "0"}
    result = run_check(env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "configuration error: DJANGO_SSL_REDIRECT: needs TRUSTED_PROXY_COUNT"
    )


def test_every_answer_by_nginx_is_documented():
    text = DEPLOY_MD.read_text(encoding="utf-8")
    assert "### What nginx answers and what the portal answers" in text
    for check_id in ANSWERED_OUTSIDE_THE_SETTINGS:
        assert check_id in text


# --- the behaviour those settings give, through Django (through nginx: test_nginx.py) ---


HTTPS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "ALLOWED_HOSTS",
]


@pytest.fixture(scope="module")
def documented_https_settings() -> dict:
    """The HTTPS settings that aid_portal.settings makes of the documented environment,
    read in a process of its own (settings are read once per process)."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {HTTPS_SETTINGS!r}}}))"
    )
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={
            **base,
            "PYTHONPATH": str(BASE_DIR),
            "DJANGO_SETTINGS_MODULE": "aid_portal.settings",
            **deploy_environment(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def production_https(settings, documented_https_settings):
    for name, value in documented_https_settings.items():
        setattr(settings, name, tuple(value) if name == "SECURE_PROXY_SSL_HEADER" else value)
    host = documented_https_settings["ALLOWED_HOSTS"][0]
    return Client(HTTP_HOST=host)  # made after the settings, so its middleware reads them


@pytest.mark.django_db
def test_a_request_over_https_carries_hsts_and_the_other_headers(production_https):
    response = production_https.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response.cookies["csrftoken"]["secure"] is True


@pytest.mark.django_db
def test_a_plain_http_request_is_sent_to_https(production_https):
    response = production_https.get(reverse("login"), HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 301
    assert response["Location"] == "https://dibao.xiji.gov.cn" + reverse("login")
    assert "Strict-Transport-Security" not in response  # HSTS means nothing over HTTP


@pytest.mark.django_db
def test_the_health_probe_is_not_redirected(production_https):
    response = production_https.get(reverse("healthz"))
    assert response.status_code in {200, 503}  # answered, whatever the broker's state
