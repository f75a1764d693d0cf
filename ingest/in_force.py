"""Apply the form and the rules in force in a period to what was read.

Files are read without knowing their period (in parallel, before TongHop is read);
once the period is known, this module makes validation follow the law of that period:

* a column outside the form of the period is not taken in: its cells are emptied and a
  warning (`column_not_in_force`) keeps its values; each row's `raw_values` keeps them too;
* a column the period's form requires but the sheet lacks rejects the file (`column_missing`);
  columns required in every period are already checked when the sheet is cut;
* a failure of a rule or a column requirement not in force in the period, or of a row the
  law exempts from a rule (`Rule.exempt`), is dropped.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import pandera.polars as pa
import polars as pl

from ingest.issues import Issue
from schemas.fields import SheetColumn, sheet_columns
from schemas.in_force import window_text
from schemas.rules import RULES
from schemas.sheets import SHEETS


class _State(Protocol):
    """What this module needs of a file being processed (`ingest.period.FileState`)."""

    blocks: dict[str, Any]
    issues: list[Issue]
    rejected: bool

    @property
    def file(self) -> Any: ...

    def reject(self, rule: str, *, sheet: str | None = ..., column: str | None = ...) -> None: ...


def apply_form(states: list[Any], period: str) -> None:
    """Empty the columns outside the form of `period` (with a warning) and reject files missing a column it requires."""
    forms = {sheet: _form(sheet, period) for sheet in SHEETS}
    for state in states:
        if state.rejected:
            continue
        for sheet, block in state.blocks.items():
            if block.file_error or block.header_row is None:
                continue
            for col, required in forms[sheet]:
                if not required:
                    _ignore(state, block, col, period)
                elif col.name not in block.headers:
                    state.reject("column_missing", sheet=sheet, column=col.name)


def _form(sheet: str, period: str) -> list[tuple[SheetColumn, bool]]:
    """The columns of a sheet that the form of `period` requires (True) or leaves out (False), in column order
    (worked out once per quarter, not per file)."""
    out = []
    for col in sheet_columns(SHEETS[sheet], every=True):
        if not col.in_force(period):
            out.append((col, False))
        elif col.mandatory_in(period):
            out.append((col, True))
    return out


def _ignore(state: _State, block: Any, col: SheetColumn, period: str) -> None:
    if col.name not in block.data.names:
        return
    values = block.data.column(col.name)
    if all(v is None for v in values):
        return
    kept = {str(row): v for row, v in zip(block.rows, values, strict=True) if v is not None}
    block.clear(col.name)
    state.issues.append(
        Issue(
            state.file.rel,
            block.sheet,
            block.header_row,
            col.name,
            "column_not_in_force",
            value=period,
            detail=window_text(col.valid_from, col.valid_to),
            raw_values=json.dumps(kept, ensure_ascii=False),
        )
    )


def _columns(model: type[pa.DataFrameModel]) -> dict[str, SheetColumn]:
    return {c.name: c for c in sheet_columns(model, every=True)}


def keep_in_force(
    issues: pl.DataFrame, model: type[pa.DataFrameModel], frame: pl.DataFrame, period: str
) -> pl.DataFrame:
    """Row issues of a pandera model (`_i`, `column`, `rule`, ...) without those the law of `period` does not
    raise: rules out of force, requirements of columns out of force or no longer required, exempt rows."""
    if issues.is_empty():
        return issues
    columns = _columns(model)
    keep = [
        _raised(columns.get(column) if column is not None else None, rule, period) and not _exempt(rule, frame, i)
        for i, column, rule in issues.select("_i", "column", "rule").iter_rows()
    ]
    return issues.filter(pl.Series(keep, dtype=pl.Boolean))


def _raised(col: SheetColumn | None, rule: str, period: str) -> bool:
    """Whether the law of `period` has this rule (row rules) and this column's requirement."""
    entry = RULES.get(rule)
    if entry is not None and entry.scope == "row" and not entry.in_force(period):
        return False
    if col is None:
        return True
    return col.in_force(period) and (rule != "required" or col.required_in(period))


def _exempt(rule: str, frame: pl.DataFrame, i: int) -> bool:
    entry = RULES.get(rule)
    if entry is None:
        return False
    return any(c in frame.columns and frame[c][i] in values for c, values in entry.exempt)


def issues_in_force(issues: list[Issue], period: str) -> list[Issue]:
    """Issues whose rule applies to `period` (warnings computed on the period's tables included)."""
    return [i for i in issues if RULES[i.rule].in_force(period)]
