"""The Dagster code location of kttt: assets, checks, resources and jobs."""

from __future__ import annotations

import dagster as dg

from pipeline.automation import follow_refreshes, quarterly_refresh, raw_files_sensor
from pipeline.jobs import ASSETS, refresh_period, refresh_yearly, review
from pipeline.resources import build_resources
from pipeline.withdrawal import refresh_after_withdrawal, withdraw_period

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[refresh_period, refresh_yearly, review, withdraw_period],
    schedules=[quarterly_refresh],
    sensors=[raw_files_sensor, follow_refreshes, refresh_after_withdrawal],
    resources=build_resources(),
    executor=dg.in_process_executor,  # assets materialized from the UI run in one process too (see pipeline.jobs)
)
