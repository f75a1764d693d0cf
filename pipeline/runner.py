"""Materialize the pipeline in-process through Dagster, period by period (used by ``kttt run``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipeline.definitions import ASSETS, build_resources
from pipeline.jobs import PERIOD_SELECTION, YEARLY_SELECTION
from pipeline.partitions import PERIOD_PARTITIONS
from schemas.messages import say

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class PeriodRun:
    """Outcome of materializing one period."""

    period: str
    success: bool
    seconds: float
    error: str | None = None


def instance_for_run() -> dg.DagsterInstance:
    """The persistent instance of ``DAGSTER_HOME`` when set (runs show in the UI), else an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


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
    report: bool = True,
) -> list[PeriodRun]:
    """Materialize every asset for each period (but the report when ``report`` is false); a failed period does
    not stop the others."""
    instance = instance or instance_for_run()
    register_periods(instance, periods)
    resources = build_resources(str(raw_dir), str(warehouse_dir))

    def materialize(name: str, selection: dg.AssetSelection, partition_key: str | None) -> PeriodRun:
        start = time.perf_counter()
        result = dg.materialize(
            ASSETS,
            selection=selection,
            partition_key=partition_key,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            run_config=QUIET_LOGS,
            tags={"kttt/source": "cli"},
        )
        return PeriodRun(name, result.success, time.perf_counter() - start, _error(result))

    outcomes = []
    for n, period in enumerate(periods, 1):
        if on_progress:
            on_progress(f"[{n}/{len(periods)}] {period} …")
        selection = PERIOD_SELECTION if report else PERIOD_SELECTION - dg.AssetSelection.assets("report")
        outcome = materialize(period, selection, period)
        outcomes.append(outcome)
        if on_progress:
            key = "progress_done" if outcome.success else "progress_failed"
            on_progress(
                say(key, n=n, total=len(periods), period=period, seconds=f"{outcome.seconds:.1f}", error=outcome.error)
            )
    if any(o.success for o in outcomes):
        if on_progress:
            on_progress(say("progress_yearly"))
        outcomes.append(materialize("yearly", YEARLY_SELECTION, None))
    return outcomes


def _error(result: dg.ExecuteInProcessResult) -> str | None:
    if result.success:
        return None
    failures = [e for e in result.all_events if e.is_step_failure]
    return "; ".join(str(e.step_failure_data.error.message).strip() for e in failures)[:2000] or "failed"
