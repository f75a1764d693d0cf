"""Withdrawing a quarter from Dagster: the `withdraw_period` job (launched from the UI with the quarter in its
config, or by `kttt withdraw`), and the sensor that refreshes what spans every quarter after it."""

# No `from __future__ import annotations` here: Dagster reads the op's config class from its annotations.

import dagster as dg
from pydantic import Field

from pipeline.jobs import refresh_yearly
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import WarehouseDir
from pipeline.withdraw import withdraw_files
from schemas.messages import say

CLI_TAG = "kttt/source"


class WithdrawConfig(dg.Config):
    """Which quarter to withdraw."""

    period: str = Field(description="The quarter to withdraw, `YYYY-Qn` (for example `2024-Q3`).")


@dg.op(
    description="Remove every file of the quarter from the warehouse (all or nothing), record it in "
    "`withdrawals.csv`, and drop the quarter's partition."
)
def withdraw_quarter(context: dg.OpExecutionContext, config: WithdrawConfig, warehouse: WarehouseDir) -> None:
    """Withdraw the quarter named in the run's config."""
    period = config.period.strip().upper()
    done = withdraw_files(warehouse.path, period, command=f"dagster run {context.run_id}")
    if period in context.instance.get_dynamic_partitions(PERIOD_PARTITIONS):
        context.instance.delete_dynamic_partition(PERIOD_PARTITIONS, period)
    context.log.info(say("withdrawn", period=period, files=len(done.removed), record=done.record))
    for path in done.removed:
        context.log.info(f"- {path}")


@dg.job(
    description=(
        "Withdraw a quarter stored by mistake: its tables, report and feedback leave the warehouse, its partition "
        "goes, and the yearly indicators and DuckDB views are refreshed after it (sensor `refresh_after_withdrawal`). "
        "Move its folder out of `raw/` first, or it is stored again when its files change."
    ),
    config=dg.RunConfig(ops={"withdraw_quarter": WithdrawConfig(period="YYYY-Qn")}),
)
def withdraw_period() -> None:
    """One step: `withdraw_quarter`."""
    withdraw_quarter()


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[withdraw_period],
    request_job=refresh_yearly,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a quarter is withdrawn, refresh the yearly indicators and the DuckDB views without it.",
)
def refresh_after_withdrawal(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    """A `refresh_yearly` run per successful withdrawal (`kttt withdraw` runs it itself)."""
    run = context.dagster_run
    if run.tags.get(CLI_TAG) == "cli":
        return dg.SkipReason("kttt withdraw refreshed the yearly assets itself")
    return dg.RunRequest(run_key=f"withdrawn:{run.run_id}", tags={"kttt/trigger": "withdrawal"})
