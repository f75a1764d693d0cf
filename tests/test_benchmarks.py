"""The benchmarks run (no timing is asserted: numbers live in the benchmark's output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_validation_benchmark_runs_and_both_ways_flag_the_same_rows() -> None:
    out = subprocess.run(
        [sys.executable, "benchmarks/validation.py", "--rows", "3000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(part.split("=") for part in out.split() if "=" in part)
    assert fields["rows"] == "3000"
    assert fields["flagged_pandera"] == fields["flagged_polars"] == "30"
    assert float(fields["ratio_pandera_vs_polars"]) > 0


def test_national_benchmark_runs_its_rounds_and_kttt_stores_every_row(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "benchmarks/national.py", "--communes", "6", "--workdir", str(tmp_path), "--repeat", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.count("\nkttt ") == 2 and out.count("\nfloor ") == 2  # two rounds, each with its own floor
    assert "rounds     2: the medians below" in out
    last = out.strip().splitlines()[-1]
    fields = dict(part.split("=") for part in last.split())
    assert list(fields) == ["ratio_vs_floor", "ratio_vs_pandas", "peak_rss_mib"]
    assert float(fields["ratio_vs_floor"]) > 0 and float(fields["ratio_vs_pandas"]) > 0
    assert int(fields["peak_rss_mib"]) > 0
    assert len(list((tmp_path / "raw-6").rglob("*.xlsx"))) == 6
    assert (tmp_path / "warehouse" / "cooperatives" / "2025-Q3.parquet").exists()
    assert not (tmp_path / "warehouse" / "report" / "2025-Q3").exists()  # kttt ran with --no-report
