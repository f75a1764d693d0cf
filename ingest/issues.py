"""Problems found in submissions, before they become rows of ``rejected_rows``."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ROW_ISSUE_SCHEMA = {"_i": pl.UInt32, "column": pl.String, "rule": pl.String, "value": pl.String, "detail": pl.String}
"""Problems found in bulk on stacked rows: row position, column, rule, value as written, detail."""


@dataclass
class Issue:
    """One problem: where it is, which rule, and the values that fill its message.

    ``column`` is the warehouse column name (snake_case) or None for file-level problems;
    ``source_row`` is the row a person sees (Excel row or CSV line), None for a file.
    """

    source_file: str
    sheet: str | None
    source_row: int | None
    column: str | None
    rule: str
    value: object = None
    detail: object = None
    raw_values: str | None = None
