"""Asset: per-commune feedback workbooks after each refresh, ready to send back."""

import shutil
import tempfile
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from forms.feedback import write_commune_feedback
from pipeline.partitions import period_partitions
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.storage import is_local, upload_folder


@dg.asset(group_name="communes", kinds={"xlsx"}, partitions_def=period_partitions)
def feedback(
    context: AssetExecutionContext,
    source: SubmissionSource,
    warehouse: WarehouseDir,
    rejected_rows: pl.DataFrame,
    submission_log: pl.DataFrame,
) -> dg.MaterializeResult:
    """``warehouse/feedback/<period>/<commune>.xlsx``: for each commune with a rejected row or a warning, the list of
    problems (Vietnamese first, English second, file, sheet, row, column and the values as written), ready to send
    back. The folder is rewritten on every refresh."""
    period = context.partition_key
    names = dict(source.reference().communes.select("code", "name").iter_rows())
    live = submission_log.filter(pl.col("status") != "superseded")["source_file"].to_list()
    problems = rejected_rows.filter(pl.col("source_file").is_in(live))
    out_dir = warehouse.root / "feedback" / period
    with tempfile.TemporaryDirectory(prefix="kttt-feedback-") as tmp:
        local = Path(str(out_dir)) if is_local(out_dir) else Path(tmp)
        if is_local(out_dir) and local.exists():
            shutil.rmtree(local)
        written = write_commune_feedback(local, problems, names, period)
        if not is_local(out_dir):
            upload_folder(local, out_dir)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(out_dir)),
            "workbooks": len(written),
            "files": ", ".join(p.name for p in written[:30]),
        }
    )
