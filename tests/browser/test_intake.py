"""A caseworker files a two-person family through every intake step in a real Chromium:
members and declaration rows are added by htmx without reloading the page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Application, Member, Policy, ProofItem
from tests.browser.helpers import log_in
from tests.cases.conftest import PNG, identity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_row(page, section: str) -> None:
    page.click(f"#section-{section} form.rowform button[type=submit]")


def test_caseworker_files_a_two_person_family_and_submits(page, people, places, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Policy.objects.create(
        county=places.county,
        effective_from=datetime.date(2026, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
    )
    ProofItem.objects.create(code="id_card", name="身份证复印件", committable=False)
    ProofItem.objects.create(code="income_proof", name="收入证明")
    applicant_number = identity("642222", "19680808", 15)
    spouse_number = identity("642222", "19700707", 26)
    today = timezone.localdate().isoformat()
    log_in(page, "caseworker_a")

    # 1. Start.
    page.goto("/cases/new/")
    expect(page.locator(".steps li.current")).to_contain_text("1")
    page.select_option("#id_village", str(places.village_a.pk))
    page.fill("#id_address", "龙王坝村2组8号")
    page.fill("#id_phone", "13800000000")
    page.select_option("#id_assistance_type", "dibao_rural")
    page.fill("#id_identity_number", applicant_number)
    page.fill("#id_name", "马德福")
    page.click("form.stepform button[type=submit]")
    expect(page).to_have_url(re.compile(r"/cases/\d+/members/$"))
    app = Application.objects.get()
    expect(page.locator("#section-members tbody")).to_contain_text("马德福")
    expect(page.locator("#section-members tbody")).to_contain_text("1968-08-08")
    expect(page.locator("#section-members tbody")).not_to_contain_text(applicant_number)

    # 2. Members: the spouse, by htmx (a marker on the window survives: no reload).
    page.evaluate("window.__noReload = true")
    page.fill("#id_members-identity_number", spouse_number)
    page.fill("#id_members-name", "李秀英")
    page.select_option("#id_members-relation", "spouse")
    page.select_option("#id_members-work_ability", "none")
    page.select_option("#id_members-health", "chronic")
    add_row(page, "members")
    expect(page.locator("#section-members tbody tr")).to_have_count(2)
    expect(page.locator("#section-members tbody")).to_contain_text("1970-07-07")
    assert page.evaluate("window.__noReload") is True
    applicant = Member.objects.get(person__name="马德福")
    spouse = Member.objects.get(person__name="李秀英")

    # 3. Income, an asset, a rigid expenditure.
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(rf"/cases/{app.pk}/declaration/$"))
    page.evaluate("window.__noReload = true")
    page.select_option("#id_incomes-member", str(applicant.pk))
    page.select_option("#id_incomes-source", "wages")
    page.fill("#id_incomes-monthly_average", "300")
    add_row(page, "incomes")
    expect(page.locator("#section-incomes tbody")).to_contain_text("300.00")
    page.select_option("#id_incomes-member", str(spouse.pk))
    page.select_option("#id_incomes-source", "basic_pension")
    page.fill("#id_incomes-monthly_average", "150")
    add_row(page, "incomes")
    expect(page.locator("#section-incomes tbody tr")).to_have_count(2)
    page.select_option("#id_assets-kind", "deposit")
    page.fill("#id_assets-description", "农村信用社存款")
    page.fill("#id_assets-value", "5000")
    add_row(page, "assets")
    expect(page.locator("#section-assets tbody")).to_contain_text("农村信用社存款")
    page.select_option("#id_expenditures-member", str(spouse.pk))
    page.select_option("#id_expenditures-kind", "medical")
    page.fill("#id_expenditures-monthly_amount", "200")
    add_row(page, "expenditures")
    expect(page.locator("#section-expenditures tbody")).to_contain_text("200.00")
    # A typing mistake shows on the field and is not saved.
    page.fill("#id_assets-description", "摩托车")
    page.fill("#id_assets-value", "-1")
    add_row(page, "assets")
    expect(page.locator("#section-assets .field.invalid")).to_have_count(1)
    expect(page.locator("#section-assets tbody tr")).to_have_count(1)
    assert page.evaluate("window.__noReload") is True

    # 4. Proofs, the commitment, both authorisations.
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(rf"/cases/{app.pk}/commitments/$"))
    expect(page.locator("#proof-id_card button")).to_have_count(1)  # provide only
    page.click("#proof-id_card button[value=provided]")
    expect(page.locator("#proof-id_card .error")).to_have_count(0)
    page.click("#proof-income_proof button[value=committed]")
    expect(page.locator("#proof-income_proof .error")).to_have_count(0)
    page.fill("#id_commitment-informed_on", today)
    page.fill("#id_commitment-signed_on", today)
    page.click("#section-commitment button[type=submit]")
    expect(page.locator("#section-commitment dl")).to_contain_text(today)
    for member in (applicant, spouse):
        page.select_option("#id_authorisations-member", str(member.pk))
        page.fill("#id_authorisations-signed_on", today)
        page.set_input_files(
            "#id_authorisations-scan",
            {"name": "授权书.png", "mimeType": "image/png", "buffer": PNG},
        )
        page.click("#section-authorisations form.rowform button[type=submit]")
        expect(page.locator(f"#authorisation-{member.pk}")).to_contain_text(today)
        expect(page.locator(f"#authorisation-{member.pk} a")).to_have_count(1)

    # 5. The household file: the authorisation scans are there; add the ID card.
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(rf"/cases/{app.pk}/documents/$"))
    expect(page.locator("#section-documents tbody tr")).to_have_count(2)
    page.select_option("#id_documents-kind", "id_card")
    page.set_input_files(
        "#id_documents-file", {"name": "身份证.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.click("#section-documents form.rowform button[type=submit]")
    expect(page.locator("#section-documents")).to_contain_text("身份证.png")
    with page.expect_download() as download:
        page.click("#section-documents a:has-text('身份证.png')")
    assert download.value.suggested_filename == "身份证.png"

    # 6. Nothing is missing; submit, and land on the case page.
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(rf"/cases/{app.pk}/submit/$"))
    expect(page.locator("#missing.ok")).to_be_visible()
    page.click("#section-submit button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/cases/{app.pk}/$"))
    app.refresh_from_db()
    assert app.state == Application.State.SUBMITTED
    assert app.household.members.count() == 2
    assert app.household.documents.count() == 3
