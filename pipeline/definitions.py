"""The Dagster code location of kttt: assets, checks, resources and jobs."""

from __future__ import annotations

import dagster as dg

from pipeline.automation import quarterly_refresh, raw_files_sensor
from pipeline.jobs import ASSETS, refresh_period, refresh_yearly, review
from pipeline.resources import build_resources

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[refresh_period, refresh_yearly, review],
    schedules=[quarterly_refresh],
    sensors=[raw_files_sensor],
    resources=build_resources(),
    executor=dg.in_process_executor,  # assets materialized from the UI run in one process too (see pipeline.jobs)
)
