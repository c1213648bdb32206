"""Snapshot file feeds: upload, validation, COPY loading, the swap, the pages, the task."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

import verification.feeds.tasks  # noqa: F401 (registers verification.feed_import)
from aid_portal import uploads
from aid_portal.crypto import blind_index
from aid_portal.errors import Conflict, DomainError
from aid_portal.identity import validate_identity_number
from aid_portal.models import AuditEvent
from tests.cases.conftest import identity, make_family, policy, proof_items  # noqa: F401 (fixtures)
from tests.cases.test_services import _race
from tests.conftest import Hold, kill_and_redeliver, wait_for
from verification.feeds import services as feeds
from verification.feeds.catalogue import CATALOGUE, load_catalogue
from verification.feeds.models import (
    DataItem,
    Department,
    Feed,
    QuarantinedRow,
    Snapshot,
    SnapshotRecord,
)
from verification.feeds.services import (
    current_records,
    feed_configure,
    snapshot_import,
    snapshot_upload,
)

S = Snapshot.Status
HEADER = "身份证号,姓名,项目,数值,日期"
MA = identity("642222", "19700101", 3)
LI = identity("642222", "19750505", 4)
WANG = identity("642222", "19800808", 5)


@pytest.fixture(autouse=True)
def _private_files_in_english(settings, tmp_path, monkeypatch):
    # Files of this run in a folder of their own; a worker started after this reads the
    # same folder through its environment.
    settings.MEDIA_ROOT = tmp_path / "files"
    monkeypatch.setenv("PRIVATE_FILES_ROOT", str(tmp_path / "files"))
    # Celery autodiscovers verification/tasks.py; until that module imports the feed
    # task, a worker started by a test is told to import it (click's auto envvar of
    # `celery worker --include`).
    monkeypatch.setenv("CELERY_WORKER_INCLUDE", "verification.feeds.tasks")
    # The messages are checked in their English source form.
    with translation.override("en"):
        yield


@pytest.fixture
def hrss(db) -> Feed:
    load_catalogue()
    return Feed.objects.select_related("department").get(department__code="hrss")


def csv_file(lines: list[str], *, encoding: str = "utf-8", name: str = "hrss.csv"):
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(encoding), "text/csv")


def good_lines() -> list[str]:
    return [
        HEADER,
        f"{MA},马一,pension,1200.50,2026-01-31",
        f"{LI},李二,social_insurance_wage,2300,2026-01-31",
        f"{WANG},王三,养老金,900,2026/01/31",
    ]


def upload_and_import(feed, people, upload) -> Snapshot:
    snapshot = snapshot_upload(actor=people.feedadmin, feed=feed, upload=upload)
    assert snapshot.status == S.LOADING
    snapshot_import(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    return snapshot


def records_of(feed: Feed, *numbers: str) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    hashes = {blind_index(n): n for n in numbers}
    for record in current_records(department=feed.department, identity_hashes=hashes):
        found.setdefault(hashes[record.identity_hash], []).append(
            (record.item.code, record.value, record.record_date)
        )
    return found


# --- the catalogue --------------------------------------------------------------------


def test_catalogue_loads_every_department_once(db):
    load_catalogue()
    load_catalogue()
    assert Department.objects.count() == len(CATALOGUE) == 10
    assert Feed.objects.count() == 10
    vehicle = DataItem.objects.get(department__code="public_security", code="vehicle")
    assert vehicle.compare_as == DataItem.CompareAs.VEHICLE
    assert DataItem.objects.get(code="death").compare_as == DataItem.CompareAs.DEATH
    assert Feed.objects.get(department__code="bank").column_mapping["identity_number"] == "身份证号"


# --- encodings and formats --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_each_encoding_is_loaded(hrss, people, encoding):
    snapshot = upload_and_import(hrss, people, csv_file(good_lines(), encoding=encoding))

    assert snapshot.status == S.COMPLETE, snapshot.error
    assert (snapshot.rows_total, snapshot.rows_loaded, snapshot.rows_quarantined) == (3, 3, 0)
    hrss.refresh_from_db()
    assert hrss.current_id == snapshot.pk
    assert records_of(hrss, MA, LI, WANG) == {
        MA: [("pension", Decimal("1200.50"), datetime.date(2026, 1, 31))],
        LI: [("social_insurance_wage", Decimal("2300.00"), datetime.date(2026, 1, 31))],
        WANG: [("pension", Decimal("900.00"), datetime.date(2026, 1, 31))],
    }
    record = current_records(department=hrss.department, identity_hashes=[blind_index(LI)]).get()
    assert record.name == "李二"  # the GBK name decoded, not mojibake


def test_xlsx_is_loaded(hrss, people):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["身份证号", "姓名", "项目", "数值", "日期", "备注"])
    sheet.append([MA, "马一", "pension", 1200.5, datetime.datetime(2026, 1, 31), "x"])
    sheet.append([LI, "李二", "social_insurance_wage", 2300, "2026-01-31", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("hrss.xlsx", buffer.getvalue())

    snapshot = upload_and_import(hrss, people, upload)

    assert snapshot.status == S.COMPLETE, snapshot.error
    assert records_of(hrss, MA, LI) == {
        MA: [("pension", Decimal("1200.50"), datetime.date(2026, 1, 31))],
        LI: [("social_insurance_wage", Decimal("2300.00"), datetime.date(2026, 1, 31))],
    }


def test_extra_columns_are_ignored(hrss, people):
    lines = [HEADER + ",备注", f"{MA},马一,pension,1200,2026-01-31,来自人社"]
    snapshot = upload_and_import(hrss, people, csv_file(lines))
    assert snapshot.status == S.COMPLETE
    assert snapshot.rows_loaded == 1


def test_missing_columns_reject_the_file_naming_them(hrss, people):
    lines = ["身份证号,姓名,数值", f"{MA},马一,1200"]
    snapshot = upload_and_import(hrss, people, csv_file(lines))

    assert snapshot.status == S.REJECTED
    assert "项目" in snapshot.error and "日期" in snapshot.error
    assert "身份证号" not in snapshot.error.split(".")[0]
    assert snapshot.records.count() == 0


def test_a_file_in_neither_encoding_nor_a_workbook_is_refused(hrss, people):
    bad = SimpleUploadedFile("hrss.csv", b"\x81\x30" * 3 + b"\xff\xfe\xfd")
    snapshot = upload_and_import(hrss, people, bad)
    assert snapshot.status == S.REJECTED
    with pytest.raises(DomainError, match="CSV or XLSX"):
        snapshot_upload(actor=people.feedadmin, feed=hrss, upload=SimpleUploadedFile("a.txt", b"x"))


# --- bad rows ---------------------------------------------------------------------------

FUTURE = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("642222197001010X3,马一,pension,1200,2026-01-31", "identity number"),
        (f"{MA[:-1]}{'0' if MA[-1] != '0' else '1'},马一,pension,1200,2026-01-31", "identity"),
        (f"{MA},马一,pension,1200,{FUTURE}", "future"),
        (f"{MA},马一,pension,-5,2026-01-31", "negative amount -5"),
        (f"{MA},马一,pension,abc,2026-01-31", "not a number"),
        (f"{MA},马一,pension,1200,2026-02-30", "not a date"),
        (f"{MA},马一,vehicle,1,2026-01-31", "unknown item 'vehicle'"),
        (f"{LI},李二,social_insurance_wage,2300,2026-01-31", "duplicate of line 3"),
    ],
    ids=[
        "malformed",
        "bad-check",
        "future",
        "negative",
        "nan",
        "no-date",
        "unknown-item",
        "duplicate",
    ],
)
def test_bad_rows_are_quarantined_with_reasons(hrss, people, line, reason):
    feed_configure(
        actor=people.feedadmin,
        feed=hrss,
        column_mapping=hrss.column_mapping,
        bad_rows=Feed.BadRows.QUARANTINE,
    )
    lines = [*good_lines(), line]  # header is line 1: the bad row is line 5
    snapshot = upload_and_import(hrss, people, csv_file(lines))

    assert snapshot.status == S.COMPLETE
    assert (snapshot.rows_total, snapshot.rows_loaded, snapshot.rows_quarantined) == (4, 3, 1)
    quarantined = QuarantinedRow.objects.get(snapshot=snapshot)
    assert quarantined.line == 5
    assert reason in " ".join(quarantined.reasons), quarantined.reasons
    # What is kept for display shows the identity number masked.
    shown = quarantined.raw["身份证号"]
    assert "****" in shown and shown != line.split(",")[0]
    assert records_of(hrss, MA, LI, WANG).keys() == {MA, LI, WANG}


def test_a_bad_row_is_found_by_its_full_identity_number_and_stays_masked(hrss, people, client):
    """The kept cells show the number masked; the feed admin's search finds the row by
    the full number through its blind index, never by reading the number back."""
    feed_configure(
        actor=people.feedadmin,
        feed=hrss,
        column_mapping=hrss.column_mapping,
        bad_rows=Feed.BadRows.QUARANTINE,
    )
    lines = [
        *good_lines(),
        f"{MA},马一,pension,-5,2026-01-31",  # line 5: a known number, a bad amount
        f" {LI.lower()} ,李二,pension,abc,2026-01-31",  # line 6: spaces, a lower-case x
        ",无号,pension,1,2026-01-31",  # line 7: no number at all
    ]
    snapshot = upload_and_import(hrss, people, csv_file(lines))
    rows = {row.line: row for row in QuarantinedRow.objects.filter(snapshot=snapshot)}
    assert sorted(rows) == [5, 6, 7]
    assert rows[5].identity_hash == blind_index(MA) and rows[6].identity_hash == blind_index(LI)
    assert rows[7].identity_hash is None
    assert MA not in str(rows[5].raw)

    client.force_login(people.feedadmin)
    url = reverse("verification:snapshot", args=[snapshot.pk])

    def shown(term: str) -> set[int]:
        html = client.get(url, {"q": term}).content.decode()
        html = html[html.index("<tbody", html.index('id="list-search"')) :]
        return {line for line, row in rows.items() if f'id="bad-row-{row.pk}"' in html}

    assert shown(MA) == {5}
    assert shown(LI) == {6}
    assert shown(WANG) == set()  # a valid number with no bad row
    assert shown("无号") == {7}  # other terms still read the cells


def test_reject_mode_lists_bad_lines_loads_nothing_and_keeps_the_current(hrss, people):
    first = upload_and_import(hrss, people, csv_file(good_lines()))
    assert first.status == S.COMPLETE
    lines = [
        HEADER,
        f"{MA},马一,pension,1500,2026-02-28",
        f"{LI},李二,pension,-1,2026-02-28",
        f"{WANG},王三,pension,900,{FUTURE}",
        "12345,无名,pension,100,2026-02-28",
    ]
    second = upload_and_import(hrss, people, csv_file(lines))

    assert second.status == S.REJECTED
    assert second.records.count() == 0
    assert second.rows_quarantined == 3
    assert "3 of 4 rows are bad" in second.error
    assert "line 3: negative amount -1" in second.error
    assert "line 4:" in second.error and "future" in second.error
    assert "line 5: identity number" in second.error
    assert list(second.quarantined.values_list("line", flat=True)) == [3, 4, 5]
    hrss.refresh_from_db()
    assert hrss.current_id == first.pk
    first.refresh_from_db()
    assert first.status == S.COMPLETE
    assert records_of(hrss, MA)[MA] == [("pension", Decimal("1200.50"), datetime.date(2026, 1, 31))]


# --- the swap and idempotence -----------------------------------------------------------


def test_the_previous_snapshot_stays_in_use_until_the_new_one_is_complete(hrss, people):
    first = upload_and_import(hrss, people, csv_file(good_lines()))
    lines = [HEADER, f"{MA},马一,pension,1500,2026-02-28"]
    second = snapshot_upload(actor=people.feedadmin, feed=hrss, upload=csv_file(lines))

    # Uploaded, not yet imported: the first file still answers.
    assert records_of(hrss, MA)[MA] == [("pension", Decimal("1200.50"), datetime.date(2026, 1, 31))]
    with pytest.raises(Conflict, match="still loading"):
        snapshot_upload(actor=people.feedadmin, feed=hrss, upload=csv_file(lines))

    snapshot_import(snapshot_id=second.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    hrss.refresh_from_db()
    assert (first.status, second.status) == (S.REPLACED, S.COMPLETE)
    assert hrss.current_id == second.pk
    assert records_of(hrss, MA, LI) == {
        MA: [("pension", Decimal("1500.00"), datetime.date(2026, 2, 28))]
    }


def test_running_the_import_twice_does_nothing_the_second_time(hrss, people):
    snapshot = upload_and_import(hrss, people, csv_file(good_lines()))
    audit_rows = AuditEvent.objects.count()
    finished_at = snapshot.finished_at

    snapshot_import(snapshot_id=snapshot.pk)

    snapshot.refresh_from_db()
    assert snapshot.status == S.COMPLETE
    assert snapshot.finished_at == finished_at
    assert snapshot.records.count() == 3
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.django_db(transaction=True)
def test_one_snapshot_imported_twice_at_once_is_loaded_once(hrss, people):
    snapshot = snapshot_upload(actor=people.feedadmin, feed=hrss, upload=csv_file(good_lines()))
    _race(
        lambda: snapshot_import(snapshot_id=snapshot.pk),
        lambda: snapshot_import(snapshot_id=snapshot.pk),
    )
    snapshot.refresh_from_db()
    assert snapshot.status == S.COMPLETE, snapshot.error
    assert snapshot.records.count() == 3 and snapshot.rows_loaded == 3
    assert AuditEvent.objects.filter(action="snapshot.complete").count() == 1
    assert set(_partitions()) == {
        "verification_snapshotrecord_default",
        f"verification_snapshotrecord_{snapshot.pk}",
    }


def test_only_a_feed_admin_uploads(hrss, people):
    with pytest.raises(PermissionDenied):
        snapshot_upload(actor=people.caseworker_a, feed=hrss, upload=csv_file(good_lines()))
    assert not Snapshot.objects.exists()


def test_upload_is_audited(hrss, people):
    snapshot = snapshot_upload(actor=people.feedadmin, feed=hrss, upload=csv_file(good_lines()))
    event = AuditEvent.objects.get(action="snapshot.upload")
    assert event.object_id == str(snapshot.pk)
    assert event.actor == people.feedadmin


# --- the pages ------------------------------------------------------------------------------


def test_upload_page_then_progress_partial(client, hrss, people):
    client.force_login(people.feedadmin)
    page = client.get(reverse("verification:feed", args=["hrss"]))
    assert page.status_code == 200
    assert "养老金" in page.content.decode()

    response = client.post(
        reverse("verification:feed-upload", args=["hrss"]), {"file": csv_file(good_lines())}
    )
    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    assert snapshot.status == S.LOADING

    page = client.get(reverse("verification:feed", args=["hrss"])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    progress_url = reverse("verification:snapshot-progress", args=[snapshot.pk])
    assert progress_url in page
    partial = client.get(progress_url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<progress" in partial.content.decode()
    assert "HX-Refresh" not in partial

    snapshot_import(snapshot_id=snapshot.pk)
    partial = client.get(progress_url, headers={"HX-Request": "true"})
    assert partial["HX-Refresh"] == "true"
    assert "every 1s" not in partial.content.decode()


def test_upload_of_a_wrong_file_shows_the_reason(client, hrss, people, settings):
    client.force_login(people.feedadmin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("verification:feed-upload", args=["hrss"]),
        {"file": SimpleUploadedFile("notes.txt", b"hello")},
    )
    assert response.status_code == 400
    assert "Upload a CSV or XLSX file." in response.content.decode()
    assert not Snapshot.objects.exists()


def test_settings_form_saves_the_mapping_and_refuses_a_blank_identity_column(client, hrss, people):
    client.force_login(people.feedadmin)
    url = reverse("verification:feed-settings", args=["hrss"])
    data = {
        "identity_number": "证件号码",
        "name": "姓名",
        "item": "项目",
        "value": "金额",
        "date": "日期",
        "text": "",
        "bad_rows": "quarantine",
    }
    assert client.post(url, data).status_code == 302
    hrss.refresh_from_db()
    assert hrss.column_mapping["identity_number"] == "证件号码"
    assert hrss.bad_rows == Feed.BadRows.QUARANTINE

    response = client.post(url, {**data, "identity_number": ""})
    assert response.status_code == 400
    hrss.refresh_from_db()
    assert hrss.column_mapping["identity_number"] == "证件号码"


def test_snapshot_page_lists_bad_lines(client, hrss, people):
    lines = [*good_lines(), f"{MA},马一,pension,-3,2026-01-31"]
    snapshot = upload_and_import(hrss, people, csv_file(lines))
    client.force_login(people.feedadmin)
    page = client.get(reverse("verification:snapshot", args=[snapshot.pk])).content.decode()
    assert "negative amount -3" in page
    assert MA not in page  # masked


def test_departments_page_lists_items_and_is_for_feed_admins(client, hrss, people):
    client.force_login(people.feedadmin)
    page = client.get(reverse("verification:departments")).content.decode()
    for name in ("公安", "机动车", "民政", "死亡火化"):
        assert name in page
    client.force_login(people.caseworker_a)
    assert client.get(reverse("verification:departments")).status_code == 403


# --- a real worker ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_imports_an_uploaded_file(celery_worker_process, places, people, client):
    load_catalogue()
    client.force_login(people.feedadmin)
    response = client.post(
        reverse("verification:feed-upload", args=["hrss"]), {"file": csv_file(good_lines())}
    )
    assert response.status_code == 302
    snapshot = Snapshot.objects.get()

    def finished():
        snapshot.refresh_from_db()
        return snapshot.status != S.LOADING

    wait_for(finished, timeout=60)
    assert snapshot.status == S.COMPLETE, snapshot.error
    assert snapshot.rows_loaded == 3
    assert Feed.objects.get(department__code="hrss").current_id == snapshot.pk


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_mid_way_loads_once(celery_worker_process, places, people):
    """Killed after loading the rows, while swapping the snapshot in (the feed's row
    held): the redelivered task loads the file again from the start, and the snapshot
    ends as one imported by a worker that was not killed (test above): complete, 3 rows,
    one partition, one audit row."""
    load_catalogue()
    # No worker while the file is uploaded, so the hold is in place before the import.
    celery_worker_process.process.kill()
    celery_worker_process.process.wait()
    feed = Feed.objects.get(department__code="hrss")
    upload = csv_file(good_lines())
    snapshot = feeds.snapshot_upload(actor=people.feedadmin, feed=feed, upload=upload)
    hold = Hold.row(Feed, feed.pk)
    celery_worker_process.restart()

    def killed_mid_way():
        snapshot.refresh_from_db()
        assert snapshot.status == S.LOADING
        assert Feed.objects.get(pk=feed.pk).current_id is None

    kill_and_redeliver(celery_worker_process, hold, before_redelivery=killed_mid_way)

    def finished():
        snapshot.refresh_from_db()
        return snapshot.status != S.LOADING

    wait_for(finished, timeout=60)
    assert snapshot.status == S.COMPLETE, snapshot.error
    assert snapshot.rows_loaded == 3 and snapshot.rows_quarantined == 0
    assert Feed.objects.get(pk=feed.pk).current_id == snapshot.pk
    assert SnapshotRecord.objects.filter(snapshot=snapshot).count() == 3
    assert set(_partitions()) == {  # no table left behind by the killed load
        "verification_snapshotrecord_default",
        f"verification_snapshotrecord_{snapshot.pk}",
    }
    assert AuditEvent.objects.filter(action="snapshot.complete").count() == 1
    snapshot_import(snapshot_id=snapshot.pk)  # a late duplicate changes nothing
    assert SnapshotRecord.objects.filter(snapshot=snapshot).count() == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redelivered_import_waits_for_the_killed_workers_session(
    celery_worker_process, places, people
):
    """The redelivered task may find the dead worker's session still holding the
    snapshot's lock (PostgreSQL ends it only when its statement is over). It waits for
    it, then imports, instead of leaving the snapshot loading for ever."""
    load_catalogue()
    feed = Feed.objects.get(department__code="hrss")
    celery_worker_process.process.kill()
    celery_worker_process.process.wait()
    upload = csv_file(good_lines())
    snapshot = feeds.snapshot_upload(actor=people.feedadmin, feed=feed, upload=upload)
    # The dead worker's session, as the lock goes: held until released.
    orphan = Hold("SELECT pg_advisory_lock(%s, %s)", [feeds.LOCK_SPACE, snapshot.pk])
    celery_worker_process.restart()
    wait_for(orphan.blocked, timeout=60)  # the new worker's task waits on it
    orphan.release()

    def finished():
        snapshot.refresh_from_db()
        return snapshot.status != S.LOADING

    wait_for(finished, timeout=60)
    assert snapshot.status == S.COMPLETE, snapshot.error
    assert SnapshotRecord.objects.filter(snapshot=snapshot).count() == 3


# --- the demo ----------------------------------------------------------------------------------


def test_demo_feeds_load_every_snapshot_department_once(make_family, people):  # noqa: F811
    from aid_portal.demo.feeds import load_feeds_demo

    family = make_family()
    assert load_feeds_demo() == 10
    assert load_feeds_demo() == 0
    assert Snapshot.objects.count() == 10
    # One family: the registry knows both (and the findings may pick them too).
    feed = Feed.objects.select_related("current").get(department__code="public_security")
    assert feed.current.status == S.COMPLETE
    assert feed.current.rows_loaded >= 2
    applicant = family.applicant.person
    registration = current_records(
        department=Department.objects.get(code="public_security"),
        identity_hashes=[applicant.identity_hash],
    )
    assert "household_registration" in {record.item.code for record in registration}


# --- storage: a partition per snapshot ------------------------------------------------------


def _partitions() -> dict[str, list[str]]:
    """Partitions of the records table -> the parent indexes their own indexes belong to."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, coalesce(array_agg(pi.relname ORDER BY pi.relname)
                                       FILTER (WHERE pi.relname IS NOT NULL), '{}')
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            LEFT JOIN pg_index x ON x.indrelid = c.oid
            LEFT JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid
            LEFT JOIN pg_class pi ON pi.oid = ii.inhparent
            WHERE i.inhparent = 'verification_snapshotrecord'::regclass
            GROUP BY c.relname
            """
        )
        return dict(cursor.fetchall())


def _table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_each_snapshot_is_a_partition_with_its_index_and_the_replaced_one_is_dropped(hrss, people):
    first = upload_and_import(hrss, people, csv_file(good_lines()))
    table = feeds._partition(first.pk)
    # Attached, with its index the partition of the index on the records table (built
    # before the swap: ATTACH built nothing), and nothing else.
    assert _partitions()[table] == ["record_person"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        assert cursor.fetchone()[0] == 2  # the foreign keys to snapshot and item hold

    second = upload_and_import(
        hrss, people, csv_file([HEADER, f"{MA},马一,pension,1500,2026-02-28"])
    )

    assert second.status == S.COMPLETE
    assert feeds._partition(second.pk) in _partitions()
    assert not _table_exists(table)
    assert SnapshotRecord.objects.filter(snapshot=first).count() == 0


def test_a_loading_table_is_read_by_nobody_until_the_swap(hrss, people):
    first = upload_and_import(hrss, people, csv_file(good_lines()))
    second = snapshot_upload(
        actor=people.feedadmin,
        feed=hrss,
        upload=csv_file([HEADER, f"{MA},马一,pension,1500,2026-02-28"]),
    )
    # What a worker that died half-way through the load left behind.
    feeds.records_table_create(second.pk)
    with connection.cursor() as cursor:
        table = feeds._partition(second.pk)
        cursor.execute(
            f"INSERT INTO {table} (identity_hash, name, item_id, text) "  # noqa: S608
            "SELECT identity_hash, name, item_id, 'half' FROM verification_snapshotrecord"
        )
    assert feeds._partition(second.pk) not in _partitions()
    assert records_of(hrss, MA)[MA] == [("pension", Decimal("1200.50"), datetime.date(2026, 1, 31))]

    snapshot_import(snapshot_id=second.pk)  # the task delivered again

    second.refresh_from_db()
    assert second.status == S.COMPLETE
    assert second.rows_loaded == 1
    assert records_of(hrss, MA) == {
        MA: [("pension", Decimal("1500.00"), datetime.date(2026, 2, 28))]
    }
    assert not SnapshotRecord.objects.filter(text="half").exists()
    first.refresh_from_db()
    assert first.status == S.REPLACED


def test_a_rejected_file_leaves_no_table_behind_and_a_sweep_drops_leftovers(hrss, people):
    rejected = upload_and_import(
        hrss, people, csv_file([HEADER, "12345,无名,pension,1,2026-01-01"])
    )
    assert rejected.status == S.REJECTED
    assert not _table_exists(feeds._partition(rejected.pk))
    # A table of a rejected snapshot that a drop could not remove (a read held the
    # records table) goes with the next import.
    feeds.records_table_create(rejected.pk)

    upload_and_import(hrss, people, csv_file(good_lines()))

    assert not _table_exists(feeds._partition(rejected.pk))


# --- reading files: the plain path and the csv module agree ------------------------------------


def test_crlf_blank_lines_and_chunk_boundaries_keep_line_numbers_and_duplicates(
    hrss, people, monkeypatch
):
    monkeypatch.setattr(feeds, "CHUNK_ROWS", 2)
    monkeypatch.setattr(feeds, "CHUNK_CHARS", 40)
    feed_configure(
        actor=people.feedadmin,
        feed=hrss,
        column_mapping=hrss.column_mapping,
        bad_rows=Feed.BadRows.QUARANTINE,
    )
    lines = [
        HEADER,
        f"{MA},马一,pension,1200.50,2026-01-31",
        "",
        " , ,,,",
        f"{LI},李二,social_insurance_wage,2300,2026-01-31",
        f"{WANG},王三,养老金,900,2026/01/31",
        f"{MA},马一,pension,1300,2026/01/31",  # the same person, item and date as line 2
        f"{LI},李二,pension,-1,2026-01-31",
    ]
    upload = SimpleUploadedFile("hrss.csv", ("\r\n".join(lines) + "\r\n").encode(), "text/csv")

    snapshot = upload_and_import(hrss, people, upload)

    assert snapshot.status == S.COMPLETE, snapshot.error
    assert (snapshot.rows_total, snapshot.rows_loaded, snapshot.rows_quarantined) == (5, 3, 2)
    assert {row.line: row.reasons for row in snapshot.quarantined.all()} == {
        7: ["duplicate of line 2"],
        8: ["negative amount -1"],
    }
    assert records_of(hrss, MA)[MA] == [("pension", Decimal("1200.50"), datetime.date(2026, 1, 31))]


def test_quoted_cells_spanning_lines_go_through_the_csv_module(hrss, people):
    feed_configure(
        actor=people.feedadmin,
        feed=hrss,
        column_mapping=hrss.column_mapping,
        bad_rows=Feed.BadRows.QUARANTINE,
    )
    lines = [
        HEADER,
        f'{MA},"马,一\n（曾用名）",pension,1200.50,2026-01-31',
        f'{LI},"李""二""",social_insurance_wage,2300,2026-01-31',
        f"{WANG},王三,pension,abc,2026-01-31",
    ]
    snapshot = upload_and_import(hrss, people, csv_file(lines))

    assert snapshot.status == S.COMPLETE, snapshot.error
    assert snapshot.quarantined.get().line == 5  # the first row took lines 2 and 3
    names = {
        record.name
        for record in current_records(
            department=hrss.department, identity_hashes=[blind_index(MA), blind_index(LI)]
        )
    }
    assert names == {"马,一\n（曾用名）", '李"二"'}


def test_the_quick_identity_check_agrees_with_the_validator():
    today = timezone.localdate()
    plain = feeds._PlainNumbers(today)
    numbers = [MA, LI, WANG, identity("110101", "20000229", 7)]
    numbers += [n[:-1] + ("0" if n[-1] != "0" else "1") for n in numbers]  # check character
    numbers += [
        identity("642222", "19700230", 3)[:17] + "0",  # no such day
        identity("999999", "19700101", 3),  # no such area
        identity("642222", (today + datetime.timedelta(days=2)).strftime("%Y%m%d"), 3),
        MA.lower(),
        "６" + MA[1:],  # a full-width digit
        MA[:17],
    ]
    expected = []
    for number in numbers:
        try:
            expected.append(validate_identity_number(number) == number)
        except ValidationError:
            expected.append(False)
    assert [plain(number) for number in numbers] == expected
    assert plain.plain(numbers) == [n for n, ok in zip(numbers, expected, strict=True) if ok]
    assert plain.plain([MA, LI]) == [MA, LI]  # the column-wise path
    index = feeds._BlindIndex()
    assert index.many(numbers) == [blind_index(number) for number in numbers]


def test_a_file_with_a_nul_character_is_rejected(hrss, people):
    first = upload_and_import(hrss, people, csv_file(good_lines()))
    # Near the start, the upload refuses it at once (aid_portal.uploads).
    near = [*good_lines(), f"{WANG},王\0三,pension,1,2026-03-31"]
    with pytest.raises(DomainError) as refused:
        snapshot_upload(actor=people.feedadmin, feed=hrss, upload=csv_file(near))
    assert refused.value.message == (
        "The file's content does not match its name: a .csv must be text."
    )
    # Further in than the upload looks, the import rejects it.
    filler = [f"{MA},马一,pension,1200.50,2026-01-31"] * (uploads.HEAD_BYTES // 30)
    lines = [*good_lines(), *filler, f"{WANG},王\0三,pension,1,2026-03-31"]

    snapshot = upload_and_import(hrss, people, csv_file(lines))

    assert snapshot.status == S.REJECTED
    assert snapshot.error == "The file contains NUL characters: it is not a text file."
    assert not _table_exists(feeds._partition(snapshot.pk))
    hrss.refresh_from_db()
    assert hrss.current_id == first.pk


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (8 * 2**20))
    assert len(buffer.getvalue()) < 64 * 1024
    return buffer.getvalue()


def test_a_workbook_that_inflates_beyond_the_setting_is_refused(hrss, people, settings):
    """A zip bomb: a few kB that unpack to far more than any sheet. Refused from the sizes
    its archive declares, before openpyxl reads a byte of it: at upload, and by the
    import too (for a file stored before the setting was lowered)."""
    settings.UPLOAD_MAX_INFLATED_BYTES = 4 * 2**20
    upload = SimpleUploadedFile("hrss.xlsx", _zip_bomb())
    with pytest.raises(DomainError) as refused:
        snapshot_upload(actor=people.feedadmin, feed=hrss, upload=upload)
    assert "8 MB" in refused.value.message and "4 MB" in refused.value.message
    assert not Snapshot.objects.exists()

    settings.UPLOAD_MAX_INFLATED_BYTES = 16 * 2**20
    snapshot = snapshot_upload(actor=people.feedadmin, feed=hrss, upload=upload)
    settings.UPLOAD_MAX_INFLATED_BYTES = 4 * 2**20
    snapshot_import(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == S.REJECTED
    assert "8 MB" in snapshot.error and "4 MB" in snapshot.error
    assert snapshot.records.count() == 0


def test_a_broken_workbook_is_refused_with_a_message(hrss, people):
    upload = SimpleUploadedFile("hrss.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DomainError) as refused:
        snapshot_upload(actor=people.feedadmin, feed=hrss, upload=upload)
    assert refused.value.message == "The workbook cannot be read: it is not a valid XLSX file."
    assert not Snapshot.objects.exists()


# --- the template file and the bad rows as downloads ------------------------------------


def _book(response):
    from openpyxl import load_workbook

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def test_the_template_file_has_the_header_row_the_feed_expects(client, hrss, people):
    client.force_login(people.feedadmin)
    page = client.get(reverse("verification:feed", args=["hrss"])).content.decode()
    url = reverse("verification:feed-template", args=["hrss"])
    assert url in page
    book = _book(client.get(url))
    data, items = book.worksheets
    mapping = hrss.column_mapping
    expected = [mapping[key] for key in feeds.MAPPED_FIELDS if mapping.get(key)]
    assert [cell.value for cell in data[1]] == expected and data.max_row == 1
    codes = {row[0].value for row in items.iter_rows(min_row=2)}
    assert codes == set(hrss.department.items.values_list("code", flat=True))
    # A changed mapping changes the template: it follows the settings.
    feeds.feed_configure(
        actor=people.feedadmin,
        feed=hrss,
        column_mapping={**mapping, "identity_number": "证件号码"},
        bad_rows=hrss.bad_rows,
    )
    assert _book(client.get(url)).worksheets[0]["A1"].value == "证件号码"
    client.force_login(people.caseworker_a)
    assert client.get(url).status_code == 403


def test_the_bad_rows_download_with_their_reasons_masked_and_audited(client, hrss, people):
    lines = [*good_lines(), f"{MA},马一,pension,-3,2026-01-31", f"{LI},李二,nothing,5,2026-01-31"]
    snapshot = upload_and_import(hrss, people, csv_file(lines))
    assert snapshot.rows_quarantined == 2
    client.force_login(people.feedadmin)
    url = reverse("verification:snapshot-bad-rows", args=[snapshot.pk])
    assert url in client.get(reverse("verification:snapshot", args=[snapshot.pk])).content.decode()
    sheet = _book(client.get(url)).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header_at = next(i for i, row in enumerate(values) if row[0] == _zh("Line"))
    header, rows = values[header_at], values[header_at + 1 :]
    assert [row[0] for row in rows] == [5, 6]
    assert "-3" in rows[0][1]  # the reason names the bad amount
    assert all(MA not in str(cell) and LI not in str(cell) for row in rows for cell in row)
    assert hrss.column_mapping["identity_number"] in header
    event = AuditEvent.objects.get(action="snapshot.bad_rows_download")
    assert event.object_id == str(snapshot.pk) and event.new_values == {"rows": 2}
    client.force_login(people.caseworker_a)
    assert client.get(url).status_code == 403
    assert AuditEvent.objects.filter(action="snapshot.bad_rows_download").count() == 1


def _zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)
