"""Progress of reading a quarter's files, told to whoever shows it (the command line's bar, a run's log).

Reading is the long step of a large quarter; the readers call `files_read` as files
are done, and the listeners registered around the step (`listening`) are told. With
no listener nothing happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[int, int], None]
"""Told `(files done, files in all)`."""

_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Tell `listener` how reading goes while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def files_read(done: int, total: int) -> None:
    """`done` of `total` files are read."""
    for listener in list(_listeners):
        listener(done, total)
