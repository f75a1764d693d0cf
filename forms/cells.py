"""Writing one typed cell with xlsxwriter: numbers as numbers, dates as Excel dates, everything else as text."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any


def write_cell(ws: Any, r: int, c: int, value: Any, date_format: Any) -> None:
    """Write ``value`` at (r, c) with its proper type; None leaves the cell empty. Text is never a formula."""
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_string(r, c, str(value))
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime.combine(value, time()), date_format)
    else:
        ws.write_string(r, c, str(value))
