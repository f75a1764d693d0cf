"""Read a quarter's submission files on every core, each reader isolated in its own process.

Reading a workbook is partly Python work, so threads do not help; a pool of processes
does. Workers are started with `spawn` (never `fork`: polars' thread pool does not survive
a fork) and each imports the reading modules only (not pandera, Dagster or the report, nor
the caller's main module: see `_plain_main`), which still costs about a third of a second, so
small quarters are read in the calling process.

Safety is paid by isolation rather than by pre-scans: a watchdog in the calling process
stops a reader whose resident memory goes over `READER_MEMORY_MIB`, and every reader when
none has finished a batch for `BATCH_SECONDS` plus `FILE_SECONDS` per file; `RLIMIT_AS` is
a backstop (polars and calamine reserve gigabytes of address space they never use, so the
address space cannot be the measure). So the zip guard of `ingest.workbook` need not inflate every part of every file
before calamine does, nor look at every cell of a plain sheet for a far one: a part that lies
about its size, a cell that makes calamine reserve a grid of billions of cells, or any other
file that makes a reader blow up, kills one reader. Its batch is then read again, split in
halves, until the file at fault is alone: that file is rejected with what the scan of its
worksheets' cells, run on it in the calling process, finds (`file_too_large` and the far
cell), or else `file_too_large` and `STOPPED`; the others are read as usual. In the calling
process, without that isolation, the guard inflates every part and scans every cell first.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from ingest.collection import collect_less
from ingest.discover import SubmissionFile
from ingest.models import SheetModels, sheet_models
from ingest.progress import files_read
from ingest.submission import FileState, read_batch
from ingest.workbook import STOPPED_READER, SubmissionReadError, open_workbook

log = logging.getLogger(__name__)

BATCH_FILES = 200
"""At most this many files are cut in one columnar pass: the cut costs about as much per file from 200 files up,
and a reader holds a batch's sheets, as calamine made them, until it has cut them (about 25 MiB per 200 files)."""
READER_MEMORY_MIB = 1536
"""Resident memory a reader process may use (it uses about 240 MiB with batches of 200 files); the watchdog stops
one that uses more."""
ADDRESS_SPACE_MIB = 8192
"""Address space a reader may reserve beyond its imports (`RLIMIT_AS`; polars and calamine reserve far more than
they use, so this is only a backstop)."""
BATCH_SECONDS = 60.0
FILE_SECONDS = 1.0
"""When no batch has finished for `BATCH_SECONDS` plus this per file of a batch, the watchdog stops the readers
(a file takes milliseconds to read)."""
WATCH_SECONDS = 0.1
"""How often the watchdog looks at the readers' memory."""
STOPPED = (
    "tiến trình đọc tệp bị dừng vì vượt giới hạn bộ nhớ hoặc thời gian"
    " / the process reading the file was stopped: it went over its memory or time limit"
)
MIN_FILES_PER_WORKER = 150
"""Below this many files per extra process, starting the process costs more than it saves."""


def _cgroup_cpus(path: Path = Path("/sys/fs/cgroup/cpu.max")) -> float | None:
    """The CPU quota of this container (cgroup v2 ``cpu.max``: "quota period"), or None when unlimited."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return int(quota) / int(period)


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a container's CPU quota (a Kubernetes pod sees
    every core of its node, but may use only its limit)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_cpus()
    return max(1, min(cores, int(quota))) if quota else cores


def worker_count(files: int, requested: int | None = None) -> int:
    """How many processes read ``files`` files.

    ``requested`` (the `read_workers` of the `source` resource) is taken as given, up to
    one process per file; otherwise one per core, but no more than one per
    :data:`MIN_FILES_PER_WORKER` files, so a district's quarter is read in the calling process.
    """
    if requested and requested > 0:
        return max(1, min(requested, files))
    return max(1, min(available_cores(), files // MIN_FILES_PER_WORKER))


def _isolate(models: SheetModels) -> None:
    """Initializer of a reader process: take the sheet models, leave the non-worksheet parts to calamine, cap
    the address space (a backstop: the watchdog of `_run_round` watches the memory really used), freeze the
    objects of its imports (`gc.freeze`: they live as long as the process, and the cyclic collector would walk
    them again at each full collection) and let the collector wait for `ingest.collection.YOUNG_OBJECTS`."""
    import gc
    import resource

    from ingest import models as known
    from ingest import workbook

    known.install(models)
    workbook.ISOLATED = True
    try:
        held = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = held + ADDRESS_SPACE_MIB * 2**20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):  # not Linux
        log.warning("reader processes run without an address-space limit here")
    gc.freeze()
    collect_less()


@contextmanager
def _plain_main() -> Iterator[None]:
    """Start reader processes without the caller's main module.

    A process started with `spawn` imports the parent's `__main__` first: for `kttt run` that is its command
    line, with Dagster, pandera and every asset (about 1.8 s of CPU and 150 MiB per reader; the same for
    Dagster's run worker), for functions that live in `ingest` anyway. While processes are started, `__main__`
    is an empty module, so a reader imports the reading modules only.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def reader_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` reader processes, started (with `spawn`, under :func:`_plain_main`) and isolated (see
    `_isolate`)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_isolate, initargs=(sheet_models(),))
    with _plain_main():
        started = [pool.submit(os.getpid) for _ in range(workers)]
    for future in started:
        future.result()
    return pool


def _resident_mib(pid: int) -> float:
    """Resident memory of a process (0 when it cannot be read: not Linux, or gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _stopped(files: list[SubmissionFile], password: str | None) -> list[FileState]:
    """The files that stopped a reader, rejected: with what the zip guard's scan of every cell tag of every
    worksheet (which a reader leaves out, `STOPPED_READER`) finds wrong with each, run in this process in bounded
    memory (a far cell, named); else with `STOPPED`."""
    out = []
    for f in files:
        state = FileState(f)
        try:
            if f.path.is_file():
                open_workbook(f.path, password, STOPPED_READER)
        except SubmissionReadError as exc:
            state.reject(exc.rule, detail=exc.detail)
        else:
            state.reject("file_too_large", detail=STOPPED)
        out.append(state)
    return out


def read_files(
    files: list[SubmissionFile],
    workers: int | None = None,
    password: str | None = None,
    on_file: Callable[[SubmissionFile], None] | None = None,
) -> list[FileState]:
    """:func:`ingest.submission.read_batch` on every file, in order, across ``worker_count`` isolated processes;
    `password` opens encrypted workbooks.

    `on_file` is called in this process as files are read (per batch when the files are read elsewhere); the
    listeners of `ingest.progress` are told the count as well.
    """
    on_file = _counting(len(files), on_file)
    n = worker_count(len(files), workers)
    if n <= 1:
        return [s for batch in _batches(files, 1) for s in read_batch(batch, on_file, password)]
    try:
        pool = reader_pool(n)
    except (BrokenProcessPool, OSError) as exc:  # no process can start here (limits, no interpreter)
        log.warning("reading %d files in one process: the process pool failed (%s)", len(files), exc)
        return [s for batch in _batches(files, 1) for s in read_batch(batch, on_file, password)]
    done: dict[int, list[FileState]] = {}
    queue = _numbered(_batches(files, n))
    first: ProcessPoolExecutor | None = pool
    while queue:
        failed = _run_round(first or reader_pool(n), queue, done, on_file, password)
        first, queue, singles = None, [], []
        for start, batch in failed:
            if len(batch) > 1:
                half = len(batch) // 2
                queue += [(start, batch[:half]), (start + half, batch[half:])]
            elif len(failed) == 1:  # alone in its round, it still stopped its reader: the file is at fault
                done[start] = _stopped(batch, password)
            else:
                singles.append((start, batch))
        for start, batch in singles:  # failed beside others: read alone to tell which one is at fault
            if _run_round(reader_pool(1), [(start, batch)], done, on_file, password):
                done[start] = _stopped(batch, password)
    return [s for start in sorted(done) for s in done[start]]


def _read_elsewhere(files: list[SubmissionFile], password: str | None) -> list[FileState]:
    """:func:`read_batch` in a reader process, its states sent back without their `SubmissionFile`: the calling
    process has them already (`_run_round` puts them back), and a file's paths and time of receipt took half the
    time of unpickling a batch (0.075 against 0.041 ms per file)."""
    states = read_batch(files, None, password)
    for state in states:
        state.file = None  # type: ignore[assignment]  # in transit only: `_with_files` puts it back
    return states


def _with_files(states: list[FileState], files: list[SubmissionFile]) -> list[FileState]:
    """The states a reader sent back (`_read_elsewhere`), each with its file again (they come in order)."""
    for state, f in zip(states, files, strict=True):
        state.file = f
    return states


def _counting(total: int, on_file: Callable[[SubmissionFile], None] | None) -> Callable[[SubmissionFile], None]:
    """`on_file`, also telling `ingest.progress` how many of the `total` files are read so far."""
    done = 0
    files_read(0, total)

    def told(f: SubmissionFile) -> None:
        nonlocal done
        done += 1
        files_read(done, total)
        if on_file is not None:
            on_file(f)

    return told


def _numbered(batches: list[list[SubmissionFile]]) -> list[tuple[int, list[SubmissionFile]]]:
    out, start = [], 0
    for batch in batches:
        out.append((start, batch))
        start += len(batch)
    return out


def _run_round(
    pool: ProcessPoolExecutor,
    queue: list[tuple[int, list[SubmissionFile]]],
    done: dict[int, list[FileState]],
    on_file: Callable[[SubmissionFile], None] | None,
    password: str | None,
) -> list[tuple[int, list[SubmissionFile]]]:
    """Read the queued batches on `pool`, then shut it down; the batches whose reader died or overran."""
    futures: dict[Future, tuple[int, list[SubmissionFile]]] = {}
    with _plain_main():  # `reader_pool` started every process; this covers one the pool would start on submit
        for start, batch in queue:
            futures[pool.submit(_read_elsewhere, batch, password)] = (start, batch)
    # The watchdog: a reader over its memory is stopped; when no batch has finished for this long, all are.
    stall = BATCH_SECONDS + FILE_SECONDS * max(len(b) for _, b in queue)
    pending = set(futures)
    broken = False
    progress = time.monotonic()
    while pending and not broken:
        finished, pending = wait(pending, timeout=WATCH_SECONDS, return_when=FIRST_EXCEPTION)
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.pid is not None and _resident_mib(process.pid) > READER_MEMORY_MIB:
                log.warning("a reader process went over %d MiB: stopped", READER_MEMORY_MIB)
                process.kill()
        if finished:
            progress = time.monotonic()
        elif time.monotonic() - progress > stall:
            break
        for future in finished:
            if (error := future.exception()) is not None:
                log.warning("a reader process stopped (%s: %s)", type(error).__name__, error)
                broken = True
                continue
            start, batch = futures[future]
            done[start] = _with_files(future.result(), batch)
            if on_file is not None:
                for f in batch:
                    on_file(f)
    failed = [futures[f] for f in futures if futures[f][0] not in done]
    if failed:
        for process in list((getattr(pool, "_processes", None) or {}).values()):  # stop what still runs
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
    return sorted(failed, key=lambda item: item[0])


def _batches(files: list[SubmissionFile], workers: int) -> list[list[SubmissionFile]]:
    """Batches of files for the columnar cut: as large as `BATCH_FILES` (the cut's cost per file halves from 40
    files to 200, and moves little above), and, for reader processes, as many for each (two at least) and of one
    size, so that the readers finish together: 1,000 files in five batches of 200 left one reader idle while the
    other read the last (about 0.3 s); in six of 167 each reads three."""
    if workers <= 1:
        size = BATCH_FILES
    else:
        each = max(2, -(-len(files) // (workers * BATCH_FILES)))
        size = max(1, -(-len(files) // (workers * each)))
    return [files[i : i + size] for i in range(0, len(files), size)]
