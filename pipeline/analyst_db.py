"""`warehouse/kttt.duckdb`: one DuckDB view per warehouse table, over the Parquet files by relative path.

The views name `<table>/*.parquet` relative to the warehouse folder, so the folder
can be copied anywhere: open the database from inside it (`cd warehouse && duckdb
kttt.duckdb`), or run `SET file_search_path = '<folder>'` first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from schemas.warehouse import TABLES, polars_schema

DATABASE = "kttt.duckdb"
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


def write_analyst_database(warehouse: Path) -> tuple[Path, list[str]]:
    """(Re)write the database with one view per table, and the union views; written aside, then renamed."""
    path = warehouse / DATABASE
    tmp = warehouse / f".{DATABASE}.tmp"
    tmp.unlink(missing_ok=True)
    names = tables_in(warehouse)
    con = duckdb.connect(str(tmp))
    try:
        folder = str(warehouse.resolve()).replace("'", "''")
        con.execute(f"SET file_search_path = '{folder}'")
        for name in names:
            con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{name}/*.parquet')")
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
