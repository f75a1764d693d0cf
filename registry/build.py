"""The registry's tables, rebuilt whole from every stored quarter.

`registry_history` has one row per stored cooperative and group row; `registry` one row
per identity, as of the latest stored quarter. Both depend only on the stored rows and
the units (`communes.csv`), never on the order they were read in.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from registry.figures import registry_figures
from registry.match import match, stack
from registry.units import UnitIn
from registry.warnings import registry_warnings
from schemas import warehouse as wh
from schemas.periods import period_parts

ACCEPTED = ("accepted", "accepted_with_errors")


@dataclass
class RegistryTables:
    """What the registry asset writes."""

    registry: pl.DataFrame
    history: pl.DataFrame
    warnings: pl.DataFrame
    figures: pl.DataFrame


def reported_units(submission_log: pl.DataFrame | None) -> pl.DataFrame:
    """(period, commune_code, source_file, source_sha256) of each unit's accepted submission."""
    schema = {"period": pl.String, "commune_code": pl.String, "source_file": pl.String, "source_sha256": pl.String}
    if submission_log is None or submission_log.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        submission_log.filter(pl.col("status").is_in(ACCEPTED) & pl.col("commune_code").is_not_null())
        .select(list(schema))
        .sort("period", "commune_code", "source_file")
        .unique(["period", "commune_code"], keep="first", maintain_order=True)
    )


def history_table(matched: pl.DataFrame) -> pl.DataFrame:
    """`registry_history` from the matched rows."""
    schema = wh.polars_schema(wh.RegistryHistory)
    return matched.select(list(schema)).cast(schema).sort("registry_id", "period")


def registry_table(matched: pl.DataFrame, reported: pl.DataFrame, unit_in: UnitIn) -> pl.DataFrame:
    """`registry`: one row per identity, its latest row and its lifecycle as of the latest stored quarter."""
    schema = wh.polars_schema(wh.Registry)
    if matched.is_empty():
        return pl.DataFrame(schema=schema)
    latest = max(matched["period"].unique().to_list(), key=period_parts)
    year, quarter = period_parts(latest)
    reported_now = set(reported.filter(pl.col("period") == latest)["commune_code"].to_list())
    ordered = matched.sort("registry_id", "period")
    names = ordered.group_by("registry_id", maintain_order=True).agg(
        pl.col("name").unique(maintain_order=True).str.join(" | ").alias("names_seen")
    )
    last = ordered.group_by("registry_id", maintain_order=True).agg(
        pl.col("kind").last(),
        pl.col("name").last(),
        pl.col("tax_code").drop_nulls().last().alias("tax_code"),
        pl.col("period").first().alias("first_period"),
        pl.col("period").last().alias("last_period"),
        pl.len().cast(pl.Int64).alias("quarters_seen"),
        pl.col("commune_code").last().alias("last_commune_code"),
        pl.col("row_id").last().alias("last_row_id"),
        pl.col("status").last().alias("last_status"),
        pl.col("rating").last().alias("last_rating"),
    )
    # The unit of each identity today, asked once per unit rather than once per identity.
    current = {code: unit_in(code, latest) for code in last["last_commune_code"].unique().drop_nulls().to_list()}
    rows = last.join(names, on="registry_id").with_columns(
        pl.col("last_commune_code")
        .replace_strict(current, default=None, return_dtype=pl.String)
        .alias("current_commune_code")
    )
    present = pl.col("last_period") == latest
    unit_reported = pl.col("current_commune_code").is_in(list(reported_now))
    lifecycle = (
        pl.when(present & (pl.col("last_status") == "suspended"))
        .then(pl.lit("suspended"))
        .when(present)
        .then(pl.lit("reporting"))
        .when(~unit_reported)
        .then(pl.lit("unit_not_reported"))
        .when(pl.col("last_status") == "suspended")
        .then(pl.lit("dissolved"))
        .otherwise(pl.lit("vanished"))
    )
    return (
        rows.with_columns(
            lifecycle.alias("lifecycle"),
            pl.lit(latest).alias("period"),
            pl.lit(year, pl.Int32).alias("year"),
            pl.lit(quarter, pl.Int8).alias("quarter"),
        )
        .select(list(schema))
        .cast(schema)
        .sort("registry_id")
    )


def build_registry(
    cooperatives: pl.DataFrame | None,
    coop_groups: pl.DataFrame | None,
    submission_log: pl.DataFrame | None,
    unit_in: UnitIn,
) -> RegistryTables:
    """Every table of the registry from the stored quarters."""
    matched = match(stack(cooperatives, coop_groups), unit_in)
    reported = reported_units(submission_log)
    return RegistryTables(
        registry=registry_table(matched, reported, unit_in),
        history=history_table(matched),
        warnings=registry_warnings(matched, reported, unit_in),
        figures=registry_figures(matched, reported, unit_in),
    )
