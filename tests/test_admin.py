"""The staff pages (Django admin) as a data-feed admin uses them: limited and audited."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from aid_portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def attempt(username):
    return AccessAttempt.objects.create(
        username=username,
        ip_address="10.0.0.9",
        user_agent="x",
        failures_since_start=5,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/login/",
    )


def test_locked_logins_are_listed_for_the_admins_own_staff_only(client, people):
    attempt("caseworker_a")
    attempt("outsider_auditor")
    client.force_login(people.feedadmin)
    page = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "caseworker_a" in page and "outsider_auditor" not in page


def test_unlocking_is_recorded(client, people):
    locked = attempt("caseworker_a")
    client.force_login(people.feedadmin)
    client.post(reverse("admin:axes_accessattempt_delete", args=[locked.pk]), {"post": "yes"})
    assert not AccessAttempt.objects.filter(pk=locked.pk).exists()
    assert AuditEvent.objects.get(action="login.unlock").actor == people.feedadmin


def test_setting_a_password_is_recorded(client, people):
    client.force_login(people.feedadmin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[people.caseworker_a.pk]),
        {"password1": "A-new-passw0rd!", "password2": "A-new-passw0rd!", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="user.password_set").object_id == str(
        people.caseworker_a.pk
    )


def test_editing_a_schedule_is_recorded(client, people):
    # Created by a data migration; transactional tests empty the tables, so make sure.
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    task, _ = PeriodicTask.objects.get_or_create(
        name="portal health check", defaults={"task": "aid_portal.health", "interval": every_ten}
    )
    client.force_login(people.feedadmin)
    form = client.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))
    data = {
        key: value
        for key, value in form.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, (list, dict))
    }
    data.update(
        {
            "name": task.name,
            "regtask": task.task,
            "task": "",
            "enabled": "",
            "interval": task.interval_id,
            "args": "[]",
            "kwargs": "{}",
            "expire_seconds": "",
            "priority": "",
            "queue": "",
            "exchange": "",
            "routing_key": "",
            "headers": "{}",
            "description": "",
        }
    )
    data.pop("crontab", None)
    data.pop("solar", None)
    data.pop("clocked", None)
    response = client.post(
        reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]), data
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.enabled is False
    assert AuditEvent.objects.filter(action="periodictask.change").exists()


def test_a_feed_admin_keeps_the_proof_catalogue(client, people):
    client.force_login(people.feedadmin)
    assert client.get(reverse("admin:cases_proofitem_changelist")).status_code == 200
    assert client.get(reverse("admin:cases_proofitem_add")).status_code == 200
