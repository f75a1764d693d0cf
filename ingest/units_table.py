"""The `units` table: every row of `communes.csv` with the unit it has become in the latest period."""

from __future__ import annotations

import polars as pl

from ingest.units import Units
from schemas import warehouse as wh


def units_table(units: Units, latest: str | None) -> pl.DataFrame:
    """One row per unit (code and window), with `current_code` / `current_name` at the end of its `merged_into`
    chain in `latest` (the latest period of the warehouse; without one, the latest window start)."""
    if latest is None:
        starts = [u.valid_from for u in units.units if u.valid_from] + [u.valid_to for u in units.units if u.valid_to]
        latest = max(starts, default="0000-Q1")
    rows = []
    for u in units.units:
        current = units.current(u, latest)
        rows.append(
            {
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "valid_from": u.valid_from,
                "valid_to": u.valid_to,
                "district": u.district,
                "merged_into": u.merged_into,
                "split_into": ",".join(u.split_into) or None,
                "current_code": current.code if current else None,
                "current_name": current.name if current else None,
            }
        )
    schema = wh.polars_schema(wh.UnitsTable)
    return pl.DataFrame(rows, schema=schema).sort("code", "valid_from", nulls_last=False)
