"""`warehouse/kttt.duckdb`: one DuckDB view per warehouse table, over the Parquet files by absolute path.

Absolute paths let the database be opened from any directory (the repository root,
the warehouse folder, a notebook elsewhere); every run writes the file again, so a
moved warehouse gets correct paths on its next run. The file is written in DuckDB's
1.0 storage format, which every DuckDB since 1.0 reads: the command-line `duckdb` an
analyst installs is often older than the Python library that writes the file.

DuckDB is imported when the file is written, not with this module: the asset definitions import it, and
a run holds DuckDB's library (about 15 MiB resident) only for its last step rather than while it reads
a quarter, when its memory peaks.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from schemas.warehouse import TABLES, polars_schema

DATABASE = "kttt.duckdb"
STORAGE_VERSION = "v1.0.0"
"""The oldest DuckDB storage format the file is written in, so that DuckDB 1.x tools open it."""
UNIONS = {"rejected_rows_all": ("rejected_rows", "registry_warnings")}
"""Views over several tables of the same columns: every problem of a quarter, found in the quarter's files
(`rejected_rows`) or across quarters by the registry (`registry_warnings`)."""


_SQL_TYPES = {
    pl.String: "VARCHAR",
    pl.Boolean: "BOOLEAN",
    pl.Int8: "TINYINT",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Date: "DATE",
}


def _sql_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    return _SQL_TYPES.get(dtype.base_type(), "VARCHAR")


def _empty_view(name: str) -> str:
    """A view with the table's columns and no rows, for a registered table that has no file yet (``reviews``
    before the first decision), so queries over it work from the start."""
    cols = ", ".join(f'CAST(NULL AS {_sql_type(t)}) AS "{c}"' for c, t in polars_schema(TABLES[name]).items())
    return f'CREATE VIEW "{name}" AS SELECT {cols} WHERE false'


def tables_in(warehouse: Path) -> list[str]:
    """Tables of the warehouse registry (`schemas.warehouse.TABLES`) that have Parquet files in the folder."""
    return sorted(name for name in TABLES if any((warehouse / name).glob("*.parquet")))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_analyst_database(warehouse: Path) -> tuple[Path, list[str]]:
    """(Re)write the database with one view per table, and the union views; written aside, then renamed."""
    import duckdb

    path = warehouse / DATABASE
    tmp = warehouse / f".{DATABASE}.tmp"
    tmp.unlink(missing_ok=True)
    names = tables_in(warehouse)
    folder = warehouse.resolve()
    con = duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        for name in names:
            pattern = _quoted((folder / name / "*.parquet").as_posix())
            con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({pattern})')
        for view, parts in UNIONS.items():
            present = [p for p in parts if p in names]
            if present:
                union = " UNION ALL BY NAME ".join(f'SELECT * FROM "{p}"' for p in present)
                con.execute(f'CREATE VIEW "{view}" AS {union}')
                names.append(view)
        for name in sorted(set(TABLES) - set(names)):
            con.execute(_empty_view(name))
    finally:
        con.close()
    tmp.replace(path)
    return path, names
