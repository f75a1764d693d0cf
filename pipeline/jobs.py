"""Jobs: refreshing a quarter, and refreshing what spans every quarter.

The two asset lists here are the one place that says which assets are per quarter and
which span every quarter; the code location, the jobs and `kttt run` all take them from here.

Both jobs run their steps in one process (`in_process_executor`), as `kttt run` does: a step
that starts its own process would import Dagster, polars and pandera again, seconds per
step, which made a refresh from the UI or the sensor cost several times the CLI's. The
reading of a large quarter still spreads over every core (`ingest.parallel`).
"""

from __future__ import annotations

import dagster as dg

from assets.feedback import feedback
from assets.registry import cooperative_registry
from assets.report import analyst_database, figures, indicators, indicators_yearly, report
from assets.review import reviews
from assets.submissions import completeness_asset, period_submissions
from assets.units import units
from pipeline.partitions import period_partitions

PERIOD_ASSETS = [
    reviews,
    period_submissions,
    completeness_asset,
    indicators,
    figures,
    report,
    feedback,
]
"""Assets partitioned by quarter."""
YEARLY_ASSETS = [units, indicators_yearly, cooperative_registry, analyst_database]
"""Assets over every quarter (refreshed after the quarters)."""
ASSETS = PERIOD_ASSETS + YEARLY_ASSETS

PERIOD_SELECTION = dg.AssetSelection.assets(*PERIOD_ASSETS)
YEARLY_SELECTION = dg.AssetSelection.assets(*YEARLY_ASSETS)
REPORT_SELECTION = dg.AssetSelection.assets(report)
"""The rendered report, which `kttt run --no-report` leaves out."""

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
        "The units over time, yearly indicators and the cooperative registry over every stored quarter, and the "
        "analysts' DuckDB views."
    ),
)

review = dg.define_asset_job(
    name="review",
    selection=PERIOD_SELECTION,
    description=(
        "Record the officer's decision on one quarter's submissions (config of the reviews asset: action approve, "
        "return or reopen; unit or all_clean; by; note), then refresh the quarter with it (docs/review.md)."
    ),
)

__all__ = ["ASSETS", "period_partitions", "refresh_period", "refresh_yearly", "review"]
