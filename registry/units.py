"""Which unit an earlier unit is in a later quarter: itself while its window lasts, else its successor.

The one place the registry asks about units over time; it asks `ingest.units.Units` (a unit is a code
and a validity window, successors through `merged_into`, see docs/reform.md).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ingest.units import Units, normalise

UnitIn = Callable[[str, str], str]
"""`unit_in(code, period)`: the unit that the unit `code` of an earlier quarter is in `period`."""


def unit_mapper(communes: pl.DataFrame) -> UnitIn:
    """`unit_in` over `communes.csv`: a code in use in the period is itself; a unit whose window ended is the
    end of its `merged_into` chain in the period (itself when it left, or when the list does not know it)."""
    units = Units(normalise(communes))

    def unit_in(code: str, period: str) -> str:
        if units.unit(code, period) is not None:
            return code
        ended = [u for u in units.units if u.code == code and u.valid_to is not None and u.valid_to < period]
        if not ended:
            return code
        last = max(ended, key=lambda u: u.valid_to or "")
        successor = units.successor_in(code, last.valid_to, period)
        return successor.code if successor is not None else code

    return unit_in
