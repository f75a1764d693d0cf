"""Assets of the ingestion step: a quarter's commune submissions become warehouse tables.

One step reads and validates every file of a period (never one step per commune),
so the assets of a period are produced together by one multi-asset.
"""

from collections.abc import Callable

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from assets.metadata import TABLE_KINDS, definition_metadata, describe, output_metadata, table_outs
from ingest.completeness import ACCEPTED, completeness
from ingest.discover import skip_reason
from ingest.period import process_period
from ingest.progress import listening
from ingest.review import period_review
from pipeline.conditions import QUARTER_FOLLOWS
from pipeline.partitions import period_partitions
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.review_store import read_decisions
from schemas import warehouse as wh
from schemas.messages import say

GROUP = "submissions"
FACT_TABLES = tuple(table for table, _ in wh.FACT_TABLES.values())
PERIOD_TABLES = ("submission_log", *FACT_TABLES, "rejected_rows")
"""The tables one quarter's submissions become, in the order they are written."""

ROW_ACCOUNTING = dg.AssetCheckSpec(
    "row_accounting",
    asset="submission_log",
    blocking=True,
    description=(
        "For every file: rows_in = rows_accepted + rows_rejected, rows_accepted = rows stored in the fact tables, "
        "and every rejected row of an accepted file is listed in rejected_rows."
    ),
)
REJECTED_ROWS = dg.AssetCheckSpec(
    "no_rejected_rows",
    asset="rejected_rows",
    description="Warns when rows or files were rejected, with counts by rule.",
)
ACCEPTED_FILES = dg.AssetCheckSpec(
    "files_accepted",
    asset="submission_log",
    description=(
        "Fails (error) when no commune submission of the quarter was accepted: every table of the quarter is empty, "
        "whatever the run's status says."
    ),
)
REJECTED_FILES = dg.AssetCheckSpec(
    "no_rejected_files",
    asset="submission_log",
    description="Warns when whole files were rejected (unreadable, wrong commune or period, missing sheets).",
)


def row_accounting(
    period: str, log: pl.DataFrame, rejected: pl.DataFrame, facts: dict[str, pl.DataFrame]
) -> dg.AssetCheckResult:
    """Check, per file, rows_in = rows_accepted + rows_rejected, that rows_accepted equals the rows really stored
    in the fact tables, and that rejected_rows lists each rejected row."""
    stored = pl.concat([facts[t].select("source_file") for t in FACT_TABLES]).group_by("source_file").len("stored")
    off = log.join(stored, on="source_file", how="left").filter(
        (pl.col("rows_in") != pl.col("rows_accepted") + pl.col("rows_rejected"))
        | (pl.col("rows_accepted") != pl.col("stored").fill_null(0))
    )
    accepted = log.filter(pl.col("status").is_in(ACCEPTED))
    listed = (
        rejected.filter((pl.col("severity") == "error") & pl.col("source_row").is_not_null())
        .group_by("source_file")
        .agg(pl.struct("sheet", "source_row").n_unique().alias("listed"))
    )
    mismatch = accepted.join(listed, on="source_file", how="left").filter(
        pl.col("listed").fill_null(0) != pl.col("rows_rejected")
    )
    bad = sorted(set(off["source_file"].to_list()) | set(mismatch["source_file"].to_list()))
    return dg.AssetCheckResult(
        check_name="row_accounting",
        asset_key="submission_log",
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "period": period,
            "files_checked": accepted.height,
            "files_off": len(bad),
            "examples": ", ".join(bad[:10]),
        },
    )


def rejected_summary(period: str, rejected: pl.DataFrame) -> dg.AssetCheckResult:
    """Warn with the number of rejected rows by rule."""
    errors = rejected.filter(pl.col("severity") == "error")
    by_rule = errors.group_by("rule").len().sort("len", descending=True)
    return dg.AssetCheckResult(
        check_name="no_rejected_rows",
        asset_key="rejected_rows",
        passed=errors.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "period": period,
            "errors": errors.height,
            "warnings": rejected.height - errors.height,
            "by_rule": dg.MetadataValue.json(dict(by_rule.iter_rows())),
        },
    )


def rejected_files(period: str, log: pl.DataFrame) -> dg.AssetCheckResult:
    """Warn with the files rejected as a whole."""
    bad = log.filter(pl.col("status") == "rejected")["source_file"].to_list()
    return dg.AssetCheckResult(
        check_name="no_rejected_files",
        asset_key="submission_log",
        passed=not bad,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"period": period, "rejected_files": len(bad), "files": ", ".join(bad[:20])},
    )


def file_counts(log: pl.DataFrame) -> dict[str, int]:
    """Files of the quarter by outcome (`files_accepted` counts those accepted with some rows rejected too)."""
    status = log["status"]
    return {
        "files_total": log.height,
        "files_accepted": int(status.is_in(ACCEPTED).sum()),
        "files_with_rejected_rows": int((status == "accepted_with_errors").sum()),
        "files_rejected": int((status == "rejected").sum()),
        "files_superseded": int((status == "superseded").sum()),
    }


def accepted_files(period: str, log: pl.DataFrame) -> dg.AssetCheckResult:
    """Fail, as an error, when no commune submission of the quarter was accepted."""
    communes = log.filter(pl.col("file_kind") != "district")
    accepted = communes.filter(pl.col("status").is_in(ACCEPTED)).height
    return dg.AssetCheckResult(
        check_name="files_accepted",
        asset_key="submission_log",
        passed=accepted > 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"period": period, "commune_files": communes.height, "accepted": accepted},
    )


def read_logger(context: AssetExecutionContext, period: str) -> Callable[[int, int], None]:
    """Tell the run's log how reading goes, at each tenth of the files."""
    last = [-1]

    def told(done: int, total: int) -> None:
        step = 10 * done // max(total, 1)
        if done and (step > last[0] or done == total):
            last[0] = step
            context.log.info(say("files_read", done=done, total=total) + f" ({period})")

    return told


@dg.multi_asset(
    name="period_submissions",
    outs=table_outs(PERIOD_TABLES, GROUP),
    partitions_def=period_partitions,
    check_specs=[ROW_ACCOUNTING, ACCEPTED_FILES, REJECTED_ROWS, REJECTED_FILES],
    deps=["reviews"],
)
def period_submissions(context: AssetExecutionContext, source: SubmissionSource, warehouse: WarehouseDir):
    """Read, validate and split every submission of a quarter into the warehouse tables.

    Files are read in parallel; rows of all communes are validated together against
    the pandera models. Rejected rows and files go to `rejected_rows` with the rule and
    a Vietnamese and English message; every file gets a line in `submission_log`.
    """
    period = context.partition_key
    reference = source.reference()  # a broken reference stops the step before any file is read
    files, skipped = source.files(period)
    skipped_lines = [
        f"{say('skipped', path=path.relative_to(source.root).as_posix())}: {skip_reason(path, source.root)}"
        for path in skipped
    ]
    for line in skipped_lines:
        context.log.warning(line)
    review = period_review(source.review_policy(), read_decisions(warehouse.path, period), period, source.deadline())
    with listening(read_logger(context, period)):
        result = process_period(files, reference, period, source.read_workers, source.workbook_password, review)
    tables = result.tables
    context.log.info(
        f"{period}: {len(files)} files, {tables['cooperatives'].height} cooperatives, "
        f"{tables['coop_groups'].height} groups, "
        f"{tables['rejected_rows'].filter(pl.col('severity') == 'error').height} errors"
    )
    for name in PERIOD_TABLES:
        metadata = output_metadata(tables[name], period)
        if name == "submission_log":
            metadata.update(file_counts(tables[name]))
            metadata["files_skipped"] = len(skipped_lines)
            if skipped_lines:  # an empty list would render as an empty bullet
                metadata["skipped"] = dg.MetadataValue.md("\n".join(f"- {line}" for line in skipped_lines))
        yield dg.Output(tables[name], output_name=name, metadata=metadata)
    yield row_accounting(period, tables["submission_log"], tables["rejected_rows"], tables)
    yield accepted_files(period, tables["submission_log"])
    yield rejected_summary(period, tables["rejected_rows"])
    yield rejected_files(period, tables["submission_log"])


@dg.asset(
    name="completeness",
    group_name=GROUP,
    kinds=TABLE_KINDS,
    partitions_def=period_partitions,
    description=describe(wh.Completeness),
    metadata=definition_metadata(wh.Completeness),
    automation_condition=QUARTER_FOLLOWS,
    check_specs=[
        dg.AssetCheckSpec(
            "all_communes_reported",
            asset="completeness",
            description="Warns when an expected commune has no accepted submission.",
        )
    ],
)
def completeness_asset(
    context: AssetExecutionContext, source: SubmissionSource, warehouse: WarehouseDir, submission_log: pl.DataFrame
):
    """Expected communes of the quarter (`communes.csv` validity windows), whether each reported on time, and
    the review state of its submission (docs/review.md)."""
    period = context.partition_key
    decisions = read_decisions(warehouse.path, period)
    table = completeness(submission_log, source.reference(), period, source.deadline_days, decisions)
    yield dg.Output(
        table,
        metadata={
            **output_metadata(table, period),
            "submitted": int(table["submitted"].sum()),
            "expected": table.height,
            "on_time": int(table["on_time"].sum()),
            "review_states": dg.MetadataValue.json(
                dict(table.group_by(pl.col("review_state").fill_null("-")).len().sort("review_state").iter_rows())
            ),
        },
    )
    missing = table.filter(~pl.col("submitted"))
    yield dg.AssetCheckResult(
        check_name="all_communes_reported",
        passed=missing.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "period": period,
            "missing": missing.height,
            "communes": ", ".join(missing["commune_name"].to_list()),
        },
    )
