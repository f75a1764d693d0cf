"""SQLite run and event storages for the local Dagster instance that keep their connections.

Dagster's SQLite storages create an SQLAlchemy engine and open a SQLite connection for
every read and write, and close both after it. For the event log that is every event of
a run (about 170 in a one-commune `kttt run`, about 930 connections with the index
database's), and closing the last connection to a database in WAL mode also checkpoints
it and deletes its write-ahead log: about a second and a half of CPU of every run, a
quarter of what `kttt run` costs before it reads a file.

These subclasses keep one engine per database with its connections pooled: the same
files in the same places, the same schema and the same locking (a pooled connection holds
no lock between transactions), so an instance can switch between them and Dagster's own
classes either way. The event log keeps the engines of the `KEPT_DATABASES` databases it
used last (the webserver reads the logs of many runs) and lets the others go.

A run's own event-log database is made once by Dagster and then copied: Dagster creates each
one with its tables and stamps it with Alembic, which loads every one of Dagster's ninety-odd
migration scripts twice, about 75 ms of every run (two per `kttt run` of a quarter). The first
database this event log creates, for a Dagster and SQLAlchemy version, is made by Dagster's own
code in `history/runs/.templates/` and every later new run's database is a copy of that file
(`SHARD_TEMPLATES`); an existing database, the index and any copy that cannot be made are left to
Dagster as before.

Dagster's set-up of a database that exists, stamped by Alembic, only checks its revision, and
loads every migration script to do so (about 40 ms for each of the run, schedule and index
databases of every process that opens the instance); here such a database is opened as it is
(`_stamped`), and any other is set up by Dagster as before.

`.dagster_home/dagster.yaml` names them; without `base_dir` they store in the Dagster
home `kttt` uses (`pipeline.instance.dagster_home`), as Dagster's own storages do by
default. A deployment on PostgreSQL (`deploy/dagster.yaml`) does not use them.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import dagster
import sqlalchemy
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import create_db_conn_string
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.instance import dagster_home

KEPT_DATABASES = 8
"""Event-log databases whose engine (and one idle connection) stays open: the index and recent runs."""

POOL = {"pool_size": 1, "max_overflow": -1}
"""One idle connection kept per database; more at once (the webserver's threads) are opened and closed
as Dagster's own storages do, never waited for."""

CONFIG = {"base_dir": Field(StringSource, is_required=False)}
"""Dagster's SQLite storages take `base_dir`; here it may be left out (the Dagster home)."""


class _OptionalBaseDir:
    """The configuration of these storages: `CONFIG`."""

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return CONFIG


SHARD_TEMPLATES = ".templates"
"""Folder of the run databases' templates, inside the event log's folder: Dagster takes every `*.db` file of that
folder, not of its subfolders, for a run's database."""


def _template_name() -> str:
    """A template serves only the Dagster and SQLAlchemy versions that made it (their schema and Alembic
    revision)."""
    return f"run-{dagster.__version__}-sqlalchemy-{sqlalchemy.__version__}.db"


def _stamped(database: Path, *tables: str) -> bool:
    """Whether `database` exists with an Alembic revision and `tables`: what Dagster's set-up of it leaves as it is.

    Read through its own connection, closed after, as Dagster's set-up reads it; a database that cannot be read
    here is left to Dagster's set-up, which says what is wrong with it."""
    if not database.is_file():
        return False
    try:
        conn = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        try:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return len(revision) == 1 and bool(revision[0][0]) and set(tables) <= names


def _history(config_value: dict[str, Any], *parts: str) -> str:
    """`base_dir` as configured, else the Dagster home's `history/…` folder Dagster itself uses."""
    return config_value.get("base_dir") or str(dagster_home().joinpath("history", *parts))


class PooledSqliteEventLogStorage(_OptionalBaseDir, SqliteEventLogStorage):
    """Dagster's per-run SQLite event log, with an engine per database kept between events."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(_history(config_value, "runs"), inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The database's engine, made the most recent; the least recent beyond `KEPT_DATABASES` closed."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                **POOL,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
        self._engines[shard] = engine
        while len(self._engines) > KEPT_DATABASES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As Dagster's: the lock is held for the whole transaction, so no connection is in use
        # while another thread evicts or disposes an engine.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                if not (self._copied_template(shard) or _stamped(Path(self.path_for_shard(shard)))):
                    self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _copied_template(self, shard: str) -> bool:
        """Whether the new database of run `shard` was made as a copy of the template (made first when missing);
        False for the index, a database that exists already and any error (Dagster's `_initdb` then runs).

        The copy is written beside the database under another name, then linked to its name, which fails if
        the database exists by then: no process sees a half-written database."""
        target = Path(self.path_for_shard(shard))
        if shard == INDEX_SHARD_NAME or target.exists():
            return False
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            partial.write_bytes(self._template().read_bytes())
            os.link(partial, target)
        except (OSError, SQLAlchemyError, sqlite3.Error):
            return False
        finally:
            with suppress(OSError):
                partial.unlink()
        return True

    def _template(self) -> Path:
        """The template of a new run's database, made by Dagster's own `_initdb` when missing (see the module)."""
        folder = Path(self._base_dir) / SHARD_TEMPLATES
        template = folder / _template_name()
        if template.is_file():
            return template
        folder.mkdir(parents=True, exist_ok=True)
        fresh = folder / f".{uuid.uuid4().hex}.partial"
        files = (fresh, fresh.with_name(f"{fresh.name}-wal"), fresh.with_name(f"{fresh.name}-shm"))
        engine = create_engine(f"sqlite:///{fresh}", connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        try:
            try:
                self._initdb(engine)
            finally:
                engine.dispose()  # the last connection closed: the write-ahead log is folded into the file
            if any(f.exists() for f in files[1:]):
                raise OSError(f"{fresh} left its write-ahead log: the template would not be one file")
            fresh.replace(template)
        finally:
            for f in files:
                with suppress(OSError):
                    f.unlink()
        return template

    def _close_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        # The run databases' files are deleted: no connection may keep them open.
        self._close_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_engines()


class PooledSqliteRunStorage(_OptionalBaseDir, SqliteRunStorage):
    """Dagster's SQLite run storage, with one engine kept for the run database."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(conn_string, inst_data=inst_data)
        self._engine = create_engine(conn_string, **POOL)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> PooledSqliteRunStorage:
        return cls.from_local(_history(config_value), inst_data=inst_data)

    @classmethod
    def from_local(cls, base_dir: str, inst_data: ConfigurableClassData | None = None) -> PooledSqliteRunStorage:
        """Dagster's `from_local`, but for a run database already set up (see the module)."""
        if _stamped(Path(base_dir) / "runs.db", "runs", "instance_info"):
            return cls(create_db_conn_string(base_dir, "runs"), inst_data)
        return super().from_local(base_dir, inst_data)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()


class CheckedSqliteScheduleStorage(_OptionalBaseDir, SqliteScheduleStorage):
    """Dagster's SQLite schedule storage (sensor and schedule ticks), opened without Alembic when set up already."""

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> CheckedSqliteScheduleStorage:
        return cls.from_local(config_value.get("base_dir") or str(dagster_home() / "schedules"), inst_data=inst_data)

    @classmethod
    def from_local(  # type: ignore[override]
        cls, base_dir: str, inst_data: ConfigurableClassData | None = None
    ) -> CheckedSqliteScheduleStorage:
        """Dagster's `from_local`, but for a schedule database already set up (see the module)."""
        if _stamped(Path(base_dir) / "schedules.db", "jobs", "job_ticks"):
            return cls(create_db_conn_string(base_dir, "schedules"), inst_data)
        return super().from_local(base_dir, inst_data)  # type: ignore[return-value]
