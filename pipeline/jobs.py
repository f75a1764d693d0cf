"""Jobs: refreshing a quarter materializes every asset of that period."""

from __future__ import annotations

import dagster as dg

from pipeline.partitions import period_partitions

refresh_period = dg.define_asset_job(
    name="refresh_period",
    selection=dg.AssetSelection.all(),
    partitions_def=period_partitions,
    description="Ingest, validate and store every submission of one quarter.",
)
