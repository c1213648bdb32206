"""The payments demo: three months paid in every township, this month prepared, loaded once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from aid_portal.demo import load_demo
from aid_portal.demo.payments import load_payment_demo
from aid_portal.models import AuditEvent, Role, RoleAssignment
from cases.payments import services
from cases.payments.models import (
    Award,
    BankReturn,
    FundAllocation,
    MonthlyStatistics,
    PaymentAccount,
    PaymentAdjustment,
    Reconciliation,
    ReconciliationException,
    Roster,
    RosterEvent,
    RosterLine,
)
from cases.payments.selectors import funds_ledger
from cases.publicity.models import PublicRoster, PublicRosterEntry

pytestmark = pytest.mark.django_db

TOWNSHIPS = ("640422100000", "640422101000", "640422102000")


def _counts() -> dict[str, int]:
    models = (
        Award,
        BankReturn,
        FundAllocation,
        PaymentAccount,
        PaymentAdjustment,
        Roster,
        RosterEvent,
        RosterLine,
    )
    counts = {model.__name__: model.objects.count() for model in models}
    counts["AuditEvent"] = AuditEvent.objects.exclude(action="region.load").count()
    return counts


def test_the_payments_demo_pays_three_months_and_prepares_this_one():
    # One test, one load: the demo takes most of a minute to build.
    load_demo()
    this_month = services.month_of(timezone.localdate())
    past = [services.previous_month(this_month)]
    for _ in range(2):
        past.insert(0, services.previous_month(past[0]))
    for code in TOWNSHIPS:
        rosters = Roster.objects.filter(township__code=code)
        for month in past:
            regular = rosters.get(month=month, kind=Roster.Kind.REGULAR)
            assert regular.state == Roster.State.PAID, (code, month)
            assert regular.county_approved_by.username == "auditor"
            assert regular.finance_approved_by.username == "finance"
            failed = regular.lines.filter(outcome=RosterLine.Outcome.FAILED)
            assert 1 <= failed.count() <= 2
            assert set(failed.values_list("failure", flat=True)) == {"account_closed"}
            # Each failed line re-issued, to the corrected account, on a paid supplementary.
            for line in failed:
                reissue = RosterLine.objects.get(refers_to=line, kind="reissue")
                assert reissue.roster.kind == Roster.Kind.SUPPLEMENTARY
                assert reissue.roster.supplements == regular
                assert reissue.roster.state == Roster.State.PAID
                assert reissue.outcome == RosterLine.Outcome.PAID
                assert reissue.account_id != line.account_id
        current = rosters.get(month=this_month, kind=Roster.Kind.REGULAR)
        assert current.state == Roster.State.PREPARED and current.line_count > 0
    # 吉强镇 held its lines with problems back; the others have a wrong holder to correct.
    now = Roster.objects.filter(month=this_month)
    held = now.get(township__code=TOWNSHIPS[0])
    assert held.problem_count == 0
    assert held.lines.filter(outcome=RosterLine.Outcome.HELD).exists()
    for code in TOWNSHIPS[1:]:
        line = now.get(township__code=code).lines.exclude(problems=[]).get()
        assert line.problems == ["name_mismatch"]
    # A back pay on one roster; every enrolled household has a well-formed account.
    back_pay = RosterLine.objects.get(kind=RosterLine.Kind.BACK_PAY)
    assert back_pay.roster.state == Roster.State.PAID
    for account in PaymentAccount.objects.select_related("bank"):
        assert services.account_well_formed(account.bank, account.number)
        assert len(account.number) == 19
    # Finance allocated every month; last month's rural dibao fell short.
    county = held.township.county()
    short = [
        (month, row["programme"])
        for month in [*past, this_month]
        for row in funds_ledger(county=county, month=month)
        if row["over"]
    ]
    assert short == [(past[-1], "dibao_rural")]
    assert RoleAssignment.objects.filter(
        user__username="finance", role=Role.FINANCE_REVIEWER, region=county
    ).exists()
    # Each past month published per village, compared, explained and closed; the
    # statistics table submitted for all but the last past month (left for the browser).
    closed = Reconciliation.objects.filter(county=county, state="closed")
    assert sorted(closed.values_list("month", flat=True)) == past
    assert not ReconciliationException.objects.filter(
        reconciliation__in=closed, status="open"
    ).exists()
    assert all(r.rate is not None and r.rate > Decimal("0.9") for r in closed)
    tables = dict(MonthlyStatistics.objects.filter(county=county).values_list("month", "state"))
    assert tables == {**{m: "submitted" for m in past[:-1]}, past[-1]: "draft"}
    published = PublicRoster.objects.filter(month=past[-1], withdrawn_at__isnull=True)
    assert (
        published.count() >= 3
        and PublicRosterEntry.objects.filter(public_roster__in=published).exists()
    )
    before = _counts()
    assert load_payment_demo() == 0
    load_demo()
    assert _counts() == before
