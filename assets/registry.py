"""Assets of the cooperative registry: identities across every stored quarter, their history, warnings and figures.

Not partitioned: the registry reads every stored quarter of the fact tables and the
submission log and rewrites its four tables whole (`<table>/all.parquet`, each
replaced atomically), so a corrected quarter changes it deterministically. It never
writes into a quarter's own tables: its warnings go to `registry_warnings`.
"""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from assets.metadata import output_metadata, table_outs
from pipeline.conditions import YEARLY_FOLLOWS
from pipeline.resources import SubmissionSource
from registry.build import build_registry
from registry.units import unit_mapper

GROUP = "registry"
TABLES = ("registry", "registry_history", "registry_warnings", "registry_figures")

ONE_ROW_PER_QUARTER = dg.AssetCheckSpec(
    "one_row_per_quarter",
    asset="registry_history",
    blocking=True,
    description="No identity holds two rows of one quarter.",
)
EVERY_ROW_HAS_IDENTITY = dg.AssetCheckSpec(
    "every_row_has_identity",
    asset="registry_history",
    blocking=True,
    description="Every stored cooperative and group row has one history row, and every identity a registry row.",
)


def one_row_per_quarter(history: pl.DataFrame) -> dg.AssetCheckResult:
    """Fail when an identity holds two rows of one quarter."""
    doubled = history.group_by("registry_id", "period").len().filter(pl.col("len") > 1)
    return dg.AssetCheckResult(
        check_name="one_row_per_quarter",
        asset_key="registry_history",
        passed=doubled.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"identities_doubled": doubled.height, "examples": ", ".join(doubled["registry_id"].to_list()[:10])},
    )


def _keys(frame: pl.DataFrame | None, id_col: str, kind: str) -> pl.DataFrame:
    schema = {"period": pl.String, "kind": pl.String, "commune_code": pl.String, "row_id": pl.String}
    if frame is None or frame.is_empty():
        return pl.DataFrame(schema=schema)
    return frame.select(
        "period", pl.lit(kind).alias("kind"), "commune_code", pl.col(id_col).cast(pl.String).alias("row_id")
    )


def every_row_has_identity(
    history: pl.DataFrame, registry: pl.DataFrame, cooperatives: pl.DataFrame | None, coop_groups: pl.DataFrame | None
) -> dg.AssetCheckResult:
    """Fail unless the stored rows and the history rows are the same set, one to one, and every identity of the
    history is in the registry."""
    key = ["period", "kind", "commune_code", "row_id"]
    stored = pl.concat([_keys(cooperatives, "coop_id", "HTX"), _keys(coop_groups, "group_id", "THT")])
    kept = history.select(key)
    unmatched = stored.join(kept, on=key, how="anti").height + kept.join(stored, on=key, how="anti").height
    doubled = kept.height - kept.unique().height
    orphans = history.join(registry, on="registry_id", how="anti").height
    return dg.AssetCheckResult(
        check_name="every_row_has_identity",
        asset_key="registry_history",
        passed=stored.height == kept.height and unmatched == 0 and doubled == 0 and orphans == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "stored_rows": stored.height,
            "history_rows": kept.height,
            "rows_without_identity": unmatched,
            "rows_twice": doubled,
            "identities_not_in_registry": orphans,
        },
    )


@dg.multi_asset(
    name="cooperative_registry",
    outs=table_outs(TABLES, GROUP, automation_condition=YEARLY_FOLLOWS),
    ins={name: dg.AssetIn() for name in ("cooperatives", "coop_groups", "submission_log")},
    check_specs=[ONE_ROW_PER_QUARTER, EVERY_ROW_HAS_IDENTITY],
)
def cooperative_registry(
    context: AssetExecutionContext,
    source: SubmissionSource,
    cooperatives: pl.DataFrame,
    coop_groups: pl.DataFrame,
    submission_log: pl.DataFrame,
):
    """Match every stored cooperative and group row, quarter after quarter, to one identity (tax code, then id
    in the same unit or its successor, then folded name there, else new) and write the registry, its history,
    the warnings across quarters and the registry's figures."""
    tables = build_registry(cooperatives, coop_groups, submission_log, unit_mapper(source.reference().communes))
    context.log.info(
        f"{tables.registry.height} identities from {tables.history.height} rows, {tables.warnings.height} warnings"
    )
    frames = {
        "registry": tables.registry,
        "registry_history": tables.history,
        "registry_warnings": tables.warnings,
        "registry_figures": tables.figures,
    }
    for name in TABLES:
        yield dg.Output(frames[name], output_name=name, metadata=output_metadata(frames[name]))
    yield one_row_per_quarter(tables.history)
    yield every_row_has_identity(tables.history, tables.registry, cooperatives, coop_groups)
