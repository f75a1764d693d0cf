"""Phase 3 of a quarter: stack one sheet of every file, convert it to types and validate it in bulk.

Rows of all files are stacked into one text frame (with their file index, `_state`,
and source row), converted column by column (`ingest.convert`), then given their period
keys and lineage and checked by the table's pandera model in one call. The result keeps
the text frame, the typed rows and one line per problem, by row index `_i`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandera.polars as pa
import polars as pl

from ingest.block_rows import expand_raw, flag
from ingest.convert import VOCABS, convert
from ingest.sheet import SheetBlock
from ingest.submission import FileState
from ingest.validate import model_issues
from schemas import warehouse as wh
from schemas.fields import sheet_columns
from schemas.periods import period_parts
from schemas.warehouse import FACT_TABLES


def _stack(states: list[FileState], sheet: str) -> tuple[pl.DataFrame, list[tuple[str, ...] | None]]:
    """Rows of one sheet from many files, as text, with their file index `_state` and row number, and the
    headings of their `raw_values` (`_raw_keys` indexes the list returned: see `ingest.block_rows`).

    The rows are gathered from the frames the readers cut (`ingest.block_rows`): one gather per shared frame,
    then in file order."""
    cols = [c.name for c in sheet_columns(FACT_TABLES[sheet][1], every=True)]
    picked = [(idx, s.blocks[sheet]) for idx, s in enumerate(states) if sheet in s.blocks and s.blocks[sheet].rows_in]
    factors = sorted({name for _, block in picked for name in block.factors})
    by_frame: dict[int, list[tuple[int, SheetBlock]]] = defaultdict(list)
    for idx, block in picked:
        by_frame[id(block.data.frame)].append((idx, block))
    parts = []
    keysets: dict[tuple[str, ...] | None, int] = {None: 0}
    for group in by_frame.values():
        lengths = np.array([block.data.length for _, block in group], dtype=np.int64)
        starts = np.array([block.data.start for _, block in group], dtype=np.int64)
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        frame = group[0][1].data.frame[offsets + np.arange(int(lengths.sum()), dtype=np.int64)]
        state = np.repeat(np.array([idx for idx, _ in group], dtype=np.uint32), lengths)
        keys = np.array([keysets.setdefault(block.data.keys, len(keysets)) for _, block in group], dtype=np.uint32)
        part = frame.with_columns(
            pl.Series("_state", state, dtype=pl.UInt32),
            pl.Series("_raw_keys", np.repeat(keys, lengths), dtype=pl.UInt32),
        )
        for name in factors:
            values = np.array([block.factors.get(name, 1.0) for _, block in group], dtype=np.float64)
            part = part.with_columns(pl.Series(f"{name}__factor", np.repeat(values, lengths), dtype=pl.Float64))
        parts.append(part)
    stacked = pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
    if len(parts) > 1:
        stacked = stacked.sort("_state", maintain_order=True)
    present = set(stacked.columns)
    exprs: list[pl.Expr] = [
        pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype).alias(name)
        for name, dtype in {
            "_state": pl.UInt32,
            "source_row": pl.Int64,
            "raw_values": pl.String,
            "_raw_keys": pl.UInt32,
        }.items()
    ]
    for c in cols:
        exprs.append(pl.col(c) if c in present else pl.lit(None, pl.String).alias(c))
        exprs.append(pl.col(flag(c)).fill_null(False) if flag(c) in present else pl.lit(False).alias(flag(c)))
    exprs += [pl.col(f"{name}__factor") for name in factors]
    return (stacked.select(exprs) if parts else pl.DataFrame().select(exprs).clear()), list(keysets)


@dataclass
class SheetResult:
    """Typed rows of one sheet across the period, and which are rejected."""

    frame: pl.DataFrame  # stacked text frame
    typed: pl.DataFrame  # warehouse-shaped typed rows, same order
    issues: pl.DataFrame  # _i, column, rule, value, detail
    rejected: pl.Series  # bool per row
    raw_keys: list[tuple[str, ...] | None] = field(default_factory=lambda: [None])
    """The headings of `raw_values` by the frame's `_raw_keys` (`ingest.block_rows.expand_raw`)."""

    def raw_values(self, row: dict) -> str | None:
        """The `raw_values` of a row of `frame` (as a dict), keyed by heading."""
        return expand_raw(row["raw_values"], self.raw_keys[row["_raw_keys"]])

    def accepted(self, model: type[pa.DataFrameModel]) -> pl.DataFrame:
        """Accepted rows in the table's column order."""
        return self.typed.filter(~self.rejected).select(wh.column_order(model))


def keys_frame(states: list[FileState], period: str) -> pl.DataFrame:
    year, quarter = period_parts(period)
    return pl.DataFrame(
        {
            "_state": list(range(len(states))),
            "commune_code": [s.commune_code for s in states],
            "commune_name": [s.commune_name for s in states],
            "source_file": [s.file.rel for s in states],
            "source_sha256": [s.file.sha256 for s in states],
        },
        schema={
            "_state": pl.UInt32,
            "commune_code": pl.String,
            "commune_name": pl.String,
            "source_file": pl.String,
            "source_sha256": pl.String,
        },
    ).with_columns(
        pl.lit(period).alias("period"), pl.lit(year, pl.Int32).alias("year"), pl.lit(quarter, pl.Int8).alias("quarter")
    )


def stack_sheet(states: list[FileState], sheet: str, period: str, only_live: bool = True) -> SheetResult:
    """Stack and convert one sheet of all (live) files of the period; not yet validated."""
    model = FACT_TABLES[sheet][1]
    chosen = [s if (s.live or s.held or not only_live) and not s.rejected else FileState(s.file) for s in states]
    frame, raw_keys = _stack(chosen, sheet)
    typed, type_issues = convert(frame, sheet_columns(model, every=True))
    typed = pl.concat([frame.select("_state", "source_row"), typed], how="horizontal")
    unit_issues = pl.DataFrame(
        [
            {"_state": i, "column": issue.column, "value": issue.value, "detail": issue.detail}
            for i, st in enumerate(chosen)
            if sheet in st.blocks and st.blocks[sheet].sheet_rejected
            for issue in st.blocks[sheet].issues[:]
            if issue.rule == "unit_unknown"
        ],
        schema={"_state": pl.UInt32, "column": pl.String, "value": pl.String, "detail": pl.String},
    ).unique("_state", keep="first", maintain_order=True)
    unit_rows = (
        frame.with_row_index("_i")
        .select("_i", "_state")
        .join(unit_issues, on="_state", how="inner")
        .select("_i", "column", pl.lit("unit_unknown").alias("rule"), "value", "detail")
        .cast(type_issues.schema)
    )
    issues = pl.concat(
        [
            type_issues,
            unit_rows,
            _block_row_issues(frame, chosen, sheet).cast(type_issues.schema),
        ]
    )
    return SheetResult(frame, typed, issues, row_mask(frame.height, issues["_i"].to_list()), raw_keys)


def _block_row_issues(frame: pl.DataFrame, states: list[FileState], sheet: str) -> pl.DataFrame:
    """Row errors found while cutting the sheet (a formula without a value, a cell in a legacy font kttt cannot
    read for sure), by row index."""
    found = pl.DataFrame(
        [
            {
                "_state": i,
                "source_row": issue.source_row,
                "column": issue.column,
                "rule": issue.rule,
                "value": None if issue.value is None else str(issue.value),
                "detail": None if issue.detail is None else str(issue.detail),
            }
            for i, st in enumerate(states)
            if sheet in st.blocks
            for issue in st.blocks[sheet].row_issues
        ],
        schema={
            "_state": pl.UInt32,
            "source_row": pl.Int64,
            "column": pl.String,
            "rule": pl.String,
            "value": pl.String,
            "detail": pl.String,
        },
    )
    return (
        frame.with_row_index("_i")
        .select("_i", "_state", "source_row")
        .join(found, on=["_state", "source_row"], how="inner")
        .select("_i", "column", "rule", "value", "detail")
    )


def validate_sheet(result: SheetResult, states: list[FileState], sheet: str, period: str) -> None:
    """Add period keys and lineage, run the table's pandera model, and mark rejected rows."""
    model = FACT_TABLES[sheet][1]
    keys = keys_frame(states, period)
    typed = result.typed.drop([c for c in keys.columns if c != "_state" and c in result.typed.columns])
    typed = typed.join(keys, on="_state", how="left", maintain_order="left")
    rule_issues = model_issues(model, typed, VOCABS, period)
    if result.issues.height:
        # Unreadable cells are already reported; pandera saw them empty.
        rule_issues = rule_issues.join(
            result.issues.select("_i", "column"), on=["_i", "column"], how="anti", nulls_equal=True
        )
    if rule_issues.height:
        text_cols = [
            c
            for c in result.frame.columns
            if not c.startswith("_") and "__" not in c and c not in ("source_row", "raw_values")
        ]
        as_written = (
            result.frame.with_row_index("_i")
            .filter(pl.col("_i").is_in(rule_issues["_i"].unique().implode()))
            .select("_i", *text_cols)
            .unpivot(index="_i", variable_name="column", value_name="written")
        )
        rule_issues = (
            rule_issues.join(as_written, on=["_i", "column"], how="left")
            .with_columns(pl.coalesce("written", "value").alias("value"))
            .drop("written")
        )
    result.issues = pl.concat([result.issues, rule_issues]).sort("_i", "column", nulls_last=False)
    result.rejected = row_mask(result.frame.height, result.issues["_i"].to_list())
    result.typed = typed.drop("_state")


def process_sheet(states: list[FileState], sheet: str, period: str) -> SheetResult:
    """Stack, convert and validate one sheet of the period's live files."""
    result = stack_sheet(states, sheet, period)
    validate_sheet(result, states, sheet, period)
    return result


def row_mask(n: int, rows: list[int]) -> pl.Series:
    """Boolean series of length `n`, true at `rows`."""
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(rows, dtype=np.int64)] = True
    return pl.Series("rejected", mask, dtype=pl.Boolean)
