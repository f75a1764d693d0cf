"""Dagster IO manager that stores asset partitions as Parquet files in the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import polars as pl

from pipeline.locks import DEFAULT_WAIT, Holder, lock_key, period_lock
from pipeline.storage import read_table, table_path, write_atomic
from schemas.messages import say


class ParquetWarehouse(dg.ConfigurableIOManager):
    """Writes each asset partition to `<base_dir>/<asset>/<period>.parquet` atomically, and reads it back.

    `base_dir` is a local folder or an object-store URL (`s3://bucket/warehouse`).
    While a run's step uses it, the step holds the period's lock of the warehouse
    (`pipeline.locks`), waiting up to `lock_wait_seconds` for another run of the
    same period (for example a `kttt run` started by hand) to finish.
    """

    base_dir: str
    lock_wait_seconds: float = DEFAULT_WAIT

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[ParquetWarehouse]:
        """Hold the lock of the run's period (`yearly` for a run without one) while the step runs."""
        run = context.run
        if run is None:
            yield self
            return
        key = lock_key(run.tags.get("dagster/partition"))
        command = f"dagster run {run.run_id}"

        def waiting(holder: Holder) -> None:
            if context.log is None:
                return
            if holder.command == command:
                # Another step of this very run is writing the period: steps take turns, nothing is stuck.
                context.log.debug(f"{key}: this step starts when the step of the same run writing it is done")
                return
            fields = {"period": key, "warehouse": self.base_dir, "wait": f"{self.lock_wait_seconds:g}"}
            context.log.warning(say("lock_waiting", holder=f"{holder.command}, {holder.describe()}", **fields))

        with period_lock(self.base_dir, key, wait=self.lock_wait_seconds, on_wait=waiting, command=command):
            yield self

    def _table(self, key: dg.AssetKey) -> str:
        return key.path[-1]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        """Replace the partition's file with `obj`."""
        partition = context.partition_key if context.has_partition_key else None
        path = table_path(self.base_dir, self._table(context.asset_key), partition)
        write_atomic(obj, path, self.base_dir)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "dagster/row_count": obj.height})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        """Read the upstream partitions this step needs (all of them for an unpartitioned table)."""
        table = self._table(context.asset_key)
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        return read_table(self.base_dir, table, partitions)
