"""Snapshot file feeds: upload a department's file, validate and load it, swap it in.

A file is stored and a LOADING snapshot created on upload; the import task reads it
(CSV in UTF-8, UTF-8 with BOM or GBK, or XLSX), validates every row, and COPYs the good
rows into a table of the snapshot's own, without indexes, while it checks the next
ones; it then builds the index and swaps the snapshot in: in one transaction the table
becomes a partition of ``verification_snapshotrecord``, the previous snapshot becomes
REPLACED, this one COMPLETE and the feed's current. Until that moment the previous
snapshot stays in use; a rejected or failed import leaves it in use and drops whatever
it had loaded. The replaced snapshot's partition is dropped after the swap.
"""

from __future__ import annotations

import codecs
import collections
import csv
import datetime
import gc
import hashlib
import itertools
import logging
import operator
import re
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, connection, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from aid_portal import access, permissions, uploads
from aid_portal.audit import audit_record
from aid_portal.celery import enqueue_on_commit
from aid_portal.crypto import blind_index
from aid_portal.errors import Conflict, DomainError
from aid_portal.exports import Sheet
from aid_portal.identity import (
    is_known_area_code,
    mask_identity_number,
    normalize_identity_number,
    validate_identity_number,
)
from aid_portal.models import Region, User
from verification.feeds.models import (
    DataItem,
    Department,
    Feed,
    QuarantinedRow,
    Snapshot,
    SnapshotRecord,
)

logger = logging.getLogger(__name__)

MAPPED_FIELDS = ("identity_number", "name", "item", "value", "date", "text")
REQUIRED_FIELDS = ("identity_number", "item")
BATCH_ROWS = 100_000  # rows per COPY statement; progress is reported after each
CHUNK_ROWS = 2_000  # rows checked together (and sent to COPY together)
CHUNK_CHARS = 1 << 17  # about as many characters of a plain CSV file
ERRORS_IN_MESSAGE = 200  # lines listed in snapshot.error; all are in QuarantinedRow
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
VALUE_LIMIT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
CENT = Decimal("0.01")


# --- upload and settings -----------------------------------------------------------------


def _feed_admin_region(actor: User) -> Region | None:
    """The region the audit row belongs to: the actor's first data-feed admin node."""
    for assignment in access.role_assignments_of(actor):
        if assignment.role in permissions.MANAGE_FEEDS:
            return assignment.region
    return None


def feed_configure(
    *, actor: User, feed: Feed, column_mapping: dict[str, str], bad_rows: str
) -> Feed:
    """Set how the department's columns map to ours and what a bad row does."""
    access.require_role(actor, permissions.MANAGE_FEEDS)
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
    access.require_role(actor, permissions.MANAGE_FEEDS)
    name = uploads.display_name(upload.name)
    suffix = PurePath(name).suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise DomainError(_("Upload a CSV or XLSX file."), field="file")
    if not upload.size:
        raise DomainError(_("The file is empty."), field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(_("The file is larger than 512 MB."), field="file")
    upload.seek(0)
    head = uploads.head_of(upload)
    is_zip = head[:4] == XLSX_MAGIC
    if (suffix == ".xlsx") != is_zip:
        raise DomainError(
            _("The file's content does not match its name: a .xlsx must be an Excel workbook.")
            if suffix == ".xlsx"
            else _("This is an Excel workbook: name it .xlsx."),
            field="file",
        )
    if suffix == ".csv" and uploads.is_binary(head):
        raise DomainError(
            _("The file's content does not match its name: a .csv must be text."), field="file"
        )
    if is_zip:
        # A "zip bomb" is refused here, with the message, not only later by the import.
        try:
            _inflated_size_check(upload)
        except FileRejected as exc:
            raise DomainError(str(exc), field="file") from None
        upload.seek(0)
    with transaction.atomic():
        feed = Feed.objects.select_for_update().select_related("department").get(pk=feed.pk)
        if feed.snapshots.filter(status=Snapshot.Status.LOADING).exists():
            raise Conflict(
                _("A file of this department is still loading; wait until it has finished."),
                field="file",
            )
        snapshot = Snapshot(feed=feed, original_name=name, uploaded_by=actor)
        # Stored under a name of the portal's: the user's name is only shown.
        snapshot.file.save(f"{secrets.token_hex(8)}{suffix}", upload, save=False)
        snapshot.save()
        audit_record(
            actor=actor,
            action="snapshot.upload",
            obj=snapshot,
            region=_feed_admin_region(actor),
            new={"file": name, "size": upload.size, "department": feed.department.code},
        )
        enqueue_on_commit("verification.feed_import", snapshot_id=snapshot.pk)
    return snapshot


# --- reading the file ----------------------------------------------------------------------


class FileRejected(Exception):
    """The file as a whole cannot be read: the snapshot is rejected with this message."""


@dataclass
class _TextFile:
    encoding: str
    newlines: int
    # No quotes, and no carriage returns but before a line feed: each line is a row,
    # its cells split at the commas (in UTF-8 and GBK alike those bytes are never part
    # of another character).
    plain: bool


def _scan_text_file(path: str) -> _TextFile:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GBK; the
    number of lines; and whether the file is plain."""
    for encoding, codec in (("utf-8-sig", "utf-8"), ("gb18030", "gb18030")):
        decoder = codecs.getincrementaldecoder(codec)()
        newlines = returns = line_ends = 0
        quotes = nul = False
        last = b""
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                    newlines += chunk.count(b"\n")
                    returns += chunk.count(b"\r")
                    line_ends += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
                    quotes = quotes or b'"' in chunk
                    nul = nul or b"\0" in chunk
                    last = chunk[-1:]
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if nul:
            # PostgreSQL stores no NUL in text; a file with one is no department's export.
            raise FileRejected(_("The file contains NUL characters: it is not a text file."))
        return _TextFile(encoding, newlines, not quotes and returns == line_ends)
    raise FileRejected(_("The file is neither UTF-8 nor GBK text."))


@dataclass
class _Table:
    header: list[str]
    chunks: Iterator[tuple[list[int], list[list]]]  # (line numbers, rows), no blank rows
    estimated_rows: int
    text_cells: bool  # every cell is a string (a CSV file)


def _line_numbers(previous: int, rows: list[list[str]]) -> list[int]:
    """The line each row ends on, when some rows span lines (quoted line breaks)."""
    lines = []
    for cells in rows:
        previous += 1 + sum(
            cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in cells
        )
        lines.append(previous)
    return lines


def _without_blank_rows(lines, rows, is_blank) -> tuple[list[int], list[list]]:
    keep = [i for i, cells in enumerate(rows) if not is_blank(cells)]
    return [lines[i] for i in keep], [rows[i] for i in keep]


def _open_csv(path: str) -> tuple[_Table, object]:
    scanned = _scan_text_file(path)
    handle = open(path, encoding=scanned.encoding, newline="")  # noqa: SIM115 (caller closes)
    chunks = (_plain_chunks if scanned.plain else _csv_chunks)(handle)
    try:
        header = next(chunks)
    except StopIteration:
        handle.close()
        raise FileRejected(_("The file is empty.")) from None
    except FileRejected:
        handle.close()
        raise
    return _Table(header, chunks, max(scanned.newlines - 1, 0), text_cells=True), handle


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _csv_chunks(handle) -> Iterator:
    """The header, then chunks of (line numbers, rows) read by the csv module."""
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FileRejected(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None
    yield header
    previous = reader.line_num
    while True:
        try:
            rows = list(itertools.islice(reader, CHUNK_ROWS))
        except csv.Error as exc:
            raise FileRejected(
                _("Line %(line)s is not valid CSV: %(error)s")
                % {"line": reader.line_num, "error": exc}
            ) from None
        if not rows:
            return
        if reader.line_num - previous == len(rows):
            lines = list(range(previous + 1, reader.line_num + 1))
        else:
            lines = _line_numbers(previous, rows)
        previous = reader.line_num
        if not all(rows) or not all(map(str.strip, map(FIRST_CELL, rows))):
            lines, rows = _without_blank_rows(lines, rows, _is_blank)
        if rows:
            yield lines, rows


def _plain_chunks(handle) -> Iterator:
    """The same as _csv_chunks for a plain file (see _scan_text_file), where the csv
    module would split each line at its commas: split here, several times faster."""
    limit = csv.field_size_limit()
    line = 0
    while text := handle.read(CHUNK_CHARS):
        text += handle.readline()
        texts = text.replace("\r\n", "\n").split("\n")
        if texts[-1] == "":
            texts.pop()
        rows = list(map(str.split, texts, itertools.repeat(",")))
        if max(map(len, texts)) > limit:
            for i, cells in enumerate(rows):
                if max(map(len, cells)) > limit:
                    raise FileRejected(
                        _("Line %(line)s is not valid CSV: %(error)s")
                        % {
                            "line": line + i + 1,
                            "error": f"field larger than field limit ({limit})",
                        }
                    )
        lines = list(range(line + 1, line + 1 + len(rows)))
        line += len(rows)
        if lines[0] == 1:
            yield rows[0]  # the header
            lines, rows = lines[1:], rows[1:]
        if not all(map(str.strip, map(FIRST_CELL, rows))):
            lines, rows = _without_blank_rows(lines, rows, _is_blank)
        if rows:
            yield lines, rows


FIRST_CELL = operator.itemgetter(0)


def _inflated_size_check(path: str | IO[bytes]) -> None:
    """Refuse a workbook that would inflate beyond the setting (a "zip bomb"). The sizes
    the archive declares bound what is read: Python's zipfile stops each member at its
    declared size and checks its CRC."""
    limit = settings.UPLOAD_MAX_INFLATED_BYTES
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise FileRejected(_("The workbook cannot be read: it is not a valid XLSX file.")) from None
    if inflated > limit:
        raise FileRejected(
            _(
                "The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed: "
                "split it, or send it as CSV."
            )
            % {"size": f"{inflated / 2**20:.0f}", "limit": f"{limit / 2**20:.0f}"}
        )


def _open_xlsx(path: str) -> tuple[_Table, object]:
    _inflated_size_check(path)
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

    def is_blank(cells: tuple) -> bool:
        return all(cell in (None, "") for cell in cells)

    def chunks():
        line = 1
        while rows := list(itertools.islice(values, CHUNK_ROWS)):
            lines = list(range(line + 1, line + 1 + len(rows)))
            line += len(rows)
            lines, rows = _without_blank_rows(lines, rows, is_blank)
            if rows:
                yield lines, rows

    estimated = max((sheet.max_row or 1) - 1, 0)
    return _Table(header, chunks(), estimated, text_cells=False), workbook


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
WELL_FORMED = re.compile(r"[0-9]{17}[0-9X]")
CHECK_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
# An amount as departments write it: digits and at most two decimals, within the column.
PLAIN_AMOUNT_OR_NONE = re.compile(r"(?:[0-9]{1,12}(?:\.[0-9]{1,2})?)?")
# COPY's text format: these characters are escaped, NULL is \N.
COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
NULL = "\\N"
BYTEA_HEX = "\\\\x"  # a bytea in hexadecimal, its backslash escaped


def _parse_date(text: str) -> datetime.date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


# The weighted sum of the three sequence digits (characters 15 to 17, weights 8, 4, 2).
SEQUENCE_SUMS = {
    f"{n:03d}": 8 * (n // 100) + 4 * (n // 10 % 10) + 2 * (n % 10) for n in range(1000)
}
# The check character of each possible weighted sum of the first 17 digits.
CHECK_CHARACTER = tuple("10X98765432"[total % 11] for total in range(9 * sum(CHECK_WEIGHTS) + 1))
PREFIX = operator.itemgetter(slice(0, 14))  # area code and birth date
SEQUENCE = operator.itemgetter(slice(14, 17))
LAST = operator.itemgetter(17)


@dataclass
class _PlainNumbers:
    """Says yes to an identity number in normal form that validate_identity_number
    accepts, without its string cleaning (the slow part at a million rows). Only ever
    says yes: anything else goes through validate_identity_number for its message.

    What the first 14 characters (area code and birth date) allow, and their part of
    the check sum, is worked out once: a county's people share a few thousand of them.
    """

    today: datetime.date
    prefixes: dict[str, int] = field(default_factory=dict)  # -1: no number starts so

    def __call__(self, number: str) -> bool:
        return bool(self._one_by_one([number]))

    def plain(self, numbers: list) -> list[str]:
        """Those of ``numbers`` (strings) that are plainly valid, checked column-wise, in
        C; a list with anything unusual in it one by one."""
        if not all(map(WELL_FORMED.fullmatch, numbers)):
            return self._one_by_one(numbers)
        prefixes = list(map(PREFIX, numbers))
        known = self.prefixes
        for prefix in set(prefixes).difference(known):
            known[prefix] = self._prefix(prefix)
        partials = list(map(known.__getitem__, prefixes))
        if min(partials, default=0) < 0:
            return self._one_by_one(numbers)
        totals = map(operator.add, partials, map(SEQUENCE_SUMS.__getitem__, map(SEQUENCE, numbers)))
        good = map(operator.eq, map(CHECK_CHARACTER.__getitem__, totals), map(LAST, numbers))
        return list(itertools.compress(numbers, good))

    def _one_by_one(self, numbers: Iterable) -> list[str]:
        fullmatch = WELL_FORMED.fullmatch
        prefixes = self.prefixes
        found = []
        for number in numbers:
            if type(number) is not str or not fullmatch(number):
                continue
            partial = prefixes.get(number[:14])
            if partial is None:
                partial = prefixes[number[:14]] = self._prefix(number[:14])
            if (
                partial >= 0
                and CHECK_CHARACTER[partial + SEQUENCE_SUMS[number[14:17]]] == number[17]
            ):
                found.append(number)
        return found

    def _prefix(self, prefix: str) -> int:
        try:
            birth = datetime.date(int(prefix[6:10]), int(prefix[10:12]), int(prefix[12:14]))
        except ValueError:
            return -1
        if birth > self.today or not is_known_area_code(prefix[:6]):
            return -1
        weights = CHECK_WEIGHTS[:14]
        return sum(int(digit) * weight for digit, weight in zip(prefix, weights, strict=True))


class _BlindIndex:
    """aid_portal.crypto.blind_index at twice its speed: the same HMAC-SHA256 (RFC 2104),
    with the key's inner and outer blocks hashed once instead of once per number."""

    def __init__(self):
        key = settings.FIELD_HASH_KEY.encode()
        if len(key) > SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(SHA256_BLOCK, b"\0")
        self.inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self.outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
        if self(CHECK_NUMBER) != blind_index(CHECK_NUMBER):
            raise RuntimeError("the fast blind index differs from aid_portal.crypto.blind_index")

    def __call__(self, value: str) -> str:
        return self.many([value])[0]

    def many(self, values: list[str], prefix: str = "") -> list[str]:
        """The blind index of each value, in hexadecimal after ``prefix`` (the steps of
        HMAC mapped over the values: no Python loop)."""
        digest_type = type(self.inner)
        count = len(values)
        inner = list(map(digest_type.copy, itertools.repeat(self.inner, count)))
        collections.deque(map(digest_type.update, inner, map(str.encode, values)), maxlen=0)
        outer = list(map(digest_type.copy, itertools.repeat(self.outer, count)))
        digests = map(digest_type.digest, inner)
        collections.deque(map(digest_type.update, outer, digests), maxlen=0)
        return list(map(prefix.__add__, map(digest_type.hexdigest, outer)))


SHA256_BLOCK = 64
CHECK_NUMBER = "640422197001010011"


def _copy_text(value: str) -> str:
    """A string as a field of COPY's text format."""
    if COPY_SPECIAL.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


@dataclass
class _Validator:
    """Checks rows and writes the good ones as lines of COPY text; remembers people,
    items, dates and the rows already seen (a row is the person, item and date).

    ``chunk`` checks a few thousand rows of text at once, column by column, in lookups
    that run in C: that is the common case, a file in normal form from a department's
    system. A chunk with anything unusual in it (a bad or untidy row, a duplicate,
    a cell that is not text) goes row by row through ``check``, which says everything
    that is wrong with a row, and teaches ``chunk`` the cells it found good.
    """

    items: dict[str, int]  # item code or name -> DataItem id
    today: datetime.date
    people: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    dates: dict[str, tuple[datetime.date | None, str]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # "person\titem\tdate" -> line
    # Cells as found in files, known to be good -> what COPY gets for them.
    known_people: dict[str, str] = field(default_factory=dict)
    known_items: dict[str, str] = field(default_factory=dict)  # starts as ``items``
    known_dates: dict = field(default_factory=lambda: {"": NULL, None: NULL})
    index: _BlindIndex = field(default_factory=_BlindIndex)
    plainly_valid: _PlainNumbers = field(init=False)

    def __post_init__(self):
        self.known_items.update((raw, str(item_id)) for raw, item_id in self.items.items())
        self.plainly_valid = _PlainNumbers(self.today)

    def person(self, raw: str) -> tuple[str | None, str]:
        """(blind index as COPY text, "") or (None, reason), once per distinct number."""
        known = self.people.get(raw)
        if known is None:
            if self.plainly_valid(raw):
                known = (BYTEA_HEX + self.index(raw), "")
            else:
                try:
                    number = validate_identity_number(raw)
                except ValidationError as exc:
                    reason = _("identity number: %(reason)s") % {"reason": exc.messages[0]}
                    known = (None, reason)
                else:
                    known = (BYTEA_HEX + self.index(number), "")
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

    def _learn_people(self, numbers) -> None:
        """Numbers already in normal form and plainly valid, with their blind index."""
        new = set(numbers).difference(self.known_people)
        if new:
            plain = self.plainly_valid.plain(list(new))
            hashes = self.index.many(plain, prefix=BYTEA_HEX)
            self.known_people.update(zip(plain, hashes, strict=True))

    def _learn_dates(self, dates) -> None:
        known = self.known_dates
        for date in set(dates).difference(known):
            if type(date) is str:
                day, reason = self.date(date)
                if not reason:
                    known[date] = day.isoformat()

    def chunk(self, lines: list[int], columns: dict[str, tuple]) -> str | None:
        """The COPY text of a chunk of rows given as columns (MAPPED_FIELDS; fields the
        feed does not map absent), or None if any row needs a closer look."""
        identities = columns["identity_number"]
        self._learn_people(identities)
        people = list(map(self.known_people.get, identities))
        items = list(map(self.known_items.get, columns["item"]))
        if None in people or None in items:
            return None
        count = len(people)
        dates = columns.get("date")
        if dates is None:
            days = itertools.repeat(NULL, count)
        else:
            self._learn_dates(dates)
            days = list(map(self.known_dates.get, dates))
            if None in days:
                return None
        values = columns.get("value")
        if values is None:
            values = itertools.repeat(NULL, count)
        else:
            if not all(map(PLAIN_AMOUNT_OR_NONE.fullmatch, values)):
                return None
            if "" in values:
                values = [value or NULL for value in values]
        texts = {}
        for key, longest in (("name", 50), ("text", 200)):
            cells = columns.get(key)
            if cells is None:
                texts[key] = itertools.repeat("", count)
                continue
            cells = list(map(str.strip, cells))
            if max(map(len, cells)) > longest:
                return None
            if COPY_SPECIAL.search("".join(cells)):
                cells = list(map(_copy_text, cells))
            texts[key] = cells
        keys = list(map("\t".join, zip(people, items, days, strict=False)))  # days may repeat
        first = dict(zip(keys, lines, strict=True))
        if len(first) != count or not self.seen.keys().isdisjoint(first):
            return None  # a duplicate: row by row, to say which line it repeats
        self.seen.update(first)
        fields = zip(  # the columns not mapped repeat without end
            people, texts["name"], items, values, texts["text"], days, strict=False
        )
        return "\n".join(map("\t".join, fields)) + "\n"

    def check(self, line, identity, name, item, value, date, text) -> tuple[str | None, list[str]]:
        """A row's line of COPY text, or None and everything that is wrong with it."""
        reasons = []
        raw_identity = _cell_text(identity)
        person = None
        if not raw_identity:
            reasons.append(_("identity number missing"))
        else:
            person, reason = self.person(raw_identity)
            if reason:
                reasons.append(reason)
            elif type(identity) is str:
                self.known_people[identity] = person
        item_text = _cell_text(item)
        item_id = self.items.get(item_text) or self.items.get(item_text.lower())
        if item_id is None:
            reasons.append(
                _("unknown item %(item)s for this department") % {"item": repr(item_text)}
                if item_text
                else _("item missing")
            )
        elif type(item) is str:
            self.known_items[item] = str(item_id)
        amount = NULL
        value_text = _cell_text(value)
        if value_text:
            try:
                number = Decimal(value_text.replace(",", ""))
                if not number.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                reasons.append(_("value %(value)s is not a number") % {"value": repr(value_text)})
            else:
                if number < 0:
                    reasons.append(_("negative amount %(value)s") % {"value": value_text})
                elif number > VALUE_LIMIT:
                    reasons.append(_("amount %(value)s is too large") % {"value": value_text})
                else:
                    amount = str(number.quantize(CENT))
        day = NULL
        if date is not None and (type(date) is not str or date.strip()):
            record_date, reason = self.date(date)
            if reason:
                reasons.append(reason)
            else:
                day = record_date.isoformat()
                if type(date) is str:
                    self.known_dates[date] = day
        name = _cell_text(name)
        if len(name) > 50:
            reasons.append(_("name longer than 50 characters"))
        text = _cell_text(text)
        if len(text) > 200:
            reasons.append(_("details longer than 200 characters"))
        if reasons:
            return None, reasons
        key = f"{person}\t{item_id}\t{day}"
        first = self.seen.get(key)
        if first is not None:
            return None, [_("duplicate of line %(line)s") % {"line": first}]
        self.seen[key] = line
        return f"{person}\t{_copy_text(name)}\t{item_id}\t{amount}\t{_copy_text(text)}\t{day}\n", []


# --- the import -------------------------------------------------------------------------------
#
# Each snapshot's records live in a table of their own, a partition of
# verification_snapshotrecord (migration 0004). The import creates that table empty and
# without indexes, COPYs the good rows into it while Python checks the next ones (the
# server stores one chunk while the next is being checked), builds the index once at
# the end, and attaches the table as a partition in the transaction that swaps the
# snapshot in. Until then nobody reads it; a rejected or failed import drops it; the
# snapshot a swap replaces has its partition dropped.

S = Snapshot.Status
RECORDS = SnapshotRecord._meta.db_table
COPY_COLUMNS = "identity_hash, name, item_id, value, text, record_date"
INDEX_BUILD_MEMORY = "256MB"
DROP_LOCK_TIMEOUT = "2s"  # how long dropping a replaced partition waits for readers
LOCK_SPACE = 7301  # advisory-lock namespace of snapshot imports


def _partition(snapshot_id: int) -> str:
    """The table of one snapshot's records (a partition of RECORDS once swapped in)."""
    return f"{RECORDS}_{int(snapshot_id)}"


def snapshot_import(*, snapshot_id: int) -> None:
    """Validate and load a LOADING snapshot, then swap it in (the import task's body).

    Does nothing unless the snapshot is LOADING. A second run of the same snapshot (a
    redelivered task) waits on the snapshot's advisory lock, then finds it finished; it
    does not give up at once, for the holder may be the session of a worker that was
    killed, which PostgreSQL ends (releasing the lock, its load rolled back) only when
    its statement is over: giving up then would leave the snapshot loading for ever.
    """
    if settings.DATABASE_POOLER == "pgbouncer":
        # The lock below is a session's, held across the import's transactions: under
        # transaction pooling it would be taken and released on different sessions.
        raise ImproperlyConfigured(
            "verification.feed_import needs a session of its own: run the batch worker "
            "on a direct or session-pooled connection, not DATABASE_POOLER=pgbouncer "
            "(docs/deploy.md, PgBouncer)"
        )
    if not Snapshot.objects.filter(pk=snapshot_id, status=S.LOADING).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_SPACE, snapshot_id])
    try:
        snapshot = Snapshot.objects.select_related("feed__department").get(pk=snapshot_id)
        if snapshot.status != S.LOADING:
            return
        records_drop_stale()
        _import(snapshot)
    except Exception as exc:
        logger.exception("import of snapshot %s failed", snapshot_id)
        _finish_unloaded(snapshot_id, S.FAILED, _("The import failed: %(error)s") % {"error": exc})
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, snapshot_id])


def _import(snapshot: Snapshot) -> None:
    feed = snapshot.feed
    # A redelivered task starts again from the beginning.
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


@dataclass
class _Load:
    """One pass over the file's rows: the good ones as COPY text, the bad ones kept."""

    snapshot: Snapshot
    validator: _Validator
    header: list[str]
    chunks: Iterator[tuple[list[int], list[list]]]
    positions: dict[str, int]  # mapped field -> column
    text_cells: bool  # every cell is a string (CSV)
    reject: bool
    done: int = 0
    loaded: int = 0
    quarantined: int = 0
    finished: bool = False
    bad: list[QuarantinedRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        width = len(self.header)
        self.mapped = [key for key in MAPPED_FIELDS if key in self.positions]
        columns = [self.positions[key] for key in self.mapped]
        self.pick_mapped = (
            operator.itemgetter(*columns)
            if len(columns) > 1
            else lambda cells, column=columns[0]: (cells[column],)
        )
        self.needed = max(self.positions.values()) + 1
        # Row by row, a field the feed does not map reads the empty cell added at the end.
        self.pick_all = operator.itemgetter(
            *(self.positions.get(key, width) for key in MAPPED_FIELDS)
        )

    def texts(self, rows: int) -> Iterator[str]:
        """COPY text of the next ``rows`` rows (or a few more: whole chunks) of the file."""
        start = self.done
        for lines, chunk in self.chunks:
            self.done += len(chunk)
            text = None
            if self.text_cells and min(map(len, chunk)) >= self.needed:
                cells = zip(*map(self.pick_mapped, chunk), strict=True)
                columns = dict(zip(self.mapped, cells, strict=True))
                text = self.validator.chunk(lines, columns)
                if text is not None:
                    good = len(chunk)
            if text is None:
                text, good = self._row_by_row(lines, chunk)
            if good and not (self.reject and self.quarantined):
                self.loaded += good
                yield text
            if self.done - start >= rows:
                return
        self.finished = True

    def _row_by_row(self, lines: list[int], chunk: list[list]) -> tuple[str, int]:
        width = len(self.header)
        check = self.validator.check
        texts = []
        for line, cells in zip(lines, chunk, strict=True):
            cells = [*cells, *[""] * (width - len(cells)), ""]  # padded, and the empty cell
            text, reasons = check(line, *self.pick_all(cells))
            if reasons:
                self._keep_bad(line, cells, reasons)
            else:
                texts.append(text)
        return "".join(texts), len(texts)

    def _keep_bad(self, line: int, cells: list, reasons: list[str]) -> None:
        self.quarantined += 1
        identity_at = self.positions["identity_number"]
        # Kept for display; the identity number masked, as everywhere on screen.
        raw = {
            (column or f"#{i + 1}"): (
                mask_identity_number(_cell_text(cell)) if i == identity_at else _cell_text(cell)
            )
            for i, (column, cell) in enumerate(zip(self.header, cells, strict=False))
        }
        number = normalize_identity_number(_cell_text(cells[identity_at]))
        self.bad.append(
            QuarantinedRow(
                snapshot=self.snapshot,
                line=line,
                raw=raw,
                reasons=reasons,
                identity_hash=blind_index(number) if number else None,
            )
        )
        if len(self.errors) < ERRORS_IN_MESSAGE:
            self.errors.append(
                _("line %(line)s: %(reasons)s") % {"line": line, "reasons": "; ".join(reasons)}
            )

    def flush_bad(self) -> None:
        if self.bad:
            QuarantinedRow.objects.bulk_create(self.bad)
            self.bad = []


class _CopyStream:
    """What COPY reads from: chunks of lines as the checks write them, so that the
    server stores one chunk while Python checks the next."""

    def __init__(self, texts: Iterator[str]):
        self.texts = texts

    def read(self, size: int = -1) -> str:
        return next(self.texts, "")


def _load(snapshot: Snapshot, feed: Feed, mapping: dict[str, str], table: _Table) -> None:
    header = [column.strip().lstrip("\ufeff") for column in table.header]
    missing = [column for column in mapping.values() if column not in header]
    if missing:
        raise FileRejected(
            _("The file lacks the mapped columns: %(columns)s. Its columns are: %(found)s.")
            % {"columns": "、".join(missing), "found": "、".join(c for c in header if c) or "—"}
        )
    Snapshot.objects.filter(pk=snapshot.pk).update(rows_total=table.estimated_rows)

    items: dict[str, int] = {}
    for item in DataItem.objects.filter(department=feed.department_id):
        items[item.code] = items[item.code.lower()] = items[item.name] = item.id
    load = _Load(
        snapshot=snapshot,
        validator=_Validator(items=items, today=timezone.localdate()),
        header=header,
        chunks=table.chunks,
        positions={key: header.index(column) for key, column in mapping.items()},
        text_cells=table.text_cells,
        reject=feed.bad_rows == Feed.BadRows.REJECT,
    )
    partition = connection.ops.quote_name(_partition(snapshot.pk))
    records_table_create(snapshot.pk)
    copy_sql = f"COPY {partition} ({COPY_COLUMNS}) FROM STDIN"
    # The rows kept for the duplicate check would have the cyclic garbage collector walk
    # them again and again; nothing here makes cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        while not load.finished:
            # The swap's commit waits for everything written before it to be on disk:
            # these need not wait each for their own.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.cursor.copy_expert(copy_sql, _CopyStream(load.texts(BATCH_ROWS)))
            load.flush_bad()
            Snapshot.objects.filter(pk=snapshot.pk).update(
                rows_done=load.done, rows_total=max(load.done, table.estimated_rows)
            )
    finally:
        if collecting:
            gc.enable()
    if load.reject and load.quarantined:
        _finish_unloaded(
            snapshot.pk,
            S.REJECTED,
            _("%(count)s of %(total)s rows are bad; the file was not loaded.")
            % {"count": load.quarantined, "total": load.done}
            + "\n"
            + "\n".join(load.errors)
            + ("\n…" if load.quarantined > len(load.errors) else ""),
            rows_total=load.done,
            rows_quarantined=load.quarantined,
        )
        return
    if load.done == 0:
        raise FileRejected(_("The file has a header but no rows."))
    records_table_index(snapshot.pk)
    _swap_in(
        snapshot, rows_total=load.done, rows_loaded=load.loaded, rows_quarantined=load.quarantined
    )


def records_table_create(snapshot_id: int) -> None:
    """An empty table shaped like RECORDS for the snapshot's rows: no index yet, and the
    check that lets ATTACH PARTITION skip its scan. (This and the other DDL steps run
    as the schema's owner through functions of migration verification/0010: the
    application's role owns no table.)"""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT aid_records_partition_create(%s)", [int(snapshot_id)])


def records_table_index(snapshot_id: int) -> None:
    """Build the model's indexes on the loaded table (each then becomes the partition of
    the index of the same columns on RECORDS), and gather its statistics."""
    names = [index.name for index in SnapshotRecord._meta.indexes]
    columns = [
        ",".join(SnapshotRecord._meta.get_field(f).column for f in index.fields)
        for index in SnapshotRecord._meta.indexes
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        cursor.execute(
            "SELECT aid_records_partition_index(%s, %s::text[], %s::text[])",
            [int(snapshot_id), names, columns],
        )


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
        records_table_attach(snapshot.pk)
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
        records_drop(previous_id)


def records_table_attach(snapshot_id: int) -> None:
    """Make the snapshot's indexed table a partition of RECORDS (in the caller's
    transaction). Its check constraint spares the scan, its index becomes the partition
    of the index on RECORDS, and the foreign keys of RECORDS are checked for it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT aid_records_partition_attach(%s)", [int(snapshot_id)])


def records_drop(snapshot_id: int) -> bool:
    """Remove a snapshot's records: its partition (or its table, never attached), and
    any rows of it in the default partition. Dropping a partition waits for the reads
    of RECORDS under way; if that takes longer than DROP_LOCK_TIMEOUT it is left to the
    next import's sweep rather than holding up the reads queued behind it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
            cursor.execute("SELECT aid_records_partition_drop(%s)", [int(snapshot_id)])
            SnapshotRecord.objects.filter(snapshot_id=snapshot_id).delete()
    except OperationalError:
        logger.warning("records of snapshot %s left for the next import to drop", snapshot_id)
        return False
    return True


def records_drop_stale() -> None:
    """Drop what replaced, rejected and failed snapshots left behind (a drop that timed
    out, a worker that died while loading)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substring(relname from %s)::bigint FROM pg_class "
            "WHERE relkind IN ('r', 'p') AND relname ~ %s",
            [f"^{RECORDS}_([0-9]+)$", f"^{RECORDS}_[0-9]+$"],
        )
        tables = {row[0] for row in cursor.fetchall()}
    stale = set(
        Snapshot.objects.filter(pk__in=tables)
        .exclude(status__in=[S.LOADING, S.COMPLETE])
        .values_list("pk", flat=True)
    )
    stale |= tables - set(Snapshot.objects.filter(pk__in=tables).values_list("pk", flat=True))
    for snapshot_id in sorted(stale):
        records_drop(snapshot_id)


def _finish_unloaded(snapshot_id: int, status: str, message: str, **counts) -> None:
    """Reject or fail a snapshot; whatever it loaded goes, the current one stays."""
    records_drop(snapshot_id)
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
    access.require_role(user, permissions.MANAGE_FEEDS)
    return Department.objects.select_related("feed__current").prefetch_related(
        Prefetch(
            "feed__snapshots",
            queryset=Snapshot.objects.filter(status=S.LOADING),
            to_attr="loading",
        ),
        "items",
    )


def feed_get_for_admin(*, user: User, department_code: str) -> Feed:
    access.require_role(user, permissions.MANAGE_FEEDS)
    try:
        return Feed.objects.select_related("department", "current").get(
            department__code=department_code
        )
    except Feed.DoesNotExist:
        raise Http404(_("Not found.")) from None


# --- the template file and the bad rows, as downloads -------------------------------------


def feed_template(*, actor: User, feed: Feed) -> list[Sheet]:
    """An empty file the department can fill in: the header row the feed's settings
    expect (its mapped columns, in our order), and the data items its "item" column may
    name. Reading settings is no state change: nothing is audited."""
    access.require_role(actor, permissions.MANAGE_FEEDS)
    mapping = feed.column_mapping or {}
    header = [mapping[key] for key in MAPPED_FIELDS if mapping.get(key)]
    if not all(mapping.get(key) for key in REQUIRED_FIELDS):
        raise DomainError(
            _("Map the file's columns in the feed settings first: the template follows them.")
        )
    items = feed.department.items.order_by("code")
    return [
        Sheet(title=_("Data"), header=header, rows=[]),
        Sheet(
            title=_("Data items"),
            header=[_("Code (the item column)"), _("Name"), _("Compared as")],
            rows=[(item.code, item.name, item.get_compare_as_display()) for item in items],
        ),
    ]


def snapshot_bad_rows_export(*, actor: User, snapshot: Snapshot) -> Sheet:
    """Every quarantined row of an import with the reasons it was set aside, as read from
    the file (for the department to correct and send again). The rows hold identity
    numbers, so each download is audited."""
    access.require_role(actor, permissions.MANAGE_FEEDS)
    rows = list(snapshot.quarantined.order_by("line").values_list("line", "reasons", "raw"))
    columns: list[str] = []
    for _line, _reasons, raw in rows:
        columns += [column for column in raw if column not in columns]
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="snapshot.bad_rows_download",
            obj=snapshot,
            region=_feed_admin_region(actor),
            new={"rows": len(rows)},
        )
    return Sheet(
        title=_("Bad rows"),
        header=[_("Line"), _("Reasons"), *columns],
        rows=[
            (line, "；".join(str(r) for r in reasons), *(raw.get(c, "") for c in columns))
            for line, reasons, raw in rows
        ],
        facts=[[snapshot.original_name, _("%(count)s bad rows") % {"count": len(rows)}]],
    )


def snapshot_get_for_admin(*, user: User, snapshot_id: int) -> Snapshot:
    access.require_role(user, permissions.MANAGE_FEEDS)
    try:
        return Snapshot.objects.select_related("feed__department", "uploaded_by").get(
            pk=snapshot_id
        )
    except Snapshot.DoesNotExist:
        raise Http404(_("Not found.")) from None
