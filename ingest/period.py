"""Process every submission of one period into the warehouse tables.

One call handles a whole quarter: files are read in parallel, their rows stacked,
converted and validated in bulk (one pandera call per table), then split into
accepted facts and rejected rows. Nothing is dropped without a trace: every file
gets a line in the submission log and every rejected row a line in `rejected_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.collection import collecting_less
from ingest.crosscheck import check_beneficiaries, drop_dead_summaries, drop_held
from ingest.discover import SubmissionFile
from ingest.identify import identify, resolve_resubmissions
from ingest.in_force import apply_form, issues_in_force
from ingest.outcome import quarter_issues, rejected_rows_table, submission_log
from ingest.parallel import read_files
from ingest.reference import Reference
from ingest.review import Review
from ingest.scale import with_scale_class
from ingest.stacking import SheetResult, process_sheet
from schemas.warehouse import FACT_TABLES


@dataclass
class PeriodResult:
    """The warehouse tables of one period."""

    tables: dict[str, pl.DataFrame]


def process_period(
    files: list[SubmissionFile],
    reference: Reference,
    period: str,
    workers: int | None = None,
    password: str | None = None,
    review: Review | None = None,
) -> PeriodResult:
    """Build every table of `period` from its submission files (read on `workers` processes, default: auto;
    `password` opens encrypted workbooks), under the officer's decisions and the review settings when `review`
    is given (ingest/review.py).

    The phases, in order, and what each changes:

    1. **Read** (`ingest.submission`, on `ingest.parallel`'s processes): one `FileState`
       per file with its sheets cut into text blocks; unreadable files are rejected. Then
       the form of the period is applied (`ingest.in_force`): columns outside it are
       emptied with a warning, files missing a column it requires are rejected.
    2. **Identify** (`ingest.identify`): sets each file's commune, report date and
       rejection from its TongHop row, then marks older resubmissions `superseded_by` (under review: the
       officer's decisions and the lock choose instead, and a file waiting for approval is `held`).
    3. **Stack, convert, validate** (`ingest.stacking`): one `SheetResult` per sheet of
       the live files, with typed rows, problems and the rejected-row mask.
    4. **Cross-check** (`ingest.crosscheck`): rejects summary rows of dead files and
       support rows naming an unknown cooperative; each cooperative gets its computed
       scale class (`ingest.scale`); the fact tables are taken after it.
    5. **Account** (`ingest.outcome`): turns every problem of a rule in force in the period
       into `rejected_rows` and every file into a `submission_log` line.

    The cyclic collector runs at a slower pace meanwhile (`ingest.collection`).
    """
    with collecting_less():
        return _process_period(files, reference, period, workers, password, review)


def _process_period(
    files: list[SubmissionFile],
    reference: Reference,
    period: str,
    workers: int | None,
    password: str | None,
    review: Review | None,
) -> PeriodResult:
    """:func:`process_period`'s phases."""
    states = read_files(files, workers, password)
    apply_form(states, period)

    summaries = identify(states, reference, period)
    resolve_resubmissions(states, review)
    results: dict[str, SheetResult] = {"TongHop": summaries}
    for sheet in FACT_TABLES:
        if sheet not in results:
            results[sheet] = process_sheet(states, sheet, period)

    drop_dead_summaries(summaries, states)
    check_beneficiaries(results["HoTro"], results["HTX"])
    results["HTX"].typed = with_scale_class(results["HTX"].typed, reference.scale_thresholds, period)
    tables = {table: results[sheet].accepted(model) for sheet, (table, model) in FACT_TABLES.items()}

    issues = issues_in_force(quarter_issues(results, states, tables), period)
    tables = drop_held(tables, states)
    tables["rejected_rows"] = rejected_rows_table(issues, states, period)
    tables["submission_log"] = submission_log(states, results, tables["rejected_rows"], period)
    return PeriodResult(tables)
