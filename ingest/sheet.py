"""Find the header row of a raw sheet and cut it into data rows keyed by column name.

Headers match the models' Vietnamese titles (and aliases, and the English column
names) ignoring case, accents, Unicode normalisation, punctuation and whitespace;
a unit in parentheses is split off and turned into a conversion factor. Title rows
above the header, blank rows and total rows ("Tổng", "Tổng cộng", "Cộng") are skipped.

A header may span two rows, as forms with merged cells do: a group title merged across
columns above its sub-headers ("Trình độ" over "ĐH, CĐ" and "Trung cấp"), and headers
merged down both rows (kept by the reader in the upper cell only).

Text typed in a legacy font encoding (TCVN3, VNI) is converted to Unicode first, header
included (see :mod:`ingest.legacy_fonts`); each converted cell of the header and of the data
rows is reported, and a data cell kttt cannot read for sure rejects its row.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from ingest.block_rows import BlockRows, flag
from ingest.issues import Issue
from ingest.legacy_fonts import NO_CONTEXT, CellText, FileFonts, needs_check, read_cell, words_of
from ingest.models import sheet_models
from ingest.nondata import IGNORED_HEADERS, SIGNATURE, blank_means_no, non_data_reason
from ingest.text import (
    EMPTY_MARKS,
    PLAIN_UNITS,
    fold,
    looks_like_money_unit,
    money_factor,
    number_flag,
    parse_number,
    split_unit,
)
from ingest.workbook import RawSheet, column_letters
from schemas.columns import SheetColumn
from schemas.vocab import BY_NAME as VOCABS

HEADER_SCAN_ROWS = 30
_PARENS = re.compile(r"\(([^()]*)\)")
_TOTAL_LABEL = re.compile(r"^(tong cong|tong so|tong|cong)( |$)")
# Sub-headers that only say "the total" of the group title above them ("Cán bộ quản lý" / "Tổng số").
_TOTAL_SUBHEADERS = frozenset({"tong so", "tong", "so luong", "cong", "so", "tong cong"})


@dataclass
class SheetBlock:
    """The data rows of one sheet of one submission, still as text."""

    sheet: str
    header_row: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)
    unit_texts: dict[str, str] = field(default_factory=dict)
    data: BlockRows = field(default_factory=BlockRows)
    """The data rows, as Arrow (`ingest.block_rows`)."""
    issues: list[Issue] = field(default_factory=list)
    # Errors of single cells found while cutting (a formula without a value, an unsure legacy font): they
    # reject their row
    row_issues: list[Issue] = field(default_factory=list)
    file_error: bool = False
    sheet_rejected: bool = False
    # Rows under the header that are not data (a pre-numbered STT, a note, the signature block): row, reason
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        """Number of data rows read."""
        return self.data.length

    @property
    def rows(self) -> list[int]:
        """The row number of each data row (as the clerk sees it)."""
        return self.data.column("source_row")

    @property
    def raw(self) -> list[str | None]:
        """Each data row's cells as written (JSON keyed by header)."""
        return self.data.raw()

    @property
    def cells(self) -> dict[str, list[str | None]]:
        """Column name → its text per data row."""
        return {name: self.data.column(name) for name in self.data.names}

    @property
    def numeric(self) -> dict[str, list[bool]]:
        """Column name → whether each cell was a number in the workbook."""
        return {name: self.data.column(flag(name)) for name in self.data.names}

    def first(self, column: str) -> str | None:
        """The text of ``column`` in the first data row (None when absent or empty)."""
        return self.data.first(column)

    def clear(self, column: str) -> None:
        """Empty one column of the block (its values are reported first by whoever clears it)."""
        self.data = self.data.cleared(column)


@cache
def header_keys(sheet: str) -> dict[str, str]:
    """Folded header spelling → column name, for one sheet model."""
    keys: dict[str, str] = {}
    for col in sheet_models().columns[sheet]:
        for spelling in (col.header_vi, *col.aliases, col.name):
            keys.setdefault(split_unit(spelling)[0], col.name)
    return keys


@cache
def columns_by_name(sheet: str) -> dict[str, SheetColumn]:
    """Column name → column description, for one sheet model."""
    return {c.name: c for c in sheet_models().columns[sheet]}


@lru_cache(maxsize=4096)
def header_key(cell: str) -> str:
    """A cell folded as a header (cached: the same titles recur in every file of a quarter)."""
    return split_unit(cell)[0]


def _match_row(cells: list[str | None], sheet: str) -> dict[int, str]:
    keys = header_keys(sheet)
    found: dict[int, str] = {}
    for i, cell in enumerate(cells):
        if cell is None:
            continue
        if needs_check(cell):
            cell = read_cell(cell, NO_CONTEXT, format_words()).text
        name = keys.get(header_key(cell))
        if name is not None:
            found[i] = name
    return found


@dataclass(frozen=True)
class Header:
    """Where a sheet's header is: its first and last row (0-based; the same for a one-row header), the
    column name of each matched cell, and each column's header text as written."""

    first: int
    last: int
    matched: dict[int, str]
    labels: dict[int, str]


def _text(cells: list[str | None], c: int) -> str | None:
    v = cells[c] if c < len(cells) else None
    return v.strip() if v is not None and v.strip() else None


def _match_two_rows(upper: list[str | None], lower: list[str | None], sheet: str) -> tuple[dict[int, str], dict]:
    """Match a header written over two rows.

    Per column, in order: the lower cell alone; the group title (the nearest filled upper cell
    at or left of the column: a title merged across columns keeps its text in its first cell)
    with the lower cell; the upper cell alone when the lower one is empty (merged down) or
    only says "Tổng số".
    """
    keys = header_keys(sheet)
    found: dict[int, str] = {}
    labels: dict[int, str] = {}
    group: str | None = None
    for c in range(max(len(upper), len(lower))):
        up, low = _text(upper, c), _text(lower, c)
        group = up or group
        tries: list[str] = []
        if low is not None:
            tries.append(low)
            if group is not None:
                tries += [f"{group} {low}", f"{low} {group}"]
        if up is not None and (low is None or fold(low) in _TOTAL_SUBHEADERS):
            tries.append(up)
        for text in tries:
            name = keys.get(header_key(text))
            if name is not None:
                found[c], labels[c] = name, text
                break
        else:
            if up is not None or low is not None:
                labels[c] = " ".join(t for t in (up, low) if t is not None)
    return found, labels


def find_header_rows(raw: RawSheet, sheet: str) -> Header | None:
    """The header among the first rows: the row, or pair of rows, matching the most known headers (at least
    two); on a tie a single row wins, then the earliest."""
    best: Header | None = None
    best_key: tuple[int, bool, int] | None = None
    rows = raw.rows[: HEADER_SCAN_ROWS + 1]
    everything = len(columns_by_name(sheet))
    for r, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        single = _match_row(cells, sheet)
        labels = {c: t for c in range(len(cells)) if (t := _text(cells, c)) is not None}
        if len(set(single.values())) == everything:  # a full single row: nothing later or taller can win
            return Header(r, r, single, labels)
        candidates = [Header(r, r, single, labels)]
        if r + 1 < len(rows):
            two, two_labels = _match_two_rows(cells, rows[r + 1], sheet)
            candidates.append(Header(r, r + 1, two, two_labels))
        for found in candidates:
            n = len(set(found.matched.values()))
            key = (n, found.first == found.last, -r)
            if n >= 2 and (best_key is None or key > best_key):
                best, best_key = found, key
    return best


def find_header(raw: RawSheet, sheet: str) -> tuple[int, dict[int, str]] | None:
    """Index of the (last) header row (0-based) and its matched cells, or None when no row has two known headers."""
    found = find_header_rows(raw, sheet)
    return None if found is None else (found.last, found.matched)


def _looks_numeric(numeric: bool, text: str) -> bool:
    mark = text.strip() in EMPTY_MARKS or fold(text) == "x"
    return mark or numeric or parse_number(text) is not None


def is_total_row(raw: RawSheet, r: int) -> bool:
    """A row whose first filled cell says Tổng / Tổng cộng / Cộng and whose other cells are numbers."""
    return is_total(raw.rows[r], lambda c: raw.is_numeric(r, c))


def is_total(cells: list[str | None], numeric: Callable[[int], bool]) -> bool:
    """:func:`is_total_row` on one row's cells; `numeric(c)` says whether cell `c` was stored as a number."""
    first_c, first_v = next(((c, v) for c, v in enumerate(cells) if v is not None and v.strip()), (None, ""))
    if first_c is None or first_v.lstrip()[:1] not in ("T", "t", "C", "c"):  # every total label starts with T or C
        return False
    if numeric(first_c) or not _TOTAL_LABEL.match(fold(first_v)):
        return False
    return all(
        _looks_numeric(numeric(c), v) for c, v in enumerate(cells) if c > first_c and v is not None and v.strip()
    )


def _unit_issue(block: SheetBlock, file: str, name: str, header: str, unit: str) -> None:
    # A sheet-level problem (no row): each data row of the sheet gets its own line as well.
    block.issues.append(Issue(file, block.sheet, None, name, "unit_unknown", value=unit, detail=header))
    block.sheet_rejected = True


def resolve_units(block: SheetBlock, file: str, row: int, col: SheetColumn, header: str) -> None:
    unit = split_unit(header)[1]
    if unit is None or col.kind not in ("money", "int", "number"):
        return
    written = _PARENS.findall(header)[-1].strip()
    if col.kind == "money":
        factor = money_factor(unit)
        if factor is None and looks_like_money_unit(unit):
            _unit_issue(block, file, col.name, header, written)
        elif factor is not None and factor != 1.0:
            block.factors[col.name] = factor
            block.unit_texts[col.name] = written
            block.issues.append(Issue(file, block.sheet, row, col.name, "unit_converted", value=written))
    elif looks_like_money_unit(unit) and unit not in PLAIN_UNITS:
        # A currency on a count column ("Số thành viên (triệu đồng)") cannot be read as a count.
        _unit_issue(block, file, col.name, header, written)


def sheet_texts(raw: RawSheet) -> list[str]:
    """Every non-ASCII text cell of a sheet (for :func:`ingest.legacy_fonts.file_fonts`)."""
    return [v for row in raw.rows for v in row if isinstance(v, str) and not v.isascii()]


@cache
def format_words() -> frozenset[str]:
    """Words of the format's headers, aliases and category labels: known to be right when a cell
    could be read as Unicode or as a legacy font encoding ("Khá" is a rating, "Khỏ" is nothing)."""
    columns = sheet_models().columns
    texts: list[str] = list(columns)
    for sheet in columns:
        for col in columns[sheet]:
            texts += [col.header_vi, *col.aliases]
    for v in VOCABS.values():
        texts += list(v.spellings())
    return frozenset(w for t in texts for w in words_of(t))


def read_fonts(raw: RawSheet, fonts: FileFonts) -> tuple[RawSheet, dict[tuple[int, int], CellText]]:
    """The sheet with its legacy-font text converted to Unicode, and the cells converted or unsure by position."""
    readings: dict[tuple[int, int], CellText] = {}
    rows: list[list[str | None]] = []
    # Without a legacy encoding in the file its context changes no reading: reuse the cached context-free ones.
    context = fonts if fonts.legacy else NO_CONTEXT
    for r, cells in enumerate(raw.rows):
        out = list(cells)
        for c, v in enumerate(cells):
            if isinstance(v, str) and needs_check(v) and not raw.is_numeric(r, c):
                reading = read_cell(v, context, format_words())
                if reading.converted or reading.unsure:
                    readings[(r, c)] = reading
                    out[c] = reading.text
        rows.append(out)
    if not readings:
        return raw, readings
    return RawSheet(raw.name, rows, raw.numeric, raw.uncached), readings


def _font_issues(
    block: SheetBlock, file: str, original: RawSheet, readings: dict[tuple[int, int], CellText], names: dict[int, str]
) -> None:
    """A warning per converted cell of the header and the data rows; an error per data cell that is unsure."""
    data_rows = {r - 1 for r in block.rows}
    hr = (block.header_row or 0) - 1
    for (r, c), reading in sorted(readings.items()):
        if r != hr and (r not in data_rows or c not in names):
            continue  # titles, notes and columns kttt does not keep
        written = str(original.rows[r][c]).strip()
        where = (file, block.sheet, r + 1, names.get(c))
        if reading.converted:
            block.issues.append(Issue(*where, "text_legacy_font_converted", value=written, detail=reading.text))
        elif r != hr:
            detail = "; ".join(reading.readings)
            block.row_issues.append(Issue(*where, "text_legacy_font_unsure", value=written, detail=detail))


def cut_sheet(raw: RawSheet, sheet: str, file: str, fonts: FileFonts = NO_CONTEXT) -> SheetBlock:
    """Turn a raw sheet into a :class:`SheetBlock` (text cells per column name, row numbers, raw JSON).

    ``fonts`` is what the file's other cells say about legacy font encodings (see
    :func:`ingest.legacy_fonts.file_fonts`); ``raw_values`` keep the cells as written.
    """
    original = raw
    raw, readings = read_fonts(raw, fonts)
    block = SheetBlock(sheet=sheet)
    columns = columns_by_name(sheet)
    found = find_header_rows(raw, sheet)
    if found is None:
        first = next(c for c in columns.values() if c.required)
        block.issues.append(Issue(file, sheet, None, first.name, "column_missing"))
        block.file_error = True
        _collect_rows(block, file, raw, original, -1, {}, {})  # kept in rejected_rows with their values
        return block
    hr, matched = found.last, found.matched
    block.header_row = hr + 1
    positions: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    for c, name in sorted(matched.items()):
        if name in positions:
            duplicates.append((name, c))
            continue
        positions[name] = c
        block.headers[name] = found.labels[c]
        resolve_units(block, file, hr + 1, columns[name], found.labels[c])
    unknown = [
        (c, text) for c, text in sorted(found.labels.items()) if c not in matched and fold(text) not in IGNORED_HEADERS
    ]
    for col in columns.values():
        if col.name not in positions and col.mandatory_always:  # the others depend on the period: ingest.in_force
            block.issues.append(Issue(file, sheet, None, col.name, "column_missing"))
            block.file_error = True
    _collect_rows(block, file, raw, original, hr, positions, found.labels)
    # Columns not used are reported with their values (row number → cell), so nothing they held is lost.
    for name, c in duplicates:
        letters = f"{column_letters(positions[name] + 1)}, {column_letters(c + 1)}"
        values = _column_values(block, raw, c)
        block.issues.append(Issue(file, sheet, hr + 1, name, "duplicate_column", detail=letters, raw_values=values))
    for c, text in unknown:
        block.issues.append(
            Issue(file, sheet, hr + 1, None, "unknown_column", value=text, raw_values=_column_values(block, raw, c))
        )
    if readings:
        _font_issues(block, file, original, readings, {c: name for name, c in positions.items()})
    return block


def _column_values(block: SheetBlock, raw: RawSheet, c: int) -> str | None:
    """JSON of the filled cells of column ``c`` in the block's data rows, keyed by row number."""
    rows = block.rows
    cells = [raw.rows[row - 1] for row in rows]
    return column_values_json(rows, [r[c] if c < len(r) else None for r in cells])


def column_values_json(rows: list[int], values: list[str | None]) -> str | None:
    """JSON of the filled values of one column (stripped), keyed by their row number; None when none is filled."""
    found = {str(row): v.strip() for row, v in zip(rows, values, strict=True) if v is not None and v.strip()}
    return json.dumps(found, ensure_ascii=False) if found else None


def _collect_rows(
    block: SheetBlock,
    file: str,
    raw: RawSheet,
    original: RawSheet,
    hr: int,
    positions: dict[str, int],
    labels: dict[int, str],
) -> None:
    """Data rows below the header (every filled row when there is none), skipping blank and total rows.

    Cells are read from ``raw`` (legacy fonts converted); ``raw_values`` from ``original`` (as written).
    A cell holding a formula saved without its value is reported (``formula_uncached``) instead of
    being read as empty.
    """
    texts: dict[str, list[str | None]] = {name: [] for name in positions}
    numbers: dict[str, list[bool]] = {name: [] for name in positions}
    model = columns_by_name(block.sheet)
    kinds = {name: model[name].kind for name in positions if name in model}
    rows: list[int] = []
    raw_json: list[str] = []
    keys = json_keys(labels)
    uncached = raw.uncached
    kept = set(positions.values())
    # A row counts for its formulas only in columns kept (a filled-down "=ROW()-1" in STT makes no data row).
    formula_rows = {r for r, c in uncached if not positions or c in kept}
    no_flags: list[bool] = []
    ignored = {c for c, label in labels.items() if c not in kept and fold(label) in IGNORED_HEADERS}
    signed = False
    for r in range(hr + 1, len(raw.rows)):
        cells = raw.rows[r]
        filled = {c: v for c, v in enumerate(cells) if v is not None and v.strip()}
        if (not filled and r not in formula_rows) or is_total_row(raw, r):
            continue
        reason = non_data_reason(filled, ignored, signed) if positions and r not in formula_rows else None
        if reason is not None:
            block.skipped.append((r + 1, reason))
            signed = signed or reason == SIGNATURE
            continue
        flags = raw.numeric[r] if raw.numeric is not None and r < len(raw.numeric) else no_flags
        rows.append(r + 1)
        for name, c in positions.items():
            v = filled.get(c)
            texts[name].append(None if v is None else unicodedata.normalize("NFC", v.strip()))
            numbers[name].append(number_flag(v, c < len(flags) and flags[c], kinds.get(name)))
            if (r, c) in uncached:
                block.row_issues.append(
                    Issue(file, block.sheet, r + 1, name, "formula_uncached", value=uncached[(r, c)])
                )
        as_written = filled
        if original is not raw:
            as_written = {c: v for c, v in enumerate(original.rows[r]) if v is not None and v.strip()}
        if formula_rows:
            as_written = {c: uncached.get((r, c), v) for c, v in as_written.items()} | {
                c: f
                for (fr, c), f in uncached.items()
                if fr == r  # the formula, as the only trace
            }
            as_written = dict(sorted(as_written.items()))
        raw_json.append(json.dumps({keys.get(c, f"col{c + 1}"): v for c, v in as_written.items()}, ensure_ascii=False))
    for name in positions:
        if columns_by_name(block.sheet)[name].kind == "bool":
            texts[name] = blank_means_no(texts[name])
    block.data = BlockRows.from_lists(rows, raw_json, texts, numbers)


def json_keys(labels: dict[int, str]) -> dict[int, str]:
    """Header text per column for the raw JSON of a row; a header written twice gets its column letter."""
    keys: dict[int, str] = {}
    seen: set[str] = set()
    for c, label in sorted(labels.items()):
        keys[c] = label if label not in seen else f"{label} ({column_letters(c + 1)})"
        seen.add(label)
    return keys
