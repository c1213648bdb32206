"""Snapshot file feeds: upload a department's file, validate and load it, swap it in.

A file is stored and a LOADING snapshot created on upload; the import task reads it
(CSV in UTF-8, UTF-8 with BOM or GBK, or XLSX), validates every row, COPYs the good rows
into ``verification_snapshotrecord`` in batches (the records of a snapshot that is not
current are the staging area, read by nobody), and finally swaps the snapshot in: in
one transaction the previous one becomes REPLACED, this one COMPLETE and the feed's
current. Until that moment the previous snapshot stays in use; a rejected or failed
import leaves it in use and removes whatever it had loaded.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access
from aid_portal.audit import audit_record
from aid_portal.crypto import blind_index
from aid_portal.errors import Conflict, DomainError
from aid_portal.identity import (
    is_known_area_code,
    mask_identity_number,
    validate_identity_number,
)
from aid_portal.models import Region, Role, User
from verification.models import DataItem, Department, Feed, QuarantinedRow, Snapshot, SnapshotRecord

logger = logging.getLogger(__name__)

FEED_ADMINS = frozenset({Role.FEED_ADMIN})
MAPPED_FIELDS = ("identity_number", "name", "item", "value", "date", "text")
REQUIRED_FIELDS = ("identity_number", "item")
BATCH_ROWS = 50_000
QUARANTINE_BATCH = 5_000
ERRORS_IN_MESSAGE = 200  # lines listed in snapshot.error; all are in QuarantinedRow
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
VALUE_LIMIT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
CENT = Decimal("0.01")


# --- upload and settings -----------------------------------------------------------------


def _feed_admin_region(actor: User) -> Region | None:
    """The region the audit row belongs to: the actor's first data-feed admin node."""
    for assignment in access.role_assignments_of(actor):
        if assignment.role in FEED_ADMINS:
            return assignment.region
    return None


def feed_configure(
    *, actor: User, feed: Feed, column_mapping: dict[str, str], bad_rows: str
) -> Feed:
    """Set how the department's columns map to ours and what a bad row does."""
    access.require_role(actor, FEED_ADMINS)
    mapping = {key: (column_mapping.get(key) or "").strip() for key in MAPPED_FIELDS}
    missing = [key for key in REQUIRED_FIELDS if not mapping[key]]
    if missing:
        raise DomainError(
            _("Map a column for: %(fields)s.") % {"fields": ", ".join(missing)},
            field=missing[0],
        )
    used = [column for column in mapping.values() if column]
    if len(used) != len(set(used)):
        raise DomainError(_("Each column of the file can be mapped to one field only."))
    if bad_rows not in Feed.BadRows.values:
        raise DomainError(_("Choose what to do with bad rows."), field="bad_rows")
    with transaction.atomic():
        feed = Feed.objects.select_for_update().get(pk=feed.pk)
        old = {"column_mapping": feed.column_mapping, "bad_rows": feed.bad_rows}
        feed.column_mapping = mapping
        feed.bad_rows = bad_rows
        feed.save(update_fields=["column_mapping", "bad_rows"])
        audit_record(
            actor=actor,
            action="feed.configure",
            obj=feed,
            region=_feed_admin_region(actor),
            old=old,
            new={"column_mapping": mapping, "bad_rows": bad_rows},
        )
    return feed


def snapshot_upload(*, actor: User, feed: Feed, upload: UploadedFile) -> Snapshot:
    """Store a department's file as a new LOADING snapshot and queue its import."""
    access.require_role(actor, FEED_ADMINS)
    name = PurePath(upload.name or "").name[:200]
    suffix = PurePath(name).suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise DomainError(_("Upload a CSV or XLSX file."), field="file")
    if not upload.size:
        raise DomainError(_("The file is empty."), field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(_("The file is larger than 512 MB."), field="file")
    upload.seek(0)
    is_zip = upload.read(4) == XLSX_MAGIC
    upload.seek(0)
    if (suffix == ".xlsx") != is_zip:
        raise DomainError(
            _("The file's content does not match its name: a .xlsx must be an Excel workbook.")
            if suffix == ".xlsx"
            else _("This is an Excel workbook: name it .xlsx."),
            field="file",
        )
    with transaction.atomic():
        feed = Feed.objects.select_for_update().select_related("department").get(pk=feed.pk)
        if feed.snapshots.filter(status=Snapshot.Status.LOADING).exists():
            raise Conflict(
                _("A file of this department is still loading; wait until it has finished."),
                field="file",
            )
        snapshot = Snapshot(feed=feed, original_name=name, uploaded_by=actor)
        snapshot.file.save(name, upload, save=False)
        snapshot.save()
        audit_record(
            actor=actor,
            action="snapshot.upload",
            obj=snapshot,
            region=_feed_admin_region(actor),
            new={"file": name, "size": upload.size, "department": feed.department.code},
        )
        transaction.on_commit(lambda: _enqueue_import(snapshot.pk))
    return snapshot


def _enqueue_import(snapshot_id: int) -> None:
    from verification.tasks_feeds import feed_import

    feed_import.delay(snapshot_id=snapshot_id)


# --- reading the file ----------------------------------------------------------------------


class FileRejected(Exception):
    """The file as a whole cannot be read: the snapshot is rejected with this message."""


def _detect_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GBK."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                utf8.decode(chunk)
            utf8.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    gbk = codecs.getincrementaldecoder("gb18030")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                gbk.decode(chunk)
            gbk.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileRejected(_("The file is neither UTF-8 nor GBK text.")) from None
    return "gb18030"


def _count_lines(path: str) -> int:
    lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


@dataclass
class _Table:
    header: list[str]
    rows: Iterator[tuple[int, list]]  # (line number, cells)
    estimated_rows: int


def _open_csv(path: str) -> tuple[_Table, object]:
    encoding = _detect_encoding(path)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed by the caller)
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise FileRejected(_("The file is empty.")) from None
    except csv.Error as exc:
        handle.close()
        raise FileRejected(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None

    def rows():
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield reader.line_num, cells
        except csv.Error as exc:
            raise FileRejected(
                _("Line %(line)s is not valid CSV: %(error)s")
                % {"line": reader.line_num, "error": exc}
            ) from None

    return _Table(header, rows(), max(_count_lines(path) - 1, 0)), handle


def _open_xlsx(path: str) -> tuple[_Table, object]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileRejected(
            _("The workbook cannot be read: %(error)s") % {"error": exc.__class__.__name__}
        ) from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = ["" if cell is None else str(cell) for cell in next(values)]
    except StopIteration:
        workbook.close()
        raise FileRejected(_("The file is empty.")) from None

    def rows():
        for line, cells in enumerate(values, start=2):
            if any(cell not in (None, "") for cell in cells):
                yield line, list(cells)

    return _Table(header, rows(), max((sheet.max_row or 1) - 1, 0)), workbook


# --- validating a row ------------------------------------------------------------------------


def _cell_text(value) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
WELL_FORMED = re.compile(r"\d{17}[\dX]")
CHECK_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))


def _parse_date(text: str) -> datetime.date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _plainly_valid(number: str, today: datetime.date) -> bool:
    """The checks of validate_identity_number for a number already in normal form,
    without its string cleaning (the slow part at a million rows). Only ever says yes:
    anything else goes through validate_identity_number for its message."""
    if not WELL_FORMED.fullmatch(number):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number, CHECK_WEIGHTS, strict=False))
    if "10X98765432"[total % 11] != number[17]:
        return False
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return birth <= today and is_known_area_code(number[:6])


@dataclass
class _Validator:
    """Checks rows one by one; remembers people, dates and rows already seen."""

    items: dict[str, int]  # item code or name -> DataItem id
    today: datetime.date
    people: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    dates: dict[str, tuple[datetime.date | None, str]] = field(default_factory=dict)
    seen: dict[tuple, int] = field(default_factory=dict)

    def person(self, raw: str) -> tuple[str | None, str]:
        """(blind index, "") or (None, reason), once per distinct number."""
        known = self.people.get(raw)
        if known is None:
            if _plainly_valid(raw, self.today):
                known = (blind_index(raw), "")
            else:
                try:
                    number = validate_identity_number(raw)
                except ValidationError as exc:
                    reason = _("identity number: %(reason)s") % {"reason": exc.messages[0]}
                    known = (None, reason)
                else:
                    known = (blind_index(number), "")
            self.people[raw] = known
        return known

    def date(self, raw) -> tuple[datetime.date | None, str]:
        """(date, "") or (None, reason), once per distinct text."""
        if isinstance(raw, datetime.datetime):
            raw = raw.date()
        if isinstance(raw, datetime.date):
            raw = raw.isoformat()
        known = self.dates.get(raw)
        if known is None:
            text = _cell_text(raw)
            try:
                day = _parse_date(text)
            except ValueError:
                known = (None, _("date %(date)s is not a date (YYYY-MM-DD)") % {"date": repr(text)})
            else:
                future = day > self.today
                reason = _("date %(date)s lies in the future") % {"date": day} if future else ""
                known = (None if future else day, reason)
            self.dates[raw] = known
        return known

    def check(self, line: int, cells: dict) -> tuple[tuple | None, list[str]]:
        reasons = []
        raw_identity = _cell_text(cells.get("identity_number"))
        identity_hash = None
        if not raw_identity:
            reasons.append(_("identity number missing"))
        else:
            identity_hash, reason = self.person(raw_identity)
            if reason:
                reasons.append(reason)
        item_text = _cell_text(cells.get("item"))
        item_id = self.items.get(item_text) or self.items.get(item_text.lower())
        if item_id is None:
            reasons.append(
                _("unknown item %(item)s for this department") % {"item": repr(item_text)}
                if item_text
                else _("item missing")
            )
        value = None
        value_text = _cell_text(cells.get("value"))
        if value_text:
            try:
                value = Decimal(value_text.replace(",", ""))
                if not value.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                reasons.append(_("value %(value)s is not a number") % {"value": repr(value_text)})
                value = None
            else:
                if value < 0:
                    reasons.append(_("negative amount %(value)s") % {"value": value_text})
                elif value > VALUE_LIMIT:
                    reasons.append(_("amount %(value)s is too large") % {"value": value_text})
                else:
                    value = value.quantize(CENT)
        record_date = None
        raw_date = cells.get("date")
        if raw_date is not None and (type(raw_date) is not str or raw_date.strip()):
            record_date, reason = self.date(raw_date)
            if reason:
                reasons.append(reason)
        name = _cell_text(cells.get("name"))
        if len(name) > 50:
            reasons.append(_("name longer than 50 characters"))
        text = _cell_text(cells.get("text"))
        if len(text) > 200:
            reasons.append(_("details longer than 200 characters"))
        if reasons:
            return None, reasons
        key = (identity_hash, item_id, record_date)
        first = self.seen.get(key)
        if first is not None:
            return None, [_("duplicate of line %(line)s") % {"line": first}]
        self.seen[key] = line
        return (identity_hash, name, item_id, value, text, record_date), []


# --- the import -------------------------------------------------------------------------------

S = Snapshot.Status
COPY_SQL = (
    "COPY verification_snapshotrecord "
    "(snapshot_id, identity_hash, name, item_id, value, text, record_date) "
    "FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (name, text))"
)


def _copy(snapshot_id: int, rows: list[tuple]) -> None:
    buffer = io.StringIO()
    write = csv.writer(buffer, lineterminator="\n").writerow
    for identity_hash, name, item_id, value, text, record_date in rows:
        write((snapshot_id, identity_hash, name, item_id, value, text, record_date))
    buffer.seek(0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.copy_expert(COPY_SQL, buffer)


def snapshot_import(*, snapshot_id: int) -> None:
    """Validate and load a LOADING snapshot, then swap it in (the import task's body).

    Does nothing unless the snapshot is LOADING, and nothing while another process holds
    the same snapshot (a redelivered task), so running it twice is harmless.
    """
    if not Snapshot.objects.filter(pk=snapshot_id, status=S.LOADING).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_SPACE, snapshot_id])
        if not cursor.fetchone()[0]:
            return
    try:
        snapshot = Snapshot.objects.select_related("feed__department").get(pk=snapshot_id)
        if snapshot.status != S.LOADING:
            return
        _import(snapshot)
    except Exception as exc:
        logger.exception("import of snapshot %s failed", snapshot_id)
        _finish_unloaded(snapshot_id, S.FAILED, _("The import failed: %(error)s") % {"error": exc})
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, snapshot_id])


LOCK_SPACE = 7301  # advisory-lock namespace of snapshot imports


def _import(snapshot: Snapshot) -> None:
    feed = snapshot.feed
    # A redelivered task starts again from the beginning.
    SnapshotRecord.objects.filter(snapshot=snapshot).delete()
    QuarantinedRow.objects.filter(snapshot=snapshot).delete()
    Snapshot.objects.filter(pk=snapshot.pk).update(rows_done=0, rows_quarantined=0)
    mapping = {key: column for key, column in feed.column_mapping.items() if column}
    path = snapshot.file.path
    try:
        with open(path, "rb") as handle:
            is_xlsx = handle.read(4) == XLSX_MAGIC
        table, closable = (_open_xlsx if is_xlsx else _open_csv)(path)
    except FileRejected as exc:
        _finish_unloaded(snapshot.pk, S.REJECTED, str(exc))
        return
    try:
        _load(snapshot, feed, mapping, table)
    except FileRejected as exc:
        _finish_unloaded(snapshot.pk, S.REJECTED, str(exc))
    finally:
        closable.close()


def _load(snapshot: Snapshot, feed: Feed, mapping: dict[str, str], table: _Table) -> None:
    header = [column.strip().lstrip("\ufeff") for column in table.header]
    missing = [column for column in mapping.values() if column not in header]
    if missing:
        raise FileRejected(
            _("The file lacks the mapped columns: %(columns)s. Its columns are: %(found)s.")
            % {"columns": "、".join(missing), "found": "、".join(c for c in header if c) or "—"}
        )
    positions = {key: header.index(column) for key, column in mapping.items()}
    Snapshot.objects.filter(pk=snapshot.pk).update(rows_total=table.estimated_rows)

    items: dict[str, int] = {}
    for item in DataItem.objects.filter(department=feed.department_id):
        items[item.code] = items[item.code.lower()] = items[item.name] = item.id
    validator = _Validator(items=items, today=timezone.localdate())
    reject = feed.bad_rows == Feed.BadRows.REJECT
    identity_at = positions["identity_number"]

    good: list[tuple] = []
    bad: list[QuarantinedRow] = []
    errors: list[str] = []
    done = loaded = quarantined = 0
    width = len(header)
    for line, cells in table.rows:
        done += 1
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        row, reasons = validator.check(line, {key: cells[i] for key, i in positions.items()})
        if reasons:
            quarantined += 1
            # Kept for display; the identity number masked, as everywhere on screen.
            raw = {
                (column or f"#{i + 1}"): (
                    mask_identity_number(_cell_text(cell)) if i == identity_at else _cell_text(cell)
                )
                for i, (column, cell) in enumerate(zip(header, cells, strict=False))
            }
            bad.append(QuarantinedRow(snapshot=snapshot, line=line, raw=raw, reasons=reasons))
            if len(errors) < ERRORS_IN_MESSAGE:
                errors.append(
                    _("line %(line)s: %(reasons)s") % {"line": line, "reasons": "; ".join(reasons)}
                )
            if len(bad) >= QUARANTINE_BATCH:
                QuarantinedRow.objects.bulk_create(bad)
                bad = []
        elif not (reject and quarantined):
            good.append(row)
        if len(good) >= BATCH_ROWS:
            _copy(snapshot.pk, good)
            loaded += len(good)
            good = []
        if done % 10_000 == 0:
            Snapshot.objects.filter(pk=snapshot.pk).update(
                rows_done=done, rows_total=max(done, table.estimated_rows)
            )
    if bad:
        QuarantinedRow.objects.bulk_create(bad)
    if reject and quarantined:
        _finish_unloaded(
            snapshot.pk,
            S.REJECTED,
            _("%(count)s of %(total)s rows are bad; the file was not loaded.")
            % {"count": quarantined, "total": done}
            + "\n"
            + "\n".join(errors)
            + ("\n…" if quarantined > len(errors) else ""),
            rows_total=done,
            rows_quarantined=quarantined,
        )
        return
    if good:
        _copy(snapshot.pk, good)
        loaded += len(good)
    if done == 0:
        raise FileRejected(_("The file has a header but no rows."))
    _swap_in(snapshot, rows_total=done, rows_loaded=loaded, rows_quarantined=quarantined)


def _swap_in(snapshot: Snapshot, *, rows_total: int, rows_loaded: int, rows_quarantined: int):
    with transaction.atomic():
        feed = Feed.objects.select_for_update().get(pk=snapshot.feed_id)
        won = Snapshot.objects.filter(pk=snapshot.pk, status=S.LOADING).update(
            status=S.COMPLETE,
            finished_at=timezone.now(),
            rows_total=rows_total,
            rows_done=rows_total,
            rows_loaded=rows_loaded,
            rows_quarantined=rows_quarantined,
            error="",
        )
        if won != 1:
            return
        previous_id = feed.current_id
        if previous_id:
            Snapshot.objects.filter(pk=previous_id).update(status=S.REPLACED)
        feed.current_id = snapshot.pk
        feed.save(update_fields=["current"])
        audit_record(
            actor=None,
            action="snapshot.complete",
            obj=snapshot,
            new={
                "rows_loaded": rows_loaded,
                "rows_quarantined": rows_quarantined,
                "replaced": previous_id,
            },
        )
    # The replaced snapshot's records are no longer read by anyone.
    if previous_id:
        SnapshotRecord.objects.filter(snapshot_id=previous_id).delete()
    # Fresh statistics, or the planner takes the table for as small as it was before
    # the load (set-based comparisons join it).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE verification_snapshotrecord")


def _finish_unloaded(snapshot_id: int, status: str, message: str, **counts) -> None:
    """Reject or fail a snapshot; whatever it loaded goes, the current one stays."""
    SnapshotRecord.objects.filter(snapshot_id=snapshot_id).delete()
    with transaction.atomic():
        updated = Snapshot.objects.filter(pk=snapshot_id, status=S.LOADING).update(
            status=status, finished_at=timezone.now(), error=message, rows_loaded=0, **counts
        )
        if updated:
            audit_record(
                actor=None,
                action=f"snapshot.{status}",
                obj=Snapshot.objects.get(pk=snapshot_id),
                reason=message[:500],
            )


# --- reads ----------------------------------------------------------------------------------


def current_records(*, department: Department, identity_hashes) -> QuerySet[SnapshotRecord]:
    """What the department's snapshot in use says about these people (none if no
    snapshot has been loaded yet)."""
    return (
        SnapshotRecord.objects.filter(
            snapshot__in=Feed.objects.filter(department=department).values("current_id"),
            identity_hash__in=list(identity_hashes),
        )
        .select_related("item")
        .order_by("identity_hash", "item__code", "-record_date")
    )


def department_list_for_admin(*, user: User) -> QuerySet[Department]:
    """The catalogue with items, feeds and the snapshot in use (feed admins only)."""
    access.require_role(user, FEED_ADMINS)
    return Department.objects.select_related("feed__current").prefetch_related(
        Prefetch(
            "feed__snapshots",
            queryset=Snapshot.objects.filter(status=S.LOADING),
            to_attr="loading",
        ),
        "items",
    )


def feed_get_for_admin(*, user: User, department_code: str) -> Feed:
    access.require_role(user, FEED_ADMINS)
    try:
        return Feed.objects.select_related("department", "current").get(
            department__code=department_code
        )
    except Feed.DoesNotExist:
        raise Http404(_("Not found.")) from None


def snapshot_list_for_feed(*, feed: Feed, limit: int = 50) -> QuerySet[Snapshot]:
    return feed.snapshots.select_related("uploaded_by").order_by("-uploaded_at", "-id")[:limit]


def snapshot_get_for_admin(*, user: User, snapshot_id: int) -> Snapshot:
    access.require_role(user, FEED_ADMINS)
    try:
        return Snapshot.objects.select_related("feed__department", "uploaded_by").get(
            pk=snapshot_id
        )
    except Snapshot.DoesNotExist:
        raise Http404(_("Not found.")) from None
