"""Read a quarter's submission files on every core.

Reading a workbook is mostly Python work (cutting rows, checking headers), so threads
do not help; a pool of processes does. Workers are started with ``spawn`` (never
``fork``: polars' thread pool does not survive a fork) and each imports the readers
once, which costs about a second, so small quarters are read in the calling process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ingest.discover import SubmissionFile
from ingest.progress import files_read
from ingest.submission import FileState, read_file

log = logging.getLogger(__name__)

WORKERS_ENV = "KTTT_READ_WORKERS"
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

    ``requested`` (or ``KTTT_READ_WORKERS``) is taken as given, up to one process per
    file; otherwise one per core, but no more than one per :data:`MIN_FILES_PER_WORKER`
    files, so a district's quarter is read in the calling process.
    """
    if requested is None and os.environ.get(WORKERS_ENV, "").strip():
        requested = int(os.environ[WORKERS_ENV])
    if requested and requested > 0:
        return max(1, min(requested, files))
    return max(1, min(available_cores(), files // MIN_FILES_PER_WORKER))


def read_files(files: list[SubmissionFile], workers: int | None = None) -> list[FileState]:
    """:func:`ingest.submission.read_file` on every file, in order, across ``worker_count`` processes."""
    n = worker_count(len(files), workers)
    if n <= 1:
        return _counted((read_file(f) for f in files), len(files))
    chunk = max(1, len(files) // (n * 8))
    pool: ProcessPoolExecutor | None = None
    try:
        pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
        pool.submit(os.getpid).result()
    except (BrokenProcessPool, OSError) as exc:  # no process can start here (limits, no interpreter)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        log.warning("reading %d files in one process: the process pool failed (%s)", len(files), exc)
        return _counted((read_file(f) for f in files), len(files))
    with pool:
        # A reader that dies later is not retried here: the same file would take this process down with it.
        return _counted(pool.map(read_file, files, chunksize=chunk), len(files))


def _counted(states: Iterable[FileState], total: int) -> list[FileState]:
    """The states in a list, telling `ingest.progress` as each one arrives."""
    out: list[FileState] = []
    files_read(0, total)
    for state in states:
        out.append(state)
        files_read(len(out), total)
    return out
