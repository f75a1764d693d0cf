"""The quarterly schedule and the raw-folder sensor."""

from __future__ import annotations

import dagster as dg

from pipeline.jobs import refresh_period
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.watch import changed_periods, stored_unchanged
from schemas.periods import quarter_closed_before

TIMEZONE = "Asia/Ho_Chi_Minh"
QUARTERLY_CRON = "0 6 20 1,4,7,10 *"
"""06:00 on the 20th of the month after each quarter: five days after the default deadline."""


@dg.schedule(
    cron_schedule=QUARTERLY_CRON,
    execution_timezone=TIMEZONE,
    job=refresh_period,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def quarterly_refresh(context: dg.ScheduleEvaluationContext, source: SubmissionSource):
    """Refresh the quarter just closed, a few days after the communes' deadline."""
    when = context.scheduled_execution_time
    period = quarter_closed_before(when.date()) if when else None
    if period is None or period not in source.periods():
        return dg.SkipReason(f"no raw folder for {period}")
    if period not in context.instance.get_dynamic_partitions(PERIOD_PARTITIONS):
        context.instance.add_dynamic_partitions(PERIOD_PARTITIONS, [period])
    return dg.RunRequest(
        run_key=f"schedule:{period}:{when.isoformat() if when else ''}",
        partition_key=period,
        tags={"kttt/trigger": "schedule"},
    )


@dg.sensor(job=refresh_period, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def raw_files_sensor(
    context: dg.SensorEvaluationContext, source: SubmissionSource, warehouse: WarehouseDir
) -> dg.SensorResult:
    """Request a refresh of every quarter whose files changed (by content), registering new quarters.

    On its first look at a quarter (a new cursor, a new folder) the sensor compares the folder with what the
    warehouse holds (`submission_log`'s file hashes): a quarter stored as it is, by `kttt run` for instance,
    is not run again.
    """
    changed, cursor = changed_periods(
        source.root, context.cursor, lambda period: stored_unchanged(source.root, warehouse.path, period)
    )
    known = set(context.instance.get_dynamic_partitions(PERIOD_PARTITIONS))
    new = [p for p in source.periods() if p not in known]
    return dg.SensorResult(
        run_requests=[
            # No run key: the cursor already drops unchanged content, and a folder reverted to earlier content
            # (A → B → A) must refresh again.
            dg.RunRequest(partition_key=period, tags={"kttt/trigger": "sensor", "kttt/content": digest[:16]})
            for period, digest in changed
        ],
        dynamic_partitions_requests=[period_partitions_add(new)] if new else [],
        cursor=cursor,
    )


def period_partitions_add(periods: list[str]) -> dg.AddDynamicPartitionsRequest:
    """A request adding quarters to the period partitions."""
    return dg.AddDynamicPartitionsRequest(partitions_def_name=PERIOD_PARTITIONS, partition_keys=periods)


follow_refreshes = dg.AutomationConditionSensorDefinition(
    "follow_refreshes",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    emit_backfills=False,
    description=(
        "Refreshes what depends on a changed quarter: the rest of that quarter after one of its tables was "
        "materialized alone, then the yearly indicators and the DuckDB views after any quarter's run."
    ),
)
