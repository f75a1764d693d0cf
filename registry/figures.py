"""Figures the registry knows and a clerk's status cannot say: first seen, disappeared, rating transitions.

They sit beside the report's figures (`report_figures`), which count what clerks typed:
`htx.new` counts the status "Mới thành lập", `registry.htx.first_seen.count` counts
cooperatives seen for the first time. One row per figure and quarter in
`registry_figures`; the definitions below are the one source of the docs.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from registry.units import UnitIn
from schemas import warehouse as wh
from schemas.periods import period_parts
from schemas.vocab import RATINGS

CLASSES = (*RATINGS.codes, "suspended")
"""Classes of the transition table: the ratings of active units, then suspended (new ones are not rated)."""
KIND_WORDS = {"HTX": ("htx", "HTX", "cooperatives"), "THT": ("tht", "THT", "cooperative groups")}
CLASS_VI = {**{t.code: t.label_vi for t in RATINGS.terms}, "suspended": "Tạm dừng chờ giải thể"}


@dataclass(frozen=True)
class RegistryFigure:
    """A figure of `registry_figures` (`{kind}` stands for htx or tht)."""

    id: str
    label_vi: str
    definition: str
    report_twin: str | None = None
    """What the clerks' statuses give beside it (Markdown, for the docs)."""


FIGURES = (
    RegistryFigure(
        "registry.{kind}.first_seen.count",
        "{KIND} xuất hiện lần đầu trong năm (sổ theo dõi)",
        "Identities in the quarter's reports first seen in the quarter's year, up to the quarter, and not in the "
        "first stored quarter (the warehouse's starting point: what it holds was there before). Null for that "
        "first quarter.",
        "`{kind}.new` (status new)",
    ),
    RegistryFigure(
        "registry.{kind}.disappeared.count",
        "{KIND} không còn trong báo cáo so với đầu năm (sổ theo dõi)",
        "Identities seen in an earlier quarter of the year, absent from the quarter although their unit (or its "
        "successor) reported.",
        "`htx.change.gone` in `indicators` (quarter on quarter, by `coop_id` within a commune)",
    ),
    RegistryFigure(
        "registry.{kind}.disappeared_unexplained.count",
        "{KIND} không còn trong báo cáo mà không ghi tạm dừng (sổ theo dõi)",
        "The disappeared ones whose last status was not suspended (neither dissolved nor announced).",
    ),
    RegistryFigure(
        "registry.{kind}.transition.{from}_to_{to}.count",
        "{KIND} {from_vi} ở quý đầu năm, {to_vi} ở quý này",
        "Identities in both the year's first stored quarter and this one, classed good/fair/average/weak "
        "(active, by rating) or suspended in each; new ones are not classed. From the year's second stored "
        "quarter on.",
        "`{kind}.rating.<class>.count` (the quarter's ratings)",
    ),
)


def _row(fid: str, label: str, value: float | None, period: str) -> dict:
    year, quarter = period_parts(period)
    return {
        "period": period,
        "year": year,
        "quarter": quarter,
        "figure_id": fid,
        "section": "1.2",
        "label_vi": label,
        "value": value,
        "unit": "count",
    }


_CLASS = (
    pl.when(pl.col("status") == "suspended")
    .then(pl.lit("suspended"))
    .when(pl.col("status") == "active")
    .then(pl.col("rating"))
    .otherwise(None)
)
"""The class of a quarter's row in the transition table: suspended, the rating of an active unit, else none."""


def registry_figures(matched: pl.DataFrame, reported: pl.DataFrame, unit_in: UnitIn) -> pl.DataFrame:
    """Every registry figure for every stored quarter (as frames: one identity's quarters are not walked in
    Python, so the cost grows with the quarters' rows, not with identities times quarters)."""
    schema = wh.polars_schema(wh.RegistryFigures)
    if matched.is_empty():
        return pl.DataFrame(schema=schema)
    periods = sorted(set(matched["period"].to_list()), key=period_parts)
    baseline = periods[0]
    rows_all = matched.select(
        "kind", "registry_id", "period", "commune_code", "status", "rating", _CLASS.alias("class")
    ).with_columns(pl.col("period").str.slice(0, 4).cast(pl.Int32).alias("year"))
    first_seen = rows_all.group_by("registry_id").agg(pl.col("period").min().alias("first_seen"))
    rows_all = rows_all.join(first_seen, on="registry_id", how="left")
    reported_units = reported.select("period", "commune_code").unique()
    out = []
    for kind, (word, upper, _) in KIND_WORDS.items():
        rows = rows_all.filter(pl.col("kind") == kind)
        for period in periods:
            year = period_parts(period)[0]
            present = rows.filter(pl.col("period") == period)
            seen = (
                None
                if period == baseline
                else float(
                    present.filter(
                        (pl.col("first_seen").str.slice(0, 4).cast(pl.Int32) == year)
                        & (pl.col("first_seen") != baseline)
                    ).height
                )
            )
            gone, gone_unexplained = _gone(rows, present, period, year, reported_units, unit_in)
            f = FIGURES
            out.append(_row(f[0].id.format(kind=word), f[0].label_vi.format(KIND=upper), seen, period))
            out.append(_row(f[1].id.format(kind=word), f[1].label_vi.format(KIND=upper), float(gone), period))
            out.append(
                _row(f[2].id.format(kind=word), f[2].label_vi.format(KIND=upper), float(gone_unexplained), period)
            )
            out += _transitions(rows, periods, period, word, upper)
    return pl.DataFrame(out, schema=schema).sort("period", "figure_id")


def _gone(
    rows: pl.DataFrame, present: pl.DataFrame, period: str, year: int, reported: pl.DataFrame, unit_in: UnitIn
) -> tuple[int, int]:
    """Identities of an earlier quarter of the year absent from `period` although their unit (or its successor)
    reported in it; and those whose last status was not suspended."""
    last = (
        rows.filter((pl.col("period") < period) & (pl.col("year") == year))
        .join(present.select("registry_id"), on="registry_id", how="anti")
        .group_by("registry_id")
        .agg(pl.col("commune_code").sort_by("period").last(), pl.col("status").sort_by("period").last())
    )
    if last.is_empty():
        return 0, 0
    codes = last["commune_code"].unique().to_list()
    now = pl.DataFrame(
        {"commune_code": codes, "unit_now": [unit_in(c, period) for c in codes]},
        schema={"commune_code": pl.String, "unit_now": pl.String},
    )
    units = reported.filter(pl.col("period") == period).select(pl.col("commune_code").alias("unit_now"))
    gone = last.join(now, on="commune_code", how="left", nulls_equal=True).join(units, on="unit_now", how="semi")
    return gone.height, gone.filter(pl.col("status").ne_missing("suspended")).height


def _transitions(rows: pl.DataFrame, periods: list[str], period: str, word: str, upper: str) -> list[dict]:
    year = period_parts(period)[0]
    first = next(p for p in periods if period_parts(p)[0] == year)
    if first == period:
        return []
    start = rows.filter(pl.col("period") == first).select("registry_id", pl.col("class").alias("a"))
    end = rows.filter(pl.col("period") == period).select("registry_id", pl.col("class").alias("b"))
    pairs = start.join(end, on="registry_id", how="inner").drop_nulls(["a", "b"])
    found = {(a, b): n for a, b, n in pairs.group_by("a", "b").len().iter_rows()}
    counts = {(a, b): found.get((a, b), 0) for a in CLASSES for b in CLASSES}
    fig = FIGURES[3]
    return [
        _row(
            fig.id.format(kind=word, **{"from": a, "to": b}),
            fig.label_vi.format(KIND=upper, from_vi=CLASS_VI[a].lower(), to_vi=CLASS_VI[b].lower()),
            float(n),
            period,
        )
        for (a, b), n in counts.items()
    ]
