"""The national generator and the parallel reader: a country's quarter, read on several processes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ingest.discover import period_files
from ingest.parallel import BATCH_FILES, _batches, worker_count
from ingest.period import process_period
from ingest.reference import load_reference
from pipeline.resources import WORKERS_ENV, resolved_resources
from sample.national import PERIOD, commune_submission, national_communes, write_national


@pytest.fixture(scope="module")
def national_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("national") / "raw"
    write_national(raw, communes=40)
    return raw


def _period(raw: Path, workers: int) -> dict[str, pl.DataFrame]:
    files, _ = period_files(raw, PERIOD)
    return process_period(files, load_reference(raw), PERIOD, workers=workers).tables


def test_commune_names_and_codes_are_unique_at_national_scale() -> None:
    communes = national_communes(3321)
    assert len({c.code for c in communes}) == len({c.name for c in communes}) == 3321


def test_every_generated_row_is_accepted_and_counted(national_raw: Path) -> None:
    tables = _period(national_raw, workers=1)
    communes = national_communes(40)
    generated = [commune_submission(c) for c in communes]
    assert tables["rejected_rows"].filter(pl.col("severity") == "error").height == 0
    assert tables["cooperatives"].height == sum(len(s.htx) for s in generated)
    assert tables["coop_groups"].height == sum(len(s.tht) for s in generated)
    assert tables["commune_summaries"].height == 40
    per_commune = tables["cooperatives"].group_by("commune_code").len()
    assert per_commune["len"].min() >= 6 and per_commune["len"].max() <= 14
    capital = sum(r["charter_capital_mvnd"] for s in generated for r in s.htx)
    assert tables["cooperatives"]["charter_capital_mvnd"].sum() == pytest.approx(capital)


def test_generation_is_deterministic(tmp_path: Path, national_raw: Path) -> None:
    again = tmp_path / "raw"
    write_national(again, communes=40, workers=2)

    def digests(raw: Path) -> dict[str, str]:
        return {
            p.relative_to(raw).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(raw.rglob("*"))
            if p.is_file()
        }

    assert digests(again) == digests(national_raw)


def test_reading_on_two_processes_gives_the_same_tables(national_raw: Path) -> None:
    one = _period(national_raw, workers=1)
    two = _period(national_raw, workers=2)
    assert one.keys() == two.keys()
    for name in one:
        assert one[name].equals(two[name]), name


def test_worker_count_reads_small_quarters_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert worker_count(22) == 1
    assert worker_count(5, requested=3) == 3
    assert worker_count(2, requested=8) == 2
    assert resolved_resources()[0].read_workers is None
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert worker_count(10, resolved_resources()[0].read_workers) == 2


@pytest.mark.parametrize(("files", "readers"), [(300, 2), (1000, 2), (3321, 2), (3321, 3), (10_000, 2)])
def test_readers_get_as_many_batches_each_of_one_size(files: int, readers: int) -> None:
    """So that the readers finish together: at 1,000 files, five batches of 200 left one reader idle while the
    other read the last."""
    quarter = [f"xa-{k}.xlsx" for k in range(files)]
    batches = _batches(quarter, readers)  # type: ignore[arg-type]  # any list of files will do
    assert [f for batch in batches for f in batch] == quarter
    assert len(batches) % readers == 0 and len(batches) >= 2 * readers
    assert max(len(b) for b in batches) <= BATCH_FILES
    assert max(len(b) for b in batches) - min(len(b) for b in batches) < len(batches)


def test_a_pool_that_cannot_start_falls_back_to_reading_in_process(national_raw: Path) -> None:
    """When reader processes cannot be started (here: no interpreter to start them with), the quarter is still
    read, in the calling process, and the log says why."""
    script = (
        "import multiprocessing, sys\n"
        "from pathlib import Path\n"
        "from ingest.discover import period_files\n"
        "from ingest.parallel import read_files\n"
        "files, _ = period_files(Path(sys.argv[1]), sys.argv[2])\n"
        "multiprocessing.set_executable('/nonexistent/python3')\n"
        "states = read_files(files, workers=2)\n"
        "print(len(states), sum(s.blocks['HTX'].rows_in for s in states))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(national_raw), PERIOD], capture_output=True, text=True, check=True
    )
    expected = sum(len(commune_submission(c).htx) for c in national_communes(40))
    assert out.stdout.split() == ["40", str(expected)]
    assert "process pool failed" in out.stderr


def test_a_container_cpu_quota_caps_the_readers(tmp_path: Path) -> None:
    from ingest.parallel import _cgroup_cpus

    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")
    assert _cgroup_cpus(quota) == 1.5
    quota.write_text("max 100000\n")
    assert _cgroup_cpus(quota) is None
    assert _cgroup_cpus(tmp_path / "absent") is None
