"""Faults in the middle of a run: a killed run, two runs of one period at once, a rerun, a full or read-only disk.

Every test drives real ``kttt run`` processes on a copy of the sample district's
warehouse (both quarters complete: "the previous version") and reads the Parquet
files back. The "new version" comes from the same raw folder without one commune's
workbook (``nam-dien.xlsx``), so that nearly every table of 2024-Q3 differs between
the two versions and a file can be told to be one or the other byte for byte.
"""

from __future__ import annotations

import ctypes
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import polars as pl
import pytest

from assets.registry import TABLES as REGISTRY_TABLES
from pipeline.definitions import ASSETS
from pipeline.io_manager import ParquetWarehouse
from pipeline.jobs import PERIOD_SELECTION
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from pipeline.runner import run_periods
from pipeline.storage import table_files
from tests.conftest import REPO, SAMPLE_PERIODS

PERIOD = "2024-Q3"
DROPPED = "nam-dien.xlsx"
TEMP = re.compile(r"^\.[^/]+\.[0-9a-f]{32}\.(tmp|old)$")
FACTS = ("cooperatives", "coop_groups", "commune_summaries", "support_disbursements")


# ---------------------------------------------------------------------------------------------
# Helpers


def _tables(warehouse: Path) -> list[str]:
    return sorted(p.name for p in warehouse.iterdir() if p.is_dir() and any(p.glob("*.parquet")))


def _parquet(warehouse: Path) -> dict[str, bytes]:
    """Every visible Parquet file of the warehouse, by path relative to it."""
    return {
        p.relative_to(warehouse).as_posix(): p.read_bytes()
        for p in sorted(warehouse.rglob("*.parquet"))
        if not p.name.startswith(".")
    }


def _tree(warehouse: Path) -> dict[str, bytes | None]:
    """Every file and folder under the warehouse (folders as None), for "nothing changed" checks."""
    return {
        p.relative_to(warehouse).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(warehouse.rglob("*"))
    }


def _temp_files(warehouse: Path) -> list[Path]:
    return sorted(p for p in warehouse.rglob("*") if TEMP.match(p.name))


def _kttt(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def _start(raw: Path, warehouse: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``kttt run`` for 2024-Q3 in its own process group, output to ``log`` (never a pipe that could fill up)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            _kttt("run", "--raw", str(raw), "--warehouse", str(warehouse), "--period", PERIOD, *extra),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _signal(proc: subprocess.Popen[bytes] | subprocess.Popen[str], sig: int) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)


def _pause_while_writing(proc: subprocess.Popen[bytes], warehouse: Path, nth: int) -> list[str]:
    """Stop ``proc`` (SIGSTOP) while it writes: once it has started its ``nth`` temporary file, at a moment
    one of its temporary files is there. Returns the temporary files present when it was stopped."""
    seen: set[str] = set()
    while proc.poll() is None:
        for folder in [warehouse, *(p for p in warehouse.iterdir() if p.is_dir())]:
            try:
                names = [p.name for p in folder.iterdir()]
            except OSError:
                continue
            seen.update(f"{folder.name}/{n}" for n in names if TEMP.match(n) and n.endswith(".tmp"))
        if len(seen) >= nth:
            _signal(proc, signal.SIGSTOP)
            present = [p.relative_to(warehouse).as_posix() for p in _temp_files(warehouse)]
            if present:
                return present
            _signal(proc, signal.SIGCONT)  # between two files: let it start the next one
        time.sleep(0.0005)
    pytest.fail(f"the run ended before writing {nth} files: {proc.returncode}")


def _new_raw(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    (dest / "2024" / "Q3" / DROPPED).unlink()
    return dest


def _row_accounting(warehouse: Path) -> None:
    """rows_in = rows_accepted + rows_rejected for every file, and rows_accepted = rows stored in the facts."""
    log = pl.read_parquet(warehouse / "submission_log" / f"{PERIOD}.parquet")
    stored = (
        pl.concat([pl.read_parquet(warehouse / t / f"{PERIOD}.parquet").select("source_file") for t in FACTS])
        .group_by("source_file")
        .len("stored")
    )
    joined = log.join(stored, on="source_file", how="left").with_columns(pl.col("stored").fill_null(0))
    assert (joined["rows_in"] == joined["rows_accepted"] + joined["rows_rejected"]).all()
    assert (joined["rows_accepted"] == joined["stored"]).all()


@pytest.fixture(scope="module")
def versions(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The previous version (the sample warehouse), the raw folders of both versions, and a clean run of the new
    version over a copy of the previous one (what any run of the new version must end with)."""
    base = tmp_path_factory.mktemp("versions")
    old_raw = sample_warehouse.parent / "raw"
    new_raw = _new_raw(old_raw, base / "raw-new")
    clean = base / "clean-new"
    shutil.copytree(sample_warehouse, clean)
    assert all(o.success for o in run_periods(new_raw, clean, [PERIOD]))
    return {"old": sample_warehouse, "old_raw": old_raw, "new_raw": new_raw, "new": clean}


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts; any still alive at the end is resumed and killed (its group only)."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            _signal(proc, signal.SIGCONT)
            _signal(proc, signal.SIGKILL)
            proc.wait()


# ---------------------------------------------------------------------------------------------
# 1. Killed while writing


@pytest.mark.parametrize("nth", [1, 4], ids=["first-file", "fourth-file"])
def test_killed_run_leaves_whole_files_and_the_next_run_repairs_everything(
    versions: dict[str, Path], tmp_path: Path, processes: list[subprocess.Popen], nth: int
) -> None:
    """SIGKILL while the ``nth`` Parquet file of the new version is being written.

    Each table's file is then the previous version's or the new one's, whole, and
    readable by polars and DuckDB; the temporary file the killed run left is hidden
    (``.2024-Q3.<random>.tmp``) and no reader's ``*.parquet`` picks it up. Analysts see,
    until the next run, tables of the period from two versions (for example the new
    ``submission_log`` beside the previous ``cooperatives``): each one whole, but not
    consistent with each other. The next run of the period says the previous one was
    interrupted, removes its temporary files, and leaves exactly what a clean run
    leaves, row accounting included.
    """
    old, new = _parquet(versions["old"]), _parquet(versions["new"])
    assert old.keys() == new.keys() and any(old[k] != new[k] for k in old)
    warehouse = tmp_path / "wh"
    shutil.copytree(versions["old"], warehouse)
    proc = _start(versions["new_raw"], warehouse, tmp_path / "killed.log")
    processes.append(proc)
    present = _pause_while_writing(proc, warehouse, nth)
    _signal(proc, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL

    assert present and all(p.rsplit("/", 1)[-1].startswith(".") for p in present)
    after = _parquet(warehouse)
    assert after.keys() == old.keys(), "a temporary file became visible, or a file went missing"
    mixed = {"old": [], "new": []}
    for name, data in after.items():
        assert data in (old[name], new[name]), f"{name} is neither the previous nor the new version"
        mixed["new" if data == new[name] and data != old[name] else "old"].append(name)
    for table in _tables(versions["old"]):
        assert [p.name for p in table_files(warehouse, table)] == [
            p.name for p in table_files(versions["old"], table)
        ], table
        frame = pl.scan_parquet(str(warehouse / table / "*.parquet")).collect()
        count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{warehouse / table}/*.parquet')").fetchall()
        assert count == [(frame.height,)], table
    report = (warehouse / "report" / PERIOD / "bao-cao.md").read_bytes()
    assert report in {(versions[v] / "report" / PERIOD / "bao-cao.md").read_bytes() for v in ("old", "new")}

    rerun = subprocess.run(
        _kttt("run", "--raw", str(versions["new_raw"]), "--warehouse", str(warehouse), "--period", PERIOD),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "bị ngắt giữa chừng" in rerun.stderr and "was interrupted" in rerun.stderr, rerun.stderr
    assert f"tiến trình {proc.pid}" in rerun.stderr and f"process {proc.pid}" in rerun.stderr
    assert _parquet(warehouse) == new, "the run after the crash differs from a clean run"
    assert _temp_files(warehouse) == []
    _row_accounting(warehouse)


# ---------------------------------------------------------------------------------------------
# 2. Two runs of one period at once


def _lines(stream: object) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_second_run_of_a_period_waits_or_is_refused_never_interleaved(
    versions: dict[str, Path], tmp_path: Path, processes: list[subprocess.Popen]
) -> None:
    """Run A (previous version) is stopped in the middle of writing 2024-Q3. Meanwhile:

    - ``kttt run --wait 0`` of the same period is refused at once (exit 3, a bilingual
      message naming the period, the warehouse and A), and writes nothing;
    - a Dagster run of the period's assets (the path of runs launched from the UI)
      is refused by the IO manager's lock in the same way;
    - ``kttt run`` with the default wait says it waits for A, and writes nothing while
      A holds the period.

    Once A resumes and finishes, the waiting run (new version) runs: the warehouse ends
    exactly as a clean run of the new version leaves it, never a mix of the two.
    """
    warehouse = tmp_path / "wh"
    shutil.copytree(versions["old"], warehouse)
    first = _start(versions["old_raw"], warehouse, tmp_path / "a.log")
    processes.append(first)
    _pause_while_writing(first, warehouse, 1)
    frozen = _tree(warehouse)

    new_run = ("run", "--raw", str(versions["new_raw"]), "--warehouse", str(warehouse), "--period", PERIOD)
    refused = subprocess.run(
        _kttt(*new_run, "--wait", "0"),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 3, refused.stderr
    assert "không chạy vì một lần chạy khác của kỳ này đang ghi vào" in refused.stderr
    assert "not run because another run of this period is writing to" in refused.stderr
    assert f"pid {first.pid}@" in refused.stderr and str(warehouse) in refused.stderr and PERIOD in refused.stderr
    assert _tree(warehouse) == frozen

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PERIOD_PARTITIONS, [PERIOD])
    resources = {
        **build_resources(str(versions["new_raw"]), str(warehouse)),
        "io_manager": ParquetWarehouse(base_dir=str(warehouse), lock_wait_seconds=0),
    }
    result = dg.materialize(
        ASSETS,
        selection=PERIOD_SELECTION,
        partition_key=PERIOD,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    assert not result.success
    failures = [str(e.event_specific_data) for e in result.all_events if e.is_failure]
    assert any("not run because another run of this period" in f for f in failures), failures
    assert _tree(warehouse) == frozen

    waiting = subprocess.Popen(
        _kttt(*new_run),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    processes.append(waiting)
    lines, said = _lines(waiting.stderr), []
    while not any("đang chờ lần chạy khác" in line for line in said):
        said.append(lines.get(timeout=300))  # a safety net against a hang, not a measure of speed
    assert f"pid {first.pid}@" in said[-1] and "waiting for another run of this period" in said[-1]
    assert _tree(warehouse) == frozen, "the waiting run wrote while the first one held the period"

    _signal(first, signal.SIGCONT)
    assert first.wait() == 0, (tmp_path / "a.log").read_text()
    assert waiting.wait() == 0
    assert _parquet(warehouse) == _parquet(versions["new"])
    assert _temp_files(warehouse) == []
    _row_accounting(warehouse)


# ---------------------------------------------------------------------------------------------
# 3. Rerunning gives the same bytes


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_rerun_gives_byte_identical_tables_everywhere(sample_raw: Path, sample_warehouse: Path, tmp_path: Path) -> None:
    """Both quarters run again over a copy of the sample warehouse (from another copy of the raw folder): every
    Parquet file (the period tables of both quarters, ``indicators_yearly``, the registry's) is the same, byte for
    byte, and no file appears or goes. No table holds a run time: ``received_at`` is the submission's modification
    time, which the copy keeps. Only the workbooks' and the DOCX's own creation stamps change between runs, so
    workbooks are compared by content (every cell of every sheet), and the Markdown report byte for byte."""
    warehouse = tmp_path / "wh"
    shutil.copytree(sample_warehouse, warehouse)
    files = sorted(p.relative_to(sample_warehouse).as_posix() for p in sample_warehouse.rglob("*") if p.is_file())
    assert all(o.success for o in run_periods(sample_raw, warehouse, SAMPLE_PERIODS))
    assert sorted(p.relative_to(warehouse).as_posix() for p in warehouse.rglob("*") if p.is_file()) == files
    first = _parquet(sample_warehouse)
    assert {n.split("/")[0] for n in first} >= {"cooperatives", "rejected_rows", "indicators_yearly", "figure_sources"}
    yearly = {n.split("/")[0] for n in first if n.endswith("/all.parquet")}
    assert yearly == {"indicators_yearly", "units", *REGISTRY_TABLES}
    assert len(first) == 2 * (len(_tables(sample_warehouse)) - len(yearly)) + len(yearly)  # period tables twice
    assert _parquet(warehouse) == first
    for name in (n for n in files if n.endswith(".xlsx")):
        assert _cells(warehouse / name) == _cells(sample_warehouse / name), name
    for period in SAMPLE_PERIODS:
        md = f"report/{period}/bao-cao.md"
        assert (warehouse / md).read_bytes() == (sample_warehouse / md).read_bytes()


# ---------------------------------------------------------------------------------------------
# 4. Full disk, read-only warehouse


def _full_disk() -> None:
    """In the child: files may not grow beyond 4 KiB, as on a full disk (writes fail with EFBIG, not a signal)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3


def _no_override() -> None:
    """In the child: as root, give up the capabilities that let root write where permissions say no."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _run_failing(raw: Path, warehouse: Path, preexec: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _kttt("run", "--raw", str(raw), "--warehouse", str(warehouse), "--period", PERIOD),
        cwd=REPO,
        capture_output=True,
        text=True,
        preexec_fn=preexec,  # type: ignore[arg-type]
        check=False,
    )


def test_full_disk_fails_the_run_clearly_and_keeps_the_old_tables(versions: dict[str, Path], tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    shutil.copytree(versions["old"], warehouse)
    before = _tree(warehouse)
    proc = _run_failing(versions["new_raw"], warehouse, _full_disk)
    assert proc.returncode == 1, proc.stderr
    assert f"Không ghi được vào kho dữ liệu {warehouse}: tệp vượt quá dung lượng cho phép" in proc.stderr
    assert f"Cannot write to the warehouse {warehouse}: the file is larger than allowed" in proc.stderr
    assert "the tables already there are unchanged" in proc.stderr
    assert "Stopped: the warehouse" in proc.stderr and "Dừng lại" in proc.stderr
    assert "Tables written under" not in proc.stdout
    after = _tree(warehouse)
    lock = ".locks/2024-Q3.lock"
    assert {k: v for k, v in after.items() if k != lock} == {k: v for k, v in before.items() if k != lock}
    # The terminal says it once, in both languages, without Dagster's stack traces (those are in the log).
    said = [line for line in proc.stderr.splitlines() if "files read" not in line]
    assert "Traceback" not in proc.stderr and "Stack Trace" not in proc.stderr and "dagster - " not in proc.stderr
    assert len(said) <= 6, proc.stderr
    assert sum("Cannot write to the warehouse" in line for line in said) == 1
    (details,) = [line for line in said if line.startswith("Chi tiết: ")]
    log = Path(details.split(" / Details: ")[1])
    assert "WarehouseWriteError" in log.read_text(encoding="utf-8")


def test_full_disk_rewrites_no_unchanged_file_before_failing(versions: dict[str, Path], tmp_path: Path) -> None:
    """The same submissions again on a disk with room for the tables but not the report: the tables, unchanged,
    are left alone (same file, same time), and the run fails only where something had to be written."""
    warehouse = tmp_path / "wh"
    shutil.copytree(versions["old"], warehouse)
    tables = {p: p.stat() for p in warehouse.glob("*/*.parquet")}
    docx = warehouse / "report" / PERIOD / "bao-cao.docx"
    room = max(s.st_size for s in tables.values()) + 1024
    assert docx.stat().st_size > room  # the report cannot be written again

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    proc = _run_failing(versions["old_raw"], warehouse, limited)
    assert proc.returncode == 1, proc.stderr
    assert "Cannot write to the warehouse" in proc.stderr
    rewritten = [
        p.relative_to(warehouse).as_posix()
        for p, st in tables.items()
        if (p.stat().st_ino, p.stat().st_mtime_ns) != (st.st_ino, st.st_mtime_ns)
    ]
    assert rewritten == []


def test_read_only_warehouse_fails_the_run_clearly_and_keeps_the_old_tables(
    versions: dict[str, Path], tmp_path: Path
) -> None:
    """Every folder 0555 and file 0444; as root, the run also loses the capabilities that bypass permissions."""
    warehouse = tmp_path / "wh"
    shutil.copytree(versions["old"], warehouse)
    before = _tree(warehouse)
    paths = [warehouse, *warehouse.rglob("*")]
    try:
        for p in reversed(paths):
            p.chmod(0o555 if p.is_dir() else 0o444)
        proc = _run_failing(versions["new_raw"], warehouse, _no_override)
    finally:
        for p in paths:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert proc.returncode == 1, proc.stderr
    assert f"Không ghi được vào kho dữ liệu {warehouse}: không có quyền ghi" in proc.stderr
    assert f"Cannot write to the warehouse {warehouse}: permission denied" in proc.stderr
    assert _tree(warehouse) == before


def test_a_disk_full_error_is_said_in_both_languages(tmp_path: Path) -> None:
    """A real ENOSPC (``/dev/full``) becomes the warehouse's message, which survives pickling between processes."""
    import pickle

    from pipeline.storage import WarehouseWriteError

    with pytest.raises(OSError) as caught, Path("/dev/full").open("wb") as full:
        full.write(b"x" * 65536)
        full.flush()
    error = WarehouseWriteError(tmp_path, tmp_path / "cooperatives" / "2024-Q3.parquet", caught.value)
    assert str(error).startswith(f"Không ghi được vào kho dữ liệu {tmp_path}: ổ đĩa đã đầy")
    assert f"Cannot write to the warehouse {tmp_path}: the disk is full" in str(error)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_an_unusable_setting_stops_the_command_before_anything_is_written(
    sample_raw: Path, tmp_path: Path, command: str
) -> None:
    warehouse = tmp_path / "wh"
    workbook = sample_raw / "2024" / "Q3" / "thach-lien.xlsx"
    args = ["--warehouse", str(warehouse)] if command == "run" else [str(workbook)]
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", command, "--raw", str(sample_raw), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "KTTT_READ_WORKERS": "hai"},
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert "KTTT_READ_WORKERS" in out.stderr and "«hai»" in out.stderr and "nothing was written" in out.stderr
    assert "Traceback" not in out.stderr
    assert not warehouse.exists()
