"""`warehouse/kttt.duckdb`: one DuckDB view per warehouse table, over the Parquet files by relative path.

The views name `<table>/*.parquet` relative to the warehouse folder, so the folder
can be copied anywhere: open the database from inside it (`cd warehouse && duckdb
kttt.duckdb`), or run `SET file_search_path = '<folder>'` first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

DATABASE = "kttt.duckdb"
UNIONS = {"rejected_rows_all": ("rejected_rows", "registry_warnings")}
"""Views over several tables of the same columns: every problem of a quarter, found in the quarter's files
(`rejected_rows`) or across quarters by the registry (`registry_warnings`)."""


def tables_in(warehouse: Path) -> list[str]:
    """Folders of the warehouse that hold Parquet files."""
    return sorted(p.name for p in warehouse.iterdir() if p.is_dir() and any(p.glob("*.parquet")))


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
    finally:
        con.close()
    tmp.replace(path)
    return path, names
