"""Dagster IO manager that stores asset partitions as Parquet files in the warehouse."""

from __future__ import annotations

import dagster as dg
import polars as pl

from pipeline.storage import read_table, table_path, write_atomic


class ParquetWarehouse(dg.ConfigurableIOManager):
    """Writes each asset partition to ``<base_dir>/<asset>/<period>.parquet`` atomically, and reads it back.

    ``base_dir`` is a local folder or an object-store URL (``s3://bucket/warehouse``).
    """

    base_dir: str

    def _table(self, key: dg.AssetKey) -> str:
        return key.path[-1]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        """Replace the partition's file with ``obj``."""
        partition = context.partition_key if context.has_partition_key else None
        path = table_path(self.base_dir, self._table(context.asset_key), partition)
        write_atomic(obj, path)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "dagster/row_count": obj.height})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        """Read the upstream partitions this step needs (all of them for an unpartitioned table)."""
        table = self._table(context.asset_key)
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        return read_table(self.base_dir, table, partitions)
