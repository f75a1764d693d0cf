"""Phase 5 of a quarter: every problem found becomes a `rejected_rows` line, every file a `submission_log` line.

Nothing is dropped without a trace: a rejected file's rows are each listed (rule
`file_rejected`), every message is given in Vietnamese and English with the heading the
clerk sees, and the log accounts for every row read (rows_in = accepted + rejected).
"""

from __future__ import annotations

import json

import polars as pl

from ingest import warnings as warn
from ingest.issues import Issue
from ingest.sheet import columns_by_name
from ingest.stacking import SheetResult
from ingest.submission import FileState
from schemas import warehouse as wh
from schemas.periods import period_parts
from schemas.rules import ERROR, RULES, cause_first, message


def _issue_rows(result: SheetResult, sheet: str, states: list[FileState]) -> list[Issue]:
    if not result.issues.height:
        return []
    joined = result.issues.join(
        result.frame.with_row_index("_i").select("_i", "_state", "source_row", "raw_values", "_raw_keys"),
        on="_i",
        how="left",
    )
    return [
        Issue(
            states[r["_state"]].file.rel,
            sheet,
            r["source_row"],
            r["column"],
            r["rule"],
            value=r["value"],
            detail=r["detail"],
            raw_values=result.raw_values(r),
        )
        for r in joined.iter_rows(named=True)
    ]


def quarter_issues(
    results: dict[str, SheetResult], states: list[FileState], tables: dict[str, pl.DataFrame]
) -> list[Issue]:
    """Every problem of the quarter: row problems of each sheet, warnings on the accepted tables, each file's own
    issues, and one line per row of each rejected file."""
    issues: list[Issue] = []
    for sheet, result in results.items():
        issues += _issue_rows(result, sheet, states)
    read = {
        table: results[sheet].typed.with_columns(results[sheet].rejected.alias("_rejected"))
        for sheet, table in (("HTX", "cooperatives"), ("THT", "coop_groups"))
    }
    issues += warn.warnings(tables, read)
    for s in states:
        issues += s.issues
        if s.rejected:
            issues += _rows_of_rejected_file(s)
    return issues


def _rows_of_rejected_file(state: FileState) -> list[Issue]:
    """One line per data row of a rejected file (rule `file_rejected`, naming the file's own rule), so every
    row and its values are kept."""
    cause = next((i for i in state.issues if RULES[i.rule].severity == ERROR and RULES[i.rule].scope == "file"), None)
    if cause is None:
        cause = next((i for i in state.issues if RULES[i.rule].severity == ERROR), None)
    if cause is None:
        return []
    return [
        Issue(state.file.rel, sheet, row, None, "file_rejected", detail=cause.rule, raw_values=raw)
        for sheet, block in state.blocks.items()
        for row, raw in zip(block.rows, block.raw, strict=True)
        if row != cause.source_row or sheet != cause.sheet
    ]


def _header_label(states_by_file: dict[str, FileState], issue: Issue) -> str | None:
    if issue.column is None:
        return None
    state = states_by_file.get(issue.source_file)
    block = state.blocks.get(issue.sheet or "") if state else None
    if block is not None and issue.column in block.headers:
        return block.headers[issue.column]
    if issue.sheet and issue.column in columns_by_name(issue.sheet):
        return columns_by_name(issue.sheet)[issue.column].header_vi
    return issue.column


def rejected_rows_table(issues: list[Issue], states: list[FileState], period: str) -> pl.DataFrame:
    """The `rejected_rows` table: errors and warnings with both messages."""
    year, quarter = period_parts(period)
    by_file = {s.file.rel: s for s in states}
    rows = []
    for i in issues:
        state = by_file.get(i.source_file)
        vi, en = message(
            i.rule,
            file=i.source_file,
            sheet=i.sheet,
            row=i.source_row,
            col=_header_label(by_file, i),
            value=i.value,
            detail=i.detail,
        )
        rows.append(
            {
                "period": period,
                "year": year,
                "quarter": quarter,
                "commune_code": state.commune_code if state else None,
                "source_file": i.source_file,
                "source_sha256": state.file.sha256 if state else None,
                "sheet": i.sheet,
                "source_row": i.source_row,
                "column": i.column,
                "rule": i.rule,
                "severity": RULES[i.rule].severity,
                "message_vi": vi,
                "message_en": en,
                "raw_values": i.raw_values,
            }
        )
    schema = wh.polars_schema(wh.RejectedRows)
    return cause_first(pl.DataFrame(rows, schema=schema))


def submission_log(
    states: list[FileState], results: dict[str, SheetResult], rejected: pl.DataFrame, period: str
) -> pl.DataFrame:
    """One line per file: status and row accounting (rows_in = rows_accepted + rows_rejected)."""
    year, quarter = period_parts(period)
    errors = rejected.filter((pl.col("severity") == ERROR) & pl.col("source_row").is_not_null())
    rejected_count = dict(
        errors.group_by("source_file").agg(pl.struct("sheet", "source_row").n_unique().alias("n")).iter_rows()
    )
    warning_count = dict(rejected.filter(pl.col("severity") != ERROR).group_by("source_file").len().iter_rows())
    rows = []
    for s in states:
        rows_read = sum(b.rows_in for b in s.blocks.values())
        rows_in = rows_read
        if s.rejected:
            status, accepted_n, rejected_n = "rejected", 0, rows_in
        elif s.superseded_by is not None:
            # Replaced by the commune's later file: none of its rows is taken into the period.
            status, rows_in, accepted_n, rejected_n = "superseded", 0, 0, 0
        elif s.held:
            # Awaiting the officer's approval: its problems are listed, none of its rows is taken yet.
            status, rows_in, accepted_n, rejected_n = "held", 0, 0, 0
        else:
            rejected_n = rejected_count.get(s.file.rel, 0)
            accepted_n = rows_in - rejected_n
            status = "accepted_with_errors" if rejected_n else "accepted"
        conversions = {f"{sheet}.{col}": unit for sheet, b in s.blocks.items() for col, unit in b.unit_texts.items()}
        skipped = {sheet: {str(r): why for r, why in b.skipped} for sheet, b in s.blocks.items() if b.skipped}
        rows.append(
            {
                "period": period,
                "year": year,
                "quarter": quarter,
                "commune_code": s.commune_code,
                "source_file": s.file.rel,
                "source_sha256": s.file.sha256,
                "file_kind": s.file.kind,
                "received_at": s.file.received_at,
                "report_date": s.report_date,
                "status": status,
                "rows_read": rows_read,
                "rows_in": rows_in,
                "rows_accepted": accepted_n,
                "rows_rejected": rejected_n,
                "warnings": warning_count.get(s.file.rel, 0),
                "superseded_by": s.superseded_by,
                "unit_conversions": json.dumps(conversions, ensure_ascii=False, sort_keys=True)
                if conversions
                else None,
                "skipped_lines": json.dumps(skipped, ensure_ascii=False) if skipped else None,
            }
        )
    return pl.DataFrame(rows, schema=wh.polars_schema(wh.SubmissionLog)).sort("source_file")
