"""Spreadsheet exports: one builder for every XLSX and CSV a page offers.

Each sheet has a bold header row (after any lines of facts above it). A text cell that
a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) is written as plain text, so an exported name or note can never run
as a formula on the office computer that opens the file. A CSV has no cell types, so
such a cell is written with a leading apostrophe, which spreadsheets read as "text".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    facts: Sequence[Sequence[Any]] = field(default_factory=list)  # lines above the header


def xlsx_response(*, filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    """The workbook as a download named ``filename``."""
    response = HttpResponse(xlsx_bytes(sheets=sheets), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_bytes(*, sheets: Sequence[Sheet]) -> bytes:
    """The workbook's bytes (a file a service hands out, a bank file say)."""
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(str(spec.title))
        for line in spec.facts:
            sheet.append([_cell(value) for value in line])
        if spec.facts:
            sheet.append([])
        sheet.append([_cell(value) for value in spec.header])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in spec.rows:
            sheet.append([_cell(value) for value in row])
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # text that starts like a formula stays text
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(*, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """One table as UTF-8 CSV with a byte-order mark (so office software reads the Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(value) for value in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def csv_response(*, filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]):
    response = HttpResponse(csv_bytes(header=header, rows=rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_cell(value: Any) -> str:
    """Text as a spreadsheet must show it: a formula-like start is neutralised."""
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> Any:
    """Lazy translations and other objects become text; numbers and dates stay as they are."""
    if (
        value is None
        or isinstance(value, int | float | Decimal | str)
        or hasattr(value, "isoformat")
    ):
        return value
    return str(value)
