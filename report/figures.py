"""Compute the report figures of a period, and the rows behind each one.

Pure functions over the period's warehouse tables; the ``report_figures`` and
``figure_sources`` assets call :func:`compute_figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import polars as pl

from report.registry import (
    HTX,
    LAW_2023_SUMS,
    STATIC_FIGURES,
    SUPPORT,
    THT,
    Figure,
    commune_figures,
    figure_by_id,
    support_figures,
)
from schemas import warehouse as wh
from schemas.periods import period_parts

TARGETS_FILE = "reference/targets.csv"
_UNIT_ID = {HTX: "coop_id", THT: "group_id", SUPPORT: "program"}
_SOURCE_SCHEMA = {k: v for k, v in wh.polars_schema(wh.FigureSources).items() if k not in wh.PERIOD_KEYS}


def largest_remainder(counts: list[float], decimals: int = 2, total: int = 100) -> list[float]:
    """Percentages of ``counts`` with ``decimals`` decimals that sum to exactly ``total``.

    Each share is floored at the last decimal, then the units still missing go to the
    largest remainders (ties: the earlier item).

    >>> largest_remainder([26, 44, 49, 11, 2])
    [19.7, 33.33, 37.12, 8.33, 1.52]
    """
    whole = sum(Decimal(str(c)) for c in counts)
    if whole == 0:
        return [0.0 for _ in counts]
    scale = Decimal(10) ** decimals
    exact = [Decimal(str(c)) * total * scale / whole for c in counts]
    floors = [e.to_integral_value(rounding=ROUND_FLOOR) for e in exact]
    missing = int(total * scale - sum(floors))
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return [float(f / scale) for f in floors]


@dataclass
class FigureResult:
    """Figures of one period and their provenance."""

    figures: pl.DataFrame
    sources: pl.DataFrame


def _sources(fig: Figure, rows: pl.LazyFrame, columns: list[str]) -> pl.LazyFrame:
    """The `figure_sources` rows of `fig`: the rows it is computed from (`rows`, whose columns are `columns`)."""
    commune = pl.col("commune_code") if "commune_code" in columns else pl.lit(None, dtype=pl.String)
    return rows.select(  # in `_SOURCE_SCHEMA`'s order: the figures' sources are concatenated as they come
        commune.alias("commune_code"),
        pl.lit(fig.id).alias("figure_id"),
        pl.lit(fig.table).alias("source_table"),
        pl.col(_UNIT_ID[fig.table]).cast(pl.String).alias("unit_id"),
        pl.col("source_file"),
        pl.col("source_row"),
    ).cast(_SOURCE_SCHEMA)


def _target_figures(
    targets: pl.DataFrame, year: int, values: dict[str, float], sources: dict[str, pl.DataFrame]
) -> tuple[list[dict], list[pl.DataFrame]]:
    rows, provenance = [], []
    for t in targets.iter_rows(named=True):
        indicator = t["indicator"]
        reg = figure_by_id(indicator)
        target_row = pl.DataFrame(
            [
                {
                    "figure_id": "",
                    "source_table": "targets",
                    "commune_code": None,
                    "unit_id": indicator,
                    "source_file": TARGETS_FILE,
                    "source_row": t["source_row"],
                }
            ],
            schema=_SOURCE_SCHEMA,
        )
        label = t["label_vi"] or (reg.label_vi if reg else indicator)
        if t["year"] == year + 1:
            fid = f"target.{indicator}"
            rows.append(
                {
                    "figure_id": fid,
                    "section": "II.3",
                    "label_vi": f"Mục tiêu {t['year']}: {label}",
                    "value": float(t["target"]),
                    "unit": t["unit"] or (reg.unit if reg else ""),
                }
            )
            provenance.append(target_row.with_columns(pl.lit(fid).alias("figure_id")))
        if t["year"] == year and indicator in values and t["target"]:
            fid = f"progress.{indicator}"
            rows.append(
                {
                    "figure_id": fid,
                    "section": "II.3",
                    "label_vi": f"Mức đạt mục tiêu {t['year']}: {label}",
                    "value": round(100 * values[indicator] / float(t["target"]), 2),
                    "unit": "pct",
                }
            )
            provenance.append(target_row.with_columns(pl.lit(fid).alias("figure_id")))
            provenance.append(sources[indicator].with_columns(pl.lit(fid).alias("figure_id")))
    return rows, provenance


def _reporting_communes(coops: pl.DataFrame) -> dict[str, list[str]]:
    """New column → communes with a cooperative reporting it (their figures exist only then)."""
    out = {}
    for col, _, _ in LAW_2023_SUMS:
        if col in coops.columns:
            codes = coops.filter(pl.col(col).is_not_null())["commune_code"].unique().sort().to_list()
            if codes:
                out[col] = codes
    return out


def _narrowed(tables: dict[str, pl.DataFrame], figures: list[Figure]) -> dict[str, pl.DataFrame]:
    """Each table with only the columns some figure reads or `_sources` lists: the rows of each of some two hundred
    figures are filtered out of it, and the fewer columns, the less each filter copies."""
    wanted: dict[str, set[str]] = {}
    for fig in figures:
        columns = wanted.setdefault(fig.table, {"commune_code", _UNIT_ID[fig.table], "source_file", "source_row"})
        columns.update(fig.where.meta.root_names(), fig.value.meta.root_names())
    return {
        name: frame.select([c for c in frame.columns if c in wanted[name]]) if name in wanted else frame
        for name, frame in tables.items()
    }


def _computed(narrow: dict[str, pl.DataFrame], figures: list[Figure]) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """For each figure, its value with the count of rows it is computed from (one row: `value`, `rows`), and those
    rows as `figure_sources` lists them. Some two hundred small queries, run together: polars then filters each
    figure's rows once for both and runs the queries side by side, for less than half the CPU of one after
    another (a query on a few thousand rows costs polars about as much to start as to run)."""
    lazy = {name: frame.lazy() for name, frame in narrow.items()}
    values, sources = [], []
    for fig in figures:
        selected = lazy[fig.table].filter(fig.where)
        values.append(selected.select(fig.value.alias("value"), pl.len().alias("rows")))
        sources.append(_sources(fig, selected, narrow[fig.table].columns))
    found = pl.collect_all(values + sources)
    return list(zip(found[: len(figures)], found[len(figures) :], strict=True))


def compute_figures(tables: dict[str, pl.DataFrame], period: str, targets: pl.DataFrame) -> FigureResult:
    """Every figure of the registry for ``period``, the targets and progress, with their sources.

    ``tables`` holds the period's ``cooperatives``, ``coop_groups`` and
    ``support_disbursements``; ``targets`` is ``targets.csv`` with a ``source_row`` column.
    """
    year, quarter = period_parts(period)
    support = tables[SUPPORT]
    figures = (
        list(STATIC_FIGURES)
        + support_figures(sorted(support["program"].unique().to_list()), sorted(support["level"].unique().to_list()))
        + commune_figures(_reporting_communes(tables[HTX]))
    )
    rows: list[dict] = []
    provenance: list[pl.DataFrame] = []
    values: dict[str, float] = {}
    sources: dict[str, pl.DataFrame] = {}
    groups: dict[str, list[int]] = {}
    narrow = _narrowed(tables, figures)
    computed = _computed(narrow, figures)
    for fig, (found, selected) in zip(figures, computed, strict=True):
        value = found.get_column("value").item() if found.item(0, "rows") else fig.empty
        if fig.pct_group:
            groups.setdefault(fig.pct_group, []).append(len(rows))
        rows.append(
            {
                "figure_id": fig.id,
                "section": fig.section,
                "label_vi": fig.label_vi,
                "value": None if value is None else float(value),
                "unit": fig.unit,
            }
        )
        sources[fig.id] = selected
        provenance.append(selected)
    for members in groups.values():
        for i, pct in zip(members, largest_remainder([rows[i]["value"] or 0 for i in members]), strict=True):
            rows[i]["value"] = pct
    values = {r["figure_id"]: r["value"] for r in rows if r["value"] is not None}
    target_rows, target_sources = _target_figures(targets, year, values, sources)
    rows += target_rows
    provenance += target_sources
    keys = {"period": period, "year": year, "quarter": quarter}
    fig_df = pl.DataFrame([keys | r for r in rows], schema=wh.polars_schema(wh.ReportFigures))
    src_df = (
        pl.concat(provenance)
        .with_columns(
            pl.lit(period).alias("period"),
            pl.lit(year, pl.Int32).alias("year"),
            pl.lit(quarter, pl.Int8).alias("quarter"),
        )
        .select(list(wh.polars_schema(wh.FigureSources)))
    )
    return FigureResult(fig_df, src_df)
