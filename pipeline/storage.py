"""Parquet files of the warehouse: one file per table and period, replaced atomically.

The warehouse is a local folder or an object store (``s3://bucket/warehouse`` with the
``s3`` extra, or any fsspec file system, through universal-pathlib). Locally a
period's file is written beside its final name and renamed over it; on an object
store it is uploaded in one request, which readers see whole or not at all. Either
way a reader sees the old file or the new one, never a half-written one, and a rerun
leaves no duplicate.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import polars as pl
from upath import UPath

UNPARTITIONED = "all"


def warehouse_path(base: str | os.PathLike[str]) -> UPath:
    """The warehouse root as a path, local or remote."""
    return UPath(base)


def is_local(path: UPath | Path) -> bool:
    """Whether a path is on the local file system."""
    return getattr(path, "protocol", "") in ("", "file", "local")


def table_path(base_dir: str | os.PathLike[str], table: str, partition: str | None) -> UPath:
    """``<base>/<table>/<partition>.parquet`` (``all.parquet`` for an unpartitioned table)."""
    return warehouse_path(base_dir) / table / f"{partition or UNPARTITIONED}.parquet"


def _write_local(frame: pl.DataFrame, path: Path) -> None:
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


def write_atomic(frame: pl.DataFrame, path: UPath | Path) -> None:
    """Replace ``path`` with ``frame`` as Parquet, never leaving a partial file visible."""
    if is_local(path):
        _write_local(frame, Path(str(path)))
        return
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())  # one upload: atomic for readers of an object store


def table_files(base_dir: str | os.PathLike[str], table: str) -> list[UPath]:
    """The Parquet files of a table, sorted."""
    folder = warehouse_path(base_dir) / table
    if not folder.exists():
        return []
    return sorted((p for p in folder.iterdir() if p.name.endswith(".parquet")), key=lambda p: p.name)


def read_table(base_dir: str | os.PathLike[str], table: str, partitions: list[str] | None = None) -> pl.DataFrame:
    """Read a table, or some of its partitions, back into one frame."""
    if partitions is None:
        files = table_files(base_dir, table)
    else:
        files = [p for p in (table_path(base_dir, table, k) for k in partitions) if p.exists()]
    if not files:
        raise FileNotFoundError(f"no Parquet files for table {table} under {warehouse_path(base_dir) / table}")
    return pl.concat([pl.read_parquet(io.BytesIO(f.read_bytes())) for f in files], how="vertical")


def upload_folder(local: Path, target: UPath) -> None:
    """Copy a local folder's files under ``target`` (reports written locally, stored with the warehouse)."""
    for path in sorted(local.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(local).as_posix()
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())
