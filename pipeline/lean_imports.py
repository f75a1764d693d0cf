"""pandera for polars only, in a process where pandas and hypothesis are installed but never used.

pandera imports pandas and hypothesis whenever they are installed: pandas at its own import (for its pandas API,
which kttt does not use) and at the first validation (to ask whether the frame is a pandas one), hypothesis for
its data-synthesis strategies. Both are in kttt's development group only (the benchmark's hand-written script,
the property tests and the test that reads the warehouse with pandas): a production install has neither, and
pandera runs for polars only. With the development group, as the README's commands install it, every process that
validates paid 0.3 to 0.4 s importing them for nothing, at each `kttt run` and in each run's worker.

:func:`pandera_for_polars_only` imports pandera and runs one validation while they cannot be imported, so pandera
settles as it does in a production install. Only pandera is imported in that moment: the libraries it loads
that look for pandas as they load (polars among them) are imported before, and find it. pandas and hypothesis
import as usual after it (an analyst's code in the same process, a test). The command line and the code location
call it first.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

UNUSED = ("pandas", "hypothesis")
"""Libraries pandera imports when they are installed, which kttt's pipeline never uses."""


class _Unused(importlib.abc.MetaPathFinder):
    """Answers an import of an :data:`UNUSED` library as an environment without it does."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in UNUSED:
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
        return None


def pandera_for_polars_only() -> None:
    """Import pandera and validate once with the :data:`UNUSED` libraries out of reach (nothing to do when pandera
    or one of them is imported already: pandera then keeps what it found)."""
    if any(name in sys.modules for name in ("pandera", *UNUSED)):
        return
    # Libraries pandera loads that ask at their own import whether pandas is installed (polars remembers the
    # answer for `pl.from_pandas`), imported first, outside: they must find it.
    import polars as pl
    import pyarrow  # noqa: F401
    import pydantic  # noqa: F401

    unused = _Unused()
    sys.meta_path.insert(0, unused)
    try:
        import pandera.polars as pa

        # The first validation looks for pandas once (and remembers that it is missing).
        pa.DataFrameSchema({"n": pa.Column(pl.Int64, pa.Check.ge(0))}).validate(pl.DataFrame({"n": [0]}))
    finally:
        sys.meta_path.remove(unused)
