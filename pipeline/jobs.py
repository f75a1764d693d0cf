"""Jobs: refreshing a quarter, and refreshing what spans every quarter.

Both run their steps in one process (`in_process_executor`), as `kttt run` does: a step
that starts its own process would import Dagster, polars and pandera again, seconds per
step, which made a refresh from the UI or the sensor cost several times the CLI's. The
reading of a large quarter still spreads over every core (`ingest.parallel`).
"""

from __future__ import annotations

import dagster as dg

from assets.registry import TABLES as REGISTRY_TABLES
from pipeline.partitions import period_partitions

YEARLY_SELECTION = dg.AssetSelection.assets("indicators_yearly", *REGISTRY_TABLES, "analyst_database")
PERIOD_SELECTION = dg.AssetSelection.all() - YEARLY_SELECTION

refresh_period = dg.define_asset_job(
    name="refresh_period",
    selection=PERIOD_SELECTION,
    executor_def=dg.in_process_executor,
    description="Ingest, validate and store every submission of one quarter, then its indicators, figures and report.",
)

refresh_yearly = dg.define_asset_job(
    name="refresh_yearly",
    selection=YEARLY_SELECTION,
    executor_def=dg.in_process_executor,
    description=(
        "Yearly indicators and the cooperative registry over every stored quarter, and the analysts' DuckDB views."
    ),
)

__all__ = ["period_partitions", "refresh_period", "refresh_yearly"]
