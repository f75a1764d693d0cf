"""Assets of the report: indicators, report figures with their sources, the report files, yearly indicators."""

import base64
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from assets.metadata import TABLE_KINDS, definition_metadata, describe, output_metadata, table_outs
from pipeline.analyst_db import write_analyst_database
from pipeline.conditions import QUARTER_FOLLOWS, YEARLY_FOLLOWS
from pipeline.partitions import period_partitions
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.storage import WarehouseWriteError, check_partition, is_local, replaced_folder
from report.approval import approval_blocks
from report.comparison import comparisons, trend
from report.figures import compute_figures
from report.indicators import compute_indicators
from report.registry import HTX, SUPPORT, THT
from report.restate import restated_indicators, restatement, restatement_note
from report.yearly import source_quarters, yearly_indicators
from schemas import warehouse as wh
from schemas.periods import period_parts, previous_period

GROUP = "report"
FACTS = (HTX, THT, SUPPORT)
"""The tables the report's figures are computed from."""


@dg.multi_asset(
    name="indicators",
    outs=table_outs(("indicators", "indicators_restated"), GROUP, QUARTER_FOLLOWS),
    partitions_def=period_partitions,
)
def indicators(
    context: AssetExecutionContext,
    source: SubmissionSource,
    warehouse: WarehouseDir,
    cooperatives: pl.DataFrame,
    coop_groups: pl.DataFrame,
) -> Iterator[dg.Output[pl.DataFrame]]:
    """District and commune indicators of the quarter, with changes against the previous quarter when stored (the
    previous quarter restated on this quarter's units); and the quarter's commune indicators restated on the units
    of the latest quarter of the raw directory (`merged_into` of communes.csv), side by side with the originals.
    One step computes both: they read the same rows, and where the quarter's units are the latest's the restated
    table is the original's commune rows."""
    period = context.partition_key
    units = source.reference().units
    before = previous_period(period)
    previous = warehouse.read("cooperatives", [before])
    if previous is None:
        context.log.info(f"No cooperatives stored for {before}: no quarter-on-quarter changes")
    else:  # the previous quarter on this quarter's units (merges, units that left or joined)
        how = restatement(units, before, period)
        previous = how.rows(previous)
        note = restatement_note(how)
        if note:
            context.log.info(note)
    tables = {"cooperatives": cooperatives, "coop_groups": coop_groups}
    table = compute_indicators(tables, period, previous)
    yield dg.Output(table, output_name="indicators", metadata=output_metadata(table, period))

    latest = max([period, *source.periods()])
    restated = restated_indicators(tables, units, period, latest, own=table)
    note = restatement_note(restatement(units, period, latest))
    metadata = output_metadata(restated, period)
    metadata["restated_on"] = latest
    if note:
        metadata["note"] = note
    yield dg.Output(restated, output_name="indicators_restated", metadata=metadata)


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


def _facts(warehouse: WarehouseDir, period: str) -> dict[str, pl.DataFrame] | None:
    """The stored cooperatives, groups and support rows of a quarter (None when one is missing)."""
    tables = {name: warehouse.read(name, [period]) for name in FACTS}
    return None if any(t is None for t in tables.values()) else tables  # type: ignore[return-value]


def _image_markdown(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f"**{caption}**\n\n![{caption}](data:image/png;base64,{data})\n"


@dg.asset(
    group_name=GROUP,
    kinds={"docx", "xlsx", "markdown"},
    partitions_def=period_partitions,
    automation_condition=QUARTER_FOLLOWS,
    ins={"report_figures": dg.AssetIn(), "completeness": dg.AssetIn(), **{name: dg.AssetIn() for name in FACTS}},
)
def report(
    context: AssetExecutionContext,
    source: SubmissionSource,
    warehouse: WarehouseDir,
    report_figures: pl.DataFrame,
    completeness: pl.DataFrame,
    cooperatives: pl.DataFrame,
    coop_groups: pl.DataFrame,
    support_disbursements: pl.DataFrame,
) -> dg.MaterializeResult:
    """The quarter's draft report under `warehouse/report/<period>/`: Vietnamese text of part one, sections 1.2
    to 2.2, and the targets of part two (Markdown and DOCX), the appendix workbook (phụ biểu) and the charts.
    Under review (docs/review.md) it says the figures use approved submissions only and lists the units not
    approved yet."""
    period = check_partition(context.partition_key)
    year, _ = period_parts(period)
    reference = source.reference()
    tables = {"cooperatives": cooperatives, "coop_groups": coop_groups, "support_disbursements": support_disbursements}
    earlier = {p: _facts(warehouse, p) for p in warehouse.periods("cooperatives") if p < period}
    earlier = {p: t for p, t in earlier.items() if t is not None}
    # Earlier quarters restated on this quarter's units, for the trend chart and the comparisons.
    history = trend(reference.units, period, report_figures, earlier, reference.targets)
    found = comparisons(reference.units, period, tables, earlier, reference.targets)
    for c in found:
        if c.note:
            context.log.info(c.note)
    out_dir = warehouse.root / "report" / period
    with replaced_folder(out_dir, warehouse.path) as local:
        from report.build import build_report  # matplotlib and python-docx load only to render

        notes = approval_blocks(completeness) if source.review_policy().required else None
        files = build_report(local, period, report_figures, history, tables, reference, found, notes)
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
    kinds=TABLE_KINDS,
    description=describe(wh.IndicatorsYearly),
    metadata=definition_metadata(wh.IndicatorsYearly),
    automation_condition=YEARLY_FOLLOWS,
)
def indicators_yearly(
    source: SubmissionSource, warehouse: WarehouseDir, indicators: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """Yearly indicators from every stored quarter: a corrected quarter makes this asset stale and refreshes it.
    Each year is compared with the year before restated on its own units (recomputed from the stored rows)."""
    quarters = source_quarters(indicators)
    units = source.reference().units
    restated: dict[int, pl.DataFrame] = {}
    for year, period in quarters.items():
        before = quarters.get(year - 1)
        facts = {t: warehouse.read(t, [before]) for t in ("cooperatives", "coop_groups")} if before else {}
        if before and all(f is not None for f in facts.values()):
            how = restatement(units, before, period)
            restated[year] = compute_indicators(how.tables(facts), before)
    table = yearly_indicators(indicators, restated)
    return dg.Output(table, metadata=output_metadata(table))


@dg.asset(
    group_name="analysts",
    kinds={"duckdb"},
    deps=list(wh.TABLES),
    automation_condition=YEARLY_FOLLOWS,
)
def analyst_database(warehouse: WarehouseDir) -> dg.MaterializeResult:
    """`warehouse/kttt.duckdb`: one view per table over its Parquet files by absolute path, in a storage format
    DuckDB 1.x reads, so the command-line `duckdb` opens it from any directory. It depends on every table of the
    warehouse registry (`schemas.warehouse.TABLES`), so a refreshed table refreshes it."""
    if not is_local(warehouse.root):
        # DuckDB views over file paths need the Parquet files on a local (or mounted) folder.
        return dg.MaterializeResult(metadata={"skipped": "the warehouse is on an object store"})
    import duckdb  # for this step only (see `pipeline.analyst_db`)

    try:
        path, names = write_analyst_database(Path(str(warehouse.root)))
    except (OSError, duckdb.Error) as exc:
        raise WarehouseWriteError(warehouse.path, Path(str(warehouse.root)) / "kttt.duckdb", exc) from exc
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "views": ", ".join(names)})
