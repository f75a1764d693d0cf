"""Process every submission of one period into the warehouse tables.

One call handles a whole quarter: files are read in parallel, their rows stacked,
converted and validated in bulk (one pandera call per table), then split into
accepted facts and rejected rows. Nothing is dropped without a trace: every file
gets a line in the submission log and every rejected row a line in ``rejected_rows``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import pandera.polars as pa
import polars as pl

from ingest import warnings as warn
from ingest.convert import VOCABS, convert
from ingest.discover import SubmissionFile
from ingest.issues import Issue
from ingest.legacy_fonts import file_fonts
from ingest.parallel import read_files
from ingest.reference import Reference
from ingest.sheet import SheetBlock, cut_sheet, format_words, sheet_texts
from ingest.text import parse_period, period_parts
from ingest.validate import model_issues
from ingest.workbook import SubmissionReadError, read_submission
from schemas import warehouse as wh
from schemas.fields import sheet_columns
from schemas.rules import ERROR, RULES, message
from schemas.sheets import REQUIRED_SHEETS

COMMUNE_SHEETS = ("HTX", "THT", "TongHop")
DISTRICT_SHEETS = ("HoTro",)
FACT_TABLES: dict[str, tuple[str, type[pa.DataFrameModel]]] = {
    "HTX": ("cooperatives", wh.Cooperatives),
    "THT": ("coop_groups", wh.CoopGroups),
    "TongHop": ("commune_summaries", wh.CommuneSummaries),
    "HoTro": ("support_disbursements", wh.SupportDisbursements),
}


@dataclass
class FileState:
    """What is known about one submission while its period is processed."""

    file: SubmissionFile
    blocks: dict[str, SheetBlock] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rejected: bool = False
    superseded_by: str | None = None
    commune_code: str | None = None
    report_date: date | None = None

    @property
    def live(self) -> bool:
        """Neither rejected nor superseded: its rows go to the facts."""
        return not self.rejected and self.superseded_by is None

    def reject(
        self,
        rule: str,
        *,
        sheet: str | None = None,
        column: str | None = None,
        value: object = None,
        detail: object = None,
        row: int | None = None,
    ) -> None:
        """Reject the whole file with a file-level issue."""
        self.issues.append(Issue(self.file.rel, sheet, row, column, rule, value=value, detail=detail))
        self.rejected = True


def read_file(f: SubmissionFile) -> FileState:
    """Read one submission and cut its sheets; file errors reject it."""
    state = FileState(f)
    if f.kind == "other":
        state.reject("file_unreadable", detail="không phải tệp Excel hoặc thư mục CSV / not a workbook or CSV folder")
        return state
    wanted = DISTRICT_SHEETS if f.kind == "district" else COMMUNE_SHEETS
    required = DISTRICT_SHEETS if f.kind == "district" else REQUIRED_SHEETS
    try:
        raw = read_submission(f.path, wanted)
    except SubmissionReadError as exc:
        state.reject(exc.rule, detail=exc.detail)
        return state
    except Exception as exc:  # any damage a reader reports must reject the file, never stop the quarter
        state.reject(
            "file_unreadable", detail=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        )
        return state
    present = {sheet: raw.find(sheet) for sheet in wanted}
    texts = [t for found in present.values() if found is not None for t in sheet_texts(found)]
    fonts = file_fonts(texts, format_words())
    for sheet, found in present.items():
        if found is None or (sheet not in required and found.holds_no_table()):
            if sheet in required:
                state.reject("sheet_missing", detail=sheet)
            continue
        block = cut_sheet(found, sheet, f.rel, fonts)
        state.blocks[sheet] = block
        state.issues.extend(block.issues)
        if block.file_error:
            state.rejected = True
    return state


def _stack(states: list[FileState], sheet: str) -> pl.DataFrame:
    """Rows of one sheet from many files, as text, with their file index and row number."""
    cols = [c.name for c in sheet_columns(FACT_TABLES[sheet][1])]
    data: dict[str, list] = defaultdict(list)
    factors: set[str] = {name for s in states if sheet in s.blocks for name in s.blocks[sheet].factors}
    for idx, state in enumerate(states):
        block = state.blocks.get(sheet)
        if block is None or not block.rows:
            continue
        n = block.rows_in
        data["_state"].extend([idx] * n)
        data["source_row"].extend(block.rows)
        data["raw_values"].extend(block.raw)
        for c in cols:
            data[c].extend(block.cells.get(c, [None] * n))
            data[f"{c}__num"].extend(block.numeric.get(c, [False] * n))
        for c in factors:
            data[f"{c}__factor"].extend([block.factors.get(c, 1.0)] * n)
    schema: dict[str, pl.DataType] = {"_state": pl.UInt32, "source_row": pl.Int64, "raw_values": pl.String}
    for c in cols:
        schema[c] = pl.String
        schema[f"{c}__num"] = pl.Boolean
    for c in sorted(factors):
        schema[f"{c}__factor"] = pl.Float64
    return pl.DataFrame({k: data.get(k, []) for k in schema}, schema=schema)


@dataclass
class SheetResult:
    """Typed rows of one sheet across the period, and which are rejected."""

    frame: pl.DataFrame  # stacked text frame
    typed: pl.DataFrame  # warehouse-shaped typed rows, same order
    issues: pl.DataFrame  # _i, column, rule, value, detail
    rejected: pl.Series  # bool per row

    def accepted(self, model: type[pa.DataFrameModel]) -> pl.DataFrame:
        """Accepted rows in the table's column order."""
        return self.typed.filter(~self.rejected).select(wh.column_order(model))


def _keys_frame(states: list[FileState], period: str) -> pl.DataFrame:
    year, quarter = period_parts(period)
    return pl.DataFrame(
        {
            "_state": list(range(len(states))),
            "commune_code": [s.commune_code for s in states],
            "source_file": [s.file.rel for s in states],
            "source_sha256": [s.file.sha256 for s in states],
        },
        schema={"_state": pl.UInt32, "commune_code": pl.String, "source_file": pl.String, "source_sha256": pl.String},
    ).with_columns(
        pl.lit(period).alias("period"), pl.lit(year, pl.Int32).alias("year"), pl.lit(quarter, pl.Int8).alias("quarter")
    )


def stack_sheet(states: list[FileState], sheet: str, period: str, only_live: bool = True) -> SheetResult:
    """Stack and convert one sheet of all (live) files of the period; not yet validated."""
    model = FACT_TABLES[sheet][1]
    chosen = [s if (s.live or not only_live) and not s.rejected else FileState(s.file) for s in states]
    frame = _stack(chosen, sheet)
    typed, type_issues = convert(frame, sheet_columns(model))
    typed = pl.concat([frame.select("_state", "source_row"), typed], how="horizontal")
    unit_issues = pl.DataFrame(
        [
            {"_state": i, "column": issue.column, "value": issue.value, "detail": issue.detail}
            for i, st in enumerate(chosen)
            if sheet in st.blocks and st.blocks[sheet].sheet_rejected
            for issue in st.blocks[sheet].issues[:]
            if issue.rule == "unit_unknown"
        ],
        schema={"_state": pl.UInt32, "column": pl.String, "value": pl.String, "detail": pl.String},
    ).unique("_state", keep="first", maintain_order=True)
    unit_rows = (
        frame.with_row_index("_i")
        .select("_i", "_state")
        .join(unit_issues, on="_state", how="inner")
        .select("_i", "column", pl.lit("unit_unknown").alias("rule"), "value", "detail")
        .cast(type_issues.schema)
    )
    issues = pl.concat(
        [
            type_issues,
            unit_rows,
            _block_row_issues(frame, chosen, sheet).cast(type_issues.schema),
        ]
    )
    return SheetResult(frame, typed, issues, _mask(frame.height, issues["_i"].to_list()))


def _block_row_issues(frame: pl.DataFrame, states: list[FileState], sheet: str) -> pl.DataFrame:
    """Row errors found while cutting the sheet (a formula without a value, a cell in a legacy font kttt cannot
    read for sure), by row index."""
    found = pl.DataFrame(
        [
            {
                "_state": i,
                "source_row": issue.source_row,
                "column": issue.column,
                "rule": issue.rule,
                "value": None if issue.value is None else str(issue.value),
                "detail": None if issue.detail is None else str(issue.detail),
            }
            for i, st in enumerate(states)
            if sheet in st.blocks
            for issue in st.blocks[sheet].row_issues
        ],
        schema={
            "_state": pl.UInt32,
            "source_row": pl.Int64,
            "column": pl.String,
            "rule": pl.String,
            "value": pl.String,
            "detail": pl.String,
        },
    )
    return (
        frame.with_row_index("_i")
        .select("_i", "_state", "source_row")
        .join(found, on=["_state", "source_row"], how="inner")
        .select("_i", "column", "rule", "value", "detail")
    )


def validate_sheet(result: SheetResult, states: list[FileState], sheet: str, period: str) -> None:
    """Add period keys and lineage, run the table's pandera model, and mark rejected rows."""
    model = FACT_TABLES[sheet][1]
    keys = _keys_frame(states, period)
    typed = result.typed.drop([c for c in keys.columns if c != "_state" and c in result.typed.columns])
    typed = typed.join(keys, on="_state", how="left", maintain_order="left")
    rule_issues = model_issues(model, typed, VOCABS)
    if result.issues.height:
        # Unreadable cells are already reported; pandera saw them empty.
        rule_issues = rule_issues.join(
            result.issues.select("_i", "column"), on=["_i", "column"], how="anti", nulls_equal=True
        )
    if rule_issues.height:
        text_cols = [
            c
            for c in result.frame.columns
            if not c.startswith("_") and "__" not in c and c not in ("source_row", "raw_values")
        ]
        as_written = (
            result.frame.with_row_index("_i")
            .select("_i", *text_cols)
            .unpivot(index="_i", variable_name="column", value_name="written")
        )
        rule_issues = (
            rule_issues.join(as_written, on=["_i", "column"], how="left")
            .with_columns(pl.coalesce("written", "value").alias("value"))
            .drop("written")
        )
    result.issues = pl.concat([result.issues, rule_issues]).sort("_i", "column", nulls_last=False)
    result.rejected = _mask(result.frame.height, result.issues["_i"].to_list())
    result.typed = typed.drop("_state")


def process_sheet(states: list[FileState], sheet: str, period: str) -> SheetResult:
    """Stack, convert and validate one sheet of the period's live files."""
    result = stack_sheet(states, sheet, period)
    validate_sheet(result, states, sheet, period)
    return result


def _mask(n: int, rows: list[int]) -> pl.Series:
    """Boolean series of length ``n``, true at ``rows``."""
    marked = set(rows)
    return pl.Series("rejected", [i in marked for i in range(n)], dtype=pl.Boolean)


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
    for idx, state in enumerate(states):
        if state.rejected or state.file.kind == "district":
            continue
        if idx not in first:
            state.reject("summary_missing", sheet="TongHop")
            continue
        i = first[idx]
        row = result.frame.row(i, named=True)
        typed = result.typed.row(i, named=True)
        where = {"sheet": "TongHop", "row": row["source_row"]}
        unknown = _identity_formula(state)
        if unknown is not None:  # the commune, period or date is a formula without a value: say so
            state.reject("formula_uncached", column=unknown[0], value=unknown[1], **where)
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


def _identity_formula(state: FileState) -> tuple[str, str] | None:
    """The first identity cell (commune, period, report date) of the TongHop row that is a formula saved
    without its value, with the formula."""
    block = state.blocks["TongHop"]
    first = block.rows[0] if block.rows else None
    cells = {i.column: i.value for i in block.row_issues if i.rule == "formula_uncached" and i.source_row == first}
    return next(((c, cells[c] or "") for c in ("commune", "period_text", "report_date") if c in cells), None)


def _commune_of_rejected(state: FileState, reference: Reference, period: str) -> str | None:
    """The commune a rejected file names in TongHop, when it can be told (so completeness says "rejected")."""
    block = state.blocks.get("TongHop")
    if block is None or block.first("commune") is None:
        return None
    return reference.resolve(block.first("commune"), period)


def resolve_resubmissions(states: list[FileState]) -> None:
    """Several files for one commune: the latest report date wins (ties: latest file time, then name).

    Several district (support) files in one folder: the latest file time wins (then name); support files of
    different subfolders (a province's former districts) are all taken.
    """
    by_commune: dict[str, list[FileState]] = defaultdict(list)
    for s in states:
        if s.rejected:
            continue
        if s.file.kind == "district":
            by_commune["\0district/" + s.file.rel.rpartition("/")[0]].append(s)
        elif s.commune_code is not None:
            by_commune[s.commune_code].append(s)
    for group in by_commune.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda s: (s.report_date or date.min, s.file.received_at, s.file.rel))
        winner = group[-1]
        for s in group[:-1]:
            s.superseded_by = winner.file.rel
            s.issues.append(Issue(s.file.rel, None, None, None, "superseded", value=winner.file.rel))


@dataclass
class PeriodResult:
    """The warehouse tables of one period."""

    tables: dict[str, pl.DataFrame]


def _issue_rows(result: SheetResult, sheet: str, states: list[FileState]) -> list[Issue]:
    if not result.issues.height:
        return []
    joined = result.issues.join(
        result.frame.with_row_index("_i").select("_i", "_state", "source_row", "raw_values"), on="_i", how="left"
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
            raw_values=r["raw_values"],
        )
        for r in joined.iter_rows(named=True)
    ]


def process_period(
    files: list[SubmissionFile], reference: Reference, period: str, workers: int | None = None
) -> PeriodResult:
    """Build every table of ``period`` from its submission files (read on ``workers`` processes; default: auto)."""
    states = read_files(files, workers)

    summaries = identify(states, reference, period)
    resolve_resubmissions(states)
    results: dict[str, SheetResult] = {"TongHop": summaries}
    for sheet in ("HTX", "THT"):
        results[sheet] = process_sheet(states, sheet, period)
    results["HoTro"] = process_sheet(states, "HoTro", period)

    # Summary rows of files that are rejected or superseded are not facts.
    live_states = [i for i, s in enumerate(states) if s.live]
    summaries.rejected = summaries.rejected | ~summaries.frame["_state"].is_in(live_states)
    summaries.issues = summaries.issues.join(
        summaries.frame.with_row_index("_i").filter(~pl.col("_state").is_in(live_states)).select("_i"),
        on="_i",
        how="anti",
    )

    tables = {table: results[sheet].accepted(model) for sheet, (table, model) in FACT_TABLES.items()}
    # Any cooperative of the period's submissions, accepted or not: a support row is not lost because the
    # beneficiary's own row had an error.
    known_ids = set(results["HTX"].typed["coop_id"].drop_nulls().to_list())
    hotro = results["HoTro"]
    unknown = hotro.typed.with_row_index("_i").filter(
        pl.col("coop_id").is_not_null() & ~pl.col("coop_id").is_in(list(known_ids)) & ~hotro.rejected
    )
    if unknown.height:
        hotro.issues = pl.concat(
            [
                hotro.issues,
                unknown.select(
                    "_i",
                    pl.lit("coop_id").alias("column"),
                    pl.lit("coop_unknown").alias("rule"),
                    pl.col("coop_id").alias("value"),
                    pl.lit(None, dtype=pl.String).alias("detail"),
                ),
            ]
        )
        hotro.rejected = hotro.rejected | _mask(hotro.frame.height, unknown["_i"].to_list())
        tables["support_disbursements"] = hotro.accepted(wh.SupportDisbursements)

    issues: list[Issue] = []
    for sheet, result in results.items():
        issues += _issue_rows(result, sheet, states)
    issues += warn.warnings(tables)
    for s in states:
        issues += s.issues
        if s.rejected:
            issues += _rows_of_rejected_file(s)

    tables["rejected_rows"] = rejected_rows_table(issues, states, period)
    tables["submission_log"] = submission_log(states, results, tables["rejected_rows"], period)
    return PeriodResult(tables)


def _rows_of_rejected_file(state: FileState) -> list[Issue]:
    """One line per data row of a rejected file (rule ``file_rejected``, naming the file's own rule), so every
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
    from ingest.sheet import columns_by_name

    if issue.sheet and issue.column in columns_by_name(issue.sheet):
        return columns_by_name(issue.sheet)[issue.column].header_vi
    return issue.column


def rejected_rows_table(issues: list[Issue], states: list[FileState], period: str) -> pl.DataFrame:
    """The ``rejected_rows`` table: errors and warnings with both messages."""
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
    return pl.DataFrame(rows, schema=schema).sort(
        "source_file", "sheet", "source_row", "column", "rule", nulls_last=False
    )


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
        else:
            rejected_n = rejected_count.get(s.file.rel, 0)
            accepted_n = rows_in - rejected_n
            status = "accepted_with_errors" if rejected_n else "accepted"
        conversions = {f"{sheet}.{col}": unit for sheet, b in s.blocks.items() for col, unit in b.unit_texts.items()}
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
            }
        )
    return pl.DataFrame(rows, schema=wh.polars_schema(wh.SubmissionLog)).sort("source_file")
