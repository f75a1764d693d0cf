"""The commune's fill-in workbook, generated from the schemas (never a hand-made copy).

Sheets HTX, THT and TongHop with a title block, one header row (the contract's
headers, each with a note saying what to type), drop-down lists for every category
column, number-only cells where the contract asks for numbers, a frozen header and
readable widths; a fourth sheet, ``KiemTra``, counts what the detail sheets hold next
to what TongHop says, so the clerk sees a mismatch before sending. The pipeline does
not read ``KiemTra``.

The form is the one in force in the period asked for: the columns of that period, each
marked required or not as the law of that period says (see `schemas.law`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from forms.cells import write_cell
from forms.printing import set_print_layout
from schemas.fields import SheetColumn, display_value, sheet_columns
from schemas.periods import ROMAN_QUARTERS, period_label, period_parts
from schemas.sheets import SHEETS
from schemas.vocab import BY_NAME, RATINGS, STATUSES, YES_NO

TITLE_ROWS = 3
HEADER_ROW = TITLE_ROWS  # 0-based: Excel row 4
DATA_ROWS = 500
NOTES = {
    "text": "Chữ",
    "category": "Chọn trong danh sách",
    "int": "Số nguyên",
    "money": "Số, triệu đồng",
    "number": "Số",
    "bool": "Có / Không",
    "date": "Ngày (dd/mm/yyyy)",
    "period": "Ví dụ: Quý 3/2024",
}


def _note(col: SheetColumn, period: str) -> str:
    need = "Bắt buộc" if col.required_in(period) else "Không bắt buộc"
    return f"{col.header_vi}: {NOTES[col.kind]}. {need}.\n({col.description})"


ERROR_TITLE_CHARS = 32
"""Excel's limit on the title of a data validation's error box: xlsxwriter leaves out the whole validation of a
column whose title is longer (only warning), so a longer heading is shortened there."""


def _error_title(header: str) -> str:
    """The column's heading as the title of its error box, shortened after a whole word to fit
    :data:`ERROR_TITLE_CHARS` when longer."""
    if len(header) <= ERROR_TITLE_CHARS:
        return header
    cut = header[:ERROR_TITLE_CHARS]  # the last word kept only when whole, then room for the ellipsis
    kept = cut.rsplit(" ", 1)[0] if " " in cut else cut[: ERROR_TITLE_CHARS - 1]
    return kept.rstrip()[: ERROR_TITLE_CHARS - 1] + "…"


def _validation(col: SheetColumn, year: int) -> dict[str, Any] | None:
    """The data validation of a column's cells, from its kind and checks."""
    msg = {"error_title": _error_title(col.header_vi), "error_message": NOTES[col.kind], "ignore_blank": True}
    if col.kind == "category" and col.vocab:
        return {"validate": "list", "source": [t.label_vi for t in BY_NAME[col.vocab].terms], **msg}
    if col.kind == "bool":
        return {"validate": "list", "source": [t.label_vi for t in YES_NO.terms], **msg}
    if col.name == "founded_year":
        return {"validate": "integer", "criteria": "between", "minimum": 1955, "maximum": year, **msg}
    if col.name == "ocop_stars":
        return {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 5, **msg}
    if col.kind == "int":
        return {"validate": "integer", "criteria": ">=", "value": 0, **msg}
    if col.kind == "money" and col.name != "profit_mvnd":
        return {"validate": "decimal", "criteria": ">=", "value": 0, **msg}
    if col.kind in ("money", "number"):
        return {"validate": "decimal", "criteria": "between", "minimum": -1e12, "maximum": 1e12, **msg}
    if col.kind == "date":
        return {"validate": "date", "criteria": ">=", "value": date(1955, 1, 1), **msg}
    return None


class _Template:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
        self.title = self.book.add_format({"bold": True, "font_size": 13})
        self.hint = self.book.add_format({"italic": True, "font_color": "#555555"})
        self.head = self.book.add_format(
            {"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1, "bg_color": "#DDEBF7"}
        )
        self.date = self.book.add_format({"num_format": "dd/mm/yyyy"})
        self.text = self.book.add_format({"num_format": "@"})

    def sheet(
        self,
        name: str,
        titles: Sequence[str],
        rows: Sequence[dict[str, Any]],
        period: str,
        data_rows: int = DATA_ROWS,
    ) -> None:
        columns = sheet_columns(SHEETS[name], period)
        year = period_parts(period)[0]
        ws = self.book.add_worksheet(name)
        for r, text in enumerate(titles):
            ws.write_string(r, 0, text, self.title if r == 0 else self.hint)
        for c, col in enumerate(columns):
            ws.write_string(HEADER_ROW, c, col.header_vi, self.head)
            ws.write_comment(HEADER_ROW, c, _note(col, period), {"x_scale": 2, "y_scale": 1.5})
            width = max(12, min(30, len(col.header_vi) + 4))
            ws.set_column(c, c, width, self.text if col.kind == "text" else None)
            rule = _validation(col, year)
            if rule:
                ws.data_validation(HEADER_ROW + 1, c, HEADER_ROW + data_rows, c, rule)
        ws.set_row(HEADER_ROW, 45)
        ws.freeze_panes(HEADER_ROW + 1, 2)
        set_print_layout(ws, (HEADER_ROW, HEADER_ROW), (0, min(1, len(columns) - 1)))
        for r, row in enumerate(rows, HEADER_ROW + 1):
            for c, col in enumerate(columns):
                self.write(ws, r, c, display_value(col, row.get(col.name)))

    def write(self, ws: Any, r: int, c: int, value: Any) -> None:
        """Write one cell with its proper type (number, Excel date or text); skip None."""
        write_cell(ws, r, c, value, self.date)

    def check_sheet(self, period: str) -> None:
        """KiemTra: counts of the detail sheets beside TongHop's figures (formulas; not read by the pipeline)."""
        ws = self.book.add_worksheet("KiemTra")
        ws.write_string(0, 0, "KIỂM TRA: số đếm từ sheet HTX, THT so với sheet TongHop (chỉ để đối chiếu)", self.title)
        heads = ["Chỉ tiêu", "Theo chi tiết", "Theo TongHop", "Chênh lệch"]
        for c, h in enumerate(heads):
            ws.write_string(2, c, h, self.head)
        htx = {c.name: xl_col_to_name(i) for i, c in enumerate(sheet_columns(SHEETS["HTX"], period))}
        tht = {c.name: xl_col_to_name(i) for i, c in enumerate(sheet_columns(SHEETS["THT"], period))}
        summ = {c.name: xl_col_to_name(i) for i, c in enumerate(sheet_columns(SHEETS["TongHop"], period))}
        first, last = HEADER_ROW + 2, HEADER_ROW + 1 + DATA_ROWS
        active = STATUSES.label_vi("active")

        def rng(sheet: str, col: str) -> str:
            return f"{sheet}!${col}${first}:${col}${last}"

        lines = [
            ("Tổng số HTX", f"=COUNTA({rng('HTX', htx['coop_id'])})", "htx_total"),
            ("HTX mới thành lập", f'=COUNTIF({rng("HTX", htx["status"])},"{STATUSES.label_vi("new")}")', "htx_new"),
        ]
        for t in RATINGS.terms:
            lines.append(
                (
                    f"HTX {t.label_vi.lower()}",
                    f'=COUNTIFS({rng("HTX", htx["status"])},"{active}",{rng("HTX", htx["rating"])},"{t.label_vi}")',
                    f"htx_{t.code}",
                )
            )
        lines.append(
            (
                "HTX tạm dừng",
                f'=COUNTIF({rng("HTX", htx["status"])},"{STATUSES.label_vi("suspended")}")',
                "htx_suspended",
            )
        )
        lines.append(("Tổng số THT", f"=COUNTA({rng('THT', tht['group_id'])})", "tht_total"))
        for r, (label, formula, target) in enumerate(lines, 3):
            ws.write_string(r, 0, label)
            ws.write_formula(r, 1, formula)
            ws.write_formula(r, 2, f"=TongHop!{summ[target]}{HEADER_ROW + 2}")
            ws.write_formula(r, 3, f"=C{r + 1}-B{r + 1}")
        ws.set_column(0, 0, 28)
        ws.set_column(1, 3, 14)
        set_print_layout(ws, (2, 2), (0, 0))

    def close(self) -> None:
        self.book.close()


def write_template(
    path: Path,
    *,
    commune_name: str,
    period: str,
    htx: Sequence[dict[str, Any]] = (),
    tht: Sequence[dict[str, Any]] = (),
    title: str | None = None,
    commune_text: str | None = None,
) -> Path:
    """Write the fill-in workbook of a commune for a quarter, optionally prefilled with cooperatives and groups.

    `title` is the unit as the title rows name it (default "Xã <name>"; "Phường Hà Huy Tập" for a ward);
    `commune_text` what TongHop's first cell holds (default the name; the code when the name recurs in the
    quarter)."""
    year, quarter = period_parts(period)
    unit = title or f"Xã {commune_name}"
    when = f"QUÝ {ROMAN_QUARTERS[quarter]}/{year}"
    book = _Template(path)
    hint = "Điền mỗi dòng một đơn vị; chọn giá trị trong danh sách; số tiền tính bằng triệu đồng."
    book.sheet("HTX", [f"BIỂU 01 - TÌNH HÌNH HỢP TÁC XÃ {when}", unit, hint], htx, period)
    book.sheet("THT", [f"BIỂU 02 - TÌNH HÌNH TỔ HỢP TÁC {when}", unit, hint], tht, period)
    summary = {"commune": commune_text or commune_name, "period_text": period_label(period)}
    book.sheet(
        "TongHop",
        [
            f"BIỂU 03 - TỔNG HỢP {when}",
            unit,
            "Một dòng duy nhất; các tổng phải bằng số dòng của sheet HTX, THT (xem sheet KiemTra).",
        ],
        [summary],
        period,
        data_rows=1,
    )
    book.check_sheet(period)
    book.close()
    return path


def prefill_rows(table: Any, commune_code: str, columns: list[SheetColumn]) -> list[dict[str, Any]]:
    """Rows of a warehouse table (last quarter's) for one commune, keyed by the sheet's column names."""
    names = [c.name for c in columns]
    rows = table.filter(table["commune_code"] == commune_code).sort("source_row")
    return [{k: r[k] for k in names if k in r} for r in rows.iter_rows(named=True)]
