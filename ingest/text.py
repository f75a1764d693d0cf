"""Text normalisation and value parsing shared by every reader.

Scalar functions serve header matching and identity fields (a handful of values per
file); the ``*_expr`` functions do the same work on whole columns with polars, so a
national quarter is parsed in bulk rather than cell by cell.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import polars as pl

from schemas.columns import NUMBER_KINDS
from schemas.folding import fold

_PARENS = re.compile(r"\(([^()]*)\)")
EMPTY_MARKS = ("-", "–", "—", "x/x")


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`fold` on a string expression."""
    return (
        expr.str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_all("[đĐ]", "d")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


@lru_cache(maxsize=16384)
def split_unit(header: str) -> tuple[str, str | None]:
    """Split a header into its folded name and the folded unit in its last parentheses.

    >>> split_unit("Vốn điều lệ (triệu đồng)")
    ('von dieu le', 'trieu dong')
    >>> split_unit("Mã HTX")
    ('ma htx', None)
    """
    units = _PARENS.findall(str(header))
    base = _PARENS.sub(" ", str(header))
    unit = fold(units[-1]) if units else None
    return fold(base), (unit or None)


# Money units, folded, to their factor into million VND (triệu đồng).
MONEY_UNITS: dict[str, float] = {
    "trieu dong": 1.0,
    "trieu": 1.0,
    "tr dong": 1.0,
    "tr d": 1.0,
    "trd": 1.0,
    "tr": 1.0,
    "trieu vnd": 1.0,
    "mvnd": 1.0,
    "million vnd": 1.0,
    "dong": 1e-6,
    "vnd": 1e-6,
    "d": 1e-6,
    "nghin dong": 1e-3,
    "ngan dong": 1e-3,
    "nghin": 1e-3,
    "ngan": 1e-3,
    "1000 dong": 1e-3,
    "1 000 dong": 1e-3,
    "nghin vnd": 1e-3,
    "ty dong": 1e3,
    "ty": 1e3,
    "ty vnd": 1e3,
    "ti dong": 1e3,
    "ti": 1e3,
    "ti vnd": 1e3,
    "trieu d": 1.0,
    "ngan vnd": 1e-3,
    "ngan d": 1e-3,
    "nghin d": 1e-3,
}

# Units that may label count and year columns; they change nothing.
PLAIN_UNITS = frozenset(
    {
        "nguoi",
        "thanh vien",
        "tv",
        "hop dong",
        "hd",
        "sao",
        "chiec",
        "cai",
        "may",
        "nam",
        "htx",
        "tht",
        "so luong",
        "sl",
        "lao dong",
        "ld",
        "so",
        "ho",
        "co khong",
        "co khong x",
        "x",
    }
)


_CURRENCY = re.compile(r"\b(dong|d|vnd|vnđ|trieu|tr|trd|nghin|ngan|ty|ti|usd|eur|\$)\b")


def looks_like_money_unit(unit: str | None) -> bool:
    """Whether a folded bracket text names a currency (as opposed to a note such as "nếu có").

    >>> looks_like_money_unit("nghin dong"), looks_like_money_unit("neu co"), looks_like_money_unit("usd")
    (True, False, True)
    """
    return bool(unit) and bool(_CURRENCY.search(unit or ""))


def money_factor(unit: str | None) -> float | None:
    """Factor that turns an amount in ``unit`` into million VND; None when the unit is unknown.

    A per-time or per-person suffix ("triệu đồng/người/tháng") does not change the factor.

    >>> money_factor("nghin dong")
    0.001
    >>> money_factor(None)
    1.0
    """
    if unit is None:
        return 1.0
    head = unit.split("/")[0].strip()
    head = re.sub(r"\b(nguoi|thang|nam|ld|lao dong)\b", " ", head).strip()
    head = re.sub(r"\s+", " ", head)
    return MONEY_UNITS.get(head)


_SPACES = r"[\s\u00a0\u202f\u2009']"

NUMBER_CELL_TEXT = r"^(-?[0-9]+(\.[0-9]+)?|true|false)$"
"""The text calamine gives a cell that holds a number (plain decimals, never an exponent or a separator) or a
boolean: a cell whose text does not look like this held neither."""
VN_THOUSANDS_CELL = r"^-?[0-9]{1,3}\.[0-9]{3}$"
"""A number cell's text that reads otherwise when the same is typed as text (`360.697` is 360697, Vietnamese
style)."""
BOOLEAN_CELL_TEXTS = ("true", "false")
_NUMBER_CELL = re.compile(NUMBER_CELL_TEXT)
_VN_THOUSANDS = re.compile(VN_THOUSANDS_CELL)


def needs_number_flag(text: str | None, kind: str | None) -> bool:
    """Whether a cell's text alone leaves open how a column of `kind` reads it: then only the workbook says
    whether the cell held a number. In a number column `360.697` (a number, or 360697 typed as text); in a date
    column a plain number (a date serial, or text that is no date); anywhere `true` or `false` (a boolean cell, or
    text). Any other text reads alike either way."""
    if text is None:
        return False
    if text in BOOLEAN_CELL_TEXTS:
        return True
    if kind in NUMBER_KINDS:
        return _VN_THOUSANDS.fullmatch(text) is not None
    return kind == "date" and _NUMBER_CELL.fullmatch(text) is not None


def needs_number_flag_expr(text: pl.Expr, number_column: pl.Expr | None, date_column: pl.Expr | None) -> pl.Expr:
    """:func:`needs_number_flag` as an expression, for a column of cells whose kind is told per row (`number_column`,
    `date_column`: booleans; None when no cell of the column is of that kind, which spares its pattern)."""
    needed = pl.lit(False)
    for word in BOOLEAN_CELL_TEXTS:
        needed = needed | (text == word)
    if number_column is not None:
        needed = needed | (number_column & text.str.contains(VN_THOUSANDS_CELL))
    if date_column is not None:
        needed = needed | (date_column & text.str.contains(NUMBER_CELL_TEXT))
    return needed.fill_null(False)


CELL_SEPARATOR = "\x1f"
"""Joins a row's cells for `row_needs_number_flag_expr`: a control character, which no cell of a sheet cut as
columns holds (`ingest.columnar` leaves a sheet with one to the cell-by-cell cut)."""


def _in_any_cell(pattern: str) -> str:
    """A pattern anchored to a whole cell (`^...$`), matching any one cell of cells joined by `CELL_SEPARATOR`."""
    sep = rf"\x{ord(CELL_SEPARATOR):02x}"
    return rf"(?:^|{sep})(?:{pattern.removeprefix('^').removesuffix('$')})(?:{sep}|$)"


def row_needs_number_flag_expr(
    texts: pl.Expr | list[pl.Expr],
    number_texts: pl.Expr | list[pl.Expr] | None,
    date_texts: pl.Expr | list[pl.Expr] | None,
) -> pl.Expr:
    """Whether some cell of a row :func:`needs_number_flag`, as one expression: `texts` are the row's cells
    (expressions over one or more columns), `number_texts` and `date_texts` its cells in a number and a date
    column (null elsewhere; None when there are none). Each is joined into one text and matched once: on a
    batch's small frames a pattern per column costs more than the matching itself."""

    def joined(cells: pl.Expr | list[pl.Expr]) -> pl.Expr:
        return pl.concat_str(cells, separator=CELL_SEPARATOR, ignore_nulls=True)

    booleans = "|".join(BOOLEAN_CELL_TEXTS)
    needed = joined(texts).str.contains(_in_any_cell(f"^({booleans})$"))
    if number_texts is not None:
        needed = needed | joined(number_texts).str.contains(_in_any_cell(VN_THOUSANDS_CELL))
    if date_texts is not None:
        needed = needed | joined(date_texts).str.contains(_in_any_cell(NUMBER_CELL_TEXT))
    return needed.fill_null(False)


def number_shape_expr(text: pl.Expr) -> pl.Expr:
    """Whether each text looks like a number cell's (`NUMBER_CELL_TEXT`): the flag of a cell that does not
    `needs_number_flag`."""
    return text.str.contains(NUMBER_CELL_TEXT).fill_null(False)


def number_flag(text: str | None, held_number: bool, kind: str | None) -> bool:
    """The flag a cut keeps for a cell (`<name>__num`): whether the workbook stored it as a number where that
    changes how it reads (`needs_number_flag`), else whether its text looks like a number cell's
    (`NUMBER_CELL_TEXT`). So the flag of every cell can be told from its text, and the workbook is asked only
    for the few cells that need it (`ingest.columnar`); both give the same typed value."""
    if needs_number_flag(text, kind):
        return held_number
    return text is not None and _NUMBER_CELL.fullmatch(text) is not None


def number_expr(text: pl.Expr, is_numeric_cell: pl.Expr | None = None) -> pl.Expr:
    """Parse numbers written as Excel numbers or as Vietnamese-style text.

    ``1.250`` is 1250, ``3,5`` is 3.5, ``1.250,75`` is 1250.75; a single dot followed by
    other than groups of three digits is a decimal point (``1250.5``). Text that is
    no number gives null; callers compare with the input to report it.
    ``is_numeric_cell`` marks cells that were numbers in the workbook: their text is
    the plain decimal form and is cast as it is.
    """
    s = text.str.replace_all(_SPACES, "").str.strip_chars()
    neg = s.str.starts_with("(") & s.str.ends_with(")")
    s = pl.when(neg).then(pl.lit("-") + s.str.strip_chars("()")).otherwise(s)
    vn_thousands = r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"
    vn_decimal = r"^[+-]?\d+,\d+$"
    en_thousands = r"^[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?$|^[+-]?\d{1,3}(,\d{3})+\.\d+$"
    plain = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
    parsed = (
        pl.when(s.str.contains(vn_thousands))
        .then(s.str.replace_all(r"\.", "").str.replace(",", "."))
        .when(s.str.contains(vn_decimal))
        .then(s.str.replace(",", "."))
        .when(s.str.contains(en_thousands))
        .then(s.str.replace_all(",", ""))
        .when(s.str.contains(plain))
        .then(s)
        .otherwise(None)
    )
    if is_numeric_cell is not None:
        parsed = pl.when(is_numeric_cell.fill_null(False)).then(s).otherwise(parsed)
    return parsed.cast(pl.Float64, strict=False)


def parse_number(text: object) -> float | None:
    """Scalar :func:`number_expr` for single values (tests and identity fields)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    return pl.select(number_expr(pl.lit(None if text is None else str(text), dtype=pl.String))).item()


EXCEL_EPOCH = date(1899, 12, 30)
_DATE_FORMATS = (
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%d/%m/%Y"),
    (r"^\d{1,2}-\d{1,2}-\d{4}$", "%d-%m-%Y"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "%d.%m.%Y"),
    (r"^\d{4}-\d{1,2}-\d{1,2}$", "%Y-%m-%d"),
    (r"^\d{1,2}/\d{1,2}/\d{2}$", "%d/%m/%y"),
)


def date_expr(text: pl.Expr, is_numeric_cell: pl.Expr | None = None) -> pl.Expr:
    """Parse dates: Excel serial numbers, dd/mm/yyyy (also - and .), ISO dates and datetimes."""
    s = text.str.strip_chars().str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
    candidates = [
        pl.when(s.str.contains(shape)).then(s.str.strptime(pl.Date, fmt, strict=False)) for shape, fmt in _DATE_FORMATS
    ]
    serial = s.cast(pl.Float64, strict=False)
    from_serial = pl.when(serial.is_between(1, 2958465)).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial.floor().cast(pl.Int64))
    )
    as_text = pl.coalesce(candidates)
    if is_numeric_cell is None:
        return pl.coalesce([as_text, from_serial.cast(pl.Date)])
    return pl.when(is_numeric_cell.fill_null(False)).then(from_serial.cast(pl.Date)).otherwise(as_text)


def parse_date(value: object) -> date | None:
    """Scalar date parser for a TongHop cell (Excel serial, date object or text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return EXCEL_EPOCH + timedelta(days=int(value))
    return pl.select(date_expr(pl.lit(str(value), dtype=pl.String))).item()
