"""The printed documents of a case (cases.printouts, aid_portal.printing): the approval
notice with its arithmetic, the home-visit record, the application form, the rejection
notice and the verification report on the one A4 layout, as HTML and as PDF; who may
print them, the identity number on them, and the audit row of every printout."""

from __future__ import annotations

import re
import sys
import zlib

import pytest
from django.urls import reverse
from django.utils import timezone

from aid_portal.models import AuditEvent
from cases.casework import services as casework_services
from cases.models import Application
from tests.cases.test_casework_pages import (
    client_for,
    to_decision,
    to_democratic_review,
    zh,
)
from verification.requests import services as verification_services
from verification.requests.models import VerificationRequest

S = Application.State
pytestmark = pytest.mark.django_db


def approved(make_family, people):
    family = to_decision(make_family, people)
    casework_services.application_approve(
        actor=people.approver_a, application_id=family.application.pk
    )
    assert family.refresh().state == S.APPROVED
    return family


def printouts(user, obj) -> list[dict]:
    return list(
        AuditEvent.objects.filter(
            action="document.print", actor=user, object_id=str(obj.pk)
        ).values_list("new_values", flat=True)
    )


def pdf_streams(pdf: bytes) -> bytes:
    """Every compressed stream of the PDF, inflated: where WeasyPrint keeps the fonts'
    names and the maps from glyphs back to text."""
    inflated = b""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            inflated += zlib.decompress(match.group(1))
        except zlib.error:
            continue
    return inflated


# --- the approval notice -------------------------------------------------------------------


def test_approval_notice_shows_the_amount_its_arithmetic_first_month_and_review(
    make_family, people, places
):
    family = approved(make_family, people)
    app = family.refresh()
    url = reverse("cases:print-approval-notice", args=[app.pk])
    response = client_for(people.approver_a).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert zh("Notice of approval") in page  # 审核确认通知书
    # Rural standard 600; income 300 for 2 people: per capita 150; (600 - 150) x 2 = 900.
    assert "(600.00 − 150.00) × 2 = 900.00" in page
    assert "(300.00 − 0.00) ÷ 2 = 150.00" in page
    assert f'id="first-month">{app.start_month:%Y-%m}<' in page
    assert f'id="review-date">{app.next_review_on:%Y-%m-%d}<' in page
    assert places.township_a.name in page and places.county.name in page
    assert "马" in page  # the applicant, addressed by name
    assert family.applicant.person.masked_identity_number in page
    assert family.applicant.person.identity_number not in page
    assert 'class="mainnav"' not in page
    assert printouts(people.approver_a, app) == [{"document": "approval_notice", "form": "html"}]


def test_approval_notice_keeps_the_arithmetic_of_the_decision(make_family, people):
    """A later change of the amount (a review) does not rewrite what the notice said."""
    family = approved(make_family, people)
    Application.objects.filter(pk=family.application.pk).update(monthly_amount="500.00")
    page = client_for(people.caseworker_a).get(
        reverse("cases:print-approval-notice", args=[family.application.pk])
    )
    assert "= 900.00" in page.content.decode()


def test_approval_notice_only_for_an_approved_case_and_inside_the_places(make_family, people):
    family = to_decision(make_family, people)
    url = reverse("cases:print-approval-notice", args=[family.application.pk])
    assert client_for(people.approver_a).get(url).status_code == 404  # not decided yet
    casework_services.application_approve(
        actor=people.approver_a, application_id=family.application.pk
    )
    assert client_for(people.assistant_a).get(url).status_code == 200
    assert client_for(people.caseworker_b).get(url).status_code == 404
    assert client_for(people.outsider_auditor).get(url).status_code == 404
    assert not AuditEvent.objects.filter(
        action="document.print", actor__in=[people.caseworker_b, people.outsider_auditor]
    ).exists()


def test_full_identity_number_only_with_a_role_and_a_purpose_audited(make_family, people):
    family = approved(make_family, people)
    person = family.applicant.person
    url = reverse("cases:print-approval-notice", args=[family.application.pk])
    caseworker = client_for(people.caseworker_a)

    # Offered to the township office; not to a village assistant, who may not ask.
    assert 'id="full-identity"' in caseworker.get(url).content.decode()
    assistant = client_for(people.assistant_a)
    assert 'id="full-identity"' not in assistant.get(url).content.decode()
    assert assistant.get(url, {"identity": "full", "purpose": "送达本人"}).status_code == 403

    # Without a purpose: refused with a message, the number stays masked, nothing read.
    response = caseworker.get(url, {"identity": "full", "purpose": ""})
    assert response.status_code == 400
    assert person.identity_number not in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not AuditEvent.objects.filter(action="sensitive.read", actor=people.caseworker_a)

    response = caseworker.get(url, {"identity": "full", "purpose": "送达本人，核对身份"})
    assert response.status_code == 200
    page = response.content.decode()
    assert person.identity_number in page
    assert "identity=full" in page  # the PDF link keeps it
    read = AuditEvent.objects.get(action="sensitive.read", actor=people.caseworker_a)
    assert read.object_id == str(person.pk) and "送达本人，核对身份" in read.reason


# --- the other documents -------------------------------------------------------------------


def test_home_visit_record_with_signature_lines(make_family, people):
    family = to_democratic_review(make_family, people)
    visit = family.application.home_visits.get()
    url = reverse("cases:print-home-visit", args=[family.application.pk, visit.pk])
    response = client_for(people.assistant_a).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert zh("Home-visit record") in page
    assert "家中陈设简陋" in page
    assert page.count(f"{zh('Signature')}：") == 3  # two investigators and the family
    assert f'id="visited-on">{timezone.localdate():%Y-%m-%d}<' in page
    assert printouts(people.assistant_a, visit) == [
        {"document": "home_visit_record", "form": "html"}
    ]
    other = reverse("cases:print-home-visit", args=[family.application.pk, visit.pk + 999])
    assert client_for(people.assistant_a).get(other).status_code == 404
    assert client_for(people.caseworker_b).get(url).status_code == 404


def test_application_form_as_the_family_signs_it(make_family, people):
    family = make_family()
    url = reverse("cases:print-application-form", args=[family.application.pk])
    response = client_for(people.assistant_a).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert zh("Application and declaration of household economic status") in page
    assert family.applicant.person.name in page and family.spouse.person.name in page
    assert family.spouse.person.masked_identity_number in page
    assert family.spouse.person.identity_number not in page
    assert "300.00" in page  # the declared income
    assert 'id="authorisation-text"' in page and 'id="commitment-text"' in page
    assert page.count('<td style="height: 2.2em">') == 2  # a line for each to sign
    assert client_for(people.caseworker_b).get(url).status_code == 404


def test_rejection_notice_is_on_the_print_layout_and_audited(make_family, people):
    family = to_decision(make_family, people, income="2000")
    casework_services.application_reject(
        actor=people.approver_a,
        application_id=family.application.pk,
        reasons="家庭人均月收入1000元，高于本县农村低保标准600元。",
    )
    response = client_for(people.approver_a).get(
        reverse("cases:rejection-notice", args=[family.application.pk])
    )
    assert response.status_code == 200
    assert 'id="pdf-link"' in response.content.decode()
    assert printouts(people.approver_a, family.application) == [
        {"document": "rejection_notice", "form": "html"}
    ]


def test_case_page_offers_each_document_to_print(make_family, people):
    family = approved(make_family, people)
    app = family.application
    VerificationRequest.objects.filter(application=app).update(
        status=VerificationRequest.Status.ANSWERED
    )
    for verification in VerificationRequest.objects.filter(application=app):
        verification_services.report_build(verification_id=verification.pk)
    page = client_for(people.approver_a).get(reverse("cases:detail", args=[app.pk]))
    content = page.content.decode()
    report_url = reverse("verification:report-print", args=[app.verification_requests.get().pk])
    for url in (
        reverse("cases:print-approval-notice", args=[app.pk]),
        reverse("cases:print-application-form", args=[app.pk]),
        report_url,
    ):
        assert f'href="{url}"' in content
        assert f'href="{url}?format=pdf"' in content
    # A village assistant reads the case but not its verification report.
    page = client_for(people.assistant_a).get(reverse("cases:detail", args=[app.pk]))
    assert reverse("cases:print-approval-notice", args=[app.pk]) in page.content.decode()
    assert report_url not in page.content.decode()


def test_verification_report_prints_and_is_audited(make_family, people):
    family = to_decision(make_family, people)
    verification = VerificationRequest.objects.get(application=family.application)
    VerificationRequest.objects.filter(pk=verification.pk).update(
        status=VerificationRequest.Status.ANSWERED
    )
    verification_services.report_build(verification_id=verification.pk)
    url = reverse("verification:report-print", args=[verification.pk])
    response = client_for(people.caseworker_a).get(url)
    assert response.status_code == 200
    assert zh("Household economic status verification report") in response.content.decode()
    assert printouts(people.caseworker_a, verification) == [
        {"document": "verification_report", "form": "html"}
    ]
    assert client_for(people.assistant_a).get(url).status_code == 404


# --- PDF -------------------------------------------------------------------------------------


def test_approval_notice_as_pdf_embeds_the_chinese_font_and_its_text(make_family, people, places):
    pytest.importorskip("weasyprint")
    family = approved(make_family, people)
    url = reverse("cases:print-approval-notice", args=[family.application.pk])
    response = client_for(people.approver_a).get(url, {"format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    inside = pdf_streams(pdf)
    # The CJK font is embedded (a subset, named after the family) ...
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto-(Serif|Sans)-CJK-SC", inside)
    # ... with a map back to Unicode, so the text can be searched and copied: each
    # character of the township's name has its code point in a ToUnicode map.
    assert b"/ToUnicode" in pdf or b"/ToUnicode" in inside
    for char in places.township_a.name:
        assert f"{ord(char):04x}".encode() in inside.lower(), char
    assert b"toolbar" not in pdf and b"window.print" not in pdf
    assert printouts(people.approver_a, family.application) == [
        {"document": "approval_notice", "form": "pdf"}
    ]


def test_without_weasyprint_or_pango_the_pdf_link_says_so(make_family, people, monkeypatch):
    """sys.modules["weasyprint"] = None makes ``import weasyprint`` fail as it does on a
    machine without the package; without Pango it fails the same way with OSError."""
    family = approved(make_family, people)
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    url = reverse("cases:print-approval-notice", args=[family.application.pk])
    client = client_for(people.approver_a)
    response = client.get(url, {"format": "pdf"})
    assert response.status_code == 503
    page = response.content.decode()
    assert zh("The PDF cannot be made on this server") in page
    assert "Pango" in page and f'href="{url}"' in page
    assert not printouts(people.approver_a, family.application)  # nothing was printed
    assert client.get(url).status_code == 200  # the HTML print page still works


def test_full_identity_numbers_stop_at_the_daily_limit(make_family, people, settings):
    settings.UNMASK_DAILY_LIMIT = 1
    family = approved(make_family, people)
    person = family.applicant.person
    url = reverse("cases:print-approval-notice", args=[family.application.pk])
    caseworker = client_for(people.caseworker_a)
    asked = {"identity": "full", "purpose": "送达本人，核对身份"}
    assert person.identity_number in caseworker.get(url, asked).content.decode()
    refused = caseworker.get(url, asked)
    assert refused.status_code == 400
    assert person.identity_number not in refused.content.decode()
    assert "今天" in refused.content.decode()
