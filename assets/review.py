"""Asset `reviews`: the officer's decisions on a quarter's submissions (approve, return, reopen).

Launched from the launchpad as the `review` job with a decision in its config, it appends the decision and the
rest of the quarter is refreshed with it in the same run; in any other run (a refresh) it records nothing and
shows the review state of every commune of the quarter in its metadata.
"""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from assets.metadata import definition_metadata, describe, markdown_preview
from ingest.review import Request, ReviewConfigError, ReviewRequestError, plan, states_table
from pipeline.partitions import period_partitions
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.review_store import append_decisions, read_decisions
from pipeline.storage import check_partition
from schemas import warehouse as wh
from schemas.messages import say


class ReviewDecision(dg.Config):
    """A decision to record for the run's quarter; leave `action` empty to record nothing."""

    action: str | None = None
    """approve, return or reopen"""
    unit: str | None = None
    """Code or name of the commune"""
    all_clean: bool = False
    """approve: every commune whose file has no error"""
    by: str | None = None
    """Who decides (recorded with the decision)"""
    note: str | None = None
    """Comment for the commune (required to return a submission)"""


@dg.asset(
    name="reviews",
    group_name="communes",
    kinds={"polars", "parquet"},
    partitions_def=period_partitions,
    description=describe(wh.Reviews),
    metadata=definition_metadata(wh.Reviews),
)
def reviews(
    context: AssetExecutionContext, config: ReviewDecision, source: SubmissionSource, warehouse: WarehouseDir
) -> dg.MaterializeResult:
    """Append the decision of the run's config (if any) to `reviews`, after checking it against the quarter's
    stored submission log; then show each commune's review state. A decision that cannot be made fails the run
    before anything is written, with the reason in Vietnamese and English."""
    period = check_partition(context.partition_key)
    try:
        policy = source.review_policy()
    except ReviewConfigError as exc:
        raise dg.Failure(description=str(exc)) from exc
    decisions = read_decisions(warehouse.path, period)
    recorded = 0
    if config.action:
        request = Request(config.action, period, config.by or "", config.unit, config.all_clean, config.note)
        log = warehouse.read("submission_log", [period])
        rejected = warehouse.read("rejected_rows", [period])
        try:
            if log is None or rejected is None:
                raise ReviewRequestError(say("review_not_run", period=period))
            new, told = plan(request, log, rejected, decisions, source.reference().resolve)
        except ReviewRequestError as exc:
            raise dg.Failure(description=str(exc)) from exc
        append_decisions(warehouse.path, new)
        for r in new.iter_rows(named=True):
            unit, file, decision, by = r["commune_code"], r["source_file"], r["decision"], r["decided_by"]
            context.log.info(say("review_recorded", unit=unit, file=file, decision=decision, by=by))
        for line in told:
            context.log.warning(line)
        recorded = new.height
        decisions = pl.concat([decisions, new])
    states = states_table(decisions, period)
    counts = dict(states.group_by("review_state").len().sort("review_state").iter_rows())
    return dg.MaterializeResult(
        metadata={
            "review_required": policy.required,
            "lock_after_days": policy.lock_after_days if policy.lock_after_days is not None else "-",
            "decisions_recorded": recorded,
            "decisions_total": decisions.height,
            "states": dg.MetadataValue.json(counts),
            "units": dg.MetadataValue.md(markdown_preview(states, rows=1000) if states.height else "-"),
        }
    )
