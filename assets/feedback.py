"""Asset: per-commune feedback workbooks after each refresh, ready to send back."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from forms.feedback import write_commune_feedback
from pipeline.conditions import QUARTER_FOLLOWS
from pipeline.partitions import period_partitions
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.storage import check_partition, replaced_folder


@dg.asset(group_name="communes", kinds={"xlsx"}, partitions_def=period_partitions, automation_condition=QUARTER_FOLLOWS)
def feedback(
    context: AssetExecutionContext,
    source: SubmissionSource,
    warehouse: WarehouseDir,
    rejected_rows: pl.DataFrame,
    submission_log: pl.DataFrame,
) -> dg.MaterializeResult:
    """`warehouse/feedback/<period>/<commune>.xlsx`: for each unit (commune, ward) with a rejected row or a
    warning, the list of problems (Vietnamese first, English second, file, sheet, row, column and the values as
    written), ready to send back. The folder is replaced as a whole on every refresh."""
    period = check_partition(context.partition_key)
    reference = source.reference()
    names = reference.names_in(period)
    titles = {u.code: f"{u.title}, {reference.unit.title}" for u in reference.units.valid_in(period)}
    live = submission_log.filter(pl.col("status") != "superseded")["source_file"].to_list()
    problems = rejected_rows.filter(pl.col("source_file").is_in(live))
    out_dir = warehouse.root / "feedback" / period
    with replaced_folder(out_dir, warehouse.path) as local:
        written = write_commune_feedback(local, problems, names, period, titles)
    return dg.MaterializeResult(
        metadata={
            "period": period,
            "folder": dg.MetadataValue.path(str(out_dir)),
            "workbooks": len(written),
            "files": ", ".join(p.name for p in written[:30]),
        }
    )
