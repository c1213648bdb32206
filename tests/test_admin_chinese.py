"""人员与设置 (the Django admin) in Chinese: what an office user reads there, whether it
comes from Django, django-axes, django-celery-beat or the portal, is Chinese."""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from aid_portal.third_party_strings import STRINGS

pytestmark = pytest.mark.django_db

# English that an office user saw there before (issue 15, item 11).
KNOWN_ENGLISH = ["Access attempts", "Add link", "Model name", "Access logs", "Axes"]


class _Text(HTMLParser):
    """The text a person reads (and the labels of buttons and inputs), not the markup."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
            self.parts.append(attrs["value"])
        # Not aria-label: the row checkboxes' labels hold each row's own str(), data.
        for name in ("title", "placeholder"):
            if attrs.get(name):
                self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse("admin:app_list", args=[meta.app_label]))
        # The lists; the add forms of celery-beat's schedules and of groups (permission
        # names are rows of data, in English for every model) are not covered yet.
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    return sorted(set(urls))


def test_every_third_party_string_has_chinese():
    with translation.override("zh-hans"):
        untranslated = [s for s in STRINGS if translation.gettext(s) == s]
    assert not untranslated


def test_the_staff_pages_show_none_of_the_english_strings(client, people):
    client.force_login(people.superuser)  # sees every staff page
    english = set(KNOWN_ENGLISH) | {s for s in STRINGS if len(s) > 4}
    found: dict[str, list[str]] = {}
    for url in _admin_urls():
        response = client.get(url)
        if response.status_code == 403:  # a page nobody may open (adding audit rows)
            continue
        assert response.status_code == 200, url
        text = _text(response.content.decode())
        assert "人员与设置" in text or "设置" in text, url  # rendered in Chinese at all
        shown = sorted(
            phrase
            for phrase in english
            if re.search(rf"(?<![A-Za-z]){re.escape(phrase)}(?![A-Za-z])", text, re.I)
        )
        if shown:
            found[url] = shown
    assert not found, found
