"""Compare two warehouses table by table: the same Parquet files, the same contents, and the same bytes.

    sh scripts/uv run python benchmarks/compare_warehouses.py BEFORE AFTER

For a change that must not change the output: build BEFORE from the older commit and
AFTER from the newer one on the same raw directory (the same files, so the same
modification times and `received_at`), for example

    git archive <old-commit> | tar -x -C /tmp/old
    (cd /tmp/old && PYTHONPATH=/tmp/old python3 -m pipeline.cli run --raw /tmp/raw --warehouse /tmp/before)
    sh scripts/uv run kttt run --raw /tmp/raw --warehouse /tmp/after

Every `*.parquet` file is read with polars and compared exactly (values, types, order),
then byte for byte. Prints each difference and a summary line; exits 1 on any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal


def compare(before: Path, after: Path) -> list[str]:
    """The differences between two warehouses' Parquet files, one line each (empty when they are the same)."""
    old = {p.relative_to(before) for p in before.rglob("*.parquet")}
    new = {p.relative_to(after) for p in after.rglob("*.parquet")}
    problems = [f"only in {before}: {p}" for p in sorted(old - new)] + [
        f"only in {after}: {p}" for p in sorted(new - old)
    ]
    for rel in sorted(old & new):
        try:
            assert_frame_equal(pl.read_parquet(before / rel), pl.read_parquet(after / rel), check_exact=True)
        except AssertionError as exc:
            problems.append(f"{rel}: different contents: {str(exc).splitlines()[0]}")
            continue
        if (before / rel).read_bytes() != (after / rel).read_bytes():
            problems.append(f"{rel}: same contents, different bytes")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: compare BEFORE with AFTER."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    problems = compare(args.before, args.after)
    for line in problems:
        print(line)
    files = list(args.before.rglob("*.parquet"))
    rows = sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in files)
    print(f"files={len(files)} rows={rows} differences={len(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
