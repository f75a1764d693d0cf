"""The `reviews` table: the officer's decisions, appended one Parquet file per decision, never rewritten.

Each decision is written as `<warehouse>/reviews/<period>.<time>.<id>.parquet`: serialised in memory, written to
a hidden temporary name beside it, flushed to disk (fsync) and renamed to its own new name, then the folder is
flushed (`pipeline.storage.write_atomic`). No decision file is ever replaced or removed, so a decision once
recorded is never lost, and a run killed while writing one leaves at most a hidden temporary file that no
reader's `*.parquet` picks up: that decision is simply not recorded. Readers take the table as usual:
`pl.scan_parquet("warehouse/reviews/**/*.parquet")`.
"""

from __future__ import annotations

import io
import os

import polars as pl

from ingest.review import empty_decisions
from pipeline.storage import check_partition, table_files, warehouse_path, write_atomic
from schemas import warehouse as wh

TABLE = "reviews"


def decision_files(base_dir: str | os.PathLike[str], period: str | None = None) -> list:
    """The decision files of a period (all periods when None), in the order they were written."""
    files = table_files(base_dir, TABLE)
    if period is not None:
        prefix = f"{check_partition(period)}."
        files = [f for f in files if f.name.startswith(prefix)]
    return files


def read_decisions(base_dir: str | os.PathLike[str], period: str | None = None) -> pl.DataFrame:
    """Every decision of a period (all periods when None), oldest first."""
    files = decision_files(base_dir, period)
    if not files:
        return empty_decisions()
    frames = [pl.read_parquet(io.BytesIO(f.read_bytes())) for f in files]
    return pl.concat(frames, how="vertical").select(wh.column_order(wh.Reviews)).sort("decided_at", "decision_id")


def append_decisions(base_dir: str | os.PathLike[str], decisions: pl.DataFrame) -> list[str]:
    """Write each decision as a file of its own; returns their names. A failure of the disk raises
    `pipeline.storage.WarehouseWriteError` (the decisions written before it stay)."""
    folder = warehouse_path(base_dir) / TABLE
    written = []
    for row in decisions.select(wh.column_order(wh.Reviews)).iter_slices(1):
        period = check_partition(row["period"].item())
        stamp = row["decided_at"].item().strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{period}.{stamp}.{row['decision_id'].item()}.parquet"
        write_atomic(row, folder / name, base_dir)
        written.append(name)
    return written
