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


def _class(status: str | None, rating: str | None) -> str | None:
    if status == "suspended":
        return "suspended"
    return rating if status == "active" else None


def registry_figures(matched: pl.DataFrame, reported: pl.DataFrame, unit_in: UnitIn) -> pl.DataFrame:
    """Every registry figure for every stored quarter."""
    schema = wh.polars_schema(wh.RegistryFigures)
    if matched.is_empty():
        return pl.DataFrame(schema=schema)
    periods = sorted(set(matched["period"].to_list()), key=period_parts)
    baseline = periods[0]
    first_seen = dict(matched.sort("period").group_by("registry_id").agg(pl.col("period").first()).iter_rows())
    reported_units = {(p, c) for p, c in reported.select("period", "commune_code").iter_rows()}
    out = []
    for kind, (word, upper, _) in KIND_WORDS.items():
        rows = matched.filter(pl.col("kind") == kind)
        by_id: dict[str, list[dict]] = {}
        for r in (
            rows.sort("period")
            .select("registry_id", "period", "commune_code", "status", "rating")
            .iter_rows(named=True)
        ):
            by_id.setdefault(r["registry_id"], []).append(r)
        for period in periods:
            year = period_parts(period)[0]
            present = {rid for rid, rs in by_id.items() if any(r["period"] == period for r in rs)}
            seen = (
                None
                if period == baseline
                else float(
                    sum(
                        1 for rid in present if period_parts(first_seen[rid])[0] == year and first_seen[rid] != baseline
                    )
                )
            )
            gone = gone_unexplained = 0
            for rid, rs in by_id.items():
                earlier = [r for r in rs if r["period"] < period and period_parts(r["period"])[0] == year]
                if rid in present or not earlier:
                    continue
                if (period, unit_in(earlier[-1]["commune_code"], period)) not in reported_units:
                    continue
                gone += 1
                gone_unexplained += earlier[-1]["status"] != "suspended"
            f = FIGURES
            out.append(_row(f[0].id.format(kind=word), f[0].label_vi.format(KIND=upper), seen, period))
            out.append(_row(f[1].id.format(kind=word), f[1].label_vi.format(KIND=upper), float(gone), period))
            out.append(
                _row(f[2].id.format(kind=word), f[2].label_vi.format(KIND=upper), float(gone_unexplained), period)
            )
            out += _transitions(by_id, periods, period, word, upper)
    return pl.DataFrame(out, schema=schema).sort("period", "figure_id")


def _transitions(by_id: dict[str, list[dict]], periods: list[str], period: str, word: str, upper: str) -> list[dict]:
    year = period_parts(period)[0]
    first = next(p for p in periods if period_parts(p)[0] == year)
    if first == period:
        return []
    counts = {(a, b): 0 for a in CLASSES for b in CLASSES}
    for rs in by_id.values():
        start = next((r for r in rs if r["period"] == first), None)
        end = next((r for r in rs if r["period"] == period), None)
        if start is None or end is None:
            continue
        a, b = _class(start["status"], start["rating"]), _class(end["status"], end["rating"])
        if a is not None and b is not None:
            counts[(a, b)] += 1
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
