"""Shared fixtures: the bundled sample district, copied, and a warehouse built from it once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RAW = REPO / "raw"
SAMPLE_PERIODS = ["2024-Q2", "2024-Q3"]


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private Dagster instance for the tests' runs (`kttt run` records in one), never the checkout's own."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = before


@pytest.fixture(autouse=True)
def no_leftover_dagster_instance() -> Iterator[None]:
    """Each test starts without the Dagster instance an earlier test entered (Dagster keeps the last entered
    instance's state storage in a context variable, which outlives a disposed test instance)."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture
def sample_raw(tmp_path: Path) -> Path:
    """A private copy of the bundled raw directory."""
    dest = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, dest)
    return dest


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample district run once through the whole pipeline (real Dagster, ephemeral instance)."""
    from pipeline.runner import run_periods

    base = tmp_path_factory.mktemp("sample")
    raw = base / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    warehouse = base / "warehouse"
    outcomes = run_periods(raw, warehouse, SAMPLE_PERIODS)
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return warehouse


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """``<tmp>/raw`` with a copy of the repo's ``reference/communes.csv`` and an empty ``2024/Q3`` folder."""
    from tests.builders import make_raw_dir

    return make_raw_dir(tmp_path)
