"""Which unit an earlier unit is in a later quarter: itself while its window lasts, else its successor.

The one place the registry asks about units over time, so that a richer model of units
(a code and a validity window, successors through `merged_into`) replaces it alone.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from report.restate import successors

UnitIn = Callable[[str, str], str]
"""`unit_in(code, period)`: the unit that the unit `code` of an earlier quarter is in `period`."""


def _valid(row: dict[str, str | None], period: str) -> bool:
    start, end = row.get("valid_from") or "", row.get("valid_to") or ""
    return (not start or start <= period) and (not end or period <= end)


def unit_mapper(communes: pl.DataFrame) -> UnitIn:
    """`unit_in` over `communes.csv`: a unit still valid in the period is itself; one whose window
    ended is the end of its `merged_into` chain; a unit the list does not know is itself."""
    rows: dict[str, list[dict[str, str | None]]] = {}
    cols = [c for c in ("code", "valid_from", "valid_to") if c in communes.columns]
    for row in communes.select(cols).iter_rows(named=True):
        rows.setdefault(row["code"], []).append(row)
    chain = successors(communes)

    def unit_in(code: str, period: str) -> str:
        windows = rows.get(code)
        if windows is None or any(_valid(w, period) for w in windows):
            return code
        return chain.get(code, code)

    return unit_in
