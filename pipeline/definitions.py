"""The Dagster code location of kttt: assets, checks, resources and jobs."""

from __future__ import annotations

import dagster as dg

from assets.feedback import feedback
from assets.registry import cooperative_registry
from assets.report import analyst_database, figures, indicators, indicators_restated, indicators_yearly, report
from assets.submissions import completeness_asset, period_submissions
from pipeline.automation import follow_refreshes, quarterly_refresh, raw_files_sensor
from pipeline.io_manager import ParquetWarehouse
from pipeline.jobs import refresh_period, refresh_yearly
from pipeline.resources import (
    DEFAULT_RAW,
    DEFAULT_WAREHOUSE,
    RAW_ENV,
    WAREHOUSE_ENV,
    SubmissionSource,
    WarehouseDir,
    env_or,
)
from pipeline.withdrawal import refresh_after_withdrawal, withdraw_period

PERIOD_ASSETS = [period_submissions, completeness_asset, indicators, indicators_restated, figures, report, feedback]
"""Assets partitioned by quarter."""
YEARLY_ASSETS = [indicators_yearly, cooperative_registry, analyst_database]
"""Assets over every quarter (refreshed after the quarters)."""
ASSETS = PERIOD_ASSETS + YEARLY_ASSETS


def build_resources(raw_dir: str | None = None, warehouse_dir: str | None = None) -> dict[str, object]:
    """Resources for a raw and a warehouse directory (defaults: environment, then `raw/` and `warehouse/`)."""
    warehouse = warehouse_dir or env_or(WAREHOUSE_ENV, DEFAULT_WAREHOUSE)
    return {
        "source": SubmissionSource(raw_dir=raw_dir or env_or(RAW_ENV, DEFAULT_RAW)),
        "warehouse": WarehouseDir(path=warehouse),
        "io_manager": ParquetWarehouse(base_dir=warehouse),
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[refresh_period, refresh_yearly, withdraw_period],
    schedules=[quarterly_refresh],
    sensors=[raw_files_sensor, follow_refreshes, refresh_after_withdrawal],
    resources=build_resources(),
)
