"""The one XLSX builder: bold headers, facts above them, and no cell that runs as a formula."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from openpyxl import load_workbook

from aid_portal.exports import Sheet, xlsx_response


def test_text_that_looks_like_a_formula_stays_text():
    response = xlsx_response(
        filename="x.xlsx",
        sheets=[
            Sheet(
                "Counts",
                ["a", "b", "c", "d", "e", "f", "g"],
                [
                    [
                        '=HYPERLINK("http://x")',
                        "+1",
                        "-2+3",
                        "@SUM(A1)",
                        5,
                        Decimal("1.5"),
                        datetime.date(2026, 12, 4),
                    ],
                ],
                facts=[["rule", "=1+1"]],
            )
        ],
    )
    assert response["Content-Disposition"] == 'attachment; filename="x.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Counts"
    assert [c.value for c in sheet[1]][:2] == ["rule", "=1+1"]
    assert sheet["B1"].data_type == "s"
    assert sheet["A3"].font.bold and not sheet["A4"].font.bold
    row = list(sheet[4])
    assert [c.data_type for c in row[:4]] == ["s", "s", "s", "s"]
    assert row[0].value == '=HYPERLINK("http://x")'
    assert row[4].value == 5 and row[5].value == 1.5
    assert row[6].value.date() == datetime.date(2026, 12, 4)
