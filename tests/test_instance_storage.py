"""The local instance's SQLite storages that keep their connections (`pipeline/instance_storage.py`).

Runs are real Dagster runs recorded in a Dagster home with the committed `dagster.yaml`; what
they leave open is read from `/proc/self/fd` (the open files of this process).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipeline.instance import LOCAL_HOME
from pipeline.instance_storage import (
    KEPT_DATABASES,
    SHARD_TEMPLATES,
    CheckedSqliteScheduleStorage,
    PooledSqliteEventLogStorage,
    PooledSqliteRunStorage,
)


@dg.asset
def counted() -> int:
    """One small asset: each materialization is a run with its own event-log database."""
    return 1


def _open_files(folder: Path) -> list[str]:
    """Files under `folder` this process holds open (a deleted one ends in ` (deleted)`)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith(f"{folder}{os.sep}"):
            found.append(target)
    return found


def _open_databases(folder: Path) -> set[str]:
    return {f for f in _open_files(folder) if f.endswith(".db")}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Dagster home with the checkout's `dagster.yaml`, as `DAGSTER_HOME`."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(LOCAL_HOME / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def instance(home: Path) -> Iterator[dg.DagsterInstance]:
    instance = dg.DagsterInstance.from_config(str(home))
    yield instance
    instance.dispose()


def _materialize(instance: dg.DagsterInstance, runs: int) -> list[str]:
    ids = []
    for _ in range(runs):
        result = dg.materialize([counted], instance=instance)
        assert result.success
        ids.append(result.run_id)
    return ids


def test_the_checkouts_instance_records_through_the_storages_that_keep_connections(
    instance: dg.DagsterInstance, home: Path
) -> None:
    assert isinstance(instance.run_storage, PooledSqliteRunStorage)
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    assert isinstance(instance.schedule_storage, CheckedSqliteScheduleStorage)
    (run_id,) = _materialize(instance, 1)
    # Where Dagster's own SQLite storages keep them, so either can read the other's history.
    assert (home / "history" / "runs.db").is_file()
    assert (home / "history" / "runs" / f"{run_id}.db").is_file()


def test_a_history_written_with_kept_connections_reads_back_with_dagsters_own_storages(
    instance: dg.DagsterInstance, home: Path
) -> None:
    ids = _materialize(instance, 2)
    instance.dispose()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    own = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(own.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert {r.run_id for r in own.get_runs()} == set(ids)
        assert all(own.get_run_by_id(i).is_success for i in ids)  # type: ignore[union-attr]
        assert own.get_latest_materialization_event(counted.key).run_id == ids[-1]  # type: ignore[union-attr]
        for run_id in ids:
            assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in own.all_logs(run_id))
        ids += _materialize(own, 1)
    finally:
        own.dispose()
    shutil.copy(LOCAL_HOME / "dagster.yaml", home / "dagster.yaml")
    again = dg.DagsterInstance.from_config(str(home))
    try:
        assert {r.run_id for r in again.get_runs()} == set(ids)
        assert again.get_latest_materialization_event(counted.key).run_id == ids[-1]  # type: ignore[union-attr]
    finally:
        again.dispose()


def _schema(database: Path) -> tuple[list[tuple], list[tuple], str]:
    """What Dagster's `_initdb` makes of a database: its tables and indexes, its Alembic revision, its journal."""
    with sqlite3.connect(database) as conn:
        objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    return objects, revision, journal


def test_a_new_runs_database_is_a_copy_of_the_one_dagster_made_first(
    instance: dg.DagsterInstance, home: Path, tmp_path: Path
) -> None:
    """Dagster makes the template (tables, Alembic's stamp); a later run's database starts as its copy, and is what
    Dagster's own storage makes of a new run's database."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    runs = home / "history" / "runs"
    ids = _materialize(instance, 2)
    (template,) = (runs / SHARD_TEMPLATES).iterdir()
    assert not list(runs.glob(".*.partial")) and not list((runs / SHARD_TEMPLATES).glob(".*"))
    storage = instance.event_log_storage
    with storage.run_connection("not-yet-written"):  # type: ignore[attr-defined]
        pass
    assert (runs / "not-yet-written.db").read_bytes() == template.read_bytes()
    own = SqliteEventLogStorage(str(tmp_path / "own"))
    try:
        with own.run_connection("made-by-dagster"):
            pass
    finally:
        own.dispose()
    assert _schema(runs / f"{ids[-1]}.db") == _schema(tmp_path / "own" / "made-by-dagster.db")
    assert _schema(template) == _schema(tmp_path / "own" / "made-by-dagster.db")
    # The template is not taken for a run's database.
    assert set(storage.get_all_run_ids()) == {*ids, "not-yet-written"}  # type: ignore[attr-defined]


@pytest.fixture
def alembic_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time Alembic reads its migration scripts (`ScriptDirectory.from_config`, which Dagster's set-up of a
    database calls to check or stamp its revision), the scripts' folder."""
    from alembic.script import ScriptDirectory

    loads: list[str] = []
    real = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]

    def counted(cls: type[ScriptDirectory], config: Any) -> ScriptDirectory:
        loads.append(str(config.get_main_option("script_location")))
        return real(cls, config)

    monkeypatch.setattr(ScriptDirectory, "from_config", classmethod(counted))
    return loads


def test_databases_set_up_already_open_without_alembic(home: Path, alembic_loads: list[str]) -> None:
    """Opening the instance again and reading a run's log leaves Dagster's Alembic check out (about 40 ms for each of
    the run, schedule and index databases, and each run's); setting up a new home does not."""
    first = dg.DagsterInstance.from_config(str(home))
    try:
        (run_id,) = _materialize(first, 1)
    finally:
        first.dispose()
    assert alembic_loads, "a new home is set up by Dagster, Alembic's stamp included"
    alembic_loads.clear()
    again = dg.DagsterInstance.from_config(str(home))
    try:
        assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in again.all_logs(run_id))
        assert again.get_runs()[0].run_id == run_id
        again.schedule_storage.all_instigator_state()  # type: ignore[union-attr]
        _materialize(again, 1)
    finally:
        again.dispose()
    assert alembic_loads == []


def test_a_database_not_set_up_is_left_to_dagster(home: Path) -> None:
    """A run database without the table of instance information, or a run's database without Alembic's revision,
    is set up by Dagster as before."""
    first = dg.DagsterInstance.from_config(str(home))
    try:
        (run_id,) = _materialize(first, 1)
    finally:
        first.dispose()
    with sqlite3.connect(home / "history" / "runs.db") as conn:
        conn.execute("DROP TABLE instance_info")
    conn.close()
    with sqlite3.connect(home / "history" / "runs" / f"{run_id}.db") as conn:
        conn.execute("DELETE FROM alembic_version")
    conn.close()
    again = dg.DagsterInstance.from_config(str(home))
    try:
        assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in again.all_logs(run_id))
    finally:
        again.dispose()
    with sqlite3.connect(home / "history" / "runs.db") as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'instance_info'").fetchone()[0] == 1
    conn.close()
    with sqlite3.connect(home / "history" / "runs" / f"{run_id}.db") as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
    conn.close()


def test_the_event_log_keeps_only_the_databases_it_used_last_open(instance: dg.DagsterInstance, home: Path) -> None:
    runs = home / "history" / "runs"
    ids = _materialize(instance, KEPT_DATABASES + 4)
    held = _open_databases(runs)
    assert 0 < len(held) <= KEPT_DATABASES
    assert str(runs / "index.db") in held and str(runs / f"{ids[-1]}.db") in held
    assert str(runs / f"{ids[0]}.db") not in held
    # Every run's log is still read, the ones let go opened again.
    for run_id in ids:
        assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in instance.all_logs(run_id))
    instance.dispose()
    assert _open_files(home / "history") == []


def test_wiping_the_history_leaves_no_deleted_database_open(instance: dg.DagsterInstance, home: Path) -> None:
    ids = _materialize(instance, 3)
    instance.wipe()
    assert not any(f.endswith("(deleted)") for f in _open_files(home / "history"))
    assert instance.get_runs() == [] and not (home / "history" / "runs" / f"{ids[0]}.db").exists()
    (run_id,) = _materialize(instance, 1)
    assert [r.run_id for r in instance.get_runs()] == [run_id]


def test_kept_connections_hold_no_lock_between_transactions(instance: dg.DagsterInstance, home: Path) -> None:
    """While the instance is open, its idle connections let another process's writer in at once (a writer that
    does not wait: no busy timeout)."""
    _materialize(instance, 2)
    held = _open_databases(home / "history")
    assert str(home / "history" / "runs.db") in held and str(home / "history" / "runs" / "index.db") in held
    for database in held:
        other = sqlite3.connect(database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises `database is locked` if a kept connection holds a lock
            other.rollback()
        finally:
            other.close()


RECORDER = """
import dagster as dg

@dg.asset
def counted() -> int:
    return 1

instance = dg.DagsterInstance.get()
assert all(dg.materialize([counted], instance=instance).success for _ in range(5))
instance.dispose()
"""


def test_processes_recording_at_once_share_the_history(home: Path) -> None:
    """Kept connections hold no lock between transactions: three processes (as `kttt run`, the daemon and the
    webserver do) record runs into the same files at once, and every run and materialization is there. The home
    is created first, as `kttt ui` or a first `kttt run` does: Dagster's SQLite storages, its own as these, cannot
    create a new home from several processes at once."""
    dg.DagsterInstance.from_config(str(home)).dispose()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", RECORDER], env=env, stderr=subprocess.PIPE) for _ in range(3)]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert not any("locked" in e for e in errors)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        runs = instance.get_runs()
        assert len(runs) == 15 and all(r.is_success for r in runs)
        assert len(instance.fetch_materializations(counted.key, limit=100).records) == 15
    finally:
        instance.dispose()


@pytest.mark.parametrize("folder", [".dagster_home", "deploy"])
def test_the_shipped_instance_configurations_are_accepted_by_dagster(folder: str) -> None:
    """`.dagster_home/dagster.yaml` (the local instance) and `deploy/dagster.yaml` (production) as Dagster reads
    them: a schema error or two settings it refuses together stop every process that loads the instance."""
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(LOCAL_HOME.parent / folder))
    assert config["run_queue"]["dequeue_interval_seconds"] == 1
