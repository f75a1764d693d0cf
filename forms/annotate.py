"""The commune's own workbook handed back with its problems marked, and the per-commune feedback workbook.

``annotate_workbook`` copies a submission, fills each faulty cell (red for an error,
yellow for a warning), puts the Vietnamese message (and the English one) in a comment
on it, and adds a sheet listing every problem. ``write_feedback`` writes the list alone,
for the district to send back after a refresh. Text is always written as text: a
value starting with ``=``, ``+``, ``-`` or ``@`` never becomes a formula.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import xlsxwriter

from ingest.sheet import find_header
from ingest.text import fold
from ingest.workbook import RawSheet
from schemas.sheets import SHEETS

if TYPE_CHECKING:  # openpyxl is imported by the marked copy only: a run writes its feedback with xlsxwriter
    from openpyxl.worksheet.worksheet import Worksheet

ERROR_COLOR = "FFC7CE"
WARNING_COLOR = "FFEB9C"
# The control characters XML forbids (openpyxl's ILLEGAL_CHARACTERS_RE)
_ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
PROBLEMS_SHEET = "Danh sách lỗi"
COLUMNS = [
    ("severity", "Mức độ"),
    ("sheet", "Sheet"),
    ("source_row", "Dòng"),
    ("column", "Cột"),
    ("message_vi", "Nội dung (tiếng Việt)"),
    ("message_en", "Message (English)"),
    ("rule", "Quy tắc"),
]
_SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _sheet_key(name: str) -> str | None:
    key = fold(name).replace(" ", "")
    return next((s for s in SHEETS if fold(s).replace(" ", "") == key), None)


def _column_positions(ws: Worksheet, sheet: str) -> dict[str, int]:
    """Column name → 1-based column of the sheet's header, found as the pipeline finds it."""
    rows = [
        [None if v is None else str(v) for v in row] for row in ws.iter_rows(min_row=1, max_row=30, values_only=True)
    ]
    found = find_header(RawSheet(ws.title, rows), sheet)
    if found is None:
        return {}
    _, matched = found
    positions: dict[str, int] = {}
    for c, name in sorted(matched.items()):
        positions.setdefault(name, c + 1)
    return positions


def _text(value: object) -> object:
    """Text a worksheet can hold: control characters XML forbids (NUL…) become U+FFFD instead of failing the save."""
    return _ILLEGAL_CHARACTERS.sub("\ufffd", value) if isinstance(value, str) else value


def _problem_rows(problems: pl.DataFrame) -> list[list[object]]:
    return [
        [_text(_SEVERITY_VI.get(r["severity"], r["severity"]) if key == "severity" else r[key]) for key, _ in COLUMNS]
        for r in problems.sort("sheet", "source_row", nulls_last=False).iter_rows(named=True)
    ]


def annotate_workbook(source: Path, problems: pl.DataFrame, out: Path) -> Path:
    """Copy ``source`` with each problem's cell highlighted and commented, plus a sheet listing them all."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    error_fill, warning_fill = PatternFill("solid", fgColor=ERROR_COLOR), PatternFill("solid", fgColor=WARNING_COLOR)
    wb = openpyxl.load_workbook(source)
    for ws in wb.worksheets:
        sheet = _sheet_key(ws.title)
        if sheet is None:
            continue
        positions = _column_positions(ws, sheet)
        mine = problems.filter((pl.col("sheet") == ws.title) | (pl.col("sheet") == sheet))
        for r in mine.filter(pl.col("source_row").is_not_null()).iter_rows(named=True):
            col = positions.get(r["column"] or "", 1)
            cell = ws.cell(row=r["source_row"], column=col)
            cell.fill = error_fill if r["severity"] == "error" else warning_fill
            text = _text(f"{r['message_vi']}\n\n{r['message_en']}")
            previous = cell.comment.text + "\n\n" if cell.comment else ""
            cell.comment = Comment(previous + text, "kttt", width=420, height=160)
    if PROBLEMS_SHEET in wb.sheetnames:
        del wb[PROBLEMS_SHEET]
    ws = wb.create_sheet(PROBLEMS_SHEET, 0)
    ws.append([label for _, label in COLUMNS])
    for row in _problem_rows(problems):
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                cell.data_type = "s"
    for letter, width in zip("ABCDEFG", (10, 10, 8, 24, 80, 80, 26), strict=True):
        ws.column_dimensions[letter].width = width
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def write_feedback(path: Path, problems: pl.DataFrame, title: str) -> Path:
    """A workbook listing a commune's rejected rows and warnings, Vietnamese first, ready to send back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True, "font_size": 12})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    ws = book.add_worksheet(PROBLEMS_SHEET)
    ws.write_string(0, 0, title, bold)
    columns = [("source_file", "Tệp"), *COLUMNS, ("raw_values", "Giá trị gốc")]
    for c, (_, label) in enumerate(columns):
        ws.write_string(2, c, label, head)
    for r, row in enumerate(
        problems.sort("source_file", "sheet", "source_row", nulls_last=False).iter_rows(named=True), 3
    ):
        for c, (key, _) in enumerate(columns):
            value = row[key]
            if key == "severity":
                value = _SEVERITY_VI.get(value, value)
            if value is None:
                continue
            if isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value), wrap)
    for c, width in enumerate((24, 10, 10, 8, 22, 70, 70, 24, 60)):
        ws.set_column(c, c, width)
    ws.freeze_panes(3, 0)
    book.close()
    return path
