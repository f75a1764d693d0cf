"""Asset: the `units` table, every unit of `communes.csv` (code and window) and the unit it has become."""

import dagster as dg
import polars as pl

from assets.metadata import definition_metadata, describe, output_metadata
from ingest.units_table import units_table
from pipeline.conditions import YEARLY_FOLLOWS
from pipeline.resources import SubmissionSource
from schemas import warehouse as wh


@dg.asset(
    name="units",
    group_name="submissions",
    kinds={"polars", "parquet"},
    description=describe(wh.UnitsTable),
    metadata=definition_metadata(wh.UnitsTable),
    deps=["submission_log"],  # a quarter stored (or a new one) can change which quarter is the latest
    automation_condition=YEARLY_FOLLOWS,
)
def units(source: SubmissionSource) -> dg.Output[pl.DataFrame]:
    """The units of the raw directory over time, with `current_code` / `current_name` in its latest quarter."""
    periods = source.periods()
    table = units_table(source.reference().units, periods[-1] if periods else None)
    return dg.Output(table, metadata=output_metadata(table))
