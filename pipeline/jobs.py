"""Jobs: refreshing a quarter materializes every asset of that period."""

from __future__ import annotations

import dagster as dg

refresh_period = dg.define_asset_job(
    name="refresh_period",
    selection=dg.AssetSelection.all(),
    description="Ingest, validate and store every submission of one quarter.",
)
