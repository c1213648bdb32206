"""The cases app's scheduled tasks, run by a real Celery worker."""

import datetime

import pytest
from django.utils import timezone

from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, VerificationOutcome
from cases.tasks import feedback_windows_close, payments_start
from verification.requests import services as verification_services

S = Application.State
pytestmark = pytest.mark.worker


def to_feedback(family, cw):
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw,
        application_id=app_id,
        outcome="gap",
        reason="manual",
        gap_items=[{"item": "存款"}],
    )
    return app_id


def test_ended_objection_windows_move_on_once(make_family, people, celery_worker_process):
    app_id = to_feedback(make_family(), people.caseworker_a)
    open_id = to_feedback(make_family(), people.caseworker_a)
    VerificationOutcome.objects.filter(application_id=app_id).update(
        objection_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert feedback_windows_close.delay().get(timeout=60) == 1
    assert feedback_windows_close.delay().get(timeout=60) == 0  # a second run does nothing
    assert Application.objects.get(pk=app_id).state == S.HOME_VISIT
    assert Application.objects.get(pk=open_id).state == S.FEEDBACK


def test_payment_starts_in_the_start_month(make_family, people, celery_worker_process):
    family = make_family()
    Application.objects.filter(pk=family.application.pk).update(
        state=S.APPROVED, start_month=timezone.localdate().replace(day=1)
    )
    assert payments_start.delay().get(timeout=60) == 1
    assert payments_start.delay().get(timeout=60) == 0
    assert family.refresh().state == S.IN_PAYMENT
