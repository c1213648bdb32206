"""The demo's payments (domain.md §7): accounts, three months paid, this month to run.

- Every enrolled household has a one-card account at one of the region's paying banks
  (well-formed numbers, the applicant as holder), except three whose account was
  replaced this month with the spouse's name as holder: the checks find them.
- In each township, the three months before this one went the whole way: the roster
  prepared by the township, approved by the county (``auditor``), reviewed by finance
  (``finance``), the bank file exported and the bank's return applied with a failed
  line or two (account closed); the account corrected and the failed line re-issued on
  a supplementary roster, itself approved and paid. 吉强镇 has a back-pay line last month.
- Finance allocated funds per programme and month; last month's rural dibao allocation
  fell short of what was paid, so the funds page shows the overrun.
- This month's rosters are prepared and wait for the county: 吉强镇 has held back its
  lines with problems (a blocked payee, a wrong account holder); the other townships
  still have one to correct, so a person can run the month in the browser.

Every step goes through cases.payments (services and bankfiles), the bank's return is
built from the exported file as the bank would; then, for realism only, the steps of
past months are moved back to dates in those months (the audit log keeps the true
time of loading). Run after the cases, reviews, credit and trust demos. Idempotent:
nothing is done once a roster of the demo county exists.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from stdnum import luhn

from aid_portal.demo.base import COUNTY_CODE
from aid_portal.models import Region, User
from aid_portal.workdays import add_working_days
from cases.models import Application, AssistanceType, Member
from cases.payments import bankfiles, reconciliation, services
from cases.payments.models import (
    Award,
    Bank,
    BankReturn,
    FundAllocation,
    PaymentAccount,
    PaymentAdjustment,
    Roster,
    RosterEvent,
    RosterLine,
)
from cases.publicity import services as publicity
from cases.transitions import add_months

SEED = 6404227
HISTORY = 3  # months before this one, paid
# Who prepares each township's rosters. 平峰镇 has no staff of its own in the demo: the
# superuser stands in for its caseworker (as in aid_portal.demo.cases).
PREPARERS = {"640422100": "caseworker_a", "640422101": "caseworker_b", "640422102": "admin"}
TOWNSHIP_HOLDING = "640422100"  # holds back this month's lines with problems
# The paying banks of the region and the share of households at each; the first six
# digits of the demo's card numbers (every number carries a Luhn check digit).
BANKS = {"nxrcb": (45, "623095"), "abc": (35, "622848"), "psbc": (20, "621799")}
# The account holder's name does not match the applicant's: one household per township.
WRONG_HOLDERS = ("640422100", "640422101", "640422102")
SHORT_MONTHS_BACK = 1  # the month whose rural dibao allocation falls short
BACK_PAY_SOURCE = "demo:back_pay"
HOLD_REASONS = {
    "payee_blocked": "信用惩戒限制期内，暂缓发放，待限制期满或修复后补发",
    "name_mismatch": "一卡通户名与户主不符，待本人到银行核实后补发",
}


def load_payment_demo(*, today: datetime.date | None = None) -> int:
    """Create the demo's payments once; returns how many rosters were prepared."""
    today = today or timezone.localdate()
    county = Region.objects.filter(code=COUNTY_CODE).first()
    if county is None or Roster.objects.filter(township__code__startswith=county.prefix).exists():
        return 0
    with transaction.atomic():
        demo = _Payments(county, today)
        demo.awards()
        demo.accounts()
        this_month = services.month_of(today)
        months = [this_month]
        for _ in range(HISTORY):
            months.insert(0, services.previous_month(months[0]))
        for back, month in zip(range(HISTORY, 0, -1), months, strict=False):
            demo.past_month(month, short=back == SHORT_MONTHS_BACK, back_pay=back == 1)
            # Published, compared, closed; the statistics table of every month but the
            # last goes to the city, the last is left to submit in the browser.
            demo.ledgers(month, submit=back > 1)
        demo.this_month(this_month)
        demo.backdate()
    return len(demo.rosters)


class _Payments:
    def __init__(self, county: Region, today: datetime.date):
        self.rng = random.Random(SEED)
        self.county = county
        self.today = today
        names = {*PREPARERS.values(), "auditor", "finance"}
        self.users = {u.username: u for u in User.objects.filter(username__in=names)}
        missing = names - set(self.users)
        if missing:
            raise RuntimeError(
                f"load aid_portal.demo.load_demo() first: no user {', '.join(sorted(missing))}"
            )
        self.townships = list(
            Region.objects.filter(
                level=Region.Level.TOWNSHIP, code__startswith=county.prefix
            ).order_by("code")
        )
        self.banks = {bank.code: bank for bank in Bank.objects.filter(code__in=BANKS)}
        self.rosters: list[Roster] = []
        self.failed: set[int] = set()  # households whose account was closed already
        self.dates: dict[int, list[datetime.date]] = {}  # roster: the days of its steps
        self.opened: list[int] = []  # the accounts on file before the first month
        self.corrected: list[tuple[int, int, datetime.date]] = []  # old, new, day

    def preparer(self, township: Region) -> User:
        return self.users[PREPARERS[township.township_prefix]]

    # --- awards ---------------------------------------------------------------------------

    def enrolled(self):
        return Application.objects.filter(
            village__code__startswith=self.county.prefix,
            state__in=Application.ENROLLED_STATES,
            start_month__isnull=False,
            monthly_amount__isnull=False,
        )

    def awards(self) -> None:
        """Every enrolled demo case is due from its first month.

        The migration that backfilled awards (cases 0010) ran before the demo's cases
        existed. The trust demo's control group is imported history, written with the
        ORM: its awards are written the same way, as the migration would have. The case
        demo approves through the services with payment starting this month, then moves
        the decision and the application's start month back (aid_portal.demo.cases,
        ``backdate``); the award that approval opened is moved back here to that start
        month, so that the past months have something to pay. Demo realism only: a
        real award is never moved.
        """
        one_off = services.ONE_OFF_PROGRAMMES
        imported = []
        for app in self.enrolled().filter(awards__isnull=True).order_by("pk"):
            start = app.start_month.replace(day=1)
            imported.append(
                Award(
                    application=app,
                    programme=app.assistance_type,
                    monthly_amount=app.monthly_amount,
                    one_off=app.assistance_type in one_off,
                    from_month=start,
                    until_month=start if app.assistance_type in one_off else None,
                    decision=Award.Decision.APPROVAL,
                    decided_on=timezone.localtime(app.decided_at).date()
                    if app.decided_at
                    else start,
                )
            )
        Award.objects.bulk_create(imported)
        moved = list(
            Award.objects.filter(
                application__in=self.enrolled(),
                decision=Award.Decision.APPROVAL,
                from_month__gt=F("application__start_month"),
            ).select_related("application")
        )
        for award in moved:
            award.from_month = award.application.start_month
            if award.one_off:
                award.until_month = award.from_month
        Award.objects.bulk_update(moved, ["from_month", "until_month"])

    # --- accounts -------------------------------------------------------------------------

    def number(self, bank: Bank) -> str:
        """A card number of ``bank``: its six-digit prefix, twelve random digits and a
        Luhn check digit (19 digits, as the region's banks issue)."""
        body = BANKS[bank.code][1] + "".join(str(self.rng.randrange(10)) for _ in range(12))
        return body + luhn.calc_check_digit(body)

    def bank(self) -> Bank:
        codes = list(BANKS)
        return self.banks[self.rng.choices(codes, weights=[BANKS[c][0] for c in codes])[0]]

    def applicants(self) -> dict[int, Member]:
        """The applicant of every enrolled household, by household, in household order."""
        members = (
            Member.objects.filter(
                household__in=self.enrolled().values("household"),
                relation=Member.Relation.SELF,
            )
            .select_related("person", "household__village")
            .order_by("household_id", "id")
        )
        chosen: dict[int, Member] = {}
        for member in members:
            chosen.setdefault(member.household_id, member)
        return chosen

    def accounts(self) -> None:
        have = set(
            PaymentAccount.objects.filter(replaced_at__isnull=True).values_list(
                "household_id", flat=True
            )
        )
        for household_id, member in self.applicants().items():
            bank = self.bank()  # drawn for every household: the same bank whatever exists
            number = self.number(bank)
            if household_id in have:
                continue
            account = services.account_set(
                actor=self.preparer(self.township_of(member)),
                household_id=household_id,
                bank_id=bank.pk,
                number=number,
                holder_name=member.person.name,
            )
            self.opened.append(account.pk)

    def township_of(self, member: Member) -> Region:
        prefix = member.household.village.township_prefix
        return next(t for t in self.townships if t.township_prefix == prefix)

    def correct(self, line: RosterLine, day: datetime.date) -> None:
        """The family opened a new card after the old one was closed."""
        bank = self.bank()
        old = PaymentAccount.objects.get(household=line.household_id, replaced_at__isnull=True)
        account = services.account_set(
            actor=self.preparer(line.roster.township),
            household_id=line.household_id,
            bank_id=bank.pk,
            number=self.number(bank),
            holder_name=line.payee_name,
            reason="原一卡通已销户（银行回盘：账户已销户），户主新办一卡通",
        )
        self.corrected.append((old.pk, account.pk, day))

    # --- the months -----------------------------------------------------------------------

    def prepare(self, township: Region, month: datetime.date) -> Roster | None:
        roster = services.roster_prepare(
            actor=self.preparer(township), township_id=township.pk, month=month, today=self.today
        )
        self.rosters.append(roster)
        return roster

    def hold_problems(self, roster: Roster) -> None:
        for line in roster.lines.exclude(problems=[]).order_by("id"):
            code = next((c for c in line.problems if c in HOLD_REASONS), None)
            services.line_hold(
                actor=roster.prepared_by,
                roster_id=roster.pk,
                line_id=line.pk,
                reason=HOLD_REASONS.get(code, "信息有误，待核实后补发"),
            )
        roster.refresh_from_db()

    def allocate(self, rosters: list[Roster], month: datetime.date, *, short: bool) -> None:
        """Finance allocates what the month needs, in thousands of yuan; in the short month
        the rural dibao allocation falls below it."""
        needs = (
            RosterLine.objects.filter(roster__in=rosters)
            .exclude(outcome=RosterLine.Outcome.HELD)
            .values_list("programme")
            .annotate(total=Sum("amount"))
            .order_by("programme")
        )
        thousand = Decimal("1000")
        for programme, need in needs:
            if need <= 0:
                continue
            amount = (need / thousand).to_integral_value(ROUND_CEILING) * thousand
            with translation.override("zh-hans"):
                note = f"{month:%Y年%m月}{AssistanceType(programme).label}资金"
            if short and programme == AssistanceType.DIBAO_RURAL:
                amount = max(
                    thousand,
                    (need / thousand).to_integral_value(ROUND_FLOOR) * thousand - 3 * thousand,
                )
                note += "（第一批，余款待拨付）"
            services.funds_allocate(
                actor=self.users["finance"],
                county_id=self.county.pk,
                programme=programme,
                month=month,
                amount=amount,
                note=note,
            )

    def approve(self, roster: Roster) -> None:
        services.roster_county_approve(actor=self.users["auditor"], roster_id=roster.pk)
        services.roster_finance_approve(actor=self.users["finance"], roster_id=roster.pk)

    def bank_return(self, roster: Roster, failing: set[int]) -> None:
        """Each bank's file exported, and its return built from it as the bank would: every
        payment answered, the ones in ``failing`` with the account closed."""
        auditor = self.users["auditor"]
        for bank in bankfiles.banks_of(roster):
            content, _kind, name = bankfiles.bank_file(
                actor=auditor, roster=roster, bank=bank, form="csv"
            )
            rows = list(csv.reader(io.StringIO(content.decode(bank.file_encoding))))
            header, payments = rows[0], rows[1:-1]
            ref, amount = header.index("reference"), header.index("amount")
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(["reference", "result", "reason", "amount", "note"])
            total = Decimal("0")
            for row in payments:
                line_id = int(row[ref].split("-L")[1])
                if line_id in failing:
                    writer.writerow([row[ref], "failed", "account_closed", row[amount], "销户"])
                else:
                    writer.writerow([row[ref], "paid", "", row[amount], ""])
                total += Decimal(row[amount])
            writer.writerow(["TOTAL", len(payments), f"{total:.2f}"])
            bankfiles.return_apply(
                actor=auditor,
                roster_id=roster.pk,
                bank_id=bank.pk,
                file_name=name.replace("roster-", "return-").replace(".csv", "-hz.csv"),
                content=out.getvalue().encode(bank.file_encoding),
            )

    def failing_lines(self, roster: Roster, count: int) -> list[RosterLine]:
        """Monthly payments of households whose card was not closed before."""
        candidates = [
            line
            for line in roster.lines.filter(kind=RosterLine.Kind.MONTHLY, net_amount__gt=0)
            .exclude(outcome=RosterLine.Outcome.HELD)
            .select_related("roster__township")
            .order_by("id")
            if line.household_id not in self.failed
        ]
        chosen = self.rng.sample(candidates, min(count, len(candidates)))
        self.failed.update(line.household_id for line in chosen)
        return chosen

    def past_month(self, month: datetime.date, *, short: bool, back_pay: bool) -> None:
        days = _working_days(month)
        regular = []
        for township in self.townships:
            if back_pay and township.township_prefix == TOWNSHIP_HOLDING:
                self.back_pay(township, month)
            roster = self.prepare(township, month)
            # Normally none: a line the checks find is held back, as the township would.
            self.hold_problems(roster)
            self.dates[roster.pk] = days[:4]
            if roster.line_count:
                regular.append(roster)
        self.allocate(regular, month, short=short)
        for number, roster in enumerate(regular):
            self.approve(roster)
            failing = self.failing_lines(roster, 2 if number == month.month % 3 else 1)
            self.bank_return(roster, {line.pk for line in failing})
            if not failing:
                continue
            for line in failing:
                self.correct(line, days[4])
            extra = services.supplementary_prepare(
                actor=self.preparer(roster.township),
                township_id=roster.township_id,
                month=month,
                reissue_line_ids=[line.pk for line in failing],
            )
            self.rosters.append(extra)
            self.dates[extra.pk] = days[5:]
            self.approve(extra)
            self.bank_return(extra, set())

    def ledgers(self, month: datetime.date, *, submit: bool) -> None:
        """The month's public roster in every village that was paid, the four-ledger
        comparison with each exception explained by its township, the month closed, and
        the statistics table built (and submitted, but for the last month)."""
        villages = Region.objects.filter(
            level=Region.Level.VILLAGE,
            code__startswith=self.county.prefix,
            pk__in=RosterLine.objects.filter(roster__month=month).values("village"),
        ).order_by("code")
        for village in villages:
            township = next(t for t in self.townships if village.code.startswith(t.prefix))
            publicity.public_roster_publish(
                actor=self.preparer(township),
                village_id=village.pk,
                month=month,
                contact="乡镇民政办 0954-0000000",
            )
        auditor = self.users["auditor"]
        done = reconciliation.reconciliation_run(
            actor=auditor, county_id=self.county.pk, month=month, today=self.today
        )
        for exception in done.exceptions.select_related("township"):
            reconciliation.exception_handle(
                actor=self.preparer(exception.township),
                exception_id=exception.pk,
                note="已核实：下月名册补发，原因已记录",
                resolved=False,
            )
        reconciliation.reconciliation_close(actor=auditor, reconciliation_id=done.pk)
        table = reconciliation.statistics_build(
            actor=auditor, county_id=self.county.pk, month=month
        )
        if submit:
            reconciliation.statistics_submit(actor=auditor, statistics_id=table.pk)

    def back_pay(self, township: Region, month: datetime.date) -> None:
        """Two months a family was due before the portal and not paid (its card was
        frozen then), paid back on this month's roster."""
        app = (
            self.enrolled()
            .filter(
                village__code__startswith=township.prefix,
                state=Application.State.IN_PAYMENT,
                assistance_type=AssistanceType.DIBAO_RURAL,
                start_month__lte=add_months(month, -HISTORY - 2),
            )
            .order_by("pk")
            .first()
        )
        if app is None:
            return
        first = add_months(month, -HISTORY - 2)
        services.back_pay_record(
            actor=self.preparer(township),
            application_id=app.pk,
            amount=app.monthly_amount * 2,
            months_from=first,
            months_to=add_months(first, 1),
            reason="原一卡通被司法冻结，两个月未发放成功，解冻后补发",
            source=BACK_PAY_SOURCE,
        )

    def this_month(self, month: datetime.date) -> None:
        """Three households changed their card this month and the clerk entered the
        spouse's name as holder; then the month's rosters are prepared."""
        applicants = self.applicants()
        spouses = {
            m.household_id: m.person.name
            for m in Member.objects.filter(
                household__in=list(applicants), relation=Member.Relation.SPOUSE
            ).select_related("person")
        }
        due = set(
            Award.objects.filter(
                application__in=self.enrolled(),
                one_off=False,
                from_month__lte=month,
                monthly_amount__gt=0,
            )
            .exclude(until_month__lt=month)
            .values_list("application__household_id", flat=True)
        )
        for prefix in WRONG_HOLDERS:
            household_id = next(
                h
                for h, member in applicants.items()
                if h in spouses
                and h in due
                and h not in self.failed
                and member.household.village.township_prefix == prefix
            )
            bank = self.bank()
            services.account_set(
                actor=self.preparer(self.township_of(applicants[household_id])),
                household_id=household_id,
                bank_id=bank.pk,
                number=self.number(bank),
                holder_name=spouses[household_id],
                reason="户主原一卡通遗失，补办新卡",
            )
        rosters = []
        for township in self.townships:
            roster = self.prepare(township, month)
            if township.township_prefix == TOWNSHIP_HOLDING:
                self.hold_problems(roster)
            rosters.append(roster)
        self.allocate(rosters, month, short=False)

    # --- dates ----------------------------------------------------------------------------

    def backdate(self) -> None:
        """Demo realism only: the services stamp everything with now, so the steps of past
        months are moved to days in those months (each roster's steps on its days, the
        returns, the corrected accounts, the allocations, the back pay). Real rosters
        never do this; the audit log, being append-only, keeps the true time of loading."""
        this_month = services.month_of(self.today)
        first = services.month_of(add_months(this_month, -HISTORY))
        opened = _moment(add_working_days(first - datetime.timedelta(days=10), 1), 9)
        PaymentAccount.objects.filter(pk__in=self.opened).update(created_at=opened)
        for old, new, day in self.corrected:
            PaymentAccount.objects.filter(pk=old).update(replaced_at=_moment(day, 10))
            PaymentAccount.objects.filter(pk=new).update(created_at=_moment(day, 10))
        steps = {
            "prepare": 0,
            "recheck": 0,
            "line_hold": 0,
            "county_approve": 1,
            "finance_approve": 2,
            "return_apply": 3,
        }
        for roster in self.rosters:
            days = self.dates.get(roster.pk)
            if days is None:
                continue  # this month's: prepared now
            for event in RosterEvent.objects.filter(roster=roster):
                RosterEvent.objects.filter(pk=event.pk).update(
                    at=_moment(days[steps.get(event.action, 3)], 9 + event.pk % 7)
                )
            Roster.objects.filter(pk=roster.pk).update(
                prepared_at=_moment(days[0], 9),
                due_on=roster.due_on if roster.kind == Roster.Kind.REGULAR else days[3],
            )
            BankReturn.objects.filter(roster=roster).update(imported_at=_moment(days[3], 16))
        month = first
        while month < this_month:
            FundAllocation.objects.filter(county=self.county, month=month).update(
                entered_at=_moment(add_working_days(month - datetime.timedelta(days=1), 1), 11)
            )
            month = services.next_month(month)
        PaymentAdjustment.objects.filter(source=BACK_PAY_SOURCE).update(
            recorded_at=_moment(add_working_days(services.previous_month(this_month), 1), 15)
        )


def _working_days(month: datetime.date) -> list[datetime.date]:
    """The days of a past month's steps: prepared, approved by the county, reviewed by
    finance, the bank's return (by the 15th); then the supplementary roster's four."""
    before = month - datetime.timedelta(days=1)
    return [add_working_days(before, n) for n in (2, 4, 5, 8, 12, 13, 14, 15, 18)]


def _moment(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
