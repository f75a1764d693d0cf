"""pandera for polars only, in a process where pandas is installed but never used.

pandera imports pandas whenever it is installed: at its own import (for its pandas API, which kttt does not use)
and at the first validation (to ask whether the frame is a pandas one). pandas is in kttt's development group only
(for the benchmark's hand-written script and the test that reads the warehouse with it): a production install has
none, and pandera runs for polars only. With the development group, as the README's commands install it, every
process that validates paid 0.3 to 0.4 s importing pandas for nothing, at each `kttt run` and each run's worker.

:func:`pandera_without_pandas` imports pandera and runs one validation while pandas cannot be imported, so pandera
settles as it does in a production install. pandas imports as usual after it (an analyst's code in the same
process, a test). The command line and the code location call it first.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _NoPandas(importlib.abc.MetaPathFinder):
    """Answers an import of pandas as an environment without it does."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
        return None


def pandera_without_pandas() -> None:
    """Import pandera and validate once with pandas out of reach (nothing to do when pandera or pandas is already
    imported: pandera then keeps what it found)."""
    if "pandera" in sys.modules or "pandas" in sys.modules:
        return
    hidden = _NoPandas()
    sys.meta_path.insert(0, hidden)
    try:
        import pandera.polars as pa
        import polars as pl

        # The first validation looks for pandas once (and remembers that it is missing).
        pa.DataFrameSchema({"n": pa.Column(pl.Int64, pa.Check.ge(0))}).validate(pl.DataFrame({"n": [0]}))
    finally:
        sys.meta_path.remove(hidden)
