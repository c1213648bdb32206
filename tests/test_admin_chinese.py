"""人员与设置 (the Django admin) in Chinese: what an office user reads there, whether it
comes from Django, django-axes, django-celery-beat or the portal, is Chinese."""

from __future__ import annotations

import contextlib
import datetime
import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from aid_portal import tokens
from aid_portal.audit import audit_record
from aid_portal.models import ApiToken, CalendarDay, CalendarYear, User
from aid_portal.third_party_strings import STRINGS
from cases.models import ProofItem
from credit.findings.models import Behaviour

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
        # The lists; every add and change page is read by the test at the end.
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


# --- every registered model's add and change page ----------------------------------------

# Latin words an office user may read on a form: names of formats, protocols, keys and
# software, and the literal values celery-beat's Chinese help texts quote.
ALLOWED_LATIN = {
    *("csv", "xlsx", "json", "sha", "ldap", "id", "ip", "url", "api", "utc", "cron", "http"),
    *("accept", "get", "post", "amqp", "rabbitmq", "redis", "celery_task_queues"),
    *("control", "command", "mac", "true", "false", "none", "enabled", "all", "arg"),
    *("argument", "value"),
}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_]+")


class _Labels(HTMLParser):
    """What labels a form: its field labels, fieldset titles, help texts, column heads,
    and the words of its buttons (not the values in its inputs or selects: data)."""

    LABELLING = {"label", "legend", "h1", "h2", "th", "button"}
    DATA = {"script", "style", "select", "textarea"}
    VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._open: list[tuple[str, bool, bool]] = []  # tag, labels, holds data

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "submit" and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag in self.VOID:
            return
        classes = set((attrs.get("class") or "").split())
        labels = tag in self.LABELLING or bool(classes & {"help", "helptext"})
        self._open.append((tag, labels, tag in self.DATA or "readonly" in classes))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        labels = any(item[1] for item in self._open)
        if labels and not any(item[2] for item in self._open):
            self.parts.append(data)


def _labels(html: str) -> str:
    parser = _Labels()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


ATTEMPT = {"get_data": "", "post_data": "", "failures_since_start": 3}


def _access_row(model):
    return lambda people, places: model.objects.create(
        username="caseworker_a",
        ip_address="10.0.0.1",
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/accounts/login/",
        **(
            {"get_data": "", "post_data": "", "failures_since_start": 3}
            if model is AccessAttempt
            else {}
        ),
    )


# How to make one row of each registered model that has none in a fresh test database.
ROW_MAKERS = {
    "aid_portal.ApiToken": lambda people, places: tokens.api_token_create(
        user=people.auditor, name="统计脚本"
    )[0],
    "django_celery_beat.ClockedSchedule": lambda people, places: ClockedSchedule.objects.create(
        clocked_time=timezone.now()
    ),
    "django_celery_beat.CrontabSchedule": lambda people, places: CrontabSchedule.objects.create(
        minute="0", hour="2"
    ),
    "django_celery_beat.SolarSchedule": lambda people, places: SolarSchedule.objects.create(
        event="sunrise", latitude=36.0, longitude=106.2
    ),
    "django_celery_beat.IntervalSchedule": lambda people, places: IntervalSchedule.objects.create(
        every=1, period=IntervalSchedule.HOURS
    ),
    "django_celery_beat.PeriodicTask": lambda people, places: PeriodicTask.objects.create(
        name="测试任务",
        task="aid_portal.export_build",
        interval=IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)[0],
    ),
    "axes.AccessLog": _access_row(AccessLog),
    "axes.AccessFailureLog": _access_row(AccessFailureLog),
    "axes.AccessAttempt": _access_row(AccessAttempt),
    "aid_portal.CalendarYear": lambda people, places: CalendarYear.objects.create(
        year=2026, source=CalendarYear._meta.get_field("source").choices[0][0]
    ),
    "aid_portal.CalendarDay": lambda people, places: CalendarDay.objects.create(
        date=datetime.date(2026, 10, 1), is_working_day=False, note="国庆节"
    ),
    "aid_portal.AuditEvent": lambda people, places: audit_record(
        actor=people.auditor, action="region.change", obj=places.village_a, region=places.village_a
    ),
    "cases.ProofItem": lambda people, places: ProofItem.objects.create(code="hukou", name="户口簿"),
    "credit.Behaviour": lambda people, places: Behaviour.objects.create(
        code="fake-income", name="虚报收入", level="light", source="local"
    ),
}


@pytest.fixture
def one_of_each(people, places):
    """A row of every model the admin edits, so each change page has something to show."""
    for model in admin.site._registry:
        if not model.objects.exists():
            baker = ROW_MAKERS.get(model._meta.label)
            if baker is not None:
                baker(people, places)


def _admin_pages() -> list[str]:
    urls = []
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model.objects.order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            )
    return urls


def data_shown(url: str) -> set[str]:
    """What a page shows that is data, not a label: its object's name (a change page's
    title), usernames, group names, keys."""
    values = {user.username for user in User.objects.all()}
    values |= set(ApiToken.objects.values_list("name", flat=True))
    match = re.search(r"/admin/(\w+)/(\w+)/(\d+)/change/", url)
    if match:
        model = apps.get_model(match.group(1), match.group(2))
        shown = model.objects.filter(pk=match.group(3)).first()  # a token's is its user's
        values.add(str(shown) if shown is not None else "")
    return {value for value in values if value}


def test_every_add_and_change_page_is_labelled_in_chinese(client, people, one_of_each):
    client.force_login(people.superuser)
    found: dict[str, list[str]] = {}
    pages = _admin_pages()
    for url in pages:
        response = client.get(url)
        if response.status_code == 403:  # nobody adds or changes these (audit rows)
            continue
        assert response.status_code == 200, url
        text = _labels(response.content.decode())
        for value in sorted(data_shown(url), key=len, reverse=True):
            text = text.replace(value, " ")
        words = {word for word in LATIN_WORD.findall(text) if word.lower() not in ALLOWED_LATIN}
        if words:
            found[url] = sorted(words)
    assert not found, "\n".join(f"{url}: {words}" for url, words in found.items())
    changes = [url for url in pages if url.endswith("/change/")]
    assert len(changes) == len(admin.site._registry)  # every model's change page was tried


def test_no_admin_page_grants_django_permissions(client, people):
    """Rights are roles held over places; Django's groups and per-user permissions would
    be a second, placeless way to grant them, so the admin offers neither."""
    client.force_login(people.superuser)
    assert client.get("/admin/auth/group/").status_code == 404
    page = client.get(f"/admin/aid_portal/user/{people.caseworker_a.pk}/change/")
    assert page.status_code == 200
    assert b'name="groups"' not in page.content
    assert b'name="user_permissions"' not in page.content
    assert b'name="is_superuser"' not in page.content
