"""One month of payments in a real Chromium: the township prepares the roster, the county
approves it, finance reviews and freezes it, the county downloads the bank file and
uploads the bank's return with one failed payment; the township corrects the account and
re-issues the payment in a supplementary roster."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from aid_portal.models import Role
from cases.payments import services as payments
from cases.payments.models import Bank, Roster, RosterLine
from tests.browser.helpers import log_in, take, zh
from tests.cases.conftest import luhn_number
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_month_from_roster_to_bank_return_and_reissue(page, people, places, enrol, tmp_path):
    abc = Bank.objects.get(code="abc")
    finance = make_user("finance_reviewer", Role.FINANCE_REVIEWER, places.county)
    families = [enrol(), enrol()]
    for n, family in enumerate(families):
        payments.account_set(
            actor=people.caseworker_a,
            household_id=family.application.household_id,
            bank_id=abc.pk,
            number=luhn_number(f"62284{n}"),
            holder_name=family.applicant.person.name,
        )

    # The township prepares this month's roster.
    log_in(page, people.caseworker_a.username)
    page.goto("/cases/payments/")
    with page.expect_navigation():
        page.locator("#roster-prepare button[type=submit]").click()
    expect(page.locator("#roster-state")).to_have_text(zh("prepared by the township"))
    expect(page.locator("#roster-lines")).to_have_text("2")
    roster = Roster.objects.get()

    # The county approves; finance reviews and the roster is frozen with its hash.
    log_in(page, people.auditor.username)
    page.goto(f"/cases/payments/{roster.pk}/")
    take(page, "county_approve")
    expect(page.locator("#roster-state")).to_have_text(zh("approved by the county"))
    log_in(page, finance.username)
    page.goto(f"/cases/payments/{roster.pk}/")
    take(page, "finance_approve")
    expect(page.locator("#roster-state")).to_have_text(zh("reviewed by finance: frozen"))
    roster.refresh_from_db()
    expect(page.locator("#roster-hash")).to_have_text(roster.content_hash)

    # The county downloads the bank's file and uploads its return: one payment failed.
    log_in(page, people.auditor.username)
    page.goto(f"/cases/payments/{roster.pk}/")
    with page.expect_download() as download:
        page.locator("#bank-files a", has_text="CSV").click()
    sent = download.value.path().read_bytes().decode("gbk").splitlines()
    assert sent[-1] == f"TOTAL,2,{roster.total:.2f}"
    first, second = roster.lines.order_by("id")
    answer = tmp_path / "return.csv"
    answer.write_bytes(
        "\r\n".join(
            [
                "reference,result,reason,amount,note",
                f"{first.reference},paid,,{first.net_amount:.2f},",
                f"{second.reference},failed,account_closed,{second.net_amount:.2f},销户",
                f"TOTAL,2,{roster.total:.2f}",
            ]
        ).encode("gbk")
    )
    take(page, "return_apply", lambda form: form.locator("#id_file").set_input_files(answer))
    expect(page.locator("#roster-state")).to_have_text(zh("bank return applied"))
    expect(page.locator(f"#line-{second.pk}")).to_contain_text(zh("account closed"))

    # The township corrects the account and re-issues the failed payment.
    log_in(page, people.caseworker_a.username)
    page.goto("/cases/payments/failed/")
    expect(page.locator(f"#failed-{second.pk}")).to_be_visible()
    page.locator(f"#failed-{second.pk} a", has_text=zh("correct")).click()
    page.fill("#id_number", luhn_number("622849"))
    page.fill("#id_holder_name", second.payee_name)
    page.fill("#id_reason", "原账户已销户")
    with page.expect_navigation():
        page.locator("#account-form button[type=submit]").click()
    expect(page.locator("#accounts tbody tr")).to_have_count(2)
    page.goto("/cases/payments/failed/")
    page.locator(f"#supplementary-prepare input[value='{second.pk}']").check()
    with page.expect_navigation():
        page.locator("#supplementary-prepare button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cases/payments/\d+/$"))
    reissue = RosterLine.objects.get(kind="reissue")
    assert reissue.refers_to_id == second.pk
    expect(page.locator(f"#line-{reissue.pk}")).to_contain_text(second.reference)
