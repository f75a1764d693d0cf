"""Periods in force: whether a column or rule of the format applies to a quarter.

A column or rule carries `valid_from` and `valid_to` (quarter keys `YYYY-Qn`, both
inclusive, either open). Which quarter a text governs first follows one convention,
written in docs/law.md: a quarter is governed by the texts in force on its first day,
so a text taking effect on day D applies from the first quarter beginning on or after
D, and a text repealed on day D applies last to the quarter in which D falls.
Quarter keys of four-digit years compare as text in time order.
"""

from __future__ import annotations

from datetime import date

from schemas.periods import period_key, previous_period


def in_window(period: str, valid_from: str | None, valid_to: str | None) -> bool:
    """Whether the quarter `period` lies in the window `[valid_from, valid_to]` (None: open end)."""
    return (valid_from is None or valid_from <= period) and (valid_to is None or period <= valid_to)


def window_text(valid_from: str | None, valid_to: str | None) -> str:
    """A window as people read it: `2025-Q1 →`, `→ 2025-Q3`, `2024-Q3 → 2025-Q3`, or `always`."""
    if valid_from is None and valid_to is None:
        return "always"
    return f"{valid_from or ''} → {valid_to or ''}".strip()


def first_quarter_from(effective: date) -> str:
    """The first quarter a text taking effect on `effective` governs: the first beginning on or after that day."""
    quarter = (effective.month - 1) // 3 + 1
    containing = period_key(effective.year, quarter)
    if effective == date(effective.year, 3 * quarter - 2, 1):
        return containing
    return period_key(effective.year + 1, 1) if quarter == 4 else period_key(effective.year, quarter + 1)


def last_quarter_before(repealed: date) -> str:
    """The last quarter a text repealed on `repealed` governs: the quarter before the first it no longer governs."""
    return previous_period(first_quarter_from(repealed))
