"""The command line and the reader processes import with the cyclic collector paused and freeze what lasts,
and the collector still runs on what a run makes after (in a reader, once it has made `YOUNG_OBJECTS`)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ingest.collection import YOUNG_OBJECTS, collecting_less
from pipeline.collector import lasting_imports

ROOT = Path(__file__).resolve().parents[1]


def test_objects_made_in_the_block_are_frozen_and_the_collector_comes_back() -> None:
    before = gc.get_freeze_count()
    paused = []
    try:
        with lasting_imports():
            paused.append(gc.isenabled())
            made = [[i] for i in range(1000)]  # containers the collector tracks
        assert paused == [False]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
    finally:
        gc.unfreeze()


def test_the_collector_is_restored_when_the_block_fails_and_left_off_when_it_was_off() -> None:
    try:
        with pytest.raises(ImportError), lasting_imports():
            import kttt_no_such_module  # noqa: F401
        assert gc.isenabled()
        gc.disable()
        with lasting_imports():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


PROBE = """
import gc, sys
import pipeline.cli  # the command line's imports
frozen = gc.get_freeze_count()
from ingest.parallel import reader_pool
pool = reader_pool(1)
probe = "(lambda gc: (gc.isenabled(), gc.get_freeze_count() > 10000, gc.get_threshold()[0]))(__import__('gc'))"
print(gc.isenabled(), frozen > 10000, pool.submit(eval, probe).result(), file=sys.stderr)
pool.shutdown()
"""


def test_the_command_line_and_the_readers_freeze_their_imports_and_keep_collecting() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines()[-1] == f"True True (True, True, {YOUNG_OBJECTS})"


def test_the_code_location_is_frozen_where_dagster_loads_it() -> None:
    """The webserver, the daemon and each run's worker import `pipeline.definitions` and keep it."""
    probe = "import gc, pipeline.definitions; print(gc.isenabled(), gc.get_freeze_count() > 10000)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True True"


EXIT_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("at exit", len(gc.get_objects()), gc.get_freeze_count(), file=sys.stderr))
from pipeline.cli import entry
sys.argv = ["kttt", "validate", *sys.argv[1:]]
entry()
"""


def test_the_command_exits_with_its_code_and_leaves_what_it_made_to_the_exit() -> None:
    """The `kttt` script freezes what the command made before the interpreter's last collections walk it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    files = sorted((ROOT / "raw" / "2024" / "Q3").glob("[!_]*.xlsx"))[:3]  # communes of the sample: all pass
    probe = [sys.executable, "-c", EXIT_PROBE, *map(str, files), "--raw", str(ROOT / "raw"), "--format", "json"]
    out = subprocess.run(probe, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["files"]) == len(files) == 3  # the output flushed before the exit
    _, _, walked, frozen = out.stderr.strip().splitlines()[-1].split()
    assert int(walked) < 1000 < 10000 < int(frozen)
    with (ROOT / "pyproject.toml").open("rb") as fh:
        assert tomllib.load(fh)["project"]["scripts"]["kttt"] == "pipeline.cli:entry"


def test_the_slower_pace_holds_in_the_block_only_and_a_slower_one_is_kept() -> None:
    before = gc.get_threshold()
    with collecting_less():
        assert gc.get_threshold() == (YOUNG_OBJECTS, *before[1:])
    assert gc.get_threshold() == before
    try:
        gc.set_threshold(5 * YOUNG_OBJECTS, *before[1:])
        with collecting_less():
            assert gc.get_threshold()[0] == 5 * YOUNG_OBJECTS
    finally:
        gc.set_threshold(*before)


def test_a_quarter_is_processed_at_the_slower_pace_and_the_pace_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample's quarter, read in this process: the pace is set for its processing, then set back."""
    from ingest.discover import period_files
    from ingest.period import process_period
    from ingest.reference import load_reference

    raw = ROOT / "raw"
    files, _ = period_files(raw, "2024-Q3")
    reference = load_reference(raw)
    before = gc.get_threshold()
    paces: list[int] = []
    real = gc.set_threshold

    def set_threshold(*pace: int) -> None:
        paces.append(pace[0])
        real(*pace)

    monkeypatch.setattr(gc, "set_threshold", set_threshold)
    tables = process_period(files, reference, "2024-Q3").tables
    assert tables["cooperatives"].height > 0
    assert paces == [YOUNG_OBJECTS, before[0]]
    assert gc.get_threshold() == before
