"""Access-matrix rows of payments (cases.payments): rosters, bank files, failed payments,
a household's account, the funds ledger, the reconciliation and the statistics table,
pages and API.

Made here with the ORM, in township A (the world's case_a) and in the other county
(case_other): a frozen roster (paid, its content hash matching its lines) whose one line
failed at the bank, an open roster of another month, the household's account, a fund
allocation, a reconciliation with one exception and a statistics table. So every list
and object is tried from both sides: township A's staff, the county's auditor and its
finance reviewer read township A's rosters; township B's caseworker reads none of them
(its county's funds and reconciliation, yes, but not township A's exceptions); the other
county's auditor reads only theirs. Village assistants, the verification centre and the
feed admin hold no payment role (403). Only who exchanges files with the bank (the
county's auditor) downloads a bank file.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from cases.payments.api_urls import ROSTER_STEP_VIEWS
from cases.payments.models import (
    Bank,
    FundAllocation,
    MonthlyStatistics,
    PaymentAccount,
    Reconciliation,
    ReconciliationException,
    Roster,
    RosterLine,
)
from cases.payments.services import roster_content_hash
from tests.cases.conftest import luhn_number
from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row

MONTH = datetime.date(2026, 10, 1)
OPEN_MONTH = datetime.date(2026, 11, 1)
# Who reads payments somewhere; who reads township A's rosters; who reads its county's
# month (funds, reconciliation, statistics: a township's staff reads its county's).
READERS = {
    "caseworker_a",
    "approver_a",
    "caseworker_b",
    "auditor",
    "finance",
    "outsider_auditor",
    "superuser",
}
INSIDE_A = {"caseworker_a", "approver_a", "auditor", "finance", "superuser"}
IN_COUNTY = INSIDE_A | {"caseworker_b"}
OTHER_COUNTY = {"outsider_auditor", "superuser"}


def statuses(allowed, *, otherwise: int, anon: int = PAGE_LOGIN, **others: int) -> dict:
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: anon}


def reading(allowed, hidden, *, anon: int = PAGE_LOGIN, **others: int) -> dict:
    """200 for ``allowed``, 404 for readers of payments elsewhere (``hidden``), 403 for
    those who read no payments at all."""
    return statuses(allowed, otherwise=403, anon=anon, **{p: 404 for p in hidden}, **others)


def made(w) -> dict:
    """The payment objects of township A's county (key "a") and of the other (key "other")."""
    if "payments_made" not in w.__dict__:
        bank = Bank.objects.get(code="abc")
        objects = {}
        sides = (
            ("a", w.cases.case_a, w.places.county, w.people.caseworker_a, "62281"),
            ("other", w.cases.case_other, w.places.other_county, w.people.superuser, "62282"),
        )
        for key, case, county, preparer, prefix in sides:
            household = case.household
            village = household.village
            township = village.parent
            payee = household.members.get(relation="self").person
            account = PaymentAccount.objects.create(
                household=household,
                bank=bank,
                number=(number := luhn_number(prefix)),
                last4=number[-4:],
                holder_name=payee.name,
            )
            frozen = Roster.objects.create(
                township=township,
                month=MONTH,
                kind=Roster.Kind.REGULAR,
                state=Roster.State.PAID,
                line_count=1,
                total=Decimal("500.00"),
                prepared_by=preparer,
                due_on=MONTH.replace(day=15),
            )
            line = RosterLine.objects.create(
                roster=frozen,
                application=case,
                household=household,
                village=village,
                programme=case.assistance_type,
                kind=RosterLine.Kind.MONTHLY,
                amount=Decimal("500.00"),
                net_amount=Decimal("500.00"),
                months_from=MONTH,
                months_to=MONTH,
                payee=payee,
                payee_name=payee.name,
                account=account,
                outcome=RosterLine.Outcome.FAILED,
                failure=RosterLine.Failure.ACCOUNT_CLOSED,
            )
            frozen.content_hash = roster_content_hash(frozen)
            frozen.save(update_fields=["content_hash"])
            objects[f"open_{key}"] = Roster.objects.create(
                township=township,
                month=OPEN_MONTH,
                kind=Roster.Kind.REGULAR,
                prepared_by=preparer,
                due_on=OPEN_MONTH.replace(day=15),
            )
            FundAllocation.objects.create(
                county=county,
                programme=case.assistance_type,
                month=MONTH,
                amount=Decimal("1000.00"),
                entered_by=w.people.superuser,
            )
            done = Reconciliation.objects.create(
                county=county,
                month=MONTH,
                rate=Decimal("0.9950"),
                computed_at=timezone.now(),
                computed_by=w.people.superuser,
            )
            objects[f"exception_{key}"] = ReconciliationException.objects.create(
                reconciliation=done,
                township=township,
                village=village,
                kind=ReconciliationException.Kind.FAILED,
                application=case,
                household=household,
                programme=case.assistance_type,
                expected=Decimal("500.00"),
                actual=Decimal("0"),
            )
            objects[f"statistics_{key}"] = MonthlyStatistics.objects.create(
                county=county, month=MONTH, due_on=datetime.date(2026, 11, 20)
            )
            objects |= {
                f"frozen_{key}": frozen,
                f"line_{key}": line,
                f"account_{key}": account,
                f"reconciliation_{key}": done,
            }
        w.__dict__["payments_made"] = objects
    return w.__dict__["payments_made"]


def pk(key):
    return lambda w: made(w)[key].pk


def url(name, *args, query: str = ""):
    """The URL of ``name`` with ``args`` (callables of the world are called)."""

    def build(w):
        made(w)
        return reverse(name, args=[a(w) if callable(a) else a for a in args]) + query

    return build


def row_id(key):
    return lambda w: f'id="roster-{made(w)[key].pk}"'


def reference(key):
    return lambda w: made(w)[f"line_{key}"].reference


def content_hash(key):
    return lambda w: made(w)[f"frozen_{key}"].content_hash


def full_number(w):
    return made(w)["account_a"].number


def county_code(w):
    return w.places.county.code


def other_code(w):
    return w.places.other_county.code


def funds_query(county):
    return lambda w: f"?county={getattr(w.places, county).pk}&month={MONTH:%Y-%m}"


# A full account number is never on a page or in an answer that was only read.
NO_FULL_NUMBER = {p: full_number for p in PEOPLE}

ROWS = [
    # Pages.
    Row(
        "payments: rosters",
        url("cases:rosters"),
        statuses(READERS, otherwise=403),
        url_name="cases:rosters",
        must_not_contain={
            "caseworker_a": row_id("frozen_other"),
            "auditor": row_id("frozen_other"),
            "finance": row_id("open_other"),
            "caseworker_b": row_id("frozen_a"),
            "outsider_auditor": row_id("open_a"),
        },
    ),
    Row(
        "payments: rosters of one month",
        url("cases:rosters", query=f"?month={MONTH:%Y-%m}"),
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_b": row_id("frozen_a"),
            "outsider_auditor": row_id("frozen_a"),
        },
    ),
    Row(
        "payments: a frozen roster, township A",
        url("cases:roster", pk("frozen_a")),
        reading(INSIDE_A, {"caseworker_b", "outsider_auditor"}),
        url_name="cases:roster",
        must_not_contain=NO_FULL_NUMBER,
    ),
    Row(
        "payments: an open roster, township A",
        url("cases:roster", pk("open_a")),
        reading(INSIDE_A, {"caseworker_b", "outsider_auditor"}),
    ),
    Row(
        "payments: a roster of the other county",
        url("cases:roster", pk("frozen_other")),
        reading(OTHER_COUNTY, INSIDE_A - {"superuser"} | {"caseworker_b"}),
    ),
    Row(
        "payments: bank file, township A",
        url("cases:roster-bank-file", pk("frozen_a"), "abc", "csv"),
        reading(
            {"auditor", "superuser"},
            {"caseworker_b", "outsider_auditor"},
            caseworker_a=403,
            approver_a=403,
            finance=403,
        ),
        url_name="cases:roster-bank-file",
    ),
    Row(
        "payments: bank file, other county",
        url("cases:roster-bank-file", pk("frozen_other"), "abc", "xlsx"),
        reading(OTHER_COUNTY, INSIDE_A - {"superuser"} | {"caseworker_b"}),
    ),
    Row(
        "payments: failed payments",
        url("cases:payments-failed"),
        statuses(READERS, otherwise=403),
        url_name="cases:payments-failed",
        must_not_contain={
            "caseworker_a": reference("other"),
            "auditor": reference("other"),
            "finance": reference("other"),
            "caseworker_b": reference("a"),
            "outsider_auditor": reference("a"),
        },
    ),
    Row(
        "payments: funds ledger",
        url("cases:funds", query=f"?month={MONTH:%Y-%m}"),
        statuses(READERS, otherwise=403),
        url_name="cases:funds",
        must_not_contain={
            "caseworker_b": lambda w: f'id="funds-{other_code(w)}"',
            "auditor": lambda w: f'id="funds-{other_code(w)}"',
            "finance": lambda w: f'id="funds-{other_code(w)}"',
            "outsider_auditor": lambda w: f'id="funds-{county_code(w)}"',
        },
    ),
    Row(
        "payments: a household's account, township A",
        url("cases:payment-account", lambda w: w.cases.case_a.household_id),
        reading(INSIDE_A, {"caseworker_b", "outsider_auditor"}),
        url_name="cases:payment-account",
        must_not_contain=NO_FULL_NUMBER,
    ),
    Row(
        "payments: reconciliations",
        url("cases:reconciliations"),
        statuses(READERS, otherwise=403),
        url_name="cases:reconciliations",
        must_not_contain={
            "caseworker_a": lambda w: f'id="reconciliations-{other_code(w)}"',
            "finance": lambda w: f'id="reconciliations-{other_code(w)}"',
            "outsider_auditor": lambda w: f'id="reconciliations-{county_code(w)}"',
        },
    ),
    Row(
        "payments: the county's reconciliation",
        url("cases:reconciliation", pk("reconciliation_a")),
        reading(IN_COUNTY, {"outsider_auditor"}),
        url_name="cases:reconciliation",
        # Township B reads its county's month, not township A's exceptions.
        must_not_contain={
            "caseworker_b": lambda w: f'id="exception-{made(w)["exception_a"].pk}"',
        },
    ),
    Row(
        "search: the county's reconciliation exceptions",
        url("cases:reconciliation", pk("reconciliation_a"), query="?q=马&kind=failed"),
        reading(IN_COUNTY, {"outsider_auditor"}),
        must_not_contain={
            "caseworker_b": lambda w: f'id="exception-{made(w)["exception_a"].pk}"',
        },
    ),
    Row(
        "export: the county's reconciliation exceptions, CSV",
        url("cases:reconciliation", pk("reconciliation_a"), query="?export=csv"),
        reading(IN_COUNTY, {"outsider_auditor"}),
        must_not_contain={"caseworker_b": lambda w: w.cases.case_a.number},
    ),
    Row(
        "payments: the other county's reconciliation",
        url("cases:reconciliation", pk("reconciliation_other")),
        reading(OTHER_COUNTY, IN_COUNTY - {"superuser"}),
    ),
    Row(
        "payments: the county's statistics table",
        url("cases:statistics", pk("statistics_a")),
        reading(IN_COUNTY, {"outsider_auditor"}),
        url_name="cases:statistics",
    ),
    Row(
        "payments: the other county's statistics table",
        url("cases:statistics", pk("statistics_other")),
        reading(OTHER_COUNTY, IN_COUNTY - {"superuser"}),
    ),
    # Search and export (aid_portal.listing): the same rows as the pages, in files.
    Row(
        "search: rosters",
        url("cases:rosters", query="?q=马&state=paid"),
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_a": row_id("frozen_other"),
            "outsider_auditor": row_id("frozen_a"),
        },
    ),
    Row(
        "export: rosters, CSV",
        url("cases:rosters", query="?export=csv"),
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_a": lambda w: f"#{made(w)['frozen_other'].pk},",
            "caseworker_b": lambda w: f"#{made(w)['frozen_a'].pk},",
        },
    ),
    Row(
        "export: rosters, XLSX",
        url("cases:rosters", query="?export=xlsx"),
        statuses(READERS, otherwise=403),
    ),
    Row(
        "search: a roster's lines, township A",
        url("cases:roster", pk("frozen_a"), query="?q=马&outcome=failed"),
        reading(INSIDE_A, {"caseworker_b", "outsider_auditor"}),
        must_not_contain=NO_FULL_NUMBER,
    ),
    Row(
        "export: a roster's lines, CSV",
        url("cases:roster", pk("frozen_a"), query="?export=csv"),
        reading(INSIDE_A, {"caseworker_b", "outsider_auditor"}),
        must_not_contain=NO_FULL_NUMBER | {"caseworker_a": reference("other")},
    ),
    Row(
        "export: a roster's lines, unmasked",
        url("cases:roster", pk("frozen_a"), query="?export=xlsx&unmask=1&purpose=核对发放"),
        reading(INSIDE_A - {"finance"}, {"caseworker_b", "outsider_auditor"}),
    ),
    Row(
        "search: failed payments",
        url("cases:payments-failed", query="?q=马&failure=account_closed"),
        statuses(READERS, otherwise=403),
        must_not_contain={
            "caseworker_a": reference("other"),
            "outsider_auditor": reference("a"),
        },
    ),
    Row(
        "export: failed payments, CSV",
        url("cases:payments-failed", query="?export=csv"),
        statuses(READERS, otherwise=403),
        must_not_contain=NO_FULL_NUMBER
        | {
            "caseworker_a": reference("other"),
            "finance": reference("other"),
            "caseworker_b": reference("a"),
            "outsider_auditor": reference("a"),
        },
    ),
    Row(
        "export: failed payments, unmasked",
        url("cases:payments-failed", query="?export=csv&unmask=1&purpose=核对发放"),
        statuses(READERS - {"finance"}, otherwise=403),
    ),
    Row(
        "api: failed payments, searched",
        url("api-cases-payments-failed", query="?q=马"),
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        must_not_contain={"caseworker_b": reference("a"), "outsider_auditor": reference("a")},
    ),
    # The API.
    Row(
        "api: rosters",
        url("api-cases-rosters"),
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-cases-rosters",
        must_not_contain={
            "caseworker_a": content_hash("other"),
            "auditor": content_hash("other"),
            "finance": content_hash("other"),
            "caseworker_b": content_hash("a"),
            "outsider_auditor": content_hash("a"),
        },
    ),
    Row(
        "api: a roster, township A",
        url("api-cases-roster-detail", pk("frozen_a")),
        reading(INSIDE_A, {"caseworker_b", "outsider_auditor"}, anon=API_ANON),
        api=True,
        url_name="api-cases-roster-detail",
        must_not_contain=NO_FULL_NUMBER,
    ),
    Row(
        "api: a roster of the other county",
        url("api-cases-roster-detail", pk("open_other")),
        reading(OTHER_COUNTY, INSIDE_A - {"superuser"} | {"caseworker_b"}, anon=API_ANON),
        api=True,
    ),
    Row(
        "api: bank file, township A",
        url("api-cases-roster-bank-file", pk("frozen_a"), query="?bank=abc&form=jsonl"),
        reading(
            {"auditor", "superuser"},
            {"caseworker_b", "outsider_auditor"},
            anon=API_ANON,
            caseworker_a=403,
            approver_a=403,
            finance=403,
        ),
        api=True,
        url_name="api-cases-roster-bank-file",
    ),
    Row(
        "api: bank file, other county",
        url("api-cases-roster-bank-file", pk("frozen_other"), query="?bank=abc&form=csv"),
        reading(OTHER_COUNTY, INSIDE_A - {"superuser"} | {"caseworker_b"}, anon=API_ANON),
        api=True,
    ),
    Row(
        "api: failed payments",
        url("api-cases-payments-failed"),
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-cases-payments-failed",
        must_not_contain={
            "approver_a": reference("other"),
            "finance": reference("other"),
            "caseworker_b": reference("a"),
            "outsider_auditor": reference("a"),
        },
    ),
    Row(
        "api: funds ledger of the county",
        lambda w: url("api-cases-funds", query=funds_query("county")(w))(w),
        reading(IN_COUNTY, {"outsider_auditor"}, anon=API_ANON),
        api=True,
        url_name="api-cases-funds",
    ),
    Row(
        "api: funds ledger of the other county",
        lambda w: url("api-cases-funds", query=funds_query("other_county")(w))(w),
        reading(OTHER_COUNTY, IN_COUNTY - {"superuser"}, anon=API_ANON),
        api=True,
    ),
]

# POST-only: the roster's steps (tests/cases/test_roster_steps.py), preparing a
# supplementary roster and recording an account (tests/cases/test_payments_api.py), the
# reconciliation's actions (tests/cases/test_reconciliation.py).
POST_ONLY = {
    "cases:roster-act",
    "cases:exception-handle",
    "cases:reconciliation-close",
    "cases:statistics-build",
    "api-cases-roster-supplementary",
    "api-cases-payment-account",
    *(f"api-cases-roster-{slug}" for slug in ROSTER_STEP_VIEWS),
}
