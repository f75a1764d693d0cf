"""Run a pandera model over a whole period's rows and name each failure by its rule."""

from __future__ import annotations

import re

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from ingest.in_force import keep_in_force
from ingest.issues import ROW_ISSUE_SCHEMA
from schemas.fields import sheet_columns
from schemas.rules import RULES
from schemas.sheets import HTX_RATING_COLUMNS, THT_RATING_COLUMNS
from schemas.vocab import Vocab

_SUMS = {"htx_ratings_sum": HTX_RATING_COLUMNS, "tht_ratings_sum": THT_RATING_COLUMNS}

_COLUMN_CHECKS = (
    (re.compile(r"^not_nullable$"), "required"),
    (re.compile(r"^greater_than_or_equal_to\((.*)\)$"), "min_value"),
    (re.compile(r"^greater_than\((.*)\)$"), "min_value"),
    (re.compile(r"^in_range\((.*)\)$"), "range"),
    (re.compile(r"^isin\((.*)\)$"), "domain"),
    (re.compile(r"^str_matches\((.*)\)$"), "format"),
)
ISSUE_SCHEMA = ROW_ISSUE_SCHEMA


def _column_rule(check: str) -> tuple[str, str | None]:
    for pattern, rule in _COLUMN_CHECKS:
        m = pattern.match(check)
        if m:
            return rule, (m.group(1) if m.groups() else None)
    raise ValueError(f"pandera check without a rule: {check}")


def _detail(
    model: type[pa.DataFrameModel], column: str, rule: str, raw: str | None, vocabs: dict[str, Vocab]
) -> str | None:
    if rule == "domain":
        col = next((c for c in sheet_columns(model, every=True) if c.name == column), None)
        if col is not None and col.vocab in vocabs:
            return ", ".join(t.label_vi for t in vocabs[col.vocab].terms)
    if rule == "range" and raw:
        return raw.replace(", ", "–")
    if rule == "format" and column == "tax_code":
        return "0123456789 / 0123456789-001"
    return raw


def model_issues(
    model: type[pa.DataFrameModel], frame: pl.DataFrame, vocabs: dict[str, Vocab], period: str | None = None
) -> pl.DataFrame:
    """Every row-level failure of ``model`` on ``frame``: row position, column, rule, value, detail.

    With a `period`, only what the law of that period asks is reported (see `ingest.in_force`).
    A failure without a row (a schema-level problem such as a wrong dtype) means the
    pipeline built the frame wrongly, and is raised.
    """
    try:
        model.validate(frame, lazy=True)
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    if cases["index"].null_count():
        bad = cases.filter(pl.col("index").is_null())
        raise RuntimeError(f"schema-level validation failure (pipeline bug): {bad.to_dicts()[:3]}")
    rows = []
    for case in cases.iter_rows(named=True):
        i = int(case["index"])
        if case["schema_context"] == "Column":
            column = case["column"]
            rule, raw = _column_rule(case["check"])
            value = case["failure_case"]
        else:
            rule = case["check"]
            column = next(c for c in RULES[rule].blames if c in frame.columns)
            value_raw = frame[column][i]
            value = None if value_raw is None else str(value_raw)
            raw = None
            if rule in _SUMS:
                raw = str(sum(frame[c][i] or 0 for c in _SUMS[rule]))
        rows.append(
            {
                "_i": i,
                "column": column,
                "rule": rule,
                "value": value,
                "detail": _detail(model, column, rule, raw, vocabs),
            }
        )
    found = pl.DataFrame(rows, schema=ISSUE_SCHEMA)
    return found if period is None else keep_in_force(found, model, frame, period)
