"""Phase 2 of a quarter: tell each file's unit, period and report date, and resolve resubmissions.

The TongHop row of a commune file names its unit (among the units valid in the quarter), period and
report date; a file whose identity cannot be told, names another quarter, or names a unit not expected
in the quarter, is rejected. When a commune
sent several files, the latest report wins and the others are marked superseded.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import polars as pl

from ingest.issues import Issue
from ingest.reference import Reference
from ingest.review import Review
from ingest.stacking import SheetResult, stack_sheet, validate_sheet
from ingest.submission import FileState
from schemas.periods import parse_period


def identify(states: list[FileState], reference: Reference, period: str) -> SheetResult:
    """Commune, period and report date of each commune file, from its TongHop row."""
    result = stack_sheet(states, "TongHop", period, only_live=False)
    first: dict[int, int] = {}
    state_idx = result.frame["_state"].to_list()
    extra = []
    for i, s in enumerate(state_idx):
        if s in first:
            extra.append(i)
        else:
            first[s] = i
    for state in states:
        if state.rejected and state.commune_code is None:
            state.commune_code = _commune_of_rejected(state, reference, period)
    # One conversion of the identity columns to Python rows (a `row(i)` per file costs as much per call as this
    # does whole; the sheet's other columns are not read here).
    frame_rows = result.frame.select("commune", "period_text", "report_date", "source_row").rows(named=True)
    typed_rows = result.typed.select("report_date").rows(named=True)
    for idx, state in enumerate(states):
        if state.rejected or state.file.kind == "district":
            continue
        if idx not in first:
            state.reject("summary_missing", sheet="TongHop")
            continue
        i = first[idx]
        row = frame_rows[i]
        typed = typed_rows[i]
        where = {"sheet": "TongHop", "row": row["source_row"]}
        unknown = _identity_formula(state)
        if unknown is not None:  # the commune, period or date is a formula without a value: say so
            state.reject("formula_uncached", column=unknown[0], value=unknown[1], **where)
            continue
        blank = _blank_identity(row, ("commune",))
        if blank is not None:
            state.reject("required", column=blank, **where)
            continue
        code = reference.resolve(row["commune"], period)
        if code is None:
            other = reference.units.elsewhere(row["commune"], period)
            stated = parse_period(row["period_text"])
            if other is not None and stated is not None and stated != period:  # the file is in the wrong folder
                state.reject("period_mismatch", column="period_text", value=stated, detail=period, **where)
            elif other is not None:  # a unit of another period: not expected in this one
                state.reject(
                    "commune_outside_window", column="commune", value=other.title, detail=other.window, **where
                )
            else:
                state.reject("commune_unknown", column="commune", value=row["commune"], **where)
            continue
        state.commune_code = code
        state.commune_name = reference.name_of(code, period)
        blank = _blank_identity(row, ("period_text", "report_date"))
        if blank is not None:
            state.reject("required", column=blank, **where)
            continue
        stated = parse_period(row["period_text"])
        if stated is None:
            state.reject("period_invalid", column="period_text", value=row["period_text"], **where)
            continue
        if stated != period:
            state.reject("period_mismatch", column="period_text", value=stated, detail=period, **where)
            continue
        if typed["report_date"] is None:
            state.reject("report_date_invalid", column="report_date", value=row["report_date"], **where)
            continue
        state.report_date = typed["report_date"]
    if extra:
        extra_issues = pl.DataFrame(
            {
                "_i": extra,
                "column": [None] * len(extra),
                "rule": ["summary_extra_row"] * len(extra),
                "value": [None] * len(extra),
                "detail": [None] * len(extra),
            },
            schema=result.issues.schema,
        )
        result.issues = pl.concat([result.issues, extra_issues])
    validate_sheet(result, states, "TongHop", period)
    return result


def _blank_identity(row: dict, columns: tuple[str, ...]) -> str | None:
    """The first of `columns` left blank in the TongHop row: said as missing, not as a value that is wrong."""
    return next((c for c in columns if not (row[c] or "").strip()), None)


def _identity_formula(state: FileState) -> tuple[str, str] | None:
    """The first identity cell (commune, period, report date) of the TongHop row that is a formula saved
    without its value, with the formula."""
    block = state.blocks["TongHop"]
    if not block.row_issues:
        return None
    first = block.rows[0] if block.rows_in else None
    cells = {i.column: i.value for i in block.row_issues if i.rule == "formula_uncached" and i.source_row == first}
    return next(((c, cells[c] or "") for c in ("commune", "period_text", "report_date") if c in cells), None)


def _commune_of_rejected(state: FileState, reference: Reference, period: str) -> str | None:
    """The commune a rejected file names in TongHop, when it can be told (so completeness says "rejected")."""
    block = state.blocks.get("TongHop")
    if block is None or block.first("commune") is None:
        return None
    return reference.resolve(block.first("commune"), period)


def _resubmission_order(s: FileState) -> tuple[date, datetime, str]:
    return (s.report_date or date.min, s.file.received_at, s.file.rel)


def resolve_resubmissions(states: list[FileState], review: Review | None = None) -> None:
    """Several files for one commune: the latest report date wins (ties: latest file time, then name).

    Several district (support) files in one folder: the latest file time wins (then name); support files of
    different subfolders (a province's former districts) are all taken. Under review (`review`), the officer's
    decisions and the lock choose among a commune's files instead (ingest/review.py).
    """
    by_commune: dict[str, list[FileState]] = defaultdict(list)
    for s in states:
        if s.rejected:
            continue
        if s.file.kind == "district":
            by_commune["\0district/" + s.file.rel.rpartition("/")[0]].append(s)
        elif s.commune_code is not None:
            by_commune[s.commune_code].append(s)
    for key, group in by_commune.items():
        if review is not None and not key.startswith("\0district"):
            review.settle(group, _resubmission_order)
            continue
        if len(group) < 2:
            continue
        group.sort(key=_resubmission_order)
        winner = group[-1]
        for s in group[:-1]:
            s.superseded_by = winner.file.rel
            s.issues.append(Issue(s.file.rel, None, None, None, "superseded", value=winner.file.rel))
