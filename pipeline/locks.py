"""One writer at a time per period of a warehouse: an exclusive lock on `<warehouse>/.locks/<period>.lock`.

`kttt run` holds a period's lock for the whole of that period's run, and every
Dagster step that writes the warehouse holds it too (through the IO manager, see
`pipeline.io_manager`), so a run from the command line and a run launched from
the UI or the sensor never write the same period at once; the local and production
instances also queue runs so that only one run per period is in progress. The
yearly step (`indicators_yearly`, `kttt.duckdb`) has its own lock, `yearly`.

The lock is `flock(2)`: the kernel releases it when its holder exits, even when the
holder is killed, so a crashed run never leaves the period locked. While holding it,
the run writes into the lock file who it is and `running`; the next holder that
reads `running` there knows the previous run was interrupted, and removes the
temporary files it left (`pipeline.storage.remove_stale`). The lock is
re-entrant within one process (the runner holds it around Dagster's in-process steps).
An object-store warehouse has no lock files: there, the run queue alone keeps runs
of a period apart.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.storage import (
    UNPARTITIONED,
    WarehouseWriteError,
    check_partition,
    is_local,
    remove_stale,
    warehouse_path,
)
from schemas.messages import say

LOCKS_DIR = ".locks"
YEARLY = "yearly"
DEFAULT_WAIT = 600.0
"""Seconds a run waits for another run of the same period before giving up."""
POLL = 0.2

_held: dict[str, int] = {}
_guard = threading.Lock()


@dataclass(frozen=True)
class Holder:
    """What the lock file says about the run that holds (or last held) the lock."""

    pid: int | None = None
    host: str = "?"
    started: str = "?"
    command: str = ""
    state: str = ""

    def describe(self) -> str:
        """`pid 123@host, since 2025-01-20T06:00:00+00:00` (the same in both languages)."""
        return f"pid {self.pid}@{self.host}, {self.started}"


@dataclass
class Held:
    """The lock once acquired: whether the previous holder was interrupted, and what was cleaned after it."""

    key: str
    previous: Holder = field(default_factory=Holder)
    removed: list[Path] = field(default_factory=list)
    reentered: bool = False

    @property
    def interrupted(self) -> bool:
        """The previous holder died while running (its lock file still says `running`)."""
        return not self.reentered and self.previous.state == "running"


class LockRefusedError(RuntimeError):
    """Another run of the period holds the lock, and waiting for it took too long."""

    def __init__(self, key: str, warehouse: object, holder: Holder, wait: float) -> None:
        self.key, self.holder = key, holder
        super().__init__(
            say("lock_refused", period=key, warehouse=warehouse, holder=holder.describe(), wait=f"{wait:g}")
        )


def lock_key(partition: str | None) -> str:
    """The lock of a period (`2024-Q3`), or `yearly` for what spans every period."""
    return YEARLY if partition is None else check_partition(partition)


def _read(fd: int) -> Holder:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        return Holder(**{k: data.get(k) for k in ("pid", "host", "started", "command", "state") if k in data})
    except (OSError, ValueError, TypeError):
        return Holder()


def _write(fd: int, state: str, command: str) -> None:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "state": state,
    }
    data = (json.dumps(record) + "\n").encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _mark(fd: int, state: str) -> None:
    data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    data["state"] = state
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(data) + "\n").encode(), 0)


@contextmanager
def period_lock(
    warehouse: str | os.PathLike[str],
    key: str,
    *,
    wait: float = DEFAULT_WAIT,
    on_wait: Callable[[Holder], None] | None = None,
    command: str = "kttt",
) -> Iterator[Held]:
    """Hold the lock `key` (a period or `yearly`) of `warehouse` for the block.

    When another process holds it, `on_wait` is told who, once, and the call waits
    up to `wait` seconds (0: not at all), then raises `LockRefusedError`. A warehouse
    that cannot be written (the lock file cannot be created) raises
    `pipeline.storage.WarehouseWriteError` before anything is run.
    """
    root = warehouse_path(warehouse)
    if key != YEARLY:
        check_partition(key)
    if not is_local(root):
        yield Held(key)
        return
    path = Path(str(root)) / LOCKS_DIR / f"{key}.lock"
    ident = str(path.absolute())
    with _guard:
        depth = _held.get(ident, 0)
        if depth:
            _held[ident] = depth + 1
    if depth:
        try:
            yield Held(key, reentered=True)
        finally:
            with _guard:
                _held[ident] -= 1
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WarehouseWriteError(warehouse, path, exc) from exc
    try:
        _acquire(fd, key, warehouse, wait, on_wait)
        previous = _read(fd)
        try:
            _write(fd, "running", command)
        except OSError as exc:
            raise WarehouseWriteError(warehouse, path, exc) from exc
        removed = remove_stale(warehouse, UNPARTITIONED if key == YEARLY else key)
        with _guard:
            _held[ident] = 1
        try:
            yield Held(key, previous, removed)
        finally:
            with _guard:
                _held.pop(ident, None)
            with suppress(OSError, ValueError):
                _mark(fd, "done")
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, key: str, warehouse: object, wait: float, on_wait: Callable[[Holder], None] | None) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _read(fd)
            if time.monotonic() >= deadline:
                raise LockRefusedError(key, warehouse, holder, wait) from None
            if not told and on_wait is not None:
                on_wait(holder)
                told = True
            time.sleep(POLL)
