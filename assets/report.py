"""Assets of the report: indicators, report figures with their sources, the report files, yearly indicators."""

import base64
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster import AssetExecutionContext

from assets.metadata import definition_metadata, describe, output_metadata, table_outs
from pipeline.analyst_db import write_analyst_database
from pipeline.conditions import QUARTER_FOLLOWS, YEARLY_FOLLOWS
from pipeline.partitions import period_partitions
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.storage import WarehouseWriteError, check_partition, is_local, replaced_folder
from report.figures import compute_figures
from report.indicators import compute_indicators
from report.restate import restate
from report.yearly import yearly_indicators
from schemas import warehouse as wh
from schemas.periods import period_parts, previous_period

GROUP = "report"
KINDS = {"polars", "parquet"}
FACTS = ("cooperatives", "coop_groups", "support_disbursements")


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    partitions_def=period_partitions,
    description=describe(wh.Indicators),
    metadata=definition_metadata(wh.Indicators),
    automation_condition=QUARTER_FOLLOWS,
)
def indicators(
    context: AssetExecutionContext, warehouse: WarehouseDir, cooperatives: pl.DataFrame, coop_groups: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """District and commune indicators of the quarter, with changes against the previous quarter when stored."""
    period = context.partition_key
    previous = warehouse.read("cooperatives", [previous_period(period)])
    if previous is None:
        context.log.info(f"No cooperatives stored for {previous_period(period)}: no quarter-on-quarter changes")
    table = compute_indicators({"cooperatives": cooperatives, "coop_groups": coop_groups}, period, previous)
    return dg.Output(table, metadata=output_metadata(table, period))


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    partitions_def=period_partitions,
    description=describe(wh.IndicatorsRestated),
    metadata=definition_metadata(wh.IndicatorsRestated),
    automation_condition=QUARTER_FOLLOWS,
)
def indicators_restated(
    context: AssetExecutionContext, source: SubmissionSource, indicators: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """The quarter's commune indicators summed onto today's communes (`merged_into` of communes.csv), side by
    side with the originals in `indicators`."""
    table = restate(indicators, source.reference().communes)
    return dg.Output(table, metadata=output_metadata(table, context.partition_key))


FIGURES_TRACED = dg.AssetCheckSpec(
    "figures_traced",
    asset="report_figures",
    blocking=True,
    description="Every non-zero figure has source rows in figure_sources.",
)
PCT_SUM = dg.AssetCheckSpec(
    "rating_pct_sum_100",
    asset="report_figures",
    blocking=True,
    description="Rating percentages of cooperatives sum to exactly 100.00 (or 0 when none is evaluated).",
)


def traced_check(period: str, figures: pl.DataFrame, sources: pl.DataFrame) -> dg.AssetCheckResult:
    """Fail when a figure with a non-zero value has no source row."""
    traced = set(sources["figure_id"].unique().to_list())
    untraced = figures.filter((pl.col("value").fill_null(0) != 0) & ~pl.col("figure_id").is_in(list(traced)))
    return dg.AssetCheckResult(
        check_name="figures_traced",
        asset_key="report_figures",
        passed=untraced.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "period": period,
            "figures": figures.height,
            "untraced": ", ".join(untraced["figure_id"].to_list()[:20]),
        },
    )


def pct_check(period: str, figures: pl.DataFrame) -> dg.AssetCheckResult:
    """Fail when the rating percentages do not sum to 100.00."""
    pct = figures.filter(pl.col("figure_id").str.contains(r"^htx\.rating\..*\.pct$"))["value"].fill_null(0).sum()
    return dg.AssetCheckResult(
        check_name="rating_pct_sum_100",
        asset_key="report_figures",
        passed=round(pct, 6) in (0.0, 100.0),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"period": period, "sum": pct},
    )


@dg.multi_asset(
    name="figures",
    outs=table_outs(("report_figures", "figure_sources"), GROUP, QUARTER_FOLLOWS),
    ins={name: dg.AssetIn() for name in FACTS},
    partitions_def=period_partitions,
    check_specs=[FIGURES_TRACED, PCT_SUM],
)
def figures(
    context: AssetExecutionContext,
    source: SubmissionSource,
    cooperatives: pl.DataFrame,
    coop_groups: pl.DataFrame,
    support_disbursements: pl.DataFrame,
):
    """Every figure of the yearly report for the quarter (registry in report/registry.py), targets and progress,
    and for each figure the warehouse rows it is computed from."""
    period = context.partition_key
    tables = {"cooperatives": cooperatives, "coop_groups": coop_groups, "support_disbursements": support_disbursements}
    result = compute_figures(tables, period, source.reference().targets)
    yield dg.Output(result.figures, output_name="report_figures", metadata=output_metadata(result.figures, period))
    yield dg.Output(result.sources, output_name="figure_sources", metadata=output_metadata(result.sources, period))
    yield traced_check(period, result.figures, result.sources)
    yield pct_check(period, result.figures)


def _image_markdown(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f"**{caption}**\n\n![{caption}](data:image/png;base64,{data})\n"


@dg.asset(
    group_name=GROUP,
    kinds={"docx", "xlsx", "markdown"},
    partitions_def=period_partitions,
    automation_condition=QUARTER_FOLLOWS,
    ins={"report_figures": dg.AssetIn(), **{name: dg.AssetIn() for name in FACTS}},
)
def report(
    context: AssetExecutionContext,
    source: SubmissionSource,
    warehouse: WarehouseDir,
    report_figures: pl.DataFrame,
    cooperatives: pl.DataFrame,
    coop_groups: pl.DataFrame,
    support_disbursements: pl.DataFrame,
) -> dg.MaterializeResult:
    """The quarter's draft report under `warehouse/report/<period>/`: Vietnamese text of part one, sections 1.2
    to 2.2, and the targets of part two (Markdown and DOCX), the appendix workbook (phụ biểu) and the charts."""
    period = check_partition(context.partition_key)
    year, _ = period_parts(period)
    earlier = [p for p in warehouse.periods("report_figures") if p < period]
    history = pl.concat(
        [h for h in (warehouse.read("report_figures", earlier) if earlier else None, report_figures) if h is not None]
    )
    tables = {"cooperatives": cooperatives, "coop_groups": coop_groups, "support_disbursements": support_disbursements}
    out_dir = warehouse.root / "report" / period
    with replaced_folder(out_dir, warehouse.path) as local:
        from report.build import build_report  # matplotlib and python-docx load only to render

        files = build_report(local, period, report_figures, history, tables, source.reference())
        charts_md = "\n".join(_image_markdown(p, name) for name, p in files.charts.items())
        text = files.markdown.read_text(encoding="utf-8")
    return dg.MaterializeResult(
        metadata={
            "period": period,
            "folder": dg.MetadataValue.path(str(out_dir)),
            "docx": dg.MetadataValue.path(str(out_dir / files.docx.name)),
            "appendix": dg.MetadataValue.path(str(out_dir / files.appendix.name)),
            "text": dg.MetadataValue.md(text),
            "charts": dg.MetadataValue.md(charts_md),
            "year": year,
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds=KINDS,
    description=describe(wh.IndicatorsYearly),
    metadata=definition_metadata(wh.IndicatorsYearly),
    automation_condition=YEARLY_FOLLOWS,
)
def indicators_yearly(indicators: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """Yearly indicators from every stored quarter: a corrected quarter makes this asset stale and refreshes it."""
    table = yearly_indicators(indicators)
    return dg.Output(table, metadata=output_metadata(table))


@dg.asset(
    group_name="analysts",
    kinds={"duckdb"},
    deps=[
        "cooperatives",
        "coop_groups",
        "commune_summaries",
        "support_disbursements",
        "rejected_rows",
        "submission_log",
        "completeness",
        "indicators",
        "report_figures",
        "figure_sources",
        "indicators_yearly",
        "registry",
        "registry_history",
        "registry_warnings",
        "registry_figures",
    ],
    automation_condition=YEARLY_FOLLOWS,
)
def analyst_database(warehouse: WarehouseDir) -> dg.MaterializeResult:
    """`warehouse/kttt.duckdb`: one view per table over its Parquet files, by paths relative to the warehouse
    folder (open it from inside the folder, or `SET file_search_path`)."""
    if not is_local(warehouse.root):
        # DuckDB views over relative paths need the Parquet files on a local (or mounted) folder.
        return dg.MaterializeResult(metadata={"skipped": "the warehouse is on an object store"})
    try:
        path, names = write_analyst_database(Path(str(warehouse.root)))
    except (OSError, duckdb.Error) as exc:
        raise WarehouseWriteError(warehouse.path, Path(str(warehouse.root)) / "kttt.duckdb", exc) from exc
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "views": ", ".join(names)})
