"""The cases app's scheduled tasks, run by a real Celery worker."""

import datetime
import time

import pytest
from django.utils import timezone

from aid_portal.models import AuditEvent
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, VerificationOutcome
from cases.payments.models import Award
from cases.tasks import feedback_windows_close, gradual_exits_finish, payments_start
from tests.conftest import Hold, backends_waiting, kill_and_redeliver, wait_for
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


def test_payments_start_killed_mid_way_starts_every_case_once(
    make_family, people, celery_worker_process
):
    """The worker dies after the first case went into payment and while the second waits
    on its row: the redelivered task starts the second, and the first is not moved twice
    (one history entry each, as a run that was not killed leaves)."""
    first, second = make_family().application.pk, make_family().application.pk
    Application.objects.filter(pk__in=[first, second]).update(
        state=S.APPROVED, start_month=timezone.localdate().replace(day=1)
    )
    hold = Hold.row(Application, max(first, second))
    payments_start.delay()

    def killed_mid_way():
        # The first case's transaction committed, the second's died with the worker.
        states = dict(Application.objects.values_list("pk", "state"))
        assert (states[min(first, second)], states[max(first, second)]) == (
            S.IN_PAYMENT,
            S.APPROVED,
        )

    kill_and_redeliver(celery_worker_process, hold, before_redelivery=killed_mid_way)
    wait_for(lambda: Application.objects.filter(state=S.IN_PAYMENT).count() == 2, timeout=60)
    assert payments_start.delay().get(timeout=60) == 0  # a late duplicate does nothing
    # One move each, as a run that was not killed leaves (the killed transaction of the
    # second case rolled back with its worker).
    assert AuditEvent.objects.filter(action__endswith=".payment_start").count() == 2


def test_gradual_exits_finish_killed_mid_way_stops_every_case_once(
    enrol, people, celery_worker_process
):
    """As payments_start: the first case stopped (its award closed), the worker dies
    while the second waits on its row; after the restart both are stopped once, each
    award closed once, as a run that was not killed leaves them."""
    first, second = enrol().application.pk, enrol().application.pk
    two_months_ago = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).replace(
        day=1
    )
    Application.objects.filter(pk__in=[first, second]).update(exit_after_month=two_months_ago)
    hold = Hold.row(Application, second)
    gradual_exits_finish.delay()

    def killed_mid_way():
        states = dict(Application.objects.values_list("pk", "state"))
        assert (states[first], states[second]) == (S.STOPPED, S.IN_PAYMENT)

    kill_and_redeliver(celery_worker_process, hold, before_redelivery=killed_mid_way)
    wait_for(lambda: Application.objects.filter(state=S.STOPPED).count() == 2, timeout=60)
    assert gradual_exits_finish.delay().get(timeout=60) == 0  # a late duplicate does nothing
    assert AuditEvent.objects.filter(action__endswith=".stop").count() == 2
    for app_id in (first, second):
        awards = Award.objects.filter(application_id=app_id)
        assert awards.count() == 1 and awards.get().until_month is not None


# --- two workers, as on two machines (issue 16 item 6) -------------------------------------


def test_payments_start_on_two_workers_at_once_starts_every_case_once(
    make_family, people, two_celery_workers
):
    """The daily task delivered twice, run by two worker processes at the same time
    (both held at one case's row until both are there): every case goes into payment
    once, with one history entry (each case is moved in its own transaction under its row
    lock, and a run skips a case another run moved)."""
    ids = [make_family().application.pk for _ in range(12)]
    Application.objects.filter(pk__in=ids).update(
        state=S.APPROVED, start_month=timezone.localdate().replace(day=1)
    )
    hold = Hold.row(Application, sorted(ids)[5])
    started = time.monotonic()
    results = [payments_start.delay() for _ in range(2)]
    wait_for(lambda: backends_waiting() == 2, timeout=60)  # both runs at the held case
    hold.release()
    counts = [result.get(timeout=120) for result in results]
    elapsed = time.monotonic() - started
    received = two_celery_workers.received("cases.payments_start")
    print(f"payments_start ×2 on two workers at once: {elapsed:.1f} s, started {counts}")
    assert received == [1, 1]  # one on each worker
    # Between them, each case once (the run that gets the held row first stays ahead: the
    # other finds every later case moved already).
    assert sum(counts) == 12
    assert Application.objects.filter(pk__in=ids, state=S.IN_PAYMENT).count() == 12
    assert AuditEvent.objects.filter(action__endswith=".payment_start").count() == 12
