"""The benchmarks run (no timing is asserted: numbers live in the benchmark's output)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.parallel import worker_count
from sample.national import write_national
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
    assert list(fields) == ["ratio_vs_floor", "ratio_vs_pandas", "peak_rss_mib", "peak_pss_mib"]
    assert float(fields["ratio_vs_floor"]) > 0 and float(fields["ratio_vs_pandas"]) > 0
    assert 0 < int(fields["peak_pss_mib"]) <= int(fields["peak_rss_mib"])  # PSS counts shared pages once
    assert len(list((tmp_path / "raw-6").rglob("*.xlsx"))) == 6
    assert (tmp_path / "warehouse" / "cooperatives" / "2025-Q3.parquet").exists()
    assert not (tmp_path / "warehouse" / "report" / "2025-Q3").exists()  # kttt ran with --no-report


def test_national_benchmark_measures_the_readers_start_up_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers' start-up is measured on as many reader processes as kttt starts for the quarter (none below
    the size a quarter is read in kttt's own process), from the CPU of those processes."""
    spec = importlib.util.spec_from_file_location("national_benchmark", REPO / "benchmarks" / "national.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    raw = tmp_path / "raw"
    first = write_national(raw, 4)[0]
    for k in range(296):  # a quarter of 300 files, of which the readers read the first few
        shutil.copy(first, first.with_name(f"copy-{k:03d}.xlsx"))
    workers, cpu = bench.readers_start(raw)
    expected = worker_count(300)
    if expected <= 1:
        assert (workers, cpu) == (0, 0.0)
    else:
        assert workers == expected
        assert cpu > 0  # their imports alone take tenths of a second: counted once they have ended
