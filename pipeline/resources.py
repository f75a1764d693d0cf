"""Resources: where commune submissions are read from, how they are read, and the warehouse.

Every setting of kttt is a field of these resources, so the Dagster UI shows it (an
environment variable shows as its name, never its value). `build_resources` is the one
place that reads the environment and applies the defaults; the code location and the
command line both call it (`resolved_resources` for commands that run outside Dagster).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import dagster as dg
import polars as pl
from pydantic import Field
from upath import UPath

from ingest.discover import SubmissionFile, find_periods, period_files
from ingest.period import PeriodResult, process_period
from ingest.reference import Reference, load_reference
from ingest.review import Review, ReviewPolicy, load_review_policy
from ingest.workbook import PASSWORD_ENV
from pipeline.io_manager import ParquetWarehouse
from pipeline.storage import read_table, table_files, warehouse_path

RAW_ENV = "KTTT_RAW_DIR"
WAREHOUSE_ENV = "KTTT_WAREHOUSE_DIR"
WORKERS_ENV = "KTTT_READ_WORKERS"
DEFAULT_RAW = "raw"
DEFAULT_WAREHOUSE = "warehouse"
R = TypeVar("R", bound=dg.ConfigurableResource)


class SubmissionSource(dg.ConfigurableResource):
    """The raw directory: `reference/` plus one folder per quarter (`<YYYY>/Q<n>/`), and how it is read."""

    raw_dir: str = Field(description=f"Raw directory (${RAW_ENV}, default ./{DEFAULT_RAW})")
    deadline_days: int | None = Field(
        default=None, description="Days after the quarter's end a report is due (default: district.yaml, else 15)"
    )
    workbook_password: str | None = Field(
        default=None, description=f"Opens password-protected workbooks in memory (${PASSWORD_ENV})"
    )
    read_workers: int | None = Field(
        default=None,
        description=f"Processes reading a quarter's files (${WORKERS_ENV}; default one per core for large quarters)",
    )

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

    def process(self, files: list[SubmissionFile], period: str, review: Review | None = None) -> PeriodResult:
        """Every table of a quarter from its files, read with this resource's workers and workbook password, under
        the officer's decisions when `review` is given."""
        return process_period(files, self.reference(), period, self.read_workers, self.workbook_password, review)

    def review_policy(self) -> ReviewPolicy:
        """Whether submissions need the officer's approval, and when a quarter locks (`reference/`)."""
        return load_review_policy(self.root)

    def deadline(self) -> int:
        """Days after the quarter's end that communes have to report (this resource's, else the reference's)."""
        return self.reference().deadline_days if self.deadline_days is None else self.deadline_days


def env_or(name: str, default: str | None) -> str | dg.EnvVar | None:
    """`EnvVar(name)` when the variable is set (shown as such in the UI), else `default`."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def _int_env(name: str) -> int | None:
    """`EnvVar.int(name)` when the variable is set to something, else None."""
    return dg.EnvVar.int(name) if os.environ.get(name, "").strip() else None


class WarehouseDir(dg.ConfigurableResource):
    """The warehouse directory, for assets that read other periods or write files besides tables."""

    path: str = Field(description=f"Warehouse folder or object-store URL (${WAREHOUSE_ENV}, default ./warehouse)")

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


def build_resources(raw_dir: str | None = None, warehouse_dir: str | None = None) -> dict[str, object]:
    """Resources for a raw and a warehouse directory (defaults: environment, then `raw/` and `warehouse/`); the
    workbook password and the reader count come from the environment."""
    warehouse = warehouse_dir or env_or(WAREHOUSE_ENV, DEFAULT_WAREHOUSE)
    source = SubmissionSource(
        raw_dir=raw_dir or env_or(RAW_ENV, DEFAULT_RAW),
        workbook_password=env_or(PASSWORD_ENV, None),
        read_workers=_int_env(WORKERS_ENV),
    )
    return {
        "source": source,
        "warehouse": WarehouseDir(path=warehouse),
        "io_manager": ParquetWarehouse(base_dir=warehouse),
    }


def resolved_resources(
    raw_dir: str | None = None, warehouse_dir: str | None = None
) -> tuple[SubmissionSource, WarehouseDir]:
    """The resources of :func:`build_resources` with their environment variables read, for commands that work
    outside a Dagster run (`kttt validate`, `kttt template`)."""
    resources = build_resources(raw_dir, warehouse_dir)
    source = resources["source"]
    warehouse = resources["warehouse"]
    assert isinstance(source, SubmissionSource) and isinstance(warehouse, WarehouseDir)
    return _resolved(source), _resolved(warehouse)


def _resolved(resource: R) -> R:
    """`resource` with its configuration checked and its environment variables read, as Dagster does when a run
    starts; raises `DagsterInvalidConfigError` for a setting it cannot take.

    Dagster's `process_config_and_initialize` does the same but creates a throwaway instance for each resource
    (over half a second of CPU each, SQLAlchemy and Alembic included); these resources need no instance.
    """
    from dagster._config.post_process import post_process_config

    processed = post_process_config(resource._config_schema.config_type, resource._convert_to_config_dictionary())
    if not processed.success:
        raise dg.DagsterInvalidConfigError("Errors while initializing resource", processed.errors, processed)
    return type(resource)(**processed.value)
