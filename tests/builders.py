"""Builders of real submission files for the tests: workbooks (xlsxwriter) and CSV folders.

Rows are dicts keyed by the model column names (``coop_id``, ``charter_capital_mvnd``...)
holding what a person would type in the cell: Vietnamese labels for categories, numbers
or text for amounts, ``datetime.date`` for dates, ``None`` for an empty cell. A row list
may also hold a plain list (written cell by cell, e.g. a total row) or ``None`` (a fully
blank row). Headers come from the pandera sheet models, labels from ``schemas.vocab``.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from ingest.review import period_review
from pipeline.resources import resolved_resources
from pipeline.review_store import read_decisions
from schemas import vocab
from schemas.fields import sheet_columns
from schemas.sheets import SHEETS

PERIOD = "2024-Q3"
COMMUNE = "Thạch Liên"
COMMUNE_CODE = "18592"
REPORT_DATE = date(2024, 10, 10)
COMMUNES_CSV = Path(__file__).resolve().parent.parent / "raw" / "reference" / "communes.csv"

Row = dict[str, Any] | list[Any] | None


@dataclass(frozen=True)
class Formula:
    """A formula cell with its cached result (what Excel shows and stores)."""

    text: str
    value: float


# ---------------------------------------------------------------------------------------------
# Headers and labels from the models


def columns(sheet: str) -> list[str]:
    """Column names of a sheet model, in order."""
    return [c.name for c in sheet_columns(SHEETS[sheet])]


def header(sheet: str, column: str) -> str:
    """The Vietnamese header of a column of any period's form (an unknown column is its own header)."""
    for c in sheet_columns(SHEETS[sheet], every=True):
        if c.name == column:
            return c.header_vi
    return column


def strip_accents(text: str) -> str:
    """Text without diacritics (đ → d), case kept."""
    s = unicodedata.normalize("NFD", text)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return s.replace("đ", "d").replace("Đ", "D")


def styled(text: str, style: str) -> str:
    """A header or label written in one of the styles communes use."""
    if style == "plain":
        return text
    if style == "upper":
        return text.upper()
    if style == "ascii":
        return strip_accents(text)
    if style == "nfd":
        return unicodedata.normalize("NFD", text)
    if style == "spaces":
        return "  " + text.replace(" ", "   ") + "  "
    if style == "lower_ascii":
        return strip_accents(text).lower()
    if style == "newlines":  # Alt+Enter inside the header cell
        return text.replace(" ", "\n", 1)
    raise ValueError(style)


def _fold(text: object) -> str:
    return " ".join(strip_accents(str(text)).lower().replace("-", " ").split())


def code_of(v: vocab.Vocab, value: object) -> str | None:
    """The code of a label as a test wrote it (None when empty or unknown)."""
    if value is None:
        return None
    key = _fold(value)
    for spelling, code in v.spellings().items():
        if _fold(spelling) == key:
            return code
    return None


# ---------------------------------------------------------------------------------------------
# Rows


def valid_htx_row(**overrides: Any) -> dict[str, Any]:
    """A cooperative row that passes every rule (an active, well-rated crop cooperative)."""
    row: dict[str, Any] = {
        "coop_id": "HTX-001",
        "name": "HTX Nông nghiệp Thạch Liên",
        "sector": vocab.SECTORS.label_vi("agriculture"),
        "subsector": vocab.SUBSECTORS.label_vi("crops"),
        "founded_year": 2015,
        "status": vocab.STATUSES.label_vi("active"),
        "rating": vocab.RATINGS.label_vi("fair"),
        "members": 25,
        "charter_capital_mvnd": 500,
        "revenue_mvnd": 1200,
        "profit_mvnd": 85,
        "tax_code": "3001234567",
        "tax_paid_mvnd": 12.5,
        "insured_workers": 4,
        "avg_income_mvnd_month": 5.2,
        "managers": 3,
        "managers_college": 1,
        "managers_vocational": 1,
        "digital_training": vocab.YES_NO.label_vi("true"),
        "ocop_stars": 3,
        "drones": 1,
        "loans_disbursed_mvnd": None,
        "loan_contracts": None,
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"not an HTX column: {unknown}")
    row.update(overrides)
    return row


def htx_rows(n: int, start: int = 1, **overrides: Any) -> list[dict[str, Any]]:
    """``n`` valid cooperatives with ids HTX-<start>…"""
    return [
        valid_htx_row(coop_id=f"HTX-{i:03d}", name=f"HTX Dịch vụ số {i}", **overrides) for i in range(start, start + n)
    ]


def valid_tht_row(**overrides: Any) -> dict[str, Any]:
    """A cooperative-group row that passes every rule."""
    row: dict[str, Any] = {
        "group_id": "THT-001",
        "name": "THT Chăn nuôi Đồng Xuân",
        "kind": vocab.THT_KINDS.label_vi("livestock"),
        "status": vocab.STATUSES.label_vi("active"),
        "rating": vocab.RATINGS.label_vi("good"),
        "members": 8,
        "revenue_mvnd": 300,
        "profit_mvnd": 40,
        "ocop_stars": None,
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"not a THT column: {unknown}")
    row.update(overrides)
    return row


def valid_support_row(**overrides: Any) -> dict[str, Any]:
    """A HoTro row of the district file."""
    row: dict[str, Any] = {
        "program": "NQ44-NQ51",
        "level": vocab.LEVELS.label_vi("province"),
        "purpose": "Hỗ trợ thành lập mới",
        "coop_id": None,
        "plan_mvnd": 100,
        "disbursed_mvnd": 80,
    }
    row.update(overrides)
    return row


def _num(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).replace(" ", "").replace("\u00a0", "")
    try:
        return float(text.replace(".", "").replace(",", "."))
    except ValueError:
        return 0.0


def summary_row(
    htx: Iterable[Row] = (),
    tht: Iterable[Row] = (),
    *,
    commune: object = COMMUNE,
    period: object = "Quý 3/2024",
    report_date: object = REPORT_DATE,
    **overrides: Any,
) -> dict[str, Any]:
    """The TongHop row that reconciles with the given detail rows (dict rows only)."""
    coops = [r for r in htx if isinstance(r, dict)]
    groups = [r for r in tht if isinstance(r, dict)]

    def status(r: dict[str, Any]) -> str | None:
        return code_of(vocab.STATUSES, r.get("status"))

    def rating(r: dict[str, Any]) -> str | None:
        return code_of(vocab.RATINGS, r.get("rating"))

    row: dict[str, Any] = {
        "commune": commune,
        "period_text": period,
        "report_date": report_date,
        "htx_total": len(coops),
        "htx_new": sum(status(r) == "new" for r in coops),
        **{
            f"htx_{q}": sum(status(r) == "active" and rating(r) == q for r in coops)
            for q in ("good", "fair", "average", "weak")
        },
        "htx_suspended": sum(status(r) == "suspended" for r in coops),
        "htx_members": int(sum(_num(r.get("members")) for r in coops)),
        "htx_capital_mvnd": round(sum(_num(r.get("charter_capital_mvnd")) for r in coops), 6),
        "tht_total": len(groups),
        "tht_new": sum(status(r) == "new" for r in groups),
        **{
            f"tht_{q}": sum(status(r) == "active" and rating(r) == q for r in groups)
            for q in ("good", "fair", "average")
        },
        "tht_weak": sum(rating(r) == "weak" or status(r) == "suspended" for r in groups),
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"not a TongHop column: {unknown}")
    row.update(overrides)
    return row


# ---------------------------------------------------------------------------------------------
# Grids


def grid(
    sheet: str,
    rows: Sequence[Row],
    *,
    header_style: str = "plain",
    cols: Sequence[str] | None = None,
    headers: dict[str, str] | None = None,
    title: Sequence[str | None] = (),
) -> list[list[Any]]:
    """Title rows, the header row and the data rows of one sheet, as a grid of cells."""
    names = list(cols) if cols is not None else columns(sheet)
    headers = headers or {}
    out: list[list[Any]] = [[t] if t is not None else [] for t in title]
    out.append([headers.get(n, styled(header(sheet, n), header_style)) for n in names])
    for row in rows:
        if row is None:
            out.append([])
        elif isinstance(row, dict):
            out.append([row.get(n) for n in names])
        else:
            out.append(list(row))
    return out


def header_row(title_rows: int = 0, start_row: int = 0) -> int:
    """Excel row number of the header (1-based)."""
    return start_row + title_rows + 1


def data_row(index: int, title_rows: int = 0, start_row: int = 0) -> int:
    """Excel row number (or CSV line) of the ``index``-th entry below the header."""
    return header_row(title_rows, start_row) + 1 + index


def write_xlsx(
    path: Path,
    sheets: dict[str, list[list[object]]],
    *,
    start: tuple[int, int] | dict[str, tuple[int, int]] = (0, 0),
    formats: dict[str, str] | None = None,
) -> Path:
    """Write one grid per sheet; ``None`` is an empty cell, a date a date cell.

    ``start`` is the (row, column) of the grid's first cell, 0-based, for every sheet or
    per sheet name; ``formats`` may set the number format of dates (key ``date``).
    """
    formats = {"date": "dd/mm/yyyy", **(formats or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    date_fmt = book.add_format({"num_format": formats["date"]})
    for name, cells in sheets.items():
        ws = book.add_worksheet(name)
        r0, c0 = start.get(name, (0, 0)) if isinstance(start, dict) else start
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Formula):
                    ws.write_formula(r0 + r, c0 + c, value.text, None, value.value)
                elif isinstance(value, (date, datetime)):
                    dt = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
                    ws.write_datetime(r0 + r, c0 + c, dt, date_fmt)
                elif isinstance(value, bool):
                    ws.write_boolean(r0 + r, c0 + c, value)
                elif isinstance(value, (int, float)):
                    ws.write_number(r0 + r, c0 + c, value)
                else:
                    ws.write_string(r0 + r, c0 + c, str(value))
    book.close()
    return path


def set_formulas(path: Path, sheet: str, formulas: dict[str, str]) -> Path:
    """Open the workbook with openpyxl, put ``formulas`` (cell → ``=…``) in ``sheet`` and save it.

    openpyxl writes formulas without a computed value, as do many tools that are not Excel.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for ref, formula in formulas.items():
        wb[sheet][ref] = formula
    wb.save(path)
    return path


def column_letter(sheet: str, column: str) -> str:
    """Excel letters of a column of a sheet model as :func:`grid` writes it (from column A)."""
    n = columns(sheet).index(column) + 1
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def submission(
    path: Path,
    htx: Sequence[Row] | None = None,
    tht: Sequence[Row] | None = None,
    summary: dict[str, Any] | Sequence[Row] | None = None,
    *,
    header_style: str = "plain",
    title: Sequence[str | None] = (),
    start: tuple[int, int] = (0, 0),
    cols: dict[str, Sequence[str]] | None = None,
    headers: dict[str, dict[str, str]] | None = None,
    omit_sheets: Sequence[str] = (),
    extra_sheets: dict[str, list[list[object]]] | None = None,
    commune: object = COMMUNE,
    period: object = "Quý 3/2024",
    report_date: object = REPORT_DATE,
    mtime: float | None = None,
) -> Path:
    """Write a commune workbook with sheets HTX, THT and TongHop (then `extra_sheets`, as communes add them).

    ``htx``/``tht`` default to one valid row each; ``summary`` defaults to the TongHop
    row computed from the detail rows (a list gives several TongHop entries). Every
    sheet gets the same ``title`` rows above its header and the same ``start`` offset.
    """
    sheets = _sheet_grids(htx, tht, summary, header_style, title, cols, headers, commune, period, report_date)
    kept = {k: v for k, v in sheets.items() if k not in omit_sheets}
    write_xlsx(path, {**kept, **(extra_sheets or {})}, start=start)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _sheet_grids(
    htx: Sequence[Row] | None,
    tht: Sequence[Row] | None,
    summary: dict[str, Any] | Sequence[Row] | None,
    header_style: str,
    title: Sequence[str | None],
    cols: dict[str, Sequence[str]] | None,
    headers: dict[str, dict[str, str]] | None,
    commune: object,
    period: object,
    report_date: object,
) -> dict[str, list[list[Any]]]:
    htx = [valid_htx_row()] if htx is None else list(htx)
    tht = [valid_tht_row()] if tht is None else list(tht)
    if summary is None:
        summary_rows: list[Row] = [summary_row(htx, tht, commune=commune, period=period, report_date=report_date)]
    elif isinstance(summary, dict):
        summary_rows = [summary]
    else:
        summary_rows = list(summary)
    cols = cols or {}
    headers = headers or {}
    return {
        name: grid(name, rows, header_style=header_style, cols=cols.get(name), headers=headers.get(name), title=title)
        for name, rows in (("HTX", htx), ("THT", tht), ("TongHop", summary_rows))
    }


def district(path: Path, rows: Sequence[Row], *, title: Sequence[str | None] = ()) -> Path:
    """Write ``_district.xlsx`` with sheet HoTro."""
    return write_xlsx(path, {"HoTro": grid("HoTro", rows, title=title)})


# ---------------------------------------------------------------------------------------------
# CSV folders


def encode_cp1258(text: str) -> bytes:
    """Encode Vietnamese text in Windows-1258 (base letters precomposed, tones combining)."""
    out = bytearray()
    for cluster in _clusters(unicodedata.normalize("NFD", text)):
        base, marks = cluster[0], list(cluster[1:])
        for mark in list(marks):
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1:
                try:
                    composed.encode("cp1258")
                except UnicodeEncodeError:
                    continue
                base = composed
                marks.remove(mark)
        out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def _clusters(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def csv_cell(value: object) -> str:
    """A cell as text in a CSV file: Vietnamese decimal comma, dd/mm/yyyy dates."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return csv_cell(value.value)
    if isinstance(value, (date, datetime)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return repr(value).replace(".", ",").removesuffix(",0")
    return str(value)


def csv_bytes(cells: list[list[object]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """The bytes of a CSV file (``encoding``: utf-8, utf-8-sig or cp1258)."""
    lines = []
    for row in cells:
        texts = []
        for value in row:
            t = csv_cell(value)
            if any(ch in t for ch in (delimiter, '"', "\n")):
                t = '"' + t.replace('"', '""') + '"'
            texts.append(t)
        lines.append(delimiter.join(texts))
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "cp1258":
        return encode_cp1258(text)
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def write_csv_folder(
    path: Path,
    htx: Sequence[Row] | None = None,
    tht: Sequence[Row] | None = None,
    summary: dict[str, Any] | Sequence[Row] | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    header_style: str = "plain",
    title: Sequence[str | None] = (),
    cols: dict[str, Sequence[str]] | None = None,
    headers: dict[str, dict[str, str]] | None = None,
    omit_sheets: Sequence[str] = (),
    commune: object = COMMUNE,
    period: object = "Quý 3/2024",
    report_date: object = REPORT_DATE,
) -> Path:
    """Write a commune submission as a folder ``HTX.csv``, ``THT.csv``, ``TongHop.csv`` (bytes)."""
    sheets = _sheet_grids(htx, tht, summary, header_style, title, cols, headers, commune, period, report_date)
    path.mkdir(parents=True, exist_ok=True)
    for name, cells in sheets.items():
        if name not in omit_sheets:
            (path / f"{name}.csv").write_bytes(csv_bytes(cells, encoding=encoding, delimiter=delimiter))
    return path


# ---------------------------------------------------------------------------------------------
# Raw directory and running the pipeline


def communes(period: str = PERIOD) -> list[tuple[str, str]]:
    """(code, name) of the communes of the repo's ``communes.csv`` expected in ``period``, in file order."""
    df = pl.read_csv(COMMUNES_CSV, infer_schema=False)
    for col in ("valid_from", "valid_to"):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    df = df.with_columns(pl.col("valid_from", "valid_to").str.strip_chars().replace("", None))
    inside = (pl.col("valid_from").is_null() | (pl.col("valid_from") <= period)) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") >= period)
    )
    return list(df.filter(inside).select("code", "name").iter_rows())


def make_raw_dir(root: Path) -> Path:
    """A raw directory with ``reference/communes.csv`` and an empty ``2024/Q3`` folder."""
    raw = root / "raw"
    (raw / "reference").mkdir(parents=True, exist_ok=True)
    (raw / "reference" / "communes.csv").write_bytes(COMMUNES_CSV.read_bytes())
    (raw / "2024" / "Q3").mkdir(parents=True, exist_ok=True)
    return raw


def q3(raw: Path) -> Path:
    """The 2024-Q3 folder of a raw directory."""
    return raw / "2024" / "Q3"


def run(raw: Path, period: str = PERIOD) -> dict[str, pl.DataFrame]:
    """Every table of the period, as the pipeline builds it (with the `source` resource's settings): under the
    review settings of `raw/reference` and the officer's decisions stored in the warehouse beside it
    (`<raw>/../warehouse`), if any."""
    source, _ = resolved_resources(str(raw))
    files, _ = source.files(period)
    decisions = read_decisions(raw.parent / "warehouse", period)
    review = period_review(source.review_policy(), decisions, period, source.deadline())
    return source.process(files, period, review).tables


def log_row(tables: dict[str, pl.DataFrame], source_file: str) -> dict[str, Any]:
    """The submission-log line of one file."""
    rows = tables["submission_log"].filter(pl.col("source_file") == source_file).to_dicts()
    assert len(rows) == 1, f"{source_file} not (once) in submission_log: {tables['submission_log']}"
    return rows[0]


def issues(tables: dict[str, pl.DataFrame], **where: Any) -> pl.DataFrame:
    """Lines of rejected_rows matching every ``column=value`` given."""
    df = tables["rejected_rows"]
    for k, v in where.items():
        df = df.filter(pl.col(k).is_null() if v is None else pl.col(k) == v)
    return df
