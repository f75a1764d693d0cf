"""Jobs: refreshing a quarter, and refreshing what spans every quarter."""

from __future__ import annotations

import dagster as dg

from assets.registry import TABLES as REGISTRY_TABLES
from pipeline.partitions import period_partitions

YEARLY_SELECTION = dg.AssetSelection.assets("units", "indicators_yearly", *REGISTRY_TABLES, "analyst_database")
PERIOD_SELECTION = dg.AssetSelection.all() - YEARLY_SELECTION

refresh_period = dg.define_asset_job(
    name="refresh_period",
    selection=PERIOD_SELECTION,
    description="Ingest, validate and store every submission of one quarter, then its indicators, figures and report.",
)

refresh_yearly = dg.define_asset_job(
    name="refresh_yearly",
    selection=YEARLY_SELECTION,
    description=(
        "The units over time, yearly indicators and the cooperative registry over every stored quarter, and the "
        "analysts' DuckDB views."
    ),
)

__all__ = ["period_partitions", "refresh_period", "refresh_yearly"]
