"""Turn the text cells of many submissions into typed columns, in bulk.

Input: a frame with, per sheet column ``c``, the cell text ``c``, the flag ``c__num``
(the cell was numeric in the workbook) and, for money columns, ``c__factor`` (unit
conversion to million VND). Output: the typed frame the pandera models describe,
plus one row per cell that could not be read (its rule and the text as written).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from ingest.issues import ROW_ISSUE_SCHEMA
from ingest.text import EMPTY_MARKS, date_expr, fold, fold_expr, number_expr
from schemas import vocab
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
    flag = f"{name}__num"
    return pl.col(flag) if flag in frame.columns else pl.lit(False)


def _typed(frame: pl.DataFrame, col: SheetColumn) -> tuple[pl.Expr, str | None]:
    """Expression for the typed value of a column, and the rule reported when text does not convert."""
    text = pl.col(col.name)
    is_num = _num_flag(frame, col.name)
    if col.kind == "category":
        mapping = folded_spellings(col.vocab or "")
        return fold_expr(text).replace_strict(mapping, default=None, return_dtype=pl.String), "domain"
    if col.kind == "bool":
        mapping = {k: v == "true" for k, v in folded_spellings("yes_no").items()}
        return fold_expr(text).replace_strict(mapping, default=None, return_dtype=pl.Boolean), "type_bool"
    if col.kind == "date":
        return date_expr(text, is_num), "type_date"
    if col.kind in ("int", "money", "number"):
        cleaned = pl.when(text.is_in(list(EMPTY_MARKS))).then(None).otherwise(text)
        value = number_expr(cleaned, is_num)
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
    for col in columns:
        dtype = DTYPES[col.kind]
        if col.name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(col.name))
            continue
        value, rule = _typed(frame, col)
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
    failed = (
        pl.concat([frame.select(texts), typed.select(pl.all().name.suffix("__typed"))], how="horizontal")
        .with_row_index("_i")
        .select(pl.col("_i"), *checks)
    )
    issues = (
        failed.unpivot(index="_i", variable_name="column", value_name="rule")
        .drop_nulls("rule")
        .join(
            frame.with_row_index("_i")
            .select("_i", *[c.name for c in columns if c.name in frame.columns])
            .unpivot(index="_i", variable_name="column", value_name="value"),
            on=["_i", "column"],
            how="left",
        )
        .with_columns(pl.col("column").replace_strict(_allowed(columns), default=None).alias("detail"))
        .select(list(ISSUE_SCHEMA))
        .sort("_i", "column")
    )
    return typed, issues.cast(ISSUE_SCHEMA)
