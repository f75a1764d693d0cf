"""Cut many sheets at once, as columns: one polars pass per kind of sheet over a batch of files.

`ingest.sheet.cut_sheet` cuts one sheet cell by cell in Python; this module gives the same
blocks for the usual sheet without a Python step per cell. The sheets of a batch (all
HTX sheets of a few hundred files, say) are stacked into one frame of text and number
columns, and:

- the header is found by matching every distinct cell of the first rows once against the
  model's folded header keys (Python on a few hundred distinct titles), then as a join:
  the header of a sheet is its first row matching every column of the standing form (the
  columns of every period's form);
- blank rows are a filter; a total row is told by the same rule as in `cut_sheet`, in
  Python but only for the few rows whose first filled cell starts with T or C;
- the rows under the header that hold no data (a pre-numbered STT, a note, the signature
  block: `ingest.nondata`) are told by `non_data_reason`, as in `cut_sheet`, but only for
  the few rows with at most three filled cells or nothing outside the ignored columns, in row
  order; they are listed in the block's `skipped`, and a Có/Không column ticked with "x"
  reads its blanks as "Không" (`blank_means_no`);
- the cells kept are stripped and NFC-normalised as columns, and each row's values as
  written (`raw_values`, JSON keyed by column index, the headings kept once per block:
  `ingest.block_rows`) are built as one string expression;
- whether a cell held a number is told by its text (`ingest.text.number_flag`: calamine writes
  every number as plain decimals), except for the few cells whose text typed as text would read
  otherwise: only their sheets are read again by calamine, for their number flags
  (`RawSheet.numbers`).

A sheet is left to `cut_sheet` (its result is None here) when it needs more than that: no
row matching every standing column in the first rows (two-row headers, missing or misspelt columns),
formulas saved without a value, control characters in a cell. A sheet holding text that
could be typed in a legacy font (TCVN3, VNI) is marked `suspect`: its whole file is then cut
in Python, with the file's fonts as context.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl
import pyarrow as pa

from ingest.block_rows import BlockRows, flag
from ingest.issues import Issue
from ingest.legacy_fonts import NO_CONTEXT, may_read_otherwise, read_cell
from ingest.nondata import MAX_SIGNATURE_CELLS, SIGNATURE, non_data_reason
from ingest.sheet import (
    HEADER_SCAN_ROWS,
    IGNORED_HEADERS,
    SheetBlock,
    column_values_json,
    columns_by_name,
    format_words,
    header_key,
    header_keys,
    is_total,
    json_keys,
    resolve_units,
)
from ingest.text import fold, needs_number_flag_expr, number_shape_expr, row_needs_number_flag_expr, split_unit
from ingest.workbook import RawSheet, column_letters
from schemas.columns import NUMBER_KINDS, SheetColumn

# Characters that Python's str.strip and polars' strip_chars treat differently, or that JSON escapes by code.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_NON_ASCII = r"[^\x00-\x7f]"
_TOTAL_START = r"^\s*[TtCc]"
_STRING, _BOOL = pa.string(), pa.bool_()
_JSON_ESCAPED = r'[\\"\n\r\t]'
"""What `_escaped` changes: a column without any is written into `raw_values` as it is."""


def _cols(kind: str, cols: Iterable[int]) -> pl.Expr:
    """The columns `<kind><j>` for each j of `cols`, as one expression: polars expands it, and its cost is per
    expression written (a batch has only a few thousand rows per kind of sheet)."""
    return pl.col(f"{kind}{j}" for j in cols)


def _named(kind: str) -> Callable[[str], str]:
    """Renames `<x><j>` to `<kind><j>`: the output of an expression over `_cols`."""
    return lambda name: f"{kind}{name[1:]}"


@dataclass
class Cut:
    """What the columnar pass made of one sheet."""

    empty: bool
    """No row has two filled cells (the sheet is blank or holds only titles or a note)."""
    block: SheetBlock | None = None
    """The sheet's block; None when the sheet must be cut in Python."""
    suspect: bool = False
    """Some cell could be text typed in a legacy font: its file is cut in Python."""


def _stacked(sheets: list[RawSheet]) -> tuple[pl.DataFrame, int]:
    """One frame of the sheets' cells: `_i` (sheet), `_r` (row, 0-based), `c<j>` text.

    The sheets' batches are stacked as they are into one Arrow table, made contiguous once: in one step when
    they are alike (the usual batch), else each first made alike (`_alike`)."""
    texts = [s.text for s in sheets if s.text is not None]  # all of them: `cut_many` groups columnar sheets only
    width = max(text.num_columns for text in texts)
    names = [f"c{j}" for j in range(width)]
    first = texts[0].schema
    if texts[0].num_columns == width and all(text.schema.equals(first) for text in texts):
        table = pa.Table.from_batches(texts).rename_columns(names)
    else:
        schema = pa.schema([pa.field(name, _STRING) for name in names])
        table = pa.Table.from_batches([_alike(text, schema) for text in texts], schema=schema)
    frame = pl.DataFrame(table.combine_chunks())
    counts = np.array([text.num_rows for text in texts], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return frame.select(
        pl.Series("_i", np.repeat(np.arange(len(sheets), dtype=np.int64), counts)),
        pl.Series("_r", np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)),
        pl.col(names).cast(pl.String),
    ), width


def _alike(text: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`text` with the columns of `schema` (text, nullable): a narrower sheet's missing columns and a column
    calamine typed otherwise (all empty: null) made text."""
    columns = [c if c.type == _STRING else c.cast(_STRING) for c in text.columns]
    columns += [pa.nulls(text.num_rows, _STRING) for _ in range(len(schema) - len(columns))]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _in_layouts(layouts: list[_Layout], j: int, flags: Callable[[_Layout], list[bool]]) -> pl.Expr | bool:
    """Whether column `j` is flagged (`flags`: a `_Layout`'s flags by column) in each row's header (`_layout`): a
    constant when every header of the group says the same, as they mostly do."""
    numbers = [layout.number for layout in layouts if flags(layout)[j]]
    return bool(numbers) if len(numbers) in (0, len(layouts)) else pl.col("_layout").is_in(numbers)


def _texts_where(marked: dict[int, pl.Expr | bool]) -> list[pl.Expr]:
    """The cells (`c<j>`) of the columns `marked` (by `_in_layouts`) in each row's header, null elsewhere: the
    columns marked in every header as one expression, the others each under its condition."""
    everywhere = [j for j, flag in marked.items() if flag is True]
    texts = [pl.when(flag).then(pl.col(f"c{j}")) for j, flag in marked.items() if isinstance(flag, pl.Expr)]
    return [_cols("c", everywhere), *texts] if everywhere else texts


def _condition(flag: pl.Expr | bool) -> pl.Expr | None:
    """A flag of `_in_layouts` as `needs_number_flag_expr` takes it: None where no row's header marks the column."""
    return None if flag is False else pl.lit(True) if flag is True else flag


def _with_number_flags(data: pl.DataFrame, width: int, sheets: list[RawSheet], layouts: list[_Layout]) -> pl.DataFrame:
    """`data` (rows under the header, `_layout` naming each sheet's header among `layouts`) with `n<j>`, the flag
    of each cell (`ingest.text.number_flag`): told by its text, but for the cells that `needs_number_flag`, whose
    sheets alone calamine reads again for their number flags. Only the columns that hold a number or a date in
    a row's header are matched against the patterns of such cells."""
    cols = range(width)
    numbers = {j: _in_layouts(layouts, j, lambda layout: layout.number_flags) for j in cols}
    dates = {j: _in_layouts(layouts, j, lambda layout: layout.date_flags) for j in cols}
    number_texts, date_texts = _texts_where(numbers), _texts_where(dates)
    any_needed = row_needs_number_flag_expr(_cols("c", cols), number_texts or None, date_texts or None)
    shaped = number_shape_expr(_cols("c", cols)).name.map(_named("n"))
    ask = sorted(data.select(pl.col("_i").filter(any_needed).unique()).to_series().to_list())
    if not ask:
        return data.with_columns(shaped)
    needed = [needs_number_flag_expr(pl.col(f"c{j}"), _condition(numbers[j]), _condition(dates[j])) for j in cols]
    parts = []
    for i in ask:
        h, numbers = sheets[i].height, sheets[i].numbers or []
        # calamine's two reads of a sheet may differ in shape: a missing flag is false
        flags = [pa.concat_arrays([f.slice(0, h), pa.nulls(max(0, h - len(f)), _BOOL)]) for f in numbers[:width]]
        flags += [pa.nulls(h, _BOOL) for _ in range(width - len(flags))]
        parts.append(
            pl.DataFrame(
                {
                    "_i": pl.Series(np.full(h, i, dtype=np.int64)),
                    "_r": pl.Series(np.arange(h, dtype=np.int64)),
                    # A cell read as a boolean is non-null exactly when it holds a number (or a boolean).
                    **{f"m{j}": pl.Series(flags[j]).is_not_null() for j in cols},
                }
            )
        )
    return (
        data.join(pl.concat(parts), on=["_i", "_r"], how="left")
        .with_columns(
            pl.when(need)
            .then(pl.col(f"m{j}").fill_null(False))
            .otherwise(number_shape_expr(pl.col(f"c{j}")))
            .alias(f"n{j}")
            for j, need in zip(cols, needed, strict=True)
        )
        .drop(f"m{j}" for j in cols)
    )


def cut_many(items: list[tuple[RawSheet, str, str]]) -> list[Cut]:
    """Cut each (sheet, model sheet name, file) that can be cut as columns; one :class:`Cut` per item, in order."""
    out: list[Cut | None] = [None] * len(items)
    groups: dict[str, list[int]] = {}
    for k, (raw, sheet, _) in enumerate(items):
        if not raw.columnar or raw.height == 0:
            out[k] = Cut(empty=raw.holds_no_table())
        else:
            groups.setdefault(sheet, []).append(k)
    for sheet, ks in groups.items():
        for k, cut in zip(ks, _cut_group([items[k] for k in ks], sheet), strict=True):
            out[k] = cut
    return [c if c is not None else Cut(empty=True) for c in out]


def _suspects(frame: pl.DataFrame, width: int) -> set[int]:
    """Sheets holding a cell that reads as a legacy font encoding (or cannot be read for sure) on its own.

    Only the distinct texts of each column that hold a non-ASCII character (more bytes than characters: cheaper
    than a pattern) go to Python, where `may_read_otherwise` drops those with a letter only Unicode has; the
    sheets holding a text found odd are looked up after, which is rare."""
    texts = [f"c{j}" for j in range(width)]
    distinct = frame.select(
        pl.col(c).filter(pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()).unique().implode() for c in texts
    ).row(0)
    lexicon = format_words()
    odd = {
        v
        for v in set().union(*distinct)
        if may_read_otherwise(v, lexicon) and ((r := read_cell(v, NO_CONTEXT, lexicon)).converted or r.unsure)
    }
    if not odd:
        return set()
    return set(frame.filter(pl.any_horizontal(pl.col(texts).is_in(list(odd))))["_i"].to_list())


def _headers(
    frame: pl.DataFrame, width: int, sheet: str, skip: set[int]
) -> dict[int, tuple[int, dict[int, str], dict[int, str]]]:
    """Per sheet (but those in `skip`) whose first rows hold a row matching every column of the standing form:
    that row (0-based), its cells matched to a column name and its headings as written (stripped), by column.

    Only a row with at least as many filled cells as the standing form has columns can match; each sheet's
    first such row is tried first (the header, in the usual sheet), and the sheets where it is not are searched
    again over all such rows of `HEADER_SCAN_ROWS`: the first matching row either way. The files of a batch
    share a few header rows: each distinct row is matched once, in Python (a few polars queries on a batch's
    small frames cost more than that).
    """
    keys = header_keys(sheet)
    # Every column of the standing form (in every period's form), not the columns of later forms: a file of an
    # older form has none of those, and one row holding the standing form's columns is the header row that
    # `ingest.sheet.find_header_rows` picks too (a two-row header has none of its lower columns on one row).
    standing = frozenset(c.name for c in columns_by_name(sheet).values() if c.standing)
    wide = frame.filter((pl.col("_r") < HEADER_SCAN_ROWS) & (pl.col("_filled") >= len(standing))).select(
        "_i", "_r", *(f"c{j}" for j in range(width))
    )
    matches: dict[tuple[str | None, ...], tuple[dict[int, str], dict[int, str]] | None] = {}

    def match(cells: tuple[str | None, ...]) -> tuple[dict[int, str], dict[int, str]] | None:
        if cells not in matches:
            matched = {c: name for c, v in enumerate(cells) if v is not None and (name := keys.get(header_key(v)))}
            labels = {c: text for c, v in enumerate(cells) if v is not None and (text := v.strip())}
            matches[cells] = (matched, labels) if standing <= set(matched.values()) else None
        return matches[cells]

    found: dict[int, tuple[int, dict[int, str], dict[int, str]]] = {}
    rest = []
    for i, r, *cells in wide.unique("_i", keep="first", maintain_order=True).iter_rows():
        if i in skip:
            continue
        if (m := match(tuple(cells))) is not None:
            found[i] = (r, *m)
        else:
            rest.append(i)
    if rest:
        for i, r, *cells in wide.filter(pl.col("_i").is_in(rest)).iter_rows():
            if i not in found and (m := match(tuple(cells))) is not None:
                found[i] = (r, *m)
    return found


@lru_cache(maxsize=4096)
def _json_key(label: str) -> str:
    return json.dumps(label, ensure_ascii=False) + ": "


@dataclass(frozen=True)
class _Layout:
    """What a header row says whatever file holds it (worked out once per distinct header of a batch)."""

    number: int
    positions: dict[str, int]
    """Column name → its index (the first, when a column is written twice)."""
    headers: dict[str, str]
    """Column name → the heading as written."""
    duplicates: list[tuple[str, int]]
    unknown: list[tuple[int, str]]
    ignored: frozenset[int]
    """Columns whose heading is one kttt ignores (`IGNORED_HEADERS`)."""
    units: list[tuple[SheetColumn, str]]
    """Columns whose heading names a unit in parentheses, with the heading: for `resolve_units`."""
    missing: list[str]
    """Columns every form requires that the header lacks."""
    keys: tuple[str, ...]
    """Per column of the batch, its heading in `raw_values` (the rows' JSON is keyed by column index)."""
    ignored_flags: list[bool]
    number_flags: list[bool]
    """Per column of the batch, whether it holds a number (int, money or number)."""
    date_flags: list[bool]
    """Per column of the batch, whether it holds a date."""


def _layout(
    matched: dict[int, str], labels: dict[int, str], columns: dict[str, SheetColumn], width: int, number: int
) -> _Layout:
    positions: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    for c, name in sorted(matched.items()):
        if name in positions:
            duplicates.append((name, c))
        else:
            positions[name] = c
    kept = set(positions.values())
    ignored = frozenset(c for c, t in labels.items() if c not in kept and fold(t) in IGNORED_HEADERS)
    keys = json_keys(labels)
    kinds = {c: columns[name].kind for name, c in positions.items()}
    return _Layout(
        number=number,
        positions=positions,
        headers={name: labels[c] for name, c in positions.items()},
        duplicates=duplicates,
        unknown=[(c, t) for c, t in sorted(labels.items()) if c not in matched and fold(t) not in IGNORED_HEADERS],
        ignored=ignored,
        units=[(columns[name], labels[c]) for name, c in positions.items() if split_unit(labels[c])[1] is not None],
        missing=[col.name for col in columns.values() if col.name not in positions and col.mandatory_always],
        keys=tuple(keys.get(j) or f"col{j + 1}" for j in range(width)),
        ignored_flags=[j in ignored for j in range(width)],
        number_flags=[j in kinds and kinds[j] in NUMBER_KINDS for j in range(width)],
        date_flags=[kinds.get(j) == "date" for j in range(width)],
    )


def _escaped(expr: pl.Expr) -> pl.Expr:
    """A text as the inside of a JSON string (as `json.dumps` writes it; other control characters never get
    here)."""
    for raw, esc in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        expr = expr.str.replace_all(raw, esc, literal=True)
    return expr


def _cut_group(items: list[tuple[RawSheet, str, str]], sheet: str) -> list[Cut]:
    frame, width = _stacked([raw for raw, _, _ in items])
    cols = range(width)
    frame = frame.with_columns(_cols("c", cols).str.strip_chars().name.map(_named("s"))).with_columns(
        (_cols("s", cols) != "").fill_null(False).name.map(_named("f"))
    )
    frame = frame.with_columns(
        pl.sum_horizontal(_cols("f", cols)).alias("_filled"),
        pl.concat_str(_cols("c", cols), separator=" ", ignore_nulls=True).str.contains(_CONTROL).alias("_odd"),
    )
    per_sheet = frame.group_by("_i").agg(pl.col("_filled").max(), pl.col("_odd").any()).sort("_i")
    empty = dict(zip(per_sheet["_i"].to_list(), (n < 2 for n in per_sheet["_filled"].to_list()), strict=True))
    odd = {i for i, o in zip(per_sheet["_i"].to_list(), per_sheet["_odd"].to_list(), strict=True) if o}
    suspects = _suspects(frame, width)

    headers = _headers(frame, width, sheet, odd | suspects)
    columns = columns_by_name(sheet)

    blocks: dict[int, SheetBlock] = {}
    layouts: dict[tuple, _Layout] = {}
    layout_of: dict[int, _Layout] = {}
    block_rows: list[tuple[int, int, int]] = []  # sheet, header row, layout
    for i, (hr, matched, labels) in sorted(headers.items()):
        file = items[i][2]
        key = (tuple(sorted(matched.items())), tuple(sorted(labels.items())))
        layout = layouts.get(key)
        if layout is None:  # the files of a batch share a few headers: each is worked out once
            layout = layouts[key] = _layout(matched, labels, columns, width, len(layouts))
        layout_of[i] = layout
        block = blocks[i] = SheetBlock(sheet=sheet, header_row=hr + 1, headers=dict(layout.headers))
        for col, label in layout.units:
            resolve_units(block, file, hr + 1, col, label)
        for name in layout.missing:  # the others depend on the period: ingest.in_force
            block.issues.append(Issue(file, sheet, None, name, "column_missing"))
            block.file_error = True
        block_rows.append((i, hr, layout.number))
    cuts = [Cut(empty=empty.get(i, True), suspect=i in suspects) for i in range(len(items))]
    if not blocks:
        return cuts
    header_rows = pl.DataFrame(block_rows, schema={"_i": pl.Int64, "_hr": pl.Int64, "_layout": pl.Int64}, orient="row")
    data = frame.join(header_rows, on="_i", how="inner").filter(
        (pl.col("_r") > pl.col("_hr")) & (pl.col("_filled") > 0)
    )
    data = _with_number_flags(data, width, [raw for raw, _, _ in items], list(layouts.values()))
    # Total rows: the rule of cut_sheet, in Python, for rows whose first filled cell starts with T or C.
    first = pl.coalesce(pl.when(_cols("f", cols)).then(_cols("c", cols)))
    candidates = data.filter(first.str.contains(_TOTAL_START)).select("_i", "_r", _cols("c", cols), _cols("n", cols))
    totals = [
        (row[0], row[1])
        for row in candidates.iter_rows()
        if is_total(list(row[2 : 2 + width]), lambda c, flags=row[2 + width :]: bool(flags[c]))
    ]
    if totals:
        gone = pl.DataFrame(totals, schema={"_i": pl.Int64, "_r": pl.Int64}, orient="row")
        data = data.join(gone, on=["_i", "_r"], how="anti")
    skipped = _non_data_rows(
        data, width, list(layouts.values()), {i: layout.ignored for i, layout in layout_of.items()}
    )
    if skipped:
        gone = pl.DataFrame(
            [(i, r - 1) for i, rows in skipped.items() for r, _ in rows],
            schema={"_i": pl.Int64, "_r": pl.Int64},
            orient="row",
        )
        data = data.join(gone, on=["_i", "_r"], how="anti")
    # Escaped only in the columns that hold a character JSON escapes (five passes per column otherwise), and
    # NFC-normalised only in the columns holding a non-ASCII letter (ASCII is NFC already; normalising is slow).
    found = data.select(
        _cols("c", cols).str.contains(_JSON_ESCAPED).any().name.map(_named("e")),
        _cols("s", cols).str.contains(_NON_ASCII).any().name.map(_named("a")),
    ).row(0)
    escapes, accented = found[:width], found[width:]
    plain, normalized = [j for j in cols if not accented[j]], [j for j in cols if accented[j]]
    data = data.sort("_i", "_r").select(
        "_i",
        "_r",
        *(
            pl.when(_cols("f", js))
            .then(_cols("s", js).str.normalize("NFC") if js is normalized else _cols("s", js))
            .name.map(_named("t"))
            for js in (plain, normalized)
            if js
        ),
        _cols("n", cols),
        pl.when(_cols("f", cols)).then(_cols("s", cols)).name.map(_named("s")),
        pl.concat_str(
            pl.lit("{"),
            pl.concat_str(
                (
                    pl.when(pl.col(f"f{j}")).then(
                        pl.concat_str(
                            pl.lit(_json_key(str(j))),
                            pl.lit('"'),
                            _escaped(pl.col(f"c{j}")) if escapes[j] else pl.col(f"c{j}"),
                            pl.lit('"'),
                        )
                    )
                    for j in cols
                ),
                separator=", ",
                ignore_nulls=True,
            ),
            pl.lit("}"),
        ).alias("_raw"),
    )
    # The named frame holds the same rows as `data`, in the same order.
    bounds = np.searchsorted(data["_i"].to_numpy(), np.arange(len(items) + 1))
    rows = _named_rows(data, {i: layout.positions for i, layout in layout_of.items()}, columns).drop("_i")
    lists: dict[str, list] = {}

    def column(name: str) -> list:
        if name not in lists:
            lists[name] = data[name].to_list()
        return lists[name]

    for i, block in blocks.items():
        a, b = int(bounds[i]), int(bounds[i + 1])
        layout = layout_of[i]
        block.data = BlockRows(rows, a, b - a, tuple(layout.positions), layout.keys)
        block.skipped = skipped.get(i, [])
        file, hr = items[i][2], block.header_row
        for name, c in layout.duplicates:
            letters = f"{column_letters(layout.positions[name] + 1)}, {column_letters(c + 1)}"
            values = column_values_json(block.rows, column(f"s{c}")[a:b])
            block.issues.append(Issue(file, sheet, hr, name, "duplicate_column", detail=letters, raw_values=values))
        for c, text in layout.unknown:
            values = column_values_json(block.rows, column(f"s{c}")[a:b])
            block.issues.append(Issue(file, sheet, hr, None, "unknown_column", value=text, raw_values=values))
        cuts[i].block = block
    return cuts


def _named_rows(
    data: pl.DataFrame, positions: dict[int, dict[str, int]], columns: dict[str, SheetColumn]
) -> pl.DataFrame:
    """The kept rows of the group's sheets as one frame of named columns (`ingest.block_rows`), sorted by sheet
    `_i` and row: each sheet's columns taken from where its header put them (sheets laid out alike are taken
    together), a Có/Không column ticked with "x" reading its blanks as "Không" (`blank_means_no`)."""
    layouts: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for i, pos in positions.items():
        layouts.setdefault(tuple(pos.items()), []).append(i)
    parts = [
        data.filter(pl.col("_i").is_in(members)).select(
            "_i",
            (pl.col("_r") + 1).alias("source_row"),
            pl.col("_raw").alias("raw_values"),
            *(pl.col(f"t{c}").alias(name) for name, c in layout),
            *(pl.col(f"n{c}").alias(flag(name)) for name, c in layout),
        )
        for layout, members in layouts.items()
    ]
    rows = pl.concat(parts, how="diagonal") if len(parts) > 1 else parts[0]
    if len(parts) > 1:
        rows = rows.sort("_i", "source_row")
    ticked = [name for name in rows.columns if name in columns and columns[name].kind == "bool"]
    if ticked:
        texts = pl.concat([rows.get_column(name).drop_nulls().unique() for name in ticked]).unique().to_list()
        ticks = [t for t in texts if fold(t) == "x"]
        if ticks:
            rows = rows.with_columns(
                pl.when(pl.col(name).is_in(ticks).any().over("_i"))
                .then(pl.col(name).fill_null("Không"))
                .otherwise(pl.col(name))
                .alias(name)
                for name in ticked
            )
    return rows


def _non_data_rows(
    data: pl.DataFrame, width: int, layouts: list[_Layout], ignored: dict[int, frozenset[int]]
) -> dict[int, list[tuple[int, str]]]:
    """Per sheet, the rows below the header that are not data (1-based row, reason), as `cut_sheet` tells them.

    Only a row with at most `MAX_SIGNATURE_CELLS` filled cells, or none outside the ignored columns, can be one;
    those few go through `non_data_reason` in Python, in row order (a signature row makes the names under it
    part of the block)."""
    cols = range(width)
    ignored_in = {j: _in_layouts(layouts, j, lambda layout: layout.ignored_flags) for j in cols}
    never = [j for j, flag in ignored_in.items() if flag is False]
    outside = pl.sum_horizontal(
        pl.lit(0),
        *([_cols("f", never)] if never else []),
        *(pl.col(f"f{j}") & ~flag for j, flag in ignored_in.items() if isinstance(flag, pl.Expr)),
    )
    short = (
        data.filter((pl.col("_filled") <= MAX_SIGNATURE_CELLS) | (outside == 0))
        .sort("_i", "_r")
        .select("_i", "_r", *(f"c{j}" for j in cols), *(f"f{j}" for j in cols))
    )
    found: dict[int, list[tuple[int, str]]] = {}
    signed: set[int] = set()
    for row in short.iter_rows():
        i, r = row[0], row[1]
        filled = {j: row[2 + j] for j in cols if row[2 + width + j]}
        reason = non_data_reason(filled, ignored[i], i in signed)
        if reason is not None:
            found.setdefault(i, []).append((r + 1, reason))
            if reason == SIGNATURE:
                signed.add(i)
    return found
