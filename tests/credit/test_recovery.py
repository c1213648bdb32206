# ruff: noqa: F811 - the case fixtures imported below are parameters of the tests
"""Recovery of a repayment order from the household's payments (domain.md §7, issue 14):
the step, the recovery line on the next roster, and the repayment counted once the bank
return shows it paid. On the real database, through the services and the task."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent
from cases.models import Suspension
from cases.payments import bankfiles
from cases.payments import services as payments
from cases.payments.models import PaymentAdjustment, Roster
from credit.findings import services, tasks
from credit.findings.models import FindingEvent, OrderRecovery, RepaymentOrder
from tests.cases.conftest import abc, finance, paying  # noqa: F401 (fixtures)
from tests.cases.test_payments import _return, approve, prepare

SEVERE = "xj-obstructs-staff"


@pytest.fixture
def owing(paying, in_force):
    """A paid family with a severe finding in force and 150 yuan to repay."""

    def make(amount="150"):
        family = paying()
        today = timezone.localdate()
        finding = in_force(
            family,
            SEVERE,
            on=today,
            repayment_amount=amount,
            repayment_deadline=today + datetime.timedelta(days=60),
        )
        # The finding's own sanctions may hold the payments; these tests want them paid.
        Suspension.objects.filter(application=family.application).update(ended_at=timezone.now())
        return family, finding.repayment_order

    return make


def test_the_caseworker_orders_a_recovery_its_own_roster_line_with_the_reason(
    owing, people, places
):
    _family, order = owing()
    recovery = services.recovery_order(actor=people.caseworker_a, order_id=order.pk)
    assert recovery.amount == Decimal("150.00")
    adjustment = recovery.adjustment
    assert adjustment.kind == PaymentAdjustment.Kind.RECOVERY
    assert str(order.finding_id) in adjustment.reason
    assert adjustment.source == f"credit.repayment_order:{order.pk}:1"
    assert AuditEvent.objects.filter(action="credit_finding.recover").exists()
    assert AuditEvent.objects.filter(action="payment.recovery").exists()
    roster = prepare(people, places)
    monthly = roster.lines.get(kind="monthly")
    line = roster.lines.get(kind="recovery")
    assert line.amount == Decimal("-150.00") and line.reason == adjustment.reason
    assert line.deducted_from_id == monthly.pk
    assert monthly.net_amount == monthly.amount - 150
    # A second recovery waits until the first is paid.
    with pytest.raises(Conflict):
        services.recovery_order(actor=people.caseworker_a, order_id=order.pk)


def test_who_may_order_a_recovery_and_bad_input(owing, people):
    _family, order = owing()
    for user in (people.assistant_a, people.verifier):
        with pytest.raises((PermissionDenied, DomainError)):
            services.recovery_order(actor=user, order_id=order.pk)
    with pytest.raises(DomainError) as refused:
        services.recovery_order(actor=people.caseworker_a, order_id=order.pk, amount="-5")
    assert refused.value.field == "amount"
    with pytest.raises(DomainError) as refused:
        services.recovery_order(actor=people.caseworker_a, order_id=order.pk, amount="151")
    assert refused.value.field == "amount"
    assert not OrderRecovery.objects.exists() and not PaymentAdjustment.objects.exists()


def test_more_than_the_monthly_payment_is_refused_and_the_default_is_capped(owing, people):
    family, order = owing(amount="99999")
    monthly = payments.monthly_payment(family.application.pk)
    with pytest.raises(DomainError) as refused:
        services.recovery_order(
            actor=people.caseworker_a, order_id=order.pk, amount=str(monthly + 1)
        )
    assert refused.value.field == "amount"
    recovery = services.recovery_order(actor=people.caseworker_a, order_id=order.pk)
    assert recovery.amount == monthly


def test_a_household_not_being_paid_is_refused_clearly(owing, people):
    family, order = owing()
    Suspension.objects.filter(application=family.application).update(ended_at=None)
    if not Suspension.objects.filter(application=family.application).exists():
        Suspension.objects.create(application=family.application, reason="暂停")
    with pytest.raises(DomainError) as refused:
        services.recovery_order(actor=people.caseworker_a, order_id=order.pk)
    assert "未领取救助金" in str(refused.value)
    assert not PaymentAdjustment.objects.exists()


def test_the_paid_line_is_counted_once_and_closes_the_order(
    owing,
    people,
    places,
    finance,
    abc,
):
    _family, order = owing()
    services.recovery_order(actor=people.caseworker_a, order_id=order.pk)
    roster = approve(people, finance, prepare(people, places))
    assert tasks.recoveries_credit() == 0  # not paid yet
    payment = roster.lines.get(kind="monthly")
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([payment]),
    )
    assert Roster.objects.get(pk=roster.pk).state == Roster.State.PAID
    assert tasks.recoveries_credit() == 1
    assert tasks.recoveries_credit() == 0  # run twice: counted once
    order = RepaymentOrder.objects.get(pk=order.pk)
    assert order.paid_amount == Decimal("150.00")
    assert order.state == RepaymentOrder.State.PAID
    assert order.payments.count() == 1 and order.payments.get().recorded_by is None
    assert (
        FindingEvent.objects.filter(finding_id=order.finding_id, action="recovery_credited").count()
        == 1
    )


def test_the_step_on_the_page_and_the_api(owing, people):
    _family, order = owing()
    client = APIClient()
    client.force_login(people.assistant_a)
    url = reverse("api-credit-recover", args=[order.finding_id])
    assert client.post(url, {}, format="json").status_code == 403
    client.force_login(people.caseworker_a)
    assert client.post(url, {"amount": "abc"}, format="json").status_code == 400
    response = client.post(url, {"amount": "50"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["repayment_order"]["recoveries"][0]["amount"] == "50.00"
    page = client.get(reverse("credit:finding", args=[order.finding_id]))
    assert "order-recoveries" in page.content.decode()
    # The page refuses a second one while the first waits, in Chinese, and saves nothing.
    client.cookies["django_language"] = "zh-hans"
    refused = client.post(
        reverse("credit:act", args=[order.finding_id, "recover"]), {}, follow=True
    )
    assert "较早的追回尚未由银行发放" in refused.content.decode()
    assert OrderRecovery.objects.count() == 1


def test_a_failed_payment_reissued_net_counts_the_recovery_once_it_is_paid(
    owing,
    people,
    places,
    finance,
    abc,
):
    _family, order = owing()
    services.recovery_order(actor=people.caseworker_a, order_id=order.pk)
    roster = approve(people, finance, prepare(people, places))
    payment = roster.lines.get(kind="monthly")
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([payment], results={payment.pk: ("failed", "account_closed")}),
    )
    assert tasks.recoveries_credit() == 0  # the deduction was not made
    extra = payments.supplementary_prepare(
        actor=people.caseworker_a,
        township_id=places.township_a.pk,
        month=payment.months_from,
        reissue_line_ids=[payment.pk],
    )
    reissue = extra.lines.get()
    assert reissue.amount == payment.net_amount  # net of the recovery, no second line
    extra = approve(people, finance, extra)
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=extra.pk,
        bank_id=abc.pk,
        file_name="r2.csv",
        content=_return([reissue]),
    )
    assert tasks.recoveries_credit() == 1
    assert tasks.recoveries_credit() == 0
    order = RepaymentOrder.objects.get(pk=order.pk)
    assert (order.paid_amount, order.state) == (Decimal("150.00"), RepaymentOrder.State.PAID)


# --- over-recovery: what the payments gave up beyond what is owed is paid back ---------


def _pay_roster(people, places, finance, abc, name="r.csv"):
    roster = approve(people, finance, prepare(people, places))
    payment = roster.lines.get(kind="monthly")
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name=name,
        content=_return([payment]),
    )
    return roster


def _refunds(order) -> list[tuple[Decimal, str]]:
    return [
        (adjustment.amount, adjustment.source)
        for adjustment in PaymentAdjustment.objects.filter(
            kind=PaymentAdjustment.Kind.BACK_PAY, application_id=order.finding.application_id
        ).order_by("id")
    ]


def test_a_recovery_paid_after_the_order_was_repaid_by_hand_pays_the_excess_back(
    owing, people, places, finance, abc
):
    """150 owed; 150 withheld on the roster while the family repaid 100 at the office:
    the recovery counts 50 and closes the order, and 100 goes back to the family as
    back pay on the next roster, once, however often the task runs."""
    _family, order = owing()
    services.recovery_order(actor=people.caseworker_a, order_id=order.pk)
    services.repayment_record(actor=people.caseworker_a, order_id=order.pk, amount="100")
    _pay_roster(people, places, finance, abc)
    assert tasks.recoveries_credit() == 1
    assert tasks.recoveries_credit() == 0
    order = RepaymentOrder.objects.get(pk=order.pk)
    assert (order.paid_amount, order.state) == (Decimal("150.00"), RepaymentOrder.State.PAID)
    assert _refunds(order) == [
        (Decimal("100.00"), f"credit.repayment_order:{order.pk}:refund:1"),
    ]
    refund = order.refunds.get()
    assert f"{order.pk}" in refund.adjustment.reason
    assert str(order.finding_id) in refund.adjustment.reason
    # Run again by hand, under the lock: nothing more to pay back.
    with transaction.atomic():
        locked = RepaymentOrder.objects.select_for_update().get(pk=order.pk)
        assert (
            services.order_refund_excess(
                order=locked, finding=locked.finding, actor=None, on=timezone.localdate()
            )
            is None
        )
    assert order.refunds.count() == 1
    event = FindingEvent.objects.get(finding_id=order.finding_id, action="recovery_refunded")
    assert event.data["amount"] == "100.00" and event.actor is None
    assert AuditEvent.objects.filter(action="credit_finding.recovery_refunded").count() == 1
    # The next roster pays it as a line of its own.
    nxt = payments.roster_prepare(
        actor=people.caseworker_a,
        township_id=places.township_a.pk,
        month=payments.next_month(timezone.localdate()),
    )
    line = nxt.lines.get(kind="back_pay")
    assert (line.amount, line.adjustment_id) == (Decimal("100.00"), refund.adjustment_id)


def test_an_objection_upheld_after_deductions_pays_them_all_back(
    owing, people, places, finance, abc
):
    """300 ordered, 120 recovered from the payments and counted; the objection is upheld,
    so the order is cancelled and the 120 goes back. A recovery still on its way when the
    order is cancelled counts nothing and is paid back in full when the bank pays it."""
    _family, order = owing(amount="300")
    services.recovery_order(actor=people.caseworker_a, order_id=order.pk, amount="120")
    _pay_roster(people, places, finance, abc)
    assert tasks.recoveries_credit() == 1
    assert RepaymentOrder.objects.get(pk=order.pk).paid_amount == Decimal("120.00")
    assert _refunds(order) == []  # 180 still owed: nothing over-recovered yet

    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=order.finding_id, statement="材料系误交"
    )
    services.objection_review(
        actor=people.auditor, objection_id=objection.pk, upheld=True, note="核实无误"
    )
    order = RepaymentOrder.objects.get(pk=order.pk)
    assert order.state == RepaymentOrder.State.CANCELLED
    assert _refunds(order) == [(Decimal("120.00"), f"credit.repayment_order:{order.pk}:refund:1")]
    assert tasks.recoveries_credit() == 0 and order.refunds.count() == 1
    client = APIClient()
    client.force_login(people.caseworker_a)
    page = client.get(reverse("credit:finding", args=[order.finding_id])).content.decode()
    assert 'id="order-refunds"' in page and "120.00" in page
    answer = client.get(reverse("api-credit-finding", args=[order.finding_id])).json()
    assert [r["amount"] for r in answer["repayment_order"]["refunds"]] == ["120.00"]


def test_a_recovery_paid_after_the_order_was_cancelled_is_paid_back_in_full(
    owing, people, places, finance, abc
):
    _family, order = owing()
    services.recovery_order(actor=people.caseworker_a, order_id=order.pk, amount="80")
    roster = approve(people, finance, prepare(people, places))
    objection = services.objection_lodge(
        actor=people.caseworker_a, finding_id=order.finding_id, statement="材料系误交"
    )
    services.objection_review(
        actor=people.auditor, objection_id=objection.pk, upheld=True, note="核实无误"
    )
    assert _refunds(order) == []  # nothing was taken yet
    payment = roster.lines.get(kind="monthly")
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([payment]),
    )
    assert tasks.recoveries_credit() == 1
    assert tasks.recoveries_credit() == 0
    order = RepaymentOrder.objects.get(pk=order.pk)
    # A cancelled order is owed nothing: the 80 is not counted as repaid, but paid back.
    assert (order.paid_amount, order.state) == (Decimal("0.00"), RepaymentOrder.State.CANCELLED)
    assert _refunds(order) == [(Decimal("80.00"), f"credit.repayment_order:{order.pk}:refund:1")]
