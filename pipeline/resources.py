"""Resources: where commune submissions are read from, and the warehouse settings."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import polars as pl
from upath import UPath

from ingest.discover import SubmissionFile, find_periods, period_files
from ingest.reference import Reference, load_reference
from pipeline.storage import read_table, table_files, warehouse_path

RAW_ENV = "KTTT_RAW_DIR"
WAREHOUSE_ENV = "KTTT_WAREHOUSE_DIR"
DEFAULT_RAW = "raw"
DEFAULT_WAREHOUSE = "warehouse"


class SubmissionSource(dg.ConfigurableResource):
    """The raw directory: `reference/` plus one folder per quarter (`<YYYY>/Q<n>/`)."""

    raw_dir: str
    deadline_days: int | None = None

    @property
    def root(self) -> Path:
        """The raw directory as a path."""
        return Path(self.raw_dir)

    def periods(self) -> list[str]:
        """Quarters that have a folder."""
        return find_periods(self.root)

    def files(self, period: str) -> tuple[list[SubmissionFile], list[Path]]:
        """Submissions of a quarter, and the paths skipped (links, hidden and lock files)."""
        return period_files(self.root, period)

    def reference(self) -> Reference:
        """District, communes and targets from `reference/`."""
        return load_reference(self.root)


def env_or(name: str, default: str) -> str | dg.EnvVar:
    """`EnvVar(name)` when the variable is set (shown as such in the UI), else `default`."""
    return dg.EnvVar(name) if os.environ.get(name) else default


class WarehouseDir(dg.ConfigurableResource):
    """The warehouse directory, for assets that read other periods or write files besides tables."""

    path: str

    @property
    def root(self) -> UPath:
        """The warehouse directory as a path (local, or on an object store)."""
        return warehouse_path(self.path)

    def read(self, table: str, partitions: list[str] | None = None) -> pl.DataFrame | None:
        """A table (or some of its periods), or None when nothing of it is stored yet."""
        try:
            return read_table(self.root, table, partitions)
        except FileNotFoundError:
            return None

    def periods(self, table: str) -> list[str]:
        """Periods stored for a table."""
        return [p.name.removesuffix(".parquet") for p in table_files(self.path, table)]
