"""The pace of Python's cyclic collector while a quarter is read and processed.

Python collects its youngest objects every 700 containers made, and every so often walks every object that is
neither frozen nor young. Reading and processing a quarter makes millions of short-lived containers (cut rows,
the states the readers send back, the rows of the accounting), and keeps hundreds of thousands of them to the end
of the quarter: a collection every 700 made them walk those again and again, about 0.3 s of a national quarter's
0.5 s of collection in the calling process and 3 % of a reader's CPU. Only objects in reference cycles wait for a
collection; every other object is freed as soon as it is dropped, so a slower pace holds little more memory.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_OBJECTS = 20_000
"""The collector looks at the young objects once this many are made (Python's default is 700)."""


def collect_less() -> None:
    """Collect at the pace of :data:`YOUNG_OBJECTS` from now on (a reader process, for its life)."""
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


@contextmanager
def collecting_less() -> Iterator[None]:
    """Collect at the pace of :data:`YOUNG_OBJECTS` in the block, then at the pace of before (the calling process
    while it processes a quarter; a slower pace the caller has set is kept)."""
    before = gc.get_threshold()
    if before[0] < YOUNG_OBJECTS:
        collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*before)
