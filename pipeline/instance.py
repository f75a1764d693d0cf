"""The Dagster instance that records `kttt run`: the same one `kttt ui` shows.

One place decides it, so the command line and the UI agree: `$DAGSTER_HOME` when set,
else the repository's `.dagster_home` (SQLite run history and event logs beside its
`dagster.yaml`). Runs of the command line then appear in the UI's run list, and their
materializations (the yearly indicators and the DuckDB views among them) in the catalog.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
LOCAL_HOME = REPO / ".dagster_home"
"""The local instance of this checkout (its `dagster.yaml` is committed)."""


def dagster_home() -> Path:
    """`$DAGSTER_HOME`, else the repository's `.dagster_home`."""
    return Path(os.environ.get("DAGSTER_HOME") or LOCAL_HOME)


def instance_for_run() -> dg.DagsterInstance:
    """The persistent instance `kttt run` records its runs in (see the module's docstring).

    When it cannot be written (a full disk, a read-only checkout), the run goes on in an
    ephemeral instance, unrecorded, rather than failing before reading a file.
    """
    home = dagster_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        instance = dg.DagsterInstance.from_config(str(home))
        instance.run_storage.set_cursor_values({"kttt/last_cli_run": datetime.now(UTC).isoformat()})
    except Exception as exc:
        log.warning("kttt run is not recorded in %s: %s", home, str(exc).splitlines()[0] if str(exc) else exc)
        return dg.DagsterInstance.ephemeral()
    return instance
