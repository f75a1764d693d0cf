"""Imports that last as long as the process, made with Python's cyclic garbage collector paused.

Importing Dagster, pandera, polars and the asset definitions makes a few hundred thousand objects
(classes, functions, Dagster's definitions and config schemas) that live as long as the command.
The collector runs while they are made, and each full collection after walks every one of them
again: in `kttt run` on one commune that was about 0.6 s of CPU, a tenth of the run, and about
1 s at 3,321 communes, for objects that are never garbage.

Imported inside :func:`lasting_imports`, they are made with the collector paused, then frozen
(`gc.freeze`: moved to a generation no collection visits). What the run makes afterwards is
collected as usual, so memory held by cycles is freed as before. The command line wraps its
imports in it, and so does the code location (`pipeline.definitions`, which the webserver, the
daemon and each run's worker load); a reader process freezes what it imported before its first
batch (`ingest.parallel`).

A command ends with :func:`leaving`: the interpreter's last collections at exit then skip what the command made
(0.2 to 0.3 s after `kttt run` on a national quarter, to free memory the exit returns anyway).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def lasting_imports() -> Iterator[None]:
    """Pause the collector for the block (its imports), then freeze what exists and restore the collector."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def leaving() -> None:
    """Freeze every object before the process exits, so that the interpreter's last collections skip them.

    Only for a process about to exit (the `kttt` command's entry): frozen garbage is never collected.
    """
    gc.freeze()
