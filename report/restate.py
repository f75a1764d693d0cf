"""Comparisons across periods, restated on the later period's units.

Communes merge and move: on 1 January 2025 eleven Thạch Hà communes moved to Hà Tĩnh city, on
1 July 2025 districts were abolished and 209 units of Hà Tĩnh became 69. Whenever a figure of one
period is compared with an earlier one, the earlier period's rows are restated: each row counts for
the unit its `merged_into` chain ends at in the later period (`Units.successor_in`). Units that left
the reporting unit on the way are left out of the comparison and named in a note; units of the later
period with no predecessor among the earlier period's units (they joined) have nothing to compare
with, and are named too. Figures are then recomputed from the restated rows, so counts, members and
amounts are sums over the predecessors and shares and means are recomputed from them, never averaged.

A unit split between several successors (`split_into`) cannot be divided: its rows count wholly for
the successor `merged_into` names, and the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ingest.units import Unit, Units
from report.indicators import CHANGES, compute_indicators
from schemas import warehouse as wh


@dataclass(frozen=True)
class Restatement:
    """How the units of an earlier period map onto those of a later one."""

    from_period: str
    to_period: str
    mapping: dict[str, str | None]
    """Earlier unit's code → the later unit's code (None: it left the reporting unit)."""
    left: list[Unit] = field(default_factory=list)
    """Units of the earlier period that left the reporting unit (their rows are left out)."""
    joined: list[Unit] = field(default_factory=list)
    """Units of the later period with no predecessor in the earlier period."""
    split: list[Unit] = field(default_factory=list)
    """Units of the earlier period split between successors (counted wholly for `merged_into`)."""

    @property
    def predecessors(self) -> dict[str, list[str]]:
        """Later unit's code → the codes of the earlier period's units restated on it."""
        out: dict[str, list[str]] = {}
        for old, new in sorted(self.mapping.items()):
            if new is not None:
                out.setdefault(new, []).append(old)
        return out

    def rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Rows of the earlier period with `commune_code` replaced by the later unit's code; rows of units that
        left are dropped. Rows without a commune (support rows) are kept as they are."""
        if "commune_code" not in frame.columns:
            return frame
        kept = {old: new for old, new in self.mapping.items() if new is not None}
        return frame.filter(pl.col("commune_code").is_in(list(kept))).with_columns(
            pl.col("commune_code").replace_strict(kept, default=None)
        )

    def changes_nothing(self, tables: dict[str, pl.DataFrame]) -> bool:
        """Whether `rows` leaves every table as it is: each unit in them is its own successor."""
        codes = {c for t in tables.values() if "commune_code" in t.columns for c in t["commune_code"].unique()}
        return all(c is not None and self.mapping.get(c) == c for c in codes)

    def tables(self, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """Every table restated (see `rows`)."""
        return {name: self.rows(frame) for name, frame in tables.items()}


def restatement(units: Units, from_period: str, to_period: str) -> Restatement:
    """The restatement of `from_period`'s units on `to_period`'s."""
    mapping = units.restate_map(from_period, to_period)
    earlier = {u.code: u for u in units.valid_in(from_period)}
    mapped = {new for new in mapping.values() if new is not None}
    return Restatement(
        from_period,
        to_period,
        mapping,
        left=[earlier[c] for c, new in sorted(mapping.items()) if new is None],
        joined=[u for u in units.valid_in(to_period) if u.code not in mapped],
        split=[u for u in earlier.values() if u.split_into and mapping.get(u.code)],
    )


def _listed(units: list[Unit], limit: int = 12) -> str:
    names = [u.title for u in units]
    more = f" và {len(names) - limit} đơn vị khác" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def restatement_note(restated: Restatement) -> str | None:
    """A Vietnamese note on what the comparison leaves out or cannot divide, or None when nothing."""
    parts = []
    if restated.left:
        parts.append(
            f"không tính {len(restated.left)} đơn vị đã chuyển khỏi địa bàn sau kỳ {restated.from_period} "
            f"({_listed(restated.left)})"
        )
    if restated.joined:
        parts.append(
            f"{len(restated.joined)} đơn vị không có số liệu kỳ {restated.from_period} trên địa bàn để so sánh "
            f"({_listed(restated.joined)})"
        )
    if restated.split:
        parts.append(
            f"{len(restated.split)} đơn vị bị chia cho nhiều đơn vị mới được tính trọn cho đơn vị nhận phần chính "
            f"({_listed(restated.split)})"
        )
    if not parts:
        return None
    return (
        f"Số liệu kỳ {restated.from_period} được tính lại theo các đơn vị hành chính của kỳ {restated.to_period}; "
        + "; ".join(parts)
        + "."
    )


def restated_indicators(
    tables: dict[str, pl.DataFrame], units: Units, period: str, latest: str, own: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The `indicators_restated` table of `period`: its commune indicators recomputed on the units of `latest`
    from the restated cooperatives and groups (sums over predecessors; means recomputed from the rows).

    `own`, the quarter's `indicators` computed from the same `tables`, is taken as it is (its changes against the
    previous quarter left out) when every unit of the quarter is its own successor in `latest`: the same rows would
    give the same indicators, and a national quarter's take about half a second of CPU to compute."""
    schema = wh.polars_schema(wh.IndicatorsRestated)
    how = restatement(units, period, latest)
    if own is not None and how.changes_nothing(tables):
        indicators = own.filter((pl.col("geo_level") == "commune") & ~pl.col("indicator").is_in(CHANGES))
    else:
        indicators = compute_indicators(how.tables(tables), period).filter(pl.col("geo_level") == "commune")
    if indicators.is_empty():
        return pl.DataFrame(schema=schema)
    names = {u.code: u.name for u in units.valid_in(latest)}
    sources = {code: ",".join(codes) for code, codes in how.predecessors.items()}
    return (
        indicators.with_columns(
            pl.col("commune_code").replace_strict(names, default=None).alias("commune_name"),
            pl.col("commune_code").replace_strict(sources, default=pl.col("commune_code")).alias("from_communes"),
        )
        .select(list(schema))
        .cast(schema)
        .sort("commune_code", "indicator", "breakdown", nulls_last=False)
    )
