"""Materialize the pipeline in-process through Dagster, period by period (used by `kttt run`).

Each step is a run of `cli_job` through `dg.execute_job`, its steps in this process. Not `dg.materialize`:
that keeps every output in memory until its run ends (for `result.output_for_node`, which `kttt run`
never asks for): at a national quarter, some 160 MiB of tables already written.

Each period runs while holding that period's lock of the warehouse (`pipeline.locks`):
a second run of the same period waits for the first, up to `lock_wait` seconds, then
gives up with a clear message and writes nothing. When the warehouse cannot be written
(disk full, read-only), the run stops at the first failed write: the tables already
there are left as they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from pipeline.instance import instance_for_run
from pipeline.jobs import ASSETS, PERIOD_SELECTION, REPORT_SELECTION, YEARLY_SELECTION
from pipeline.locks import DEFAULT_WAIT, YEARLY, Holder, LockRefusedError, period_lock
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from pipeline.storage import WarehouseWriteError, check_partition
from pipeline.withdrawal import CLI_TAG
from schemas.messages import say

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
CLI_JOB = "kttt_run"
"""The name `kttt run`'s runs have in the UI's run list (tagged `kttt/source: cli`)."""
SELECTIONS = {
    "period": PERIOD_SELECTION,
    "period_no_report": PERIOD_SELECTION - REPORT_SELECTION,
    "yearly": YEARLY_SELECTION,
}
"""What each step of `kttt run` materializes: a quarter (with or without its report), then what spans them."""


def cli_job(raw_dir: str, warehouse_dir: str, selection: str) -> dg.JobDefinition:
    """The job of one step of `kttt run`: the assets of `SELECTIONS[selection]`, in one process, with the
    resources of `raw_dir` and `warehouse_dir`. Plain arguments: `dg.execute_job` builds the job again from
    this function."""
    job = dg.define_asset_job(CLI_JOB, selection=SELECTIONS[selection], executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=ASSETS, resources=build_resources(raw_dir, warehouse_dir), jobs=[job])
    return defs.resolve_job_def(CLI_JOB)


@dataclass
class PeriodRun:
    """Outcome of materializing one period."""

    period: str
    success: bool
    seconds: float
    error: str | None = None
    refused: bool = False
    """Not run: another run of the period held the lock for longer than the run would wait."""
    storage_error: str | None = None
    """The warehouse could not be written (the bilingual message), when that is why the run failed."""


def register_periods(instance: dg.DagsterInstance, periods: list[str]) -> None:
    """Add quarters missing from the dynamic partitions."""
    known = set(instance.get_dynamic_partitions(PERIOD_PARTITIONS))
    new = [p for p in periods if p not in known]
    if new:
        instance.add_dynamic_partitions(PERIOD_PARTITIONS, new)


def run_periods(
    raw_dir: Path,
    warehouse_dir: str | Path,
    periods: list[str],
    instance: dg.DagsterInstance | None = None,
    on_progress: Callable[[str], None] | None = None,
    lock_wait: float = DEFAULT_WAIT,
    report: bool = True,
) -> list[PeriodRun]:
    """Materialize every asset for each period (but the report when `report` is false); a failed period does
    not stop the others.

    A period whose lock another run holds for more than `lock_wait` seconds is
    refused (`refused`); a failure to write the warehouse stops the whole run. Without
    `instance`, the runs are recorded in `instance_for_run()`, which is closed at the end.
    """
    for period in periods:
        check_partition(period)
    if instance is not None:
        return _run_periods(raw_dir, warehouse_dir, periods, instance, on_progress, lock_wait, report)
    own = instance_for_run()
    try:
        return _run_periods(raw_dir, warehouse_dir, periods, own, on_progress, lock_wait, report)
    finally:
        own.dispose()


def _run_periods(
    raw_dir: Path,
    warehouse_dir: str | Path,
    periods: list[str],
    instance: dg.DagsterInstance,
    on_progress: Callable[[str], None] | None,
    lock_wait: float,
    report: bool,
) -> list[PeriodRun]:
    """`run_periods` in the given instance."""
    register_periods(instance, periods)
    say_progress = on_progress or (lambda _: None)

    def materialize(name: str, selection: str, partition_key: str | None) -> PeriodRun:
        start = time.perf_counter()

        def waiting(holder: Holder) -> None:
            fields = {"period": name, "warehouse": warehouse_dir, "holder": holder.describe(), "wait": f"{lock_wait:g}"}
            say_progress(say("lock_waiting", **fields))

        try:
            with period_lock(
                warehouse_dir, partition_key or YEARLY, wait=lock_wait, on_wait=waiting, command="kttt run"
            ) as held:
                if held.interrupted:
                    say_progress(
                        say(
                            "previous_interrupted",
                            period=name,
                            pid=held.previous.pid,
                            started=held.previous.started,
                            removed=len(held.removed),
                        )
                    )
                job = dg.build_reconstructable_job(
                    __name__, cli_job.__name__, reconstructable_args=(str(raw_dir), str(warehouse_dir), selection)
                )
                tags = {CLI_TAG: "cli"} | ({"dagster/partition": partition_key} if partition_key else {})
                result = dg.execute_job(job, instance, run_config=QUIET_LOGS, tags=tags, raise_on_error=False)
        except LockRefusedError as exc:
            return PeriodRun(name, False, time.perf_counter() - start, str(exc), refused=True)
        except WarehouseWriteError as exc:
            return PeriodRun(name, False, time.perf_counter() - start, str(exc), storage_error=str(exc))
        error, storage = _error(result)
        return PeriodRun(name, result.success, time.perf_counter() - start, error, storage_error=storage)

    outcomes = []
    for n, period in enumerate(periods, 1):
        say_progress(f"[{n}/{len(periods)}] {period} …")
        outcome = materialize(period, "period" if report else "period_no_report", period)
        outcomes.append(outcome)
        key = "progress_done" if outcome.success else "progress_failed"
        if outcome.refused or outcome.storage_error:
            key = "progress_refused" if outcome.refused else "progress_storage"
        say_progress(
            say(key, n=n, total=len(periods), period=period, seconds=f"{outcome.seconds:.1f}", error=outcome.error)
        )
        if outcome.storage_error:
            say_progress(say("run_stopped_storage", warehouse=warehouse_dir))
            return outcomes
    if any(o.success for o in outcomes):
        say_progress(say("progress_yearly"))
        outcomes.append(materialize("yearly", "yearly", None))
    return outcomes


def _causes(info: SerializableErrorInfo | None) -> list[SerializableErrorInfo]:
    out = []
    while info is not None and len(out) < 20:
        out.append(info)
        info = info.cause or info.context
    return out


def _error(result: dg.JobExecutionResult) -> tuple[str | None, str | None]:
    """The failure of a run, and the warehouse's write failure among its causes (if that is what failed)."""
    if result.success:
        return None, None
    failures = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
    storage = next(
        (
            c.message.strip().removeprefix("pipeline.storage.WarehouseWriteError: ")
            for f in failures
            for c in _causes(f)
            if c.cls_name == "WarehouseWriteError"
        ),
        None,
    )
    if storage:
        return storage, storage
    return "; ".join(str(f.message).strip() for f in failures if f is not None)[:2000] or "failed", None
