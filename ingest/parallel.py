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
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.discover import SubmissionFile
    from ingest.period import FileState

log = logging.getLogger(__name__)

WORKERS_ENV = "KTTT_READ_WORKERS"
MIN_FILES_PER_WORKER = 150
"""Below this many files per extra process, starting the process costs more than it saves."""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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
    """:func:`ingest.period.read_file` on every file, in order, across ``worker_count`` processes."""
    from ingest.period import read_file

    n = worker_count(len(files), workers)
    if n <= 1:
        return [read_file(f) for f in files]
    chunk = max(1, len(files) // (n * 8))
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
            return list(pool.map(read_file, files, chunksize=chunk))
    except (BrokenProcessPool, OSError) as exc:  # no processes here (limits, a frozen main module): read in-process
        log.warning("reading %d files in one process: the process pool failed (%s)", len(files), exc)
        return [read_file(f) for f in files]
