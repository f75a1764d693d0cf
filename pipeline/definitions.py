"""The Dagster code location of kttt: assets, checks, resources and jobs.

Loaded by the webserver's code server, the daemon and each run's worker, which keep it as long as
they live: it is imported and built with the cyclic collector paused, then frozen
(`pipeline.collector`), as the command line's imports are, with pandera for polars only
(`pipeline.lean_imports`) and polars' in-memory engine (`pipeline.polars_engine`).
"""

from __future__ import annotations

from pipeline.collector import lasting_imports
from pipeline.lean_imports import pandera_for_polars_only
from pipeline.polars_engine import in_memory_queries

with lasting_imports():
    pandera_for_polars_only()
    in_memory_queries()
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
