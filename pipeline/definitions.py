"""The Dagster code location of kttt: assets, checks, resources and jobs."""

from __future__ import annotations

import dagster as dg

from assets.submissions import completeness_asset, period_submissions
from pipeline.io_manager import ParquetWarehouse
from pipeline.jobs import refresh_period
from pipeline.resources import DEFAULT_RAW, DEFAULT_WAREHOUSE, RAW_ENV, WAREHOUSE_ENV, SubmissionSource, env_or

ASSETS = [period_submissions, completeness_asset]


def build_resources(raw_dir: str | None = None, warehouse_dir: str | None = None) -> dict[str, object]:
    """Resources for a raw and a warehouse directory (defaults: environment, then ``raw/`` and ``warehouse/``)."""
    return {
        "source": SubmissionSource(raw_dir=raw_dir or env_or(RAW_ENV, DEFAULT_RAW)),
        "io_manager": ParquetWarehouse(base_dir=warehouse_dir or env_or(WAREHOUSE_ENV, DEFAULT_WAREHOUSE)),
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[refresh_period],
    resources=build_resources(),
)
