"""The benchmarks run (no timing is asserted: numbers live in the benchmark's output)."""

from __future__ import annotations

import subprocess
import sys

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
