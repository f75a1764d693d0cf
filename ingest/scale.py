"""The scale class of a cooperative computed from the thresholds of Decree 113/2024/NĐ-CP.

The thresholds are data: `schemas/scale_thresholds.csv` holds the defaults (what could be
confirmed of the decree, empty where it could not), and a district's
`reference/scale_thresholds.csv` replaces them. One line per group of kttt sectors and
class (large, medium, small; micro is what meets none), with the head count it uses
(`members`, the decree's official members, or `workers`), the minimum head count, and the
minimum annual revenue or total capital (million VND; either suffices), and the periods
the line is in force. A cooperative is tried from the largest class down; where a class
it would have to be tried against has no thresholds, or it reports neither revenue nor
total capital, its class is not computed (null) rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from schemas.in_force import in_window
from schemas.vocab import SECTORS

DEFAULT_THRESHOLDS = Path(__file__).resolve().parents[1] / "schemas" / "scale_thresholds.csv"
THRESHOLD_FILE = "scale_thresholds.csv"
HEADCOUNTS = {"members": "members", "workers": "total_workers"}
CLASSES = ("large", "medium", "small")
_SCHEMA = {
    "sectors": pl.String,
    "scale": pl.String,
    "headcount": pl.String,
    "min_headcount": pl.Int64,
    "min_revenue_mvnd": pl.Float64,
    "min_capital_mvnd": pl.Float64,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "confirmed": pl.String,
    "basis": pl.String,
}


class ThresholdError(ValueError):
    """A thresholds file kttt cannot use: said in Vietnamese and English, naming the file and line."""


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> pl.DataFrame:
    """The thresholds of `path`, checked: known sectors, classes and head counts, numbers where numbers go."""
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception as exc:
        raise ThresholdError(f"Không đọc được {path} / cannot read {path}: {exc}") from exc
    missing = [c for c in _SCHEMA if c not in frame.columns]
    if missing:
        raise ThresholdError(f"{path}: thiếu cột / missing columns {', '.join(missing)}")
    frame = frame.select(pl.col(c).str.strip_chars().replace("", None) for c in _SCHEMA)
    for line, row in enumerate(frame.iter_rows(named=True), start=2):
        where = f"{path}, dòng / line {line}"
        unknown = [s for s in (row["sectors"] or "").split() if s not in SECTORS.codes]
        if unknown or not row["sectors"]:
            raise ThresholdError(f"{where}: lĩnh vực không rõ / unknown sector {' '.join(unknown) or '(empty)'}")
        if row["scale"] not in CLASSES:
            raise ThresholdError(f"{where}: quy mô phải là / scale must be one of {', '.join(CLASSES)}")
        if (row["headcount"] or "members") not in HEADCOUNTS:
            raise ThresholdError(f"{where}: headcount phải là / must be members or workers")
        for c in ("min_headcount", "min_revenue_mvnd", "min_capital_mvnd"):
            if row[c] is not None and _number(row[c]) is None:
                raise ThresholdError(f"{where}: {c} «{row[c]}» không phải số / is not a number")
    return frame.with_columns(
        pl.col("headcount").fill_null("members"),
        *(pl.col(c).cast(t) for c, t in _SCHEMA.items() if t is not pl.String),
    )


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _meets(line: dict, revenue: pl.Expr, capital: pl.Expr) -> pl.Expr:
    count = pl.col(HEADCOUNTS[line["headcount"]])
    money = (revenue >= line["min_revenue_mvnd"]).fill_null(False) | (capital >= line["min_capital_mvnd"]).fill_null(
        False
    )
    return (count >= line["min_headcount"]).fill_null(False) & money


def scale_expr(thresholds: pl.DataFrame, period: str) -> pl.Expr:
    """The computed class of each cooperative row in `period` (null where it cannot be told)."""
    lines = [r for r in thresholds.iter_rows(named=True) if in_window(period, r["valid_from"], r["valid_to"])]
    revenue, capital = pl.col("revenue_mvnd"), pl.col("total_capital_mvnd")
    unknown = pl.lit(None, dtype=pl.String)
    out = unknown
    for sector in SECTORS.codes:
        mine = {r["scale"]: r for r in lines if sector in r["sectors"].split()}
        if not mine:
            continue
        chain = pl.lit("micro")
        for cls in reversed(CLASSES):  # built from the smallest up: the largest class is tried first
            line = mine.get(cls)
            complete = line is not None and None not in (
                line["min_headcount"],
                line["min_revenue_mvnd"],
                line["min_capital_mvnd"],
            )
            chain = pl.when(_meets(line, revenue, capital)).then(pl.lit(cls)).otherwise(chain) if complete else unknown
        told = revenue.is_not_null() | capital.is_not_null()
        out = pl.when((pl.col("sector") == sector) & told).then(chain).otherwise(out)
    return out


def with_scale_class(typed: pl.DataFrame, thresholds: pl.DataFrame, period: str) -> pl.DataFrame:
    """Cooperative rows with `scale_computed` (codes of the `scale` vocabulary)."""
    expr = scale_expr(thresholds, period)
    return typed.with_columns(expr.cast(pl.String).alias("scale_computed"))
