"""Turn the text cells of many submissions into typed columns, in bulk.

Input: a frame with, per sheet column ``c``, the cell text ``c``, the flag ``c__num``
(the cell was numeric in the workbook) and, for money columns, ``c__factor`` (unit
conversion to million VND). Output: the typed frame the pandera models describe,
plus one row per cell that could not be read (its rule and the text as written).

Conversion is two passes. A cell saved as a number is cast as it is; the texts that need
reading (numbers typed as text, "1.250,5", "(12)"; categories and yes/no in any spelling) are
few and repeat, so each distinct text is read once, for all the sheet's columns of its kind, and
the columns look their texts up. Reading every cell through every branch of the parsers (polars
evaluates each `when/then` branch for all rows, and compiles each pattern again per column) cost
several times more, most of it for cells that were plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from ingest.block_rows import flag
from ingest.issues import ROW_ISSUE_SCHEMA
from ingest.text import EMPTY_MARKS, date_expr, fold, number_expr
from schemas import vocab
from schemas.columns import NUMBER_KINDS
from schemas.fields import SheetColumn

VOCABS = vocab.BY_NAME
DTYPES = {
    "text": pl.String,
    "category": pl.String,
    "period": pl.String,
    "int": pl.Int64,
    "money": pl.Float64,
    "number": pl.Float64,
    "bool": pl.Boolean,
    "date": pl.Date,
}
ISSUE_SCHEMA = ROW_ISSUE_SCHEMA


@cache
def folded_spellings(vocab_name: str) -> dict[str, str]:
    """Folded spelling → code for one vocabulary."""
    return {fold(s): code for s, code in VOCABS[vocab_name].spellings().items()}


def _num_flag(frame: pl.DataFrame, name: str) -> pl.Expr:
    column = flag(name)
    return pl.col(column).fill_null(False) if column in frame.columns else pl.lit(False)


@dataclass(frozen=True)
class _Lookup:
    """Distinct texts of one kind of cell and what each reads as: `old` → `new` for `replace_strict`."""

    old: pl.Series
    new: pl.Series

    def expr(self, text: pl.Expr) -> pl.Expr:
        return text.replace_strict(self.old, self.new, default=None, return_dtype=self.new.dtype)


def _distinct(frame: pl.DataFrame, names: list[str], numeric: bool | None) -> pl.Series:
    """Distinct non-empty texts of `names`: all (`numeric` None), or only in cells saved as numbers or not."""
    parts = []
    for name in names:
        text = pl.col(name)
        if numeric is not None:
            text = text.filter(_num_flag(frame, name) if numeric else ~_num_flag(frame, name))
        parts.append(frame.select(text.drop_nulls().unique().alias("t")))
    return pl.concat(parts).get_column("t").unique() if parts else pl.Series("t", [], pl.String)


def _lookups(frame: pl.DataFrame, columns: list[SheetColumn]) -> dict[str, _Lookup]:
    """Each distinct text read once: numbers typed as text (`number`), number cells a plain cast cannot read
    (`number_cell`), yes/no (`bool`), and each vocabulary (`vocab:<name>`)."""
    present = [c for c in columns if c.name in frame.columns]
    numbers = [c.name for c in present if c.kind in NUMBER_KINDS]
    out: dict[str, _Lookup] = {}
    typed_text = _distinct(frame, numbers, numeric=False).to_frame("t")
    out["number"] = _Lookup(typed_text["t"], typed_text.select(number_expr(pl.col("t")).alias("v"))["v"])
    cells = (
        _distinct(frame, numbers, numeric=True)
        .to_frame("t")
        .filter(pl.col("t").cast(pl.Float64, strict=False).is_null())
    )
    out["number_cell"] = _Lookup(cells["t"], cells.select(number_expr(pl.col("t"), pl.lit(True)).alias("v"))["v"])
    bools = _distinct(frame, [c.name for c in present if c.kind == "bool"], None)
    yes_no = {k: v == "true" for k, v in folded_spellings("yes_no").items()}
    out["bool"] = _Lookup(bools, pl.Series([yes_no.get(fold(t)) for t in bools.to_list()], dtype=pl.Boolean))
    for vocab_name in {c.vocab or "" for c in present if c.kind == "category"}:
        texts = _distinct(
            frame, [c.name for c in present if c.kind == "category" and (c.vocab or "") == vocab_name], None
        )
        mapping = folded_spellings(vocab_name)
        out[f"vocab:{vocab_name}"] = _Lookup(
            texts, pl.Series([mapping.get(fold(t)) for t in texts.to_list()], dtype=pl.String)
        )
    return out


def _typed(frame: pl.DataFrame, col: SheetColumn, lookups: dict[str, _Lookup]) -> tuple[pl.Expr, str | None]:
    """Expression for the typed value of a column, and the rule reported when text does not convert."""
    text = pl.col(col.name)
    is_num = _num_flag(frame, col.name)
    if col.kind == "category":
        return lookups[f"vocab:{col.vocab or ''}"].expr(text), "domain"
    if col.kind == "bool":
        return lookups["bool"].expr(text), "type_bool"
    if col.kind == "date":
        return date_expr(text, is_num), "type_date"
    if col.kind in NUMBER_KINDS:
        # A number cell's text is its plain decimal form (`number_expr` with the cell flag); an empty mark
        # ("-") reads as no number in both lookups.
        as_cell = pl.coalesce(text.cast(pl.Float64, strict=False), lookups["number_cell"].expr(text))
        value = pl.when(is_num).then(as_cell).otherwise(lookups["number"].expr(text))
        if col.kind == "money":
            factor = f"{col.name}__factor"
            if factor in frame.columns:
                value = (value * pl.col(factor).fill_null(1.0)).round(6)
            return value, "type_number"
        if col.kind == "int":
            whole = value.round(0) == value
            return pl.when(whole).then(value).otherwise(None).cast(pl.Int64, strict=False), "type_integer"
        return value, "type_number"
    return text, None


def _allowed(columns: list[SheetColumn]) -> dict[str, str]:
    """Column name → the labels a clerk may type, for the message of a value that is not one of them."""
    out = {c.name: VOCABS[c.vocab].allowed_vi() for c in columns if c.kind == "category" and c.vocab in VOCABS}
    return out | {c.name: VOCABS["yes_no"].allowed_vi() for c in columns if c.kind == "bool"}


def convert(frame: pl.DataFrame, columns: list[SheetColumn]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed columns for ``columns`` and the cells that failed to convert.

    Columns absent from ``frame`` come out as nulls of the right type. The issue frame
    has ``_i`` (row position in ``frame``), ``column``, ``rule`` and ``value`` (text as written).
    """
    exprs: list[pl.Expr] = []
    checks: list[pl.Expr] = []
    lookups = _lookups(frame, columns)
    for col in columns:
        dtype = DTYPES[col.kind]
        if col.name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(col.name))
            continue
        value, rule = _typed(frame, col, lookups)
        exprs.append(value.cast(dtype).alias(col.name))
        if rule is not None:
            # Compared with the typed column computed once, not with a second evaluation of ``value``.
            empty = pl.col(col.name).is_null() | pl.col(col.name).is_in(list(EMPTY_MARKS))
            failed = ~empty & pl.col(f"{col.name}__typed").is_null()
            checks.append(pl.when(failed).then(pl.lit(rule)).otherwise(None).alias(f"{col.name}"))
    typed = frame.select(exprs)
    if not checks:
        return typed, pl.DataFrame(schema=ISSUE_SCHEMA)
    texts = [c.name for c in columns if c.name in frame.columns]
    # Only the rows with a cell that failed are taken apart cell by cell (the whole sheet unpivoted would hold
    # every cell of a national quarter as a row of its own).
    failed = (
        pl.concat([frame.select(texts), typed.select(pl.all().name.suffix("__typed"))], how="horizontal")
        .with_row_index("_i")
        .select(pl.col("_i"), *checks)
        .filter(pl.any_horizontal(pl.all().exclude("_i").is_not_null()))
    )
    if not failed.height:
        return typed, pl.DataFrame(schema=ISSUE_SCHEMA)
    written = (
        frame.with_row_index("_i")
        .filter(pl.col("_i").is_in(failed["_i"].implode()))
        .select("_i", *texts)
        .unpivot(index="_i", variable_name="column", value_name="value")
    )
    issues = (
        failed.unpivot(index="_i", variable_name="column", value_name="rule")
        .drop_nulls("rule")
        .join(written, on=["_i", "column"], how="left")
        .with_columns(pl.col("column").replace_strict(_allowed(columns), default=None).alias("detail"))
        .select(list(ISSUE_SCHEMA))
        .sort("_i", "column")
    )
    return typed, issues.cast(ISSUE_SCHEMA)
