"""Parquet files of the warehouse: one file per table and period, replaced atomically.

A period's file is written beside its final name and renamed over it, so a reader sees
the old file or the new one, never a half-written one, and a rerun leaves no duplicate.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import polars as pl

UNPARTITIONED = "all"


def table_path(base_dir: Path, table: str, partition: str | None) -> Path:
    """``<base>/<table>/<partition>.parquet`` (``all.parquet`` for an unpartitioned table)."""
    return base_dir / table / f"{partition or UNPARTITIONED}.parquet"


def write_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_table(base_dir: Path, table: str, partitions: list[str] | None = None) -> pl.DataFrame:
    """Read a table, or some of its partitions, back into one frame."""
    folder = base_dir / table
    if partitions is None:
        files = sorted(folder.glob("*.parquet"))
    else:
        files = [table_path(base_dir, table, p) for p in partitions]
        files = [f for f in files if f.exists()]
    if not files:
        raise FileNotFoundError(f"no Parquet files for table {table} under {folder}")
    return pl.concat([pl.read_parquet(f) for f in files], how="vertical")
