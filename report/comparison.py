"""The report's comparisons with earlier quarters, on the report quarter's units.

For each earlier quarter stored, its cooperatives, groups and support rows are restated on the units
of the report's quarter (`report.restate`) and the report figures recomputed from them: the trend
chart plots these, and the text and the appendix compare the quarter with the previous quarter and
with the same quarter of the previous year. The quarter's own side covers the units that have
predecessors in the earlier quarter; the units that left or joined are named in a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.units import Units
from report.figures import compute_figures
from report.numbers import vn_count, vn_pct
from report.restate import Restatement, restatement, restatement_note
from report.text import Block
from schemas.periods import previous_period, same_quarter_last_year

TREND_FIGURES = (
    "htx.total",
    "htx.rating.good.count",
    "htx.rating.fair.count",
    "htx.rating.average.count",
    "htx.rating.weak.count",
    "htx.rating.suspended.count",
    "tht.total",
)


@dataclass(frozen=True)
class Comparison:
    """The report quarter against one earlier quarter, both on the report quarter's units."""

    label: str
    """"quý trước" or "cùng kỳ năm trước"."""
    how: Restatement
    now: dict[str, float]
    """Figures of the report quarter over the units compared (those with predecessors)."""
    then: dict[str, float]
    """Figures of the earlier quarter restated."""
    htx_now: dict[str, int]
    """Cooperatives per unit of the report quarter."""
    htx_then: dict[str, int]
    """Cooperatives of the earlier quarter per unit of the report quarter (summed over predecessors)."""

    @property
    def note(self) -> str | None:
        """What the comparison leaves out, in Vietnamese."""
        return restatement_note(self.how)


def _values(tables: dict[str, pl.DataFrame], period: str, targets: pl.DataFrame) -> dict[str, float]:
    figures = compute_figures(tables, period, targets).figures
    return {r["figure_id"]: r["value"] for r in figures.iter_rows(named=True) if r["value"] is not None}


def _per_unit(coops: pl.DataFrame) -> dict[str, int]:
    return dict(coops.group_by("commune_code").len().iter_rows()) if coops.height else {}


def compare(
    label: str,
    units: Units,
    period: str,
    tables: dict[str, pl.DataFrame],
    earlier: str,
    earlier_tables: dict[str, pl.DataFrame],
    targets: pl.DataFrame,
) -> Comparison:
    """The report quarter `period` against `earlier`, restated on `period`'s units."""
    how = restatement(units, earlier, period)
    compared = set(how.predecessors)
    then_tables = how.tables(earlier_tables)
    now_tables = {
        name: frame.filter(pl.col("commune_code").is_in(list(compared))) if "commune_code" in frame.columns else frame
        for name, frame in tables.items()
    }
    return Comparison(
        label,
        how,
        _values(now_tables, period, targets),
        _values(then_tables, earlier, targets),
        _per_unit(tables["cooperatives"]),
        _per_unit(then_tables["cooperatives"]),
    )


def trend(
    units: Units,
    period: str,
    figures: pl.DataFrame,
    earlier: dict[str, dict[str, pl.DataFrame]],
    targets: pl.DataFrame,
) -> pl.DataFrame:
    """Trend figures (`period`, `figure_id`, `value`) of every earlier quarter restated on `period`'s units, and
    the quarter's own."""
    rows = [
        {"period": p, "figure_id": k, "value": v}
        for p, tables in sorted(earlier.items())
        for k, v in _values(restatement(units, p, period).tables(tables), p, targets).items()
        if k in TREND_FIGURES
    ]
    rows += [
        {"period": period, "figure_id": r["figure_id"], "value": r["value"]}
        for r in figures.iter_rows(named=True)
        if r["figure_id"] in TREND_FIGURES
    ]
    return pl.DataFrame(rows, schema={"period": pl.String, "figure_id": pl.String, "value": pl.Float64})


def comparisons(
    units: Units,
    period: str,
    tables: dict[str, pl.DataFrame],
    earlier: dict[str, dict[str, pl.DataFrame]],
    targets: pl.DataFrame,
) -> list[Comparison]:
    """The quarter against the previous quarter (or, when it is not stored, the latest quarter that is) and the
    same quarter of the previous year, when stored."""
    before = previous_period(period)
    last_year = same_quarter_last_year(period)
    wanted = [("quý trước", before)] if before in earlier else []
    if before not in earlier and earlier and max(earlier) != last_year:  # the latest quarter stored instead
        wanted.append(("quý gần nhất có số liệu", max(earlier)))
    wanted.append(("cùng kỳ năm trước", last_year))
    return [compare(label, units, period, tables, p, earlier[p], targets) for label, p in wanted if p in earlier]


def _change(now: float, then: float, what: str) -> str:
    diff = now - then
    if diff == 0:
        return f"{what} không đổi ({vn_count(now)})"
    word, to = ("tăng", "lên") if diff > 0 else ("giảm", "xuống")
    return f"{what} {word} {vn_count(abs(diff))} (từ {vn_count(then)} {to} {vn_count(now)})"


def comparison_blocks(found: list[Comparison], period: str) -> list[Block]:
    """Paragraphs comparing the quarter with earlier ones (on the quarter's units), each with its note."""
    blocks = []
    for c in found:
        n = len(c.how.predecessors)
        parts = [
            _change(c.now.get("htx.total", 0), c.then.get("htx.total", 0), "tổng số HTX"),
            _change(c.now.get("htx.rating.good.count", 0), c.then.get("htx.rating.good.count", 0), "số HTX tốt")
            + f", tỷ lệ HTX tốt {vn_pct(c.then.get('htx.rating.good.pct', 0))}% → "
            f"{vn_pct(c.now.get('htx.rating.good.pct', 0))}%",
            _change(c.now.get("tht.total", 0), c.then.get("tht.total", 0), "tổng số THT"),
        ]
        blocks.append(
            Block(
                "paragraph",
                f"So với {c.label} ({c.how.from_period}), tính trên {vn_count(n)} đơn vị hành chính của kỳ {period}: "
                + "; ".join(parts)
                + ".",
            )
        )
        if c.note:
            blocks.append(Block("paragraph", f"Ghi chú: {c.note}"))
    return blocks
