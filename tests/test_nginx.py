"""deploy/nginx.conf, run by a real nginx in front of a real gunicorn that has the
production environment of docs/deploy.md: TLS and the port-80 redirect are nginx's,
every security header is the portal's and arrives exactly once, static files are served.

Needs Debian's nginx-light (.ci/run installs it); skipped without it outside CI.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import _test_database_url, wait_for
from tests.test_deploy_check import deploy_environment
from tests.verification.conftest import _free_port

BASE_DIR = Path(__file__).resolve().parent.parent
NGINX_CONF = BASE_DIR / "deploy" / "nginx.conf"
HOST = "dibao.xiji.gov.cn"  # the first of DJANGO_ALLOWED_HOSTS in docs/deploy.md
# Set by the portal; nginx must pass each on once and add none.
PORTAL_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}

pytestmark = pytest.mark.django_db


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the nginx test: install nginx-light (see .ci/run)")
        pytest.skip("no nginx on this machine (Debian: apt-get install nginx-light)")
    return found


def self_signed(folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir()
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def rendered(tmp_path: Path, *, upstream: int, http: int, https: int) -> Path:
    """deploy/nginx.conf with its addresses, certificate folder and pid file moved into
    this test; each replaced line must be there, so the file cannot drift from it."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    for old, new in {
        "server web:8000;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
        "/etc/nginx/tls/": f"{tmp_path}/tls/",
        "pid /tmp/nginx.pid;": f"pid {tmp_path}/nginx.pid;",
    }.items():
        assert text.count(old) >= 1, old
        text = text.replace(old, new)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def portal_behind_nginx(tmp_path):
    nginx = nginx_binary()
    env = {
        **os.environ,
        **deploy_environment(),
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "STATIC_ROOT": str(tmp_path / "static"),
        "PRIVATE_FILES_ROOT": str(tmp_path / "files"),
        "AID_PORTAL_DATA_DIR": str(tmp_path / "data"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    upstream, http, https = _free_port(), _free_port(), _free_port()
    self_signed(tmp_path / "tls")
    conf = rendered(tmp_path, upstream=upstream, http=http, https=https)
    checked = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    bind = f"127.0.0.1:{upstream}"
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aid_portal.wsgi", "-w", "1", "-b", bind],
        cwd=BASE_DIR,
        env=env,
    )
    server = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], cwd=tmp_path)
    try:
        # A self-signed certificate of this test's own: nothing to verify it against.
        client = httpx.Client(verify=False, headers={"Host": HOST}, timeout=20)  # noqa: S501

        def up():
            try:
                return client.get(f"https://127.0.0.1:{https}/healthz/").status_code in {200, 503}
            except httpx.TransportError:
                return False

        wait_for(up, timeout=60)
        yield client, f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}"
        client.close()
    finally:
        stop(server)
        stop(gunicorn)


def test_nginx_passes_the_portals_headers_once_and_adds_tls_and_the_redirect(
    portal_behind_nginx,
):
    client, https, http = portal_behind_nginx
    page = client.get(f"{https}/login/")
    assert page.status_code == 200  # X-Forwarded-Proto reached the portal: no redirect loop
    for name, value in PORTAL_HEADERS.items():
        assert page.headers.get_list(name) == [value], name
    assert len(page.headers.get_list("content-security-policy")) == 1
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "secure" in page.headers["set-cookie"].lower()
    assert "server" not in page.headers or "nginx/" not in page.headers["server"]  # no version

    plain = client.get(f"{http}/login/?next=/")
    assert plain.status_code == 301
    assert plain.headers["location"] == f"https://{HOST}/login/?next=/"  # nginx, not gunicorn

    # The static files the page names are served, hashed, with the portal's headers.
    css = re.search(r'href="(/static/portal/portal\.[0-9a-f]+\.css)"', page.text).group(1)
    static = client.get(f"{https}{css}")
    assert static.status_code == 200
    assert static.headers["content-type"].startswith("text/css")
    assert static.headers.get_list("x-content-type-options") == ["nosniff"]
    assert "max-age" in static.headers.get("cache-control", "")
