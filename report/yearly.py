"""Yearly indicators: each year's values from its latest quarter with data, and the change on the year before."""

from __future__ import annotations

import polars as pl

from schemas import warehouse as wh

KEY = ["geo_level", "commune_code", "indicator", "breakdown"]


def source_quarters(quarterly: pl.DataFrame) -> dict[int, str]:
    """Year → the quarter its yearly values come from (the year's latest)."""
    if quarterly.is_empty():
        return {}
    return dict(quarterly.group_by("year").agg(pl.col("period").max()).iter_rows())


def yearly_indicators(
    quarterly: pl.DataFrame, restated_previous: dict[int, pl.DataFrame] | None = None
) -> pl.DataFrame:
    """One row per year, geography, indicator and breakdown, taken from the year's latest quarter.

    `period` and `quarter` say which quarter the value comes from (Q4 once it is in);
    `change` is the difference with the previous year's value, when there is one. The previous
    year is compared on this year's units: `restated_previous[year]` holds the previous year's
    indicators recomputed on them (see `report.restate`); a year without it is compared as stored.
    """
    schema = wh.polars_schema(wh.IndicatorsYearly)
    if quarterly.is_empty():
        return pl.DataFrame(schema=schema)
    latest = quarterly.group_by("year").agg(pl.col("period").max().alias("period"))
    current = quarterly.join(latest, on=["year", "period"], how="inner")
    restated = restated_previous or {}
    shifted = current.select((pl.col("year") + 1).alias("year"), *KEY, pl.col("value").alias("previous_year_value"))
    parts = [shifted.filter(~pl.col("year").is_in(list(restated)))]
    parts += [
        frame.select(pl.lit(year, pl.Int32).alias("year"), *KEY, pl.col("value").alias("previous_year_value"))
        for year, frame in restated.items()
    ]
    before = pl.concat([p.cast(parts[0].schema) for p in parts])
    out = current.join(before, on=["year", *KEY], how="left", nulls_equal=True).with_columns(
        (pl.col("value") - pl.col("previous_year_value")).alias("change")
    )
    return out.select(list(schema)).cast(schema).sort("year", *KEY, nulls_last=False)
