"""How `kttt run` shows the reading of a quarter's files: a bar on a terminal, plain lines in a log.

A terminal gets one line redrawn in place (`[#####-----] 512/1000`); anything else (a
file, a pipe, a scheduler's log) gets a line at each tenth of the files, so a log of
a quarter of a thousand communes holds about ten lines of progress.
"""

from __future__ import annotations

from typing import TextIO

from schemas.messages import say

BAR_WIDTH = 30
STEPS = 10


class FileProgress:
    """A listener of `ingest.progress` writing to `stream`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._step = -1

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if self.tty:
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done == total else ""
            self.stream.write(f"\r  [{bar}] {say('files_read', done=done, total=total)}{end}")
            self.stream.flush()
            return
        step = STEPS * done // total
        if done == 0:
            self._step = 0
            return
        if step > self._step or done == total:
            self._step = step
            self.stream.write(f"  {say('files_read', done=done, total=total)}\n")
            self.stream.flush()
