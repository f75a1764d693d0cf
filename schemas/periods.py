"""Period keys: a quarter is named `YYYY-Qn` (`2024-Q3`) everywhere in kttt.

The one place that knows the key's shape: its pattern (warehouse models, partition
keys, file names), how it is built from and split into year and quarter, the quarter's
last day, the quarters before it, the `raw/<YYYY>/Q<n>/` folder of a quarter, and how
a clerk writes it in a sheet (`Quý 3/2024`, `Quý III/2024`, `Q3 2024`, `2024-Q3`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from schemas.folding import fold

PERIOD_PATTERN = r"^\d{4}-Q[1-4]$"
"""A period key, as a regular expression (`str_matches` of the warehouse models)."""
PERIOD_KEY = re.compile(PERIOD_PATTERN)
YEAR_FOLDER = re.compile(r"^\d{4}$")
"""The year folder of the raw directory: `raw/<YYYY>/`."""
QUARTER_FOLDER = re.compile(r"^[Qq]([1-4])$")
"""The quarter folder inside a year folder: `Q<n>` (or `q<n>`)."""

ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}
"""Quarters as Roman numerals, as Vietnamese forms and reports write them (`Quý III/2024`)."""
_FROM_ROMAN = {roman.lower(): quarter for quarter, roman in ROMAN_QUARTERS.items()}
_LABEL_PATTERNS = (
    re.compile(r"^(?P<y>\d{4}) ?q ?0?(?P<q>[1-4])$"),
    re.compile(r"^(?:q|quy) ?0?(?P<q>[1-4]|iv|iii|ii|i)(?: nam)? (?P<y>\d{4})$"),
    re.compile(r"^0?(?P<q>iv|iii|ii|i|[1-4]) (?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4}) (?:quy|q) ?0?(?P<q>[1-4]|iv|iii|ii|i)$"),
)


def is_period_key(text: str) -> bool:
    """Whether `text` is a period key (`YYYY-Qn`)."""
    return PERIOD_KEY.fullmatch(text) is not None


def period_key(year: int | str, quarter: int | str) -> str:
    """The key of a year and quarter: `(2024, 3)` → `2024-Q3`."""
    return f"{year}-Q{quarter}"


def period_parts(period: str) -> tuple[int, int]:
    """Year and quarter of a `YYYY-Qn` key."""
    year, q = period.split("-Q")
    return int(year), int(q)


def quarter_end(period: str) -> date:
    """Last day of the quarter of a `YYYY-Qn` key."""
    year, q = period_parts(period)
    if q == 4:
        return date(year, 12, 31)
    return date(year, 3 * q + 1, 1) - timedelta(days=1)


def previous_period(period: str) -> str:
    """The quarter before `period`."""
    year, quarter = period_parts(period)
    return period_key(year - 1, 4) if quarter == 1 else period_key(year, quarter - 1)


def next_period(period: str) -> str:
    """The quarter after `period`: `2025-Q2` → `2025-Q3`."""
    year, quarter = period_parts(period)
    return period_key(year + 1, 1) if quarter == 4 else period_key(year, quarter + 1)


def same_quarter_last_year(period: str) -> str:
    """The same quarter one year earlier: `2024-Q3` → `2023-Q3`."""
    year, quarter = period_parts(period)
    return period_key(year - 1, quarter)


def quarter_closed_before(day: date) -> str:
    """The last quarter that ended before `day` (`2025-01-05` → `2024-Q4`)."""
    return previous_period(period_key(day.year, (day.month - 1) // 3 + 1))


def folder_period(year_folder: str, quarter_folder: str) -> str | None:
    """The period of a `raw/<YYYY>/Q<n>/` folder from its two names, or None when they are not such names."""
    m = QUARTER_FOLDER.match(quarter_folder)
    if m is None or not YEAR_FOLDER.match(year_folder):
        return None
    return period_key(year_folder, m.group(1))


def period_folders(period: str) -> tuple[str, str]:
    """The year and quarter folder names of a period: `2024-Q3` → `("2024", "Q3")`."""
    year, quarter = period.split("-")
    return year, quarter


def parse_period(text: object) -> str | None:
    """Normalise period text as a clerk writes it to `YYYY-Qn`.

    >>> [parse_period(t) for t in ("2024-Q3", "Quý 3/2024", "Q3 2024", "Quý III/2024", "quý 3 năm 2024")]
    ['2024-Q3', '2024-Q3', '2024-Q3', '2024-Q3', '2024-Q3']
    """
    s = fold(text)
    for pattern in _LABEL_PATTERNS:
        m = pattern.match(s)
        if m:
            q = m.group("q")
            quarter = int(q) if q.isdigit() else _FROM_ROMAN[q]
            return period_key(m.group("y"), quarter)
    return None


def period_label(period: str, style: str = "quy") -> str:
    """How a period is written in a sheet.

    `quy` → `Quý 3/2024`; `roman` → `Quý III/2024`; `iso` → `2024-Q3`; `q` → `Q3 2024`.
    """
    year, quarter = period_parts(period)
    styles = {
        "quy": f"Quý {quarter}/{year}",
        "roman": f"Quý {ROMAN_QUARTERS[quarter]}/{year}",
        "iso": period_key(year, quarter),
        "q": f"Q{quarter} {year}",
    }
    if style not in styles:
        raise ValueError(f"unknown period style {style!r}; use one of {sorted(styles)}")
    return styles[style]
