"""The commune's own workbook handed back with its problems marked, and the per-commune feedback workbook.

``annotate_workbook`` copies a submission, fills each faulty cell (red for an error,
yellow for a warning), puts the Vietnamese message (and the English one) in a comment
on it, and adds a sheet listing every problem. ``write_feedback`` writes the list alone,
for the district to send back after a refresh. Text is always written as text: a
value starting with ``=``, ``+``, ``-`` or ``@`` never becomes a formula. The
submission's own formulas do not stay live in the copy either: each becomes the value
Excel stored for it, or its text when none was stored, and links are removed (a
`=HYPERLINK(…)` typed by a commune must not open anything for the officer).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import xlsxwriter

from forms.printing import set_print_layout, set_print_layout_openpyxl
from ingest.sheet import columns_by_name, find_header_rows
from ingest.text import fold
from ingest.workbook import RawSheet
from schemas.rules import cause_first, one_line
from schemas.sheets import SHEETS

if TYPE_CHECKING:  # openpyxl is imported by the marked copy only: a run writes its feedback with xlsxwriter
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

ERROR_COLOR = "FFC7CE"
WARNING_COLOR = "FFEB9C"
_CHARS_PER_LINE = 85  # of the message columns (width 80); a row is as tall as its longest message needs
_LINE_HEIGHT = 15
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
# Columns that say which row is which: repeated at the left of every printed page.
_NAME_COLUMNS = frozenset({"coop_id", "group_id", "name", "commune", "program"})
_SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _sheet_key(name: str) -> str | None:
    key = fold(name).replace(" ", "")
    return next((s for s in SHEETS if fold(s).replace(" ", "") == key), None)


def _column_positions(ws: Worksheet, sheet: str) -> tuple[dict[str, int], dict[str, str]]:
    """Column name → 1-based column of the sheet's header, found as the pipeline finds it, and column name →
    the heading the clerk wrote there (on one line); the sheet's print layout repeats that header and the
    columns naming each row."""
    rows = [
        [None if v is None else str(v) for v in row] for row in ws.iter_rows(min_row=1, max_row=30, values_only=True)
    ]
    found = find_header_rows(RawSheet(ws.title, rows), sheet)
    if found is None:
        return {}, {}
    names = [c for c, name in found.matched.items() if name in _NAME_COLUMNS]
    set_print_layout_openpyxl(ws, (found.first + 1, found.last + 1), (1, max(names) + 1) if names else None)
    positions: dict[str, int] = {}
    headings: dict[str, str] = {}
    for c, name in sorted(found.matched.items()):
        positions.setdefault(name, c + 1)
        headings.setdefault(name, one_line(found.labels.get(c, name)))
    return positions, headings


def heading(sheet: str | None, column: str | None, seen: dict[tuple[str, str], str] | None = None) -> str | None:
    """The heading a clerk sees for a column: as written in the workbook when known, else the template's."""
    if column is None:
        return None
    key = _sheet_key(sheet or "")
    if seen and (key or "", column) in seen:
        return seen[(key or "", column)]
    if key is not None and column in columns_by_name(key):
        return one_line(columns_by_name(key)[column].header_vi)
    return column


def _text(value: object) -> object:
    """Text a worksheet can hold: control characters XML forbids (NUL…) become U+FFFD instead of failing the save."""
    return _ILLEGAL_CHARACTERS.sub("\ufffd", value) if isinstance(value, str) else value


def _cell(r: dict, key: str, seen: dict[tuple[str, str], str] | None = None) -> object:
    if key == "severity":
        return _SEVERITY_VI.get(r["severity"], r["severity"])
    if key == "column":
        return heading(r["sheet"], r["column"], seen)
    return r[key]


def _problem_rows(problems: pl.DataFrame, seen: dict[tuple[str, str], str]) -> list[list[object]]:
    return [[_text(_cell(r, key, seen)) for key, _ in COLUMNS] for r in cause_first(problems).iter_rows(named=True)]


def _formula_text(value: object) -> str:
    """The text of a formula cell's value (openpyxl gives array and data-table formulas as objects)."""
    text = getattr(value, "text", None)
    return str(text if text is not None else value)


def _freeze(wb: Workbook, cached: Workbook) -> None:
    """Every formula of the submission becomes its stored value (or its text), every link plain text."""
    for ws in wb.worksheets:
        values = cached[ws.title] if ws.title in cached.sheetnames else None
        for row in ws.iter_rows():
            for cell in row:
                if cell.hyperlink is not None:
                    cell.hyperlink = None
                if cell.data_type != "f":
                    continue
                stored = values[cell.coordinate].value if values is not None else None
                if stored is None or (isinstance(stored, str) and stored.startswith(_FORMULA_START)):
                    cell.value = _text(_formula_text(cell.value) if stored is None else stored)
                    cell.data_type = "s"
                else:
                    cell.value = _text(stored)


def annotate_workbook(source: Path, problems: pl.DataFrame, out: Path) -> Path:
    """Copy `source` with each problem's cell highlighted and commented, plus a sheet listing them all; the
    submission's formulas and links are frozen to plain values first."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, PatternFill

    error_fill, warning_fill = PatternFill("solid", fgColor=ERROR_COLOR), PatternFill("solid", fgColor=WARNING_COLOR)
    wrap = Alignment(wrap_text=True, vertical="top")
    wb = openpyxl.load_workbook(source)
    _freeze(wb, openpyxl.load_workbook(source, data_only=True, read_only=False))
    seen: dict[tuple[str, str], str] = {}
    for ws in wb.worksheets:
        sheet = _sheet_key(ws.title)
        if sheet is None:
            continue
        positions, headings = _column_positions(ws, sheet)
        seen |= {(sheet, name): text for name, text in headings.items()}
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
    for row in _problem_rows(problems, seen):
        ws.append(row)
        for cell in ws[ws.max_row]:
            cell.alignment = wrap  # the whole message shows, on screen and on paper
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                cell.data_type = "s"
        longest = max(len(str(v)) for v in row if v is not None) if any(v is not None for v in row) else 0
        ws.row_dimensions[ws.max_row].height = _LINE_HEIGHT * max(1, -(-longest // _CHARS_PER_LINE))
    for letter, width in zip("ABCDEFG", (10, 10, 8, 24, 80, 80, 26), strict=True):
        ws.column_dimensions[letter].width = width
    set_print_layout_openpyxl(ws, (1, 1), None)
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
    for r, row in enumerate(cause_first(problems).iter_rows(named=True), 3):
        for c, (key, _) in enumerate(columns):
            value = _cell(row, key) if key in ("severity", "column") else row[key]
            if value is None:
                continue
            if isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value), wrap)
    for c, width in enumerate((24, 10, 10, 8, 22, 70, 70, 24, 60)):
        ws.set_column(c, c, width)
    ws.freeze_panes(3, 0)
    set_print_layout(ws, (2, 2), (0, 0))
    book.close()
    return path
