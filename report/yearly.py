"""Yearly indicators: each year's values from its latest quarter with data, and the change on the year before."""

from __future__ import annotations

import polars as pl

from schemas import warehouse as wh

KEY = ["geo_level", "commune_code", "indicator", "breakdown"]


def yearly_indicators(quarterly: pl.DataFrame) -> pl.DataFrame:
    """One row per year, geography, indicator and breakdown, taken from the year's latest quarter.

    ``period`` and ``quarter`` say which quarter the value comes from (Q4 once it is in);
    ``change`` is the difference with the previous year's value, when there is one.
    """
    schema = wh.polars_schema(wh.IndicatorsYearly)
    if quarterly.is_empty():
        return pl.DataFrame(schema=schema)
    latest = quarterly.group_by("year").agg(pl.col("period").max().alias("period"))
    current = quarterly.join(latest, on=["year", "period"], how="inner")
    before = current.select((pl.col("year") + 1).alias("year"), *KEY, pl.col("value").alias("previous_year_value"))
    out = current.join(before, on=["year", *KEY], how="left", nulls_equal=True).with_columns(
        (pl.col("value") - pl.col("previous_year_value")).alias("change")
    )
    return out.select(list(schema)).cast(schema).sort("year", *KEY, nulls_last=False)
