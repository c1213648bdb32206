"""The intake pages, through the Django test client: each step's happy path and the bad
inputs a caseworker will type, with the services' messages shown in Chinese."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from aid_portal.models import AuditEvent
from cases.casework import documents
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, Document, Household, Income, Member, ProofStatus
from tests.cases.conftest import PNG, identity, scan

pytestmark = pytest.mark.django_db
S = Application.State
HTMX = {"HX-Request": "true"}
WRONG_TYPE = (
    "Only PDF, JPEG and PNG files are accepted; this file is not one, whatever its name says."
)


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def zh(message: str, **values) -> str:
    """A message as the page shows it: in Chinese (the default), HTML-escaped."""
    with translation.override("zh-hans"):
        text = gettext(message)
    return escape(text % values if values else text)


def client_for(client, user):
    client.force_login(user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"cases:{name}", args=args)


@pytest.fixture
def cw(client, people):
    return client_for(client, people.caseworker_a)


@pytest.fixture
def draft(make_family):
    """A two-person family of village A, its declaration still empty of commitments."""
    return make_family(complete=False)


# --- step 1: start ---------------------------------------------------------------------


def test_start_offers_only_villages_inside_and_preselects_the_assistants(client, people, places):
    page = client_for(client, people.assistant_a).get(url("intake-start"))
    assert page.status_code == 200
    html = page.content.decode()
    assert places.village_a.name in html and places.village_b.name not in html
    assert f'<option value="{places.village_a.pk}" selected>' in html

    client.force_login(people.caseworker_b)
    html = client.get(url("intake-start")).content.decode()
    assert places.village_b.name in html and places.village_a.name not in html


def test_start_opens_a_draft_with_the_applicant_and_goes_to_members(cw, places):
    number = identity("642222", "19800315", 11)
    response = cw.post(
        url("intake-start"),
        {
            "village": places.village_a.pk,
            "address": "龙王坝村3组12号",
            "phone": "13900000000",
            "assistance_type": "dibao_rural",
            "identity_number": number,
            "name": "马福",
        },
    )
    app = Application.objects.get()
    assert response.status_code == 302
    assert response.url == url("intake-members", app.pk)
    assert app.state == S.DRAFT and app.village == places.village_a
    applicant = app.household.members.get()
    assert applicant.relation == Member.Relation.SELF
    assert applicant.person.birth_date == datetime.date(1980, 3, 15)
    assert applicant.person.sex == "M"

    page = cw.get(url("intake-members", app.pk)).content.decode()
    assert "马福" in page and "1980-03-15" in page
    assert number not in page and applicant.person.masked_identity_number in page


def test_start_with_an_invalid_identity_number_saves_nothing(cw, places):
    valid = identity("642222", "19800315", 11)
    bad = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    response = cw.post(
        url("intake-start"),
        {
            "village": places.village_a.pk,
            "address": "龙王坝村3组12号",
            "assistance_type": "dibao_rural",
            "identity_number": bad,
            "name": "马福",
        },
    )
    assert response.status_code == 400
    assert zh("The last character does not match the rest of the number; check each digit.") in (
        response.content.decode()
    )
    assert not Household.objects.exists() and not Application.objects.exists()


def test_start_refuses_a_village_outside(client, people, places):
    response = client_for(client, people.caseworker_b).post(
        url("intake-start"),
        {
            "village": places.village_a.pk,
            "address": "x",
            "assistance_type": "dibao_rural",
            "identity_number": identity("642222", "19800315", 11),
            "name": "马福",
        },
    )
    assert response.status_code == 400  # not among the choices offered
    assert not Household.objects.exists()


def test_start_is_refused_to_roles_that_do_not_file(client, people):
    assert client_for(client, people.approver_a).get(url("intake-start")).status_code == 403


# --- step 2: members --------------------------------------------------------------------


def member_data(number: str, name: str = "马小花", **extra) -> dict:
    data = {
        "identity_number": number,
        "name": name,
        "relation": "child",
        "work_ability": "none",
        "health": "healthy",
        "disability": "",
    } | extra
    return {f"members-{k}": v for k, v in data.items()}


def test_a_member_is_added_by_htmx_and_the_section_comes_back(cw, draft):
    app = draft.application
    number = identity("642222", "20100601", 22)
    response = cw.post(
        url("intake-member-add", app.pk),
        member_data(number, is_student="on", disability="physical", disability_grade="2"),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="section-members">')
    assert "马小花" in html and "2010-06-01" in html and number not in html
    child = app.household.members.get(person__name="马小花")
    assert (child.is_student, child.disability, child.disability_grade) == (True, "physical", 2)
    assert child.person.sex == "F"


def test_a_member_without_htmx_redirects_back(cw, draft):
    app = draft.application
    response = cw.post(
        url("intake-member-add", app.pk), member_data(identity("642222", "20100601", 22))
    )
    assert response.status_code == 302
    assert response.url.startswith(url("intake-members", app.pk))


def test_an_invalid_identity_number_is_shown_on_the_field(cw, draft):
    response = cw.post(
        url("intake-member-add", draft.application.pk),
        member_data("64222220100601002"),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert zh("An identity number has 18 characters.") in response.content.decode()
    assert draft.application.household.members.count() == 2


def test_a_disability_without_a_grade_is_refused_by_the_service(cw, draft):
    response = cw.post(
        url("intake-member-add", draft.application.pk),
        member_data(identity("642222", "20100601", 22), disability="visual"),
    )
    assert response.status_code == 400
    assert zh("Give the grade of the disability (1 to 4).") in response.content.decode()


def test_a_member_of_a_household_in_another_township_names_only_the_township(
    cw, draft, people, places
):
    number = identity("642222", "19550505", 33)
    household_b = intake_services.household_create(
        actor=people.caseworker_b, village=places.village_b, address="单家集村1号"
    )
    intake_services.member_add(
        actor=people.caseworker_b,
        household=household_b,
        identity_number=number,
        name="张三",
        relation="self",
    )
    response = cw.post(
        url("intake-member-add", draft.application.pk), member_data(number, "张三"), headers=HTMX
    )
    html = response.content.decode()
    assert (
        zh(
            "This person is already an active member of a household in %(township)s.",
            township=places.township_b.name,
        )
        in html
    )
    assert places.village_b.name not in html and f"#{household_b.pk}" not in html
    assert not draft.application.household.members.filter(person__name="张三").exists()


def test_a_member_of_another_household_inside_names_that_household(cw, draft, make_family):
    other = make_family(complete=False)
    number = other.spouse.person.identity_number
    response = cw.post(url("intake-member-add", draft.application.pk), member_data(number, "李"))
    assert response.status_code == 400
    assert (
        zh(
            "This person is already an active member of household #%(id)s in %(village)s.",
            id=other.application.household_id,
            village="龙王坝村",
        )
        in response.content.decode()
    )


def test_a_member_is_removed_but_not_the_applicant(cw, draft):
    app = draft.application
    html = cw.get(url("intake-members", app.pk)).content.decode()
    assert url("intake-member-remove", app.pk, draft.spouse.pk) in html
    assert url("intake-member-remove", app.pk, draft.applicant.pk) not in html
    response = cw.post(url("intake-member-remove", app.pk, draft.spouse.pk), headers=HTMX)
    assert response.status_code == 200
    assert list(app.household.members.all()) == [draft.applicant]


# --- step 3: income, assets, expenditures -------------------------------------------------


def test_income_as_average_as_twelve_months_and_an_excluded_kind(cw, draft):
    app, member = draft.application, draft.spouse
    add = url("intake-income-add", app.pk)
    r1 = cw.post(
        add,
        {"incomes-member": member.pk, "incomes-source": "wages", "incomes-monthly_average": "800"},
        headers=HTMX,
    )
    r2 = cw.post(
        add,
        {
            "incomes-member": member.pk,
            "incomes-source": "business",
            "incomes-monthly_amounts": "100，200 300 400 500 600 700 800 900 1000 1100 1200",
            "incomes-job_costs": "50",
        },
        headers=HTMX,
    )
    r3 = cw.post(
        add,
        {
            "incomes-member": member.pk,
            "incomes-source": "scholarship",
            "incomes-monthly_average": "300",
        },
        headers=HTMX,
    )
    assert r1.status_code == r2.status_code == r3.status_code == 200
    incomes = Income.objects.filter(member=member).order_by("id")
    assert [i.source for i in incomes] == ["wages", "business", "scholarship"]
    assert len(incomes[1].monthly_amounts) == 12
    assert zh("recorded, not counted") in r3.content.decode()


def test_a_negative_income_is_refused_with_the_services_message(cw, draft):
    response = cw.post(
        url("intake-income-add", draft.application.pk),
        {
            "incomes-member": draft.spouse.pk,
            "incomes-source": "wages",
            "incomes-monthly_average": "-5",
        },
        headers=HTMX,
    )
    assert zh("An amount cannot be negative.") in response.content.decode()
    assert not Income.objects.filter(member=draft.spouse).exists()


def test_eleven_monthly_figures_are_refused(cw, draft):
    response = cw.post(
        url("intake-income-add", draft.application.pk),
        {
            "incomes-member": draft.spouse.pk,
            "incomes-source": "wages",
            "incomes-monthly_amounts": "1 2 3 4 5 6 7 8 9 10 11",
        },
    )
    assert response.status_code == 400
    assert zh("Give twelve monthly figures, oldest first.") in response.content.decode()


def test_a_member_of_another_household_cannot_be_chosen(cw, draft, make_family):
    other = make_family(complete=False)
    response = cw.post(
        url("intake-income-add", draft.application.pk),
        {
            "incomes-member": other.spouse.pk,
            "incomes-source": "wages",
            "incomes-monthly_average": "5",
        },
    )
    assert response.status_code == 400
    assert not Income.objects.filter(member=other.spouse).exists()


def test_assets_and_expenditures_are_added_and_removed(cw, draft):
    app = draft.application
    response = cw.post(
        url("intake-asset-add", app.pk),
        {
            "assets-kind": "vehicle",
            "assets-description": "三轮车",
            "assets-value": "3000",
            "assets-exempt": "on",
            "assets-member": draft.applicant.pk,
        },
        headers=HTMX,
    )
    assert "三轮车" in response.content.decode()
    asset = app.household.assets.get()
    assert asset.exempt and asset.member == draft.applicant
    cw.post(
        url("intake-expenditure-add", app.pk),
        {"expenditures-kind": "medical", "expenditures-monthly_amount": "450"},
        headers=HTMX,
    )
    expenditure = app.household.expenditures.get()
    html = cw.get(url("intake-declaration", app.pk)).content.decode()
    assert "三轮车" in html and "450.00" in html

    cw.post(url("intake-row-remove", app.pk, "asset", asset.pk), headers=HTMX)
    response = cw.post(url("intake-row-remove", app.pk, "expenditure", expenditure.pk))
    assert response.status_code == 302
    assert not app.household.assets.exists() and not app.household.expenditures.exists()


def test_a_negative_asset_value_is_refused(cw, draft):
    response = cw.post(
        url("intake-asset-add", draft.application.pk),
        {"assets-kind": "deposit", "assets-description": "存款", "assets-value": "-1"},
    )
    assert response.status_code == 400
    assert zh("An amount cannot be negative.") in response.content.decode()
    assert not draft.application.household.assets.exists()


def test_a_row_of_another_household_is_not_found(cw, draft, make_family):
    other = make_family(complete=False)
    income = Income.objects.filter(member=other.applicant).get()
    response = cw.post(url("intake-row-remove", draft.application.pk, "income", income.pk))
    assert response.status_code == 404
    assert Income.objects.filter(pk=income.pk).exists()


# --- step 4: commitments and authorisations -------------------------------------------------


def test_proofs_commitment_authorisations_and_a_near_relative(cw, draft, proof_items):
    app = draft.application
    id_card, income_proof = proof_items
    html = cw.get(url("intake-commitments", app.pk)).content.decode()
    # A non-committable item offers only "provided".
    assert html.count('value="committed"') == 1

    cw.post(url("intake-proof", app.pk), {"proofs-item": id_card.pk, "proofs-status": "provided"})
    cw.post(
        url("intake-proof", app.pk),
        {"proofs-item": income_proof.pk, "proofs-status": "committed"},
        headers=HTMX,
    )
    assert dict(app.proofs.values_list("item__code", "status")) == {
        "id_card": ProofStatus.Status.PROVIDED,
        "income_proof": ProofStatus.Status.COMMITTED,
    }

    today = timezone.localdate().isoformat()
    response = cw.post(
        url("intake-commit", app.pk),
        {"commitment-informed_on": today, "commitment-signed_on": today},
        headers=HTMX,
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.informed_on == app.declaration_committed_on == timezone.localdate()

    for member in (draft.applicant, draft.spouse):
        response = cw.post(
            url("intake-authorisation", app.pk),
            {
                "authorisations-member": member.pk,
                "authorisations-signed_on": today,
                "authorisations-scan": scan(),
            },
            headers=HTMX,
        )
        assert response.status_code == 200
    assert intake_services.unauthorised_names(app) == []
    assert app.household.documents.filter(kind=Document.Kind.AUTHORISATION).count() == 2

    response = cw.post(
        url("intake-near-relative", app.pk),
        {
            "near_relatives-member": draft.spouse.pk,
            "near_relatives-official_name": "马主任",
            "near_relatives-position": "village_committee",
            "near_relatives-kinship": "兄弟",
        },
        headers=HTMX,
    )
    assert "马主任" in response.content.decode()
    assert app.near_relative_filings.get().official_name == "马主任"


def test_a_non_committable_proof_cannot_be_committed(cw, draft, proof_items):
    response = cw.post(
        url("intake-proof", draft.application.pk),
        {"proofs-item": proof_items[0].pk, "proofs-status": "committed"},
        headers=HTMX,
    )
    assert zh("%(item)s cannot be replaced by a commitment.", item="身份证复印件") in (
        response.content.decode()
    )
    assert not draft.application.proofs.exists()


def test_a_commitment_dated_in_the_future_is_refused(cw, draft):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = cw.post(
        url("intake-commit", draft.application.pk),
        {"commitment-informed_on": tomorrow, "commitment-signed_on": tomorrow},
    )
    assert response.status_code == 400
    assert zh("The date lies in the future.") in response.content.decode()


def test_an_authorisation_scan_of_the_wrong_type_stores_nothing(cw, draft):
    response = cw.post(
        url("intake-authorisation", draft.application.pk),
        {
            "authorisations-member": draft.spouse.pk,
            "authorisations-signed_on": timezone.localdate().isoformat(),
            "authorisations-scan": SimpleUploadedFile("scan.png", b"just text, not an image"),
        },
        headers=HTMX,
    )
    html = response.content.decode()
    assert zh(WRONG_TYPE) in html
    assert not Document.objects.exists()
    assert intake_services.unauthorised_names(draft.application) == ["马1", "李1"]


# --- step 5: the household file ------------------------------------------------------------


def upload(cw, app, name: str, content: bytes, kind: str = "id_card", **extra):
    return cw.post(
        url("intake-document-upload", app.pk),
        {"documents-kind": kind, "documents-file": SimpleUploadedFile(name, content)},
        **extra,
    )


def test_a_document_is_uploaded_listed_downloaded_and_zipped(cw, draft, people):
    app = draft.application
    response = upload(cw, app, "身份证.png", PNG, headers=HTMX)
    assert response.status_code == 200
    assert "身份证.png" in response.content.decode()
    document = app.household.documents.get()

    html = cw.get(url("intake-documents", app.pk)).content.decode()
    download = url("document-download", app.household_id, document.pk)
    assert download in html and url("household-file-zip", app.household_id) in html

    response = cw.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert AuditEvent.objects.filter(action="document.read", actor=people.caseworker_a).exists()

    response = cw.get(url("household-file-zip", app.household_id))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert len(archive.namelist()) == 1
    assert AuditEvent.objects.filter(action="household_file.zip").exists()


def test_a_file_of_the_wrong_type_is_refused_whatever_its_name(cw, draft):
    response = upload(cw, draft.application, "scan.pdf", b"MZ\x90\x00 an executable")
    assert response.status_code == 400
    assert zh(WRONG_TYPE) in response.content.decode()
    assert not Document.objects.exists()


def test_a_file_that_is_too_large_is_refused(cw, draft):
    content = PNG + b"\x00" * (documents.MAX_BYTES + 1 - len(PNG))
    response = upload(cw, draft.application, "big.png", content, headers=HTMX)
    assert zh("The file is larger than %(mb)s MB.", mb=f"{documents.MAX_BYTES / 2**20:g}") in (
        response.content.decode()
    )
    assert not Document.objects.exists()


def test_an_auditor_reads_the_household_file_but_cannot_upload(client, draft, people):
    app = draft.application
    documents.document_upload(
        actor=people.caseworker_a, household=app.household, kind="id_card", upload=scan()
    )
    client.force_login(people.auditor)
    html = client.get(url("intake-documents", app.pk)).content.decode()
    assert url("intake-document-upload", app.pk) not in html
    assert upload(client, app, "x.png", PNG).status_code == 403
    assert app.household.documents.count() == 1


# --- step 6: submit ------------------------------------------------------------------------


def test_submit_lists_everything_missing_then_submits(cw, draft):
    app = draft.application
    html = cw.get(url("intake-submit", app.pk)).content.decode()
    with translation.override("zh-hans"):
        missing = intake_services.missing_for_acceptance(app)
    assert len(missing) == 6
    for line in missing:
        assert escape(line) in html
    assert zh("The declaration commitment is not signed.") in html

    response = cw.post(url("intake-submit", app.pk))
    assert response.status_code == 302
    try:
        expected = reverse("cases:detail", args=[app.pk])
    except NoReverseMatch:
        expected = reverse("home")
    assert response.url == expected
    app.refresh_from_db()
    assert app.state == S.SUBMITTED

    # Submitted: every step is read-only, and the services refuse changes.
    html = cw.get(url("intake-members", app.pk)).content.decode()
    assert 'id="readonly-notice"' in html and url("intake-member-add", app.pk) not in html
    response = cw.post(url("intake-submit", app.pk))
    assert response.status_code == 400
    with translation.override("zh-hans"):
        refusal = gettext("Not possible while the application is %(state)s.") % {
            "state": gettext("submitted")
        }
    assert escape(refusal) in response.content.decode()
    response = cw.post(
        url("intake-member-add", app.pk),
        member_data(identity("642222", "20100601", 22)),
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(url("intake-members", app.pk))
    assert zh("The declaration cannot change once the application is accepted.") in (
        response.content.decode()
    )


def test_a_returned_application_is_editable_again_and_shows_what_is_missing(cw, draft, people):
    app = draft.application
    intake_services.application_submit(actor=people.caseworker_a, application_id=app.pk)
    casework_services.application_accept(
        actor=people.caseworker_a, application_id=app.pk, also_missing=["户口本原件"]
    )
    app.refresh_from_db()
    assert app.state == S.RETURNED
    html = cw.get(url("intake-declaration", app.pk)).content.decode()
    assert 'id="returned-items"' in html and "户口本原件" in html
    assert 'id="readonly-notice"' not in html and url("intake-income-add", app.pk) in html
    response = cw.post(
        url("intake-member-add", app.pk),
        member_data(identity("642222", "20100601", 22)),
        headers=HTMX,
    )
    assert response.status_code == 200 and "马小花" in response.content.decode()


def test_an_approver_reads_the_steps_without_forms_and_cannot_write(client, draft, people):
    app = draft.application
    client.force_login(people.approver_a)
    html = client.get(url("intake-members", app.pk)).content.decode()
    assert 'id="readonly-notice"' in html and url("intake-member-add", app.pk) not in html
    response = client.post(
        url("intake-member-add", app.pk), member_data(identity("642222", "20100601", 22))
    )
    assert response.status_code == 403
    assert client.post(url("intake-submit", app.pk)).status_code == 403


# --- the jurisdiction ----------------------------------------------------------------------


def test_township_b_gets_404_on_every_page_of_an_application_in_a(client, draft, people):
    app = draft.application
    household = app.household
    document = documents.document_upload(
        actor=people.caseworker_a, household=household, kind="id_card", upload=scan()
    )
    income = Income.objects.filter(member=draft.applicant).get()
    client.force_login(people.caseworker_b)
    gets = [
        url(name, app.pk)
        for name in (
            "intake-members",
            "intake-declaration",
            "intake-commitments",
            "intake-documents",
            "intake-submit",
        )
    ] + [
        url("document-download", household.pk, document.pk),
        url("household-file-zip", household.pk),
    ]
    posts = [
        url("intake-member-add", app.pk),
        url("intake-member-remove", app.pk, draft.spouse.pk),
        url("intake-income-add", app.pk),
        url("intake-asset-add", app.pk),
        url("intake-expenditure-add", app.pk),
        url("intake-row-remove", app.pk, "income", income.pk),
        url("intake-proof", app.pk),
        url("intake-commit", app.pk),
        url("intake-authorisation", app.pk),
        url("intake-near-relative", app.pk),
        url("intake-document-upload", app.pk),
        url("intake-submit", app.pk),
    ]
    assert {u: client.get(u).status_code for u in gets} == dict.fromkeys(gets, 404)
    assert {u: client.post(u).status_code for u in posts} == dict.fromkeys(posts, 404)
    assert household.members.count() == 2 and app.state == S.DRAFT


def test_the_household_registration_defaults_to_the_village_or_takes_a_known_code(cw, places):
    from cases.models import Household

    data = {
        "village": places.village_a.pk,
        "address": "龙王坝村五组3号",
        "phone": "",
        "assistance_type": "dibao_rural",
        "identity_number": identity("642222", "19600101", 571),
        "name": "马某",
    }
    cw.post(url("intake-start"), data)
    assert Household.objects.get(address="龙王坝村五组3号").registration_region == places.village_a
    bad = cw.post(
        url("intake-start"),
        {
            **data,
            "address": "x2",
            "registration_code": "999999999999",
            "identity_number": identity("642222", "19600101", 573),
        },
    )
    assert bad.status_code == 400
    assert not Household.objects.filter(address="x2").exists()
    cw.post(
        url("intake-start"),
        {
            **data,
            "address": "x3",
            "registration_code": places.village_b.code,
            "identity_number": identity("642222", "19600101", 575),
        },
    )
    assert Household.objects.get(address="x3").registration_region == places.village_b


# --- issue 15: the ability to work follows the age; help text; edit; summary -------------


def born_years_ago(years: int, *, days: int = 0) -> str:
    """A birth date ``years`` years (and ``days`` days more) before today, as YYYYMMDD."""
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return (day - datetime.timedelta(days=days)).strftime("%Y%m%d")


def test_the_ability_to_work_defaults_to_what_the_age_says(cw, draft):
    app = draft.application
    page = cw.get(url("intake-members", app.pk)).content.decode()
    assert '<option value="" selected>' in page  # "as the age says", not "able to work"
    people = [
        ("十六岁学生", born_years_ago(16, days=10), {"is_student": "on"}, "none"),
        ("十六岁", born_years_ago(16, days=10), {}, "full"),
        ("十五岁", born_years_ago(16, days=-10), {}, "none"),
        ("三十岁", born_years_ago(30), {}, "full"),
        ("六十岁", born_years_ago(60), {}, "none"),
    ]
    for n, (name, birth, extra, _expected) in enumerate(people):
        response = cw.post(
            url("intake-member-add", app.pk),
            member_data(identity("642222", birth, 40 + n), name=name, work_ability="", **extra),
            headers=HTMX,
        )
        assert response.status_code == 200
    found = dict(app.household.members.values_list("person__name", "work_ability"))
    assert {name: found[name] for name, *_ in people} == {
        name: expected for name, _b, _e, expected in people
    }
    # A choice made stays the choice.
    cw.post(
        url("intake-member-add", app.pk),
        member_data(
            identity("642222", born_years_ago(70), 60), name="七十岁", work_ability="partial"
        ),
        headers=HTMX,
    )
    assert app.household.members.get(person__name="七十岁").work_ability == "partial"


def test_help_text_is_shown_and_every_description_points_to_an_element(cw, draft):
    import re

    for page in (url("intake-start"), url("intake-members", draft.application.pk)):
        html = cw.get(page).content.decode()
        described = re.findall(r'aria-describedby="([^"]+)"', html)
        assert described, page
        for target in described:
            assert f'id="{target}"' in html, (page, target)
    html = cw.get(url("intake-start")).content.decode()
    hint = re.search(r'<small[^>]*id="id_registration_code_helptext"[^>]*>([^<]*)</small>', html)
    assert hint and "12" in hint.group(1)


def test_both_income_fields_get_their_own_error_not_the_twelve_months(cw, draft):
    response = cw.post(
        url("intake-income-add", draft.application.pk),
        {
            "incomes-member": draft.spouse.pk,
            "incomes-source": "wages",
            "incomes-monthly_average": "800",
            "incomes-monthly_amounts": "100 200 300",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        zh(
            "Give either the twelve monthly figures or a monthly average, not both: "
            "clear one of them."
        )
        in html
    )
    assert zh("Give twelve monthly figures, oldest first.") not in html
    assert not Income.objects.filter(member=draft.spouse).exists()


def test_the_submit_step_shows_what_will_be_submitted(cw, make_family):
    family = make_family(income="300")
    app = family.application
    intake_services.asset_add(
        actor=family.application.created_by,
        household=app.household,
        kind="vehicle",
        description="三轮摩托车",
        value="3000",
    )
    html = cw.get(url("intake-submit", app.pk)).content.decode()
    form = html.index('action="' + url("intake-submit", app.pk) + '"')
    summary = html[html.index('id="submit-summary"') : form]
    assert family.applicant.person.name in summary and family.spouse.person.name in summary
    assert "300.00" in summary  # the applicant's wages
    assert "三轮摩托车" in summary and "3000" in summary
    from cases import eligibility

    estimate = eligibility.amount_compute(application=app)
    assert zh("Estimated amount: %(amount)s yuan.", amount=estimate.monthly_amount) in summary
    # The summary comes before the submit button.
    assert html.index('id="submit-summary"') < html.index(zh("Submit the application"))


def test_a_member_is_edited_on_its_page_with_the_services_rules(client, cw, draft, people):
    app, spouse = draft.application, draft.spouse
    members = cw.get(url("intake-members", app.pk)).content.decode()
    edit = url("intake-member-edit", app.pk, spouse.pk)
    assert edit in members
    page = cw.get(edit)
    assert page.status_code == 200
    assert spouse.person.name in page.content.decode()

    def data(**extra):
        return {
            "name": spouse.person.name,
            "relation": "spouse",
            "work_ability": "partial",
            "health": "chronic",
            "disability": "",
        } | extra

    refused = cw.post(edit, data(disability="visual"))
    assert refused.status_code == 400
    assert zh("Give the grade of the disability (1 to 4).") in refused.content.decode()
    refused = cw.post(edit, data(relation="self"))
    assert zh("The household already has an applicant.") in refused.content.decode()
    spouse.refresh_from_db()
    assert (spouse.work_ability, spouse.health) == ("none", "healthy")

    response = cw.post(edit, data(name="李改名"))
    assert response.status_code == 302
    spouse.refresh_from_db()
    spouse.person.refresh_from_db()
    assert (spouse.work_ability, spouse.health, spouse.person.name) == (
        "partial",
        "chronic",
        "李改名",
    )
    audit = AuditEvent.objects.get(action="member.update", object_id=str(spouse.pk))
    assert audit.new_values["work_ability"] == "partial"
    assert audit.old_values["health"] == "healthy"

    # Who may only read gets 403, another township 404, and nothing changes.
    client.force_login(people.approver_a)
    assert client.get(edit).status_code == 403
    assert client.post(edit, data(health="serious")).status_code == 403
    client.force_login(people.caseworker_b)
    assert client.get(edit).status_code == 404
    spouse.refresh_from_db()
    assert spouse.health == "chronic"


def test_base_has_a_skip_link_and_dismissable_success_banners(cw, draft):
    response = cw.post(
        url("intake-member-add", draft.application.pk),
        member_data(identity("642222", "20100601", 22)),
        follow=True,
    )
    html = response.content.decode()
    assert f'<a class="skip-link" href="#main">{zh("Skip to the main content")}</a>' in html
    assert '<main class="page" id="main" tabindex="-1">' in html
    banner = html[html.index('<li class="message success"') :]
    banner = banner[: banner.index("</li>")]
    assert zh("Member added.") in banner and 'class="dismiss"' in banner
    # An error stays: no dismiss button, no fading (submitted once, refused the second time).
    cw.post(url("intake-submit", draft.application.pk))
    response = cw.post(url("intake-submit", draft.application.pk))
    assert response.status_code == 400
    html = response.content.decode()
    error = html[html.index('<li class="message error"') :]
    error = error[: error.index("</li>")]
    assert "dismiss" not in error and "data-fades" not in error
