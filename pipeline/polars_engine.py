"""Polars' in-memory engine for the lazy queries of kttt and pandera, unless the environment chooses another.

polars 2 runs a lazy query (`LazyFrame.collect()`, `pl.collect_all`) on its streaming engine unless told otherwise:
an engine for data larger than memory, whose start costs about 0.4 ms of CPU per query against 0.1 ms for the
in-memory engine (a frame's eager methods use the in-memory engine already). kttt's frames hold at most a country's
quarter (about a hundred thousand rows), and pandera validates a table with one to four lazy queries per column:
about 150 for `Cooperatives`, which took 0.09 to 0.15 s of CPU per validation of a one-commune quarter's 14 rows
(about as long as of a country's 33,000) and takes 0.05 s in memory; the four tables of a quarter, about 0.1 s
less in all, in every run.

:func:`in_memory_queries` sets polars' default engine through the variable polars reads (`POLARS_ENGINE_AFFINITY`),
so the processes kttt starts (its readers, a run's worker) inherit it. A value set in the environment is kept: an
operator may choose the streaming or the GPU engine. The command line and the code location call it first.
"""

from __future__ import annotations

import os

VARIABLE = "POLARS_ENGINE_AFFINITY"
ENGINE = "in-memory"


def in_memory_queries() -> None:
    """Make :data:`ENGINE` polars' default engine in this process and those it starts, unless :data:`VARIABLE` is
    set already."""
    if os.environ.get(VARIABLE):
        return
    import polars as pl

    pl.Config.set_engine_affinity(ENGINE)
