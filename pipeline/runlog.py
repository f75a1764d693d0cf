"""Where `kttt run` writes the details of a run (Dagster's own log lines, tracebacks): a file, not the terminal.

The terminal gets kttt's own messages (progress, the summary, a failure said in
Vietnamese and English); everything Dagster prints while the run goes on (its
warnings, a failed step's stack traces) goes to `<DAGSTER_HOME>/logs/kttt-run.log`,
replaced by every run, or to the temporary folder when that one cannot be written
(on a full disk, nowhere: the run's bilingual message is then all there is).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pipeline.instance import dagster_home

LOG_NAME = "kttt-run.log"


def _open_log() -> tuple[TextIO, Path | None]:
    for folder in (dagster_home() / "logs", Path(tempfile.gettempdir())):
        path = folder / LOG_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return path.open("w", encoding="utf-8", buffering=1), path
        except OSError:
            continue
    return Path(os.devnull).open("w", encoding="utf-8"), None


@contextlib.contextmanager
def details_to_log() -> Iterator[tuple[TextIO, Path | None]]:
    """Send what is written to stderr inside the block to the run's log file.

    Yields the terminal's own stderr (for kttt's messages) and the log's path (None when
    no log could be written).
    """
    terminal = sys.stderr
    stream, path = _open_log()
    try:
        with contextlib.redirect_stderr(stream):
            yield terminal, path
    finally:
        with contextlib.suppress(OSError):
            stream.close()
