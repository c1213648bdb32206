"""Headers every page carries (issue 17, item 8), and no inline script anywhere."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


@pytest.mark.parametrize("name", ["login", "home", "cases:queue", "api-docs"])
def test_pages_forbid_inline_script_and_framing(client, people, name):
    if name != "login":  # the login page sends a signed-in user home
        client.force_login(people.caseworker_a)
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_no_template_has_an_inline_script_or_handler():
    """The policy would block them: behaviours go in static files (portal/portal.js)."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        found += [
            f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in inline_script.finditer(text)
        ]
        found += [
            f"{path.relative_to(TEMPLATES)}: {m.group(0)[:60]}" for m in handler.finditer(text)
        ]
    assert found == []
