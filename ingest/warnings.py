"""Warnings on accepted rows: the law's member minimums, outliers, and reconciliation.

Warnings never remove a row: they flag what a person should look at (a capital typed
in đồng instead of million đồng, a TongHop sheet that disagrees with the detail rows).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ingest.issues import Issue
from schemas.vocab import SCALES

MEMBER_MINIMUM = {"HTX": ("cooperatives", 5), "THT": ("coop_groups", 2)}
OUTLIER_FACTOR = 1000.0
OUTLIER_MIN_VALUES = 5
OUTLIER_COLUMNS = {
    "HTX": ("cooperatives", ("charter_capital_mvnd", "revenue_mvnd", "tax_paid_mvnd", "loans_disbursed_mvnd")),
    "THT": ("coop_groups", ("revenue_mvnd",)),
}


def member_warnings(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """Units with fewer members than the law's minimum (5 for a cooperative, 2 for a group)."""
    out = []
    for sheet, (table, minimum) in MEMBER_MINIMUM.items():
        low = tables[table].filter(pl.col("members") < minimum)
        out += [
            Issue(
                r["source_file"],
                sheet,
                r["source_row"],
                "members",
                "members_below_minimum",
                value=r["members"],
                detail=minimum,
            )
            for r in low.select("source_file", "source_row", "members").iter_rows(named=True)
        ]
    return out


def outlier_warnings(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """Amounts more than 1000× the district median of their column in the period."""
    out = []
    for sheet, (table, columns) in OUTLIER_COLUMNS.items():
        df = tables[table]
        for col in columns:
            values = df[col].drop_nulls().filter(df[col].drop_nulls() > 0)
            if values.len() < OUTLIER_MIN_VALUES:
                continue
            median = float(values.median())  # type: ignore[arg-type]
            high = df.filter(pl.col(col) > OUTLIER_FACTOR * median)
            out += [
                Issue(
                    r["source_file"],
                    sheet,
                    r["source_row"],
                    col,
                    "outlier",
                    value=f"{r[col]:g}",
                    detail=f"×{r[col] / median:,.0f} median {median:g}",
                )
                for r in high.select("source_file", "source_row", col).iter_rows(named=True)
            ]
    return out


def _detail_counts(coops: pl.DataFrame, groups: pl.DataFrame) -> dict[str, dict[str, Any]]:
    def per_file(df: pl.DataFrame, aggs: list[pl.Expr]) -> dict[str, dict[str, Any]]:
        if df.is_empty():
            return {}
        return {r["source_file"]: r for r in df.group_by("source_file").agg(aggs).iter_rows(named=True)}

    active = pl.col("status") == "active"
    htx = per_file(
        coops,
        [
            pl.len().alias("htx_total"),
            (pl.col("status") == "new").sum().alias("htx_new"),
            *[(active & (pl.col("rating") == r)).sum().alias(f"htx_{r}") for r in ("good", "fair", "average", "weak")],
            (pl.col("status") == "suspended").sum().alias("htx_suspended"),
            pl.col("members").sum().alias("htx_members"),
            pl.col("charter_capital_mvnd").sum().alias("htx_capital_mvnd"),
        ],
    )
    tht = per_file(
        groups,
        [
            pl.len().alias("tht_total"),
            (pl.col("status") == "new").sum().alias("tht_new"),
            *[(active & (pl.col("rating") == r)).sum().alias(f"tht_{r}") for r in ("good", "fair", "average")],
            ((pl.col("rating") == "weak") | (pl.col("status") == "suspended")).sum().alias("tht_weak"),
        ],
    )
    return {f: {**htx.get(f, {}), **tht.get(f, {})} for f in set(htx) | set(tht)}


def reconciliation_warnings(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """TongHop figures that differ from the detail rows of the same submission."""
    details = _detail_counts(tables["cooperatives"], tables["coop_groups"])
    zero_counts = {
        "htx_total",
        "htx_new",
        "htx_good",
        "htx_fair",
        "htx_average",
        "htx_weak",
        "htx_suspended",
        "tht_total",
        "tht_new",
        "tht_good",
        "tht_fair",
        "tht_average",
        "tht_weak",
    }
    out = []
    for row in tables["commune_summaries"].iter_rows(named=True):
        counted = details.get(row["source_file"], {})
        for col in (*sorted(zero_counts), "htx_members", "htx_capital_mvnd"):
            stated = row[col]
            actual = counted.get(col, 0 if col in zero_counts else None)
            if stated is None or actual is None:
                continue
            if abs(float(stated) - float(actual)) > 0.5:
                out.append(
                    Issue(
                        row["source_file"],
                        "TongHop",
                        row["source_row"],
                        col,
                        "reconciliation",
                        value=f"{stated:g}",
                        detail=f"{actual:g}",
                    )
                )
    return out


def scale_warnings(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """Cooperatives whose reported scale class differs from the one computed from the decree's thresholds."""
    coops = tables["cooperatives"]
    if "scale_computed" not in coops.columns:
        return []
    differ = coops.filter(
        pl.col("scale_reported").is_not_null()
        & pl.col("scale_computed").is_not_null()
        & (pl.col("scale_reported") != pl.col("scale_computed"))
    )
    return [
        Issue(
            r["source_file"],
            "HTX",
            r["source_row"],
            "scale_reported",
            "scale_mismatch",
            value=SCALES.label_vi(r["scale_reported"]),
            detail=SCALES.label_vi(r["scale_computed"]),
        )
        for r in differ.select("source_file", "source_row", "scale_reported", "scale_computed").iter_rows(named=True)
    ]


def warnings(tables: dict[str, pl.DataFrame]) -> list[Issue]:
    """All warnings of a period's accepted rows."""
    return member_warnings(tables) + outlier_warnings(tables) + reconciliation_warnings(tables) + scale_warnings(tables)
