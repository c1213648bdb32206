"""Money (domain.md §7): entitlements from the decisions in force, the roster and its
checks, the three approvals, bank files and returns, re-issue, funds. On the real
database; every date is a month of the test's own."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from aid_portal import services as aid_services
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Role, User
from cases.casework import services
from cases.models import Member
from cases.payments import bankfiles
from cases.payments import services as payments
from cases.payments.models import Award, PaymentAdjustment, Roster, RosterEvent, RosterLine
from cases.payments.selectors import funds_ledger, funds_shortfall
from cases.reviews import services as review_services
from tests.cases.conftest import luhn_number, to_decision
from tests.cases.test_services import _race
from tests.conftest import make_user

THIS_MONTH = timezone.localdate().replace(day=1)
NEXT_MONTH = payments.next_month(THIS_MONTH)
LAST_MONTH = payments.previous_month(THIS_MONTH)


def prepare(people, places, month=THIS_MONTH) -> Roster:
    return payments.roster_prepare(
        actor=people.caseworker_a, township_id=places.township_a.pk, month=month
    )


def approve(people, finance, roster: Roster) -> Roster:
    payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    return payments.roster_finance_approve(actor=finance, roster_id=roster.pk)


# --- entitlement ---------------------------------------------------------------------------


def test_an_approval_is_due_from_its_first_month_with_its_decision(paying, people, places):
    family = paying()
    app = family.application
    award = Award.objects.get(application=app)
    assert (award.from_month, award.until_month, award.decision) == (
        THIS_MONTH,
        None,
        Award.Decision.APPROVAL,
    )
    roster = prepare(people, places)
    line = roster.lines.get()
    assert (line.kind, line.amount, line.award_id, line.months_from) == (
        RosterLine.Kind.MONTHLY,
        app.monthly_amount,
        award.pk,
        THIS_MONTH,
    )
    assert line.payee_name == family.applicant.person.name
    assert line.problems == []
    assert (roster.line_count, roster.total, roster.due_on.day) == (1, app.monthly_amount, 15)


def test_nothing_is_due_before_the_first_month(enrol, people, places, make_family):
    family = make_family()
    app_id = to_decision(people, family)
    services.application_approve(
        actor=people.approver_a, application_id=app_id, start_month=NEXT_MONTH
    )
    assert not prepare(people, places).lines.exists()
    assert prepare(people, places, NEXT_MONTH).lines.filter(application_id=app_id).exists()


def test_an_adjustment_counts_from_the_month_after_it(paying, people, places):
    app = paying().application
    services.application_amount_adjust(
        actor=people.approver_a, application_id=app.pk, monthly_amount="500.00", reason="收入变化"
    )
    old, new = Award.objects.filter(application=app).order_by("from_month")
    assert (old.until_month, new.from_month, new.monthly_amount) == (
        THIS_MONTH,
        NEXT_MONTH,
        Decimal("500.00"),
    )
    assert prepare(people, places).lines.get().amount == old.monthly_amount
    assert prepare(people, places, NEXT_MONTH).lines.get().amount == Decimal("500.00")


def test_a_stop_ends_payment_from_the_next_month(paying, people, places):
    app = paying().application
    services.application_stop(actor=people.approver_a, application_id=app.pk, reason="不再符合条件")
    assert prepare(people, places).lines.count() == 1
    assert not prepare(people, places, NEXT_MONTH).lines.exists()


def test_a_gradual_exit_pays_its_months_then_stops(paying, people, places):
    app = paying().application
    services.gradual_exit_start(
        actor=people.approver_a, application_id=app.pk, months=1, reason="务工收入超过标准"
    )
    award = Award.objects.get(application=app)
    assert award.until_month == NEXT_MONTH
    assert prepare(people, places, NEXT_MONTH).lines.count() == 1
    following = payments.next_month(NEXT_MONTH)
    with connection.cursor() as cursor:  # a month beyond the one-ahead rule: ask the SQL
        cursor.execute(
            "SELECT count(*) FROM cases_award WHERE application_id = %s "
            "AND from_month <= %s AND (until_month IS NULL OR until_month >= %s)",
            [app.pk, following, following],
        )
        assert cursor.fetchone()[0] == 0


def test_a_hold_stops_payment_from_the_next_month(paying, people, places):
    app = paying().application
    hold = services.application_suspend(
        actor=people.caseworker_a, application_id=app.pk, source="credit_finding:1", reason="失信"
    )
    hold.started_at = timezone.now() - datetime.timedelta(days=40)
    hold.save(update_fields=["started_at"])
    assert not prepare(people, places).lines.exists()


def test_a_hold_lifted_as_wrong_pays_the_withheld_months_back(paying, people, places):
    app = paying().application
    services.application_suspend(
        actor=None, application_id=app.pk, source="credit_finding:9", reason="失信"
    )
    app.suspensions.update(started_at=timezone.now() - datetime.timedelta(days=45))
    Award.objects.filter(application=app).update(from_month=LAST_MONTH.replace(month=1, year=2025))
    services.application_resume(
        actor=None,
        application_id=app.pk,
        source="credit_finding:9",
        reason="异议成立",
        wrongly_held=True,
    )
    back = PaymentAdjustment.objects.get(application=app)
    assert back.kind == PaymentAdjustment.Kind.BACK_PAY
    assert back.months_to == THIS_MONTH
    assert back.amount == app.monthly_amount * (
        (back.months_to.year - back.months_from.year) * 12
        + back.months_to.month
        - back.months_from.month
        + 1
    )
    # This month was held at its start, so the back pay covers it and no monthly line does.
    roster = prepare(people, places)
    assert list(roster.lines.values_list("kind", "amount")) == [("back_pay", back.amount)]
    assert "异议成立" in roster.lines.get(kind="back_pay").reason


def test_the_death_of_the_only_member_stops_payment_the_month_after(paying, people, places):
    family = paying()
    app = family.application
    Member.objects.filter(pk=family.spouse.pk).update(is_supporter=True)  # one member left
    review_services.member_death_record(
        actor=people.caseworker_a,
        application_id=app.pk,
        member_id=family.applicant.pk,
        died_on=LAST_MONTH,
    )
    assert not prepare(people, places).lines.exists()


def test_the_death_of_one_of_two_members_keeps_the_payment(paying, people, places):
    family = paying()
    review_services.member_death_record(
        actor=people.caseworker_a,
        application_id=family.application.pk,
        member_id=family.spouse.pk,
        died_on=LAST_MONTH,
    )
    assert prepare(people, places).lines.count() == 1


def test_a_recovery_is_a_line_of_its_own_deducted_from_the_payment(paying, people, places):
    app = paying().application
    payments.recovery_record(
        actor=people.caseworker_a,
        application_id=app.pk,
        amount="100.00",
        months_from=LAST_MONTH,
        months_to=LAST_MONTH,
        reason="多领的保障金",
        source="",
    )
    roster = prepare(people, places)
    monthly = roster.lines.get(kind="monthly")
    recovery = roster.lines.get(kind="recovery")
    assert recovery.amount == Decimal("-100.00")
    assert recovery.deducted_from_id == monthly.pk
    assert monthly.amount == app.monthly_amount
    assert monthly.net_amount == app.monthly_amount - 100
    assert roster.total == app.monthly_amount - 100


# --- checks and approvals --------------------------------------------------------------------


def test_the_checks_find_each_problem(paying, people, places, abc):
    bad_name = paying().application
    no_account = paying().application
    PaymentAccountModel = bad_name.household.payment_accounts.model
    PaymentAccountModel.objects.filter(household=bad_name.household).update(holder_name="别人")
    PaymentAccountModel.objects.filter(household=no_account.household).delete()
    roster = prepare(people, places)
    problems = {line.application_id: line.problems for line in roster.lines.all()}
    assert problems[bad_name.pk] == ["name_mismatch"]
    assert problems[no_account.pk] == ["no_account"]
    assert roster.problem_count == 2


def test_an_account_must_be_well_formed_for_its_bank(paying, people, abc):
    app = paying().application
    good = luhn_number("6228")
    wrong_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(DomainError) as refused:
        payments.account_set(
            actor=people.caseworker_a,
            household_id=app.household_id,
            bank_id=abc.pk,
            number=wrong_check,
            holder_name="x",
            reason="换卡",
        )
    assert refused.value.field == "number"
    assert payments.account_well_formed(abc, luhn_number("6228"))
    assert not payments.account_well_formed(abc, luhn_number("6228", 16))


def test_approvals_need_three_different_people_and_no_problem(paying, people, places, finance):
    paying()
    # Someone who holds both roles still may not approve what they prepared.
    both = make_user("both", Role.TOWNSHIP_CASEWORKER, places.township_a)
    aid_services.role_grant(actor=None, user=both, role=Role.COUNTY_AUDITOR, region=places.county)
    roster = payments.roster_prepare(actor=both, township_id=places.township_a.pk, month=THIS_MONTH)
    with pytest.raises(DomainError, match="编制人"):
        payments.roster_county_approve(actor=both, roster_id=roster.pk)
    with pytest.raises(PermissionDenied):
        payments.roster_county_approve(actor=people.caseworker_a, roster_id=roster.pk)
    payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    with pytest.raises(PermissionDenied):
        payments.roster_finance_approve(actor=people.auditor, roster_id=roster.pk)
    roster = payments.roster_finance_approve(actor=finance, roster_id=roster.pk)
    assert roster.state == Roster.State.APPROVED
    assert roster.content_hash == payments.roster_content_hash(roster)
    assert len(roster.content_hash) == 64


def test_a_roster_with_problems_is_approved_only_after_they_are_held(paying, people, places):
    app = paying().application
    app.household.payment_accounts.all().delete()
    paying()
    roster = prepare(people, places)
    with pytest.raises(DomainError, match="存在问题"):
        payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    bad = roster.lines.get(application=app)
    payments.line_hold(
        actor=people.caseworker_a, roster_id=roster.pk, line_id=bad.pk, reason="无账户"
    )
    roster = payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    assert roster.problem_count == 0
    assert roster.line_count == 2
    assert roster.total == roster.lines.exclude(outcome="held").get().amount


def test_a_held_line_is_due_again_on_a_supplementary_roster(paying, people, places, finance, abc):
    app = paying().application
    app.household.payment_accounts.update(holder_name="别人")
    roster = prepare(people, places)
    line = roster.lines.get()
    payments.line_hold(
        actor=people.caseworker_a, roster_id=roster.pk, line_id=line.pk, reason="户名不符"
    )
    paying()
    approve(people, finance, roster)
    payments.account_set(
        actor=people.caseworker_a,
        household_id=app.household_id,
        bank_id=abc.pk,
        number=luhn_number("62284"),
        holder_name=app.household.members.get(relation="self").person.name,
        reason="户名更正",
    )
    extra = payments.supplementary_prepare(
        actor=people.caseworker_a, township_id=places.township_a.pk, month=THIS_MONTH
    )
    again = extra.lines.get(application=app)
    assert (again.application_id, again.award_id, again.problems) == (app.pk, line.award_id, [])


def test_a_sent_back_roster_frees_its_month(paying, people, places):
    paying()
    roster = prepare(people, places)
    with pytest.raises(Conflict):
        prepare(people, places)
    payments.roster_send_back(actor=people.auditor, roster_id=roster.pk, reason="金额需核实")
    assert prepare(people, places).lines.count() == 1


def test_two_rosters_of_one_month_never_pay_one_line_twice(paying, people, places, finance):
    paying()
    roster = approve(people, finance, prepare(people, places))
    with pytest.raises(DomainError, match="没有内容"):
        payments.supplementary_prepare(
            actor=people.caseworker_a, township_id=places.township_a.pk, month=THIS_MONTH
        )
    assert RosterLine.objects.filter(roster__month=THIS_MONTH).count() == roster.line_count == 1


def test_funds_shortfall_is_shown_for_the_roster(paying, people, places, finance):
    app = paying().application
    roster = prepare(people, places)
    payments.funds_allocate(
        actor=finance,
        county_id=places.county.pk,
        programme=app.assistance_type,
        month=THIS_MONTH,
        amount="100.00",
    )
    assert funds_shortfall(roster) == {app.assistance_type: app.monthly_amount - 100}
    approve(people, finance, roster)
    (row,) = funds_ledger(county=places.county, month=THIS_MONTH)
    assert (row["allocated"], row["committed"], row["over"]) == (
        Decimal("100.00"),
        app.monthly_amount,
        True,
    )


# --- bank files and returns -------------------------------------------------------------------


def _return(lines, *, results=None, total=None, count=None) -> bytes:
    rows = ["reference,result,reason,amount,note"]
    for line in lines:
        result, reason = (results or {}).get(line.pk, ("paid", ""))
        rows.append(f"{line.reference},{result},{reason},{line.net_amount:.2f},")
    paid = sum((line.net_amount for line in lines), Decimal("0"))
    rows.append(f"TOTAL,{count if count is not None else len(lines)},{total or paid:.2f}")
    return ("\r\n".join(rows) + "\r\n").encode("gbk")


def test_the_bank_file_carries_each_payment_and_a_control_line(
    paying, people, places, finance, abc
):
    paying()
    paying()
    roster = approve(people, finance, prepare(people, places))
    content, kind, name = bankfiles.bank_file(
        actor=people.auditor, roster=roster, bank=abc, form="csv"
    )
    text = content.decode("gbk").splitlines()
    assert text[0] == "line,reference,name,identity_number,account,amount,month"
    assert len(text) == 4
    assert text[-1] == f"TOTAL,2,{roster.total:.2f}"
    assert name.endswith("-abc.csv") and "gbk" in kind


def test_a_frozen_roster_that_changed_is_not_exported(paying, people, places, finance, abc):
    paying()
    roster = approve(people, finance, prepare(people, places))
    RosterLine.objects.filter(roster=roster).update(amount=Decimal("9999.00"))
    with pytest.raises(Conflict, match="被改动"):
        bankfiles.bank_file(actor=people.auditor, roster=roster, bank=abc, form="jsonl")


def test_a_return_is_applied_whole_and_once(paying, people, places, finance, abc):
    paying()
    paying()
    roster = approve(people, finance, prepare(people, places))
    first, second = roster.lines.order_by("id")
    content = _return([first, second], results={second.pk: ("failed", "account_closed")})
    applied, changed = bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=content,
    )
    assert changed and (applied.paid_count, applied.failed_count) == (1, 1)
    roster.refresh_from_db()
    assert roster.state == Roster.State.PAID
    second.refresh_from_db()
    assert (second.outcome, second.failure) == ("failed", "account_closed")
    again, changed = bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=content,
    )
    assert (again.pk, changed) == (applied.pk, False)


def test_a_bank_file_is_exported_again_after_a_return(paying, people, places, finance, abc):
    # The bank's answers are no change to what finance froze: another bank's file (or
    # this one again) is still exported once a return is applied.
    paying()
    roster = approve(people, finance, prepare(people, places))
    frozen = roster.content_hash
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return(list(roster.lines.all())),
    )
    assert payments.roster_content_hash(roster) == frozen
    content, _kind, _name = bankfiles.bank_file(
        actor=people.auditor, roster=roster, bank=abc, form="csv"
    )
    assert content.decode("gbk").splitlines()[-1] == f"TOTAL,1,{roster.total:.2f}"


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda c: c.replace(b"paid,,", b"payed,,", 1), "paid"),
        (lambda c: c.replace(b"TOTAL,2", b"TOTAL,3"), "汇总行"),
        (lambda c: b"\r\n".join(c.split(b"\r\n")[:2] + c.split(b"\r\n")[3:]), "没有回盘"),
        (lambda c: c.replace(b"\r\nTOTAL", b"\r\nR999-L1,paid,,1.00,\r\nTOTAL"), "其他名册"),
        (lambda c: c.replace(b"reference,result", b"\xffreference,result"), "GBK"),
        # Each check of a line against the payments sent, and of a line on its own.
        (
            lambda c: c.replace(b"\r\nTOTAL", b"\r\n" + c.split(b"\r\n")[1] + b"\r\nTOTAL"),
            "已在第2行回盘",
        ),
        (lambda c: c.replace(b",,", b",,1", 1), "与报送的"),
        (lambda c: c.replace(b"-L", b"-L9", 1), "不对应"),
        (lambda c: c.replace(b"paid,,", b"failed,,", 1), "须注明原因"),
        (lambda c: c.replace(b"\r\nR", b"\r\nX", 1), "不是有效的发放流水号"),
        (lambda c: c + b"R1-L1,paid,,1.00,\r\n", "汇总行之后"),
        (lambda c: b"\r\n".join(c.split(b"\r\n")[:-2]), "缺少汇总行"),
    ],
)
def test_a_bad_return_changes_nothing(paying, people, places, finance, abc, mangle, message):
    paying()
    paying()
    roster = approve(people, finance, prepare(people, places))
    content = mangle(_return(list(roster.lines.order_by("id"))))
    with pytest.raises(DomainError) as refused:
        bankfiles.return_apply(
            actor=people.auditor,
            roster_id=roster.pk,
            bank_id=abc.pk,
            file_name="r.csv",
            content=content,
        )
    assert message in refused.value.message + " ".join(refused.value.errors)
    # Every error names its line, or is about the file as a whole.
    assert all(e.startswith(("第", "报送", "缺少")) for e in refused.value.errors)
    assert not roster.returns.exists()
    assert set(roster.lines.values_list("outcome", flat=True)) == {"pending"}


def test_a_failed_line_is_reissued_once_to_the_corrected_account(
    paying, people, places, finance, abc
):
    family = paying()
    roster = approve(people, finance, prepare(people, places))
    line = roster.lines.get()
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([line], results={line.pk: ("failed", "account_closed")}),
    )
    old_account = line.account
    new = payments.account_set(
        actor=people.caseworker_a,
        household_id=family.application.household_id,
        bank_id=abc.pk,
        number=luhn_number("62285"),
        holder_name=family.applicant.person.name,
        reason="原账户已销户",
    )
    old_account.refresh_from_db()
    assert old_account.replaced_at is not None and old_account.replace_reason == "原账户已销户"
    extra = payments.supplementary_prepare(
        actor=people.caseworker_a,
        township_id=places.township_a.pk,
        month=THIS_MONTH,
        reissue_line_ids=[line.pk],
    )
    reissue = extra.lines.get()
    assert (reissue.kind, reissue.refers_to_id, reissue.account_id, reissue.amount) == (
        "reissue",
        line.pk,
        new.pk,
        line.net_amount,
    )
    with pytest.raises(Conflict, match="已经重新发放"):
        payments.supplementary_prepare(
            actor=people.caseworker_a,
            township_id=places.township_a.pk,
            month=THIS_MONTH,
            reissue_line_ids=[line.pk],
        )


def test_a_paid_line_is_never_reissued(paying, people, places, finance, abc):
    paying()
    roster = approve(people, finance, prepare(people, places))
    line = roster.lines.get()
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([line]),
    )
    with pytest.raises(DomainError, match="未发放失败"):
        payments.supplementary_prepare(
            actor=people.caseworker_a,
            township_id=places.township_a.pk,
            month=THIS_MONTH,
            reissue_line_ids=[line.pk],
        )


def test_a_township_prepares_only_its_own_roster(paying, people, places):
    paying()
    with pytest.raises(DomainError):
        payments.roster_prepare(
            actor=people.caseworker_b, township_id=places.township_a.pk, month=THIS_MONTH
        )
    with pytest.raises(DomainError):
        payments.roster_prepare(
            actor=people.assistant_a, township_id=places.township_a.pk, month=THIS_MONTH
        )


def test_the_home_page_shows_the_rosters_waiting_by_their_deadline(client, paying, people, places):
    paying()
    client.force_login(people.caseworker_a)
    home = client.get("/").content.decode()
    assert 'id="home-payments"' in home and places.township_a.name in home
    roster = prepare(people, places)
    client.force_login(people.auditor)
    home = client.get("/").content.decode()
    assert f'href="/cases/payments/{roster.pk}/"' in home
    client.force_login(people.assistant_a)
    assert 'id="home-payments"' not in client.get("/").content.decode()


# --- never pay twice, under concurrency -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clerks_preparing_one_month_at_once_make_one_roster(paying, people, places):
    paying()
    paying()
    second = make_user("caseworker_a2", Role.TOWNSHIP_CASEWORKER, places.township_a)

    def prepare_as(user_id):
        return lambda: payments.roster_prepare(
            actor=User.objects.get(pk=user_id), township_id=places.township_a.pk, month=THIS_MONTH
        )

    results = _race(prepare_as(people.caseworker_a.pk), prepare_as(second.pk))
    made = [r for r in results if isinstance(r, Roster)]
    assert len(made) == 1 and isinstance(next(r for r in results if r not in made), Conflict)
    assert RosterLine.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_county_approvals_of_one_roster_at_once_one_wins_the_other_is_told(
    paying, people, places, finance
):
    paying()
    roster = prepare(people, places)
    auditor2 = make_user("auditor2", Role.COUNTY_AUDITOR, places.county)

    def approve_as(user_id):
        return lambda: payments.roster_county_approve(
            actor=User.objects.get(pk=user_id), roster_id=roster.pk
        )

    results = _race(approve_as(people.auditor.pk), approve_as(auditor2.pk))
    assert sum(isinstance(r, Roster) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert RosterEvent.objects.filter(roster=roster, action="county_approve").count() == 1
    # Finance approving twice at once: likewise.
    finance2 = make_user("finance2", Role.FINANCE_REVIEWER, places.county)

    def review_as(user_id):
        return lambda: payments.roster_finance_approve(
            actor=User.objects.get(pk=user_id), roster_id=roster.pk
        )

    results = _race(review_as(finance.pk), review_as(finance2.pk))
    assert sum(isinstance(r, Roster) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert RosterEvent.objects.filter(roster=roster, action="finance_approve").count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_failed_line_reissued_at_once_twice_is_reissued_once(
    paying, people, places, finance, abc
):
    paying()
    roster = approve(people, finance, prepare(people, places))
    line = roster.lines.get()
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([line], results={line.pk: ("failed", "frozen")}),
    )
    second = make_user("caseworker_a2", Role.TOWNSHIP_CASEWORKER, places.township_a)

    def reissue(user_id):
        return lambda: payments.supplementary_prepare(
            actor=User.objects.get(pk=user_id),
            township_id=places.township_a.pk,
            month=THIS_MONTH,
            reissue_line_ids=[line.pk],
        )

    results = _race(reissue(people.caseworker_a.pk), reissue(second.pk))
    assert sum(isinstance(r, Roster) for r in results) == 1, results
    assert RosterLine.objects.filter(kind="reissue", refers_to=line).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_return_imported_twice_at_once_is_applied_once(paying, people, places, finance, abc):
    paying()
    paying()
    roster = approve(people, finance, prepare(people, places))
    content = _return(list(roster.lines.order_by("id")))
    auditor2 = make_user("auditor2", Role.COUNTY_AUDITOR, places.county)

    def apply_as(user_id):
        return lambda: bankfiles.return_apply(
            actor=User.objects.get(pk=user_id),
            roster_id=roster.pk,
            bank_id=abc.pk,
            file_name="r.csv",
            content=content,
        )

    results = _race(apply_as(people.auditor.pk), apply_as(auditor2.pk))
    assert sorted(changed for _applied, changed in results) == [False, True], results
    assert roster.returns.count() == 1
    assert RosterEvent.objects.filter(roster=roster, action="return_apply").count() == 1


def test_the_full_account_number_needs_a_purpose_and_is_audited(client, paying, people):
    from aid_portal.models import AuditEvent

    family = paying()
    url = f"/cases/payments/households/{family.application.household_id}/account/"
    client.force_login(people.caseworker_a)
    page = client.get(url).content.decode()
    account = family.application.household.payment_accounts.get()
    assert account.number not in page and account.masked in page
    refused = client.post(url, {"action": "unmask", "purpose": ""})
    assert refused.status_code == 400 and account.number not in refused.content.decode()
    shown = client.post(url, {"action": "unmask", "purpose": "银行退回，核对账号"})
    assert account.number in shown.content.decode()
    read = AuditEvent.objects.get(action="sensitive.read")
    assert (read.reason, read.actor_id) == ("银行退回，核对账号", people.caseworker_a.pk)
    client.force_login(people.auditor)  # reads payments, corrects no account
    assert client.post(url, {"action": "unmask", "purpose": "查看"}).status_code == 404


def test_a_return_with_many_errors_lists_the_first_and_counts_the_rest(
    paying, people, places, finance, abc
):
    paying()
    roster = approve(people, finance, prepare(people, places))
    good = _return(list(roster.lines.all()))
    junk = b"".join(b"nonsense-%d,paid,,1.00,\r\n" % n for n in range(60))
    with pytest.raises(DomainError) as refused:
        bankfiles.return_apply(
            actor=people.auditor,
            roster_id=roster.pk,
            bank_id=abc.pk,
            file_name="r.csv",
            content=junk + good,
        )
    errors = refused.value.errors
    assert len(errors) == bankfiles.ERRORS_SHOWN + 1
    assert errors[0].startswith("第1行") and errors[49].startswith("第50行")
    # 60 junk lines, and the header line now in the middle of the file is junk too.
    assert errors[-1] == "……另有 11 处。"
    assert "61" in refused.value.message
    assert not roster.returns.exists()


def test_a_return_is_read_from_an_uploaded_file(paying, people, places, finance, abc):
    paying()
    roster = approve(people, finance, prepare(people, places))
    upload = SimpleUploadedFile("r.csv", _return(list(roster.lines.all())))
    applied, changed = bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name=upload.name,
        content=upload,
    )
    assert changed and applied.paid_count == 1
    assert set(roster.lines.values_list("outcome", flat=True)) == {"paid"}


def test_a_return_larger_than_the_limit_is_refused(paying, people, places, finance, abc):
    paying()
    roster = approve(people, finance, prepare(people, places))

    class Huge(io.BytesIO):
        size = bankfiles.RETURN_MAX_BYTES + 1

    with pytest.raises(DomainError, match="256 MB"):
        bankfiles.return_apply(
            actor=people.auditor,
            roster_id=roster.pk,
            bank_id=abc.pk,
            file_name="r.csv",
            content=Huge(_return(list(roster.lines.all()))),
        )
    assert not roster.returns.exists()


def test_the_daily_unmask_limit_keeps_numbers_masked(client, paying, people, settings):
    from aid_portal.models import AuditEvent

    settings.UNMASK_DAILY_LIMIT = 2
    family = paying()
    url = f"/cases/payments/households/{family.application.household_id}/account/"
    account = family.application.household.payment_accounts.get()
    client.force_login(people.caseworker_a)
    with connection.cursor() as cursor:  # yesterday's unmasking does not count today
        cursor.execute(
            "INSERT INTO aid_portal_auditevent (at, actor_id, actor_label, action, object_type, "
            "object_id, object_label, new_values, reason) VALUES (now() - interval '1 day', "
            "%s, 'caseworker_a', 'sensitive.read', '', '', '', '{\"unmask\": true}', 'x')",
            [people.caseworker_a.pk],
        )
    for _ in range(2):
        shown = client.post(url, {"action": "unmask", "purpose": "银行退回，核对账号"})
        assert shown.status_code == 200 and account.number in shown.content.decode()
    refused = client.post(url, {"action": "unmask", "purpose": "银行退回，核对账号"})
    page = refused.content.decode()
    assert refused.status_code == 429
    assert account.number not in page and "今天" in page
    unmasked = AuditEvent.objects.filter(action="sensitive.read", new_values__unmask=True)
    assert unmasked.count() == 3  # yesterday's and today's two, not the refused one
    # The county sees who saw which account, and why.
    client.force_login(people.auditor)
    audit = client.get("/audit/").content.decode()
    assert 'id="unmasks"' in audit and "银行退回，核对账号" in audit and account.masked in audit
    assert account.number not in audit
