"""What an operator of the Dagster UI sees: run logs, check results, metadata; through the real Dagster machinery."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id

from pipeline.jobs import ASSETS, PERIOD_SELECTION
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from tests.conftest import REPO

HOLD = """
import sys, time
from pathlib import Path
from pipeline.locks import period_lock
with period_lock(sys.argv[1], sys.argv[2], command=sys.argv[3]):
    print("held", flush=True)
    deadline = time.monotonic() + 120
    while not Path(sys.argv[4]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def _hold_lock(warehouse: Path, key: str, command: str, release: Path) -> subprocess.Popen[str]:
    """Another process holding a period's lock, as another step or run would, until `release` exists."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), key, command, str(release)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _release_once_waiting(instance: dg.DagsterInstance, run_id: str, release: Path) -> threading.Thread:
    """Release the lock two seconds after the run started setting up its resources (the lock is taken then)."""

    def watch() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event]
            if any(e.event_type_value == "RESOURCE_INIT_STARTED" for e in events):
                break
            time.sleep(0.2)
        time.sleep(2)
        release.touch()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _ingest(raw: Path, warehouse: Path, instance: dg.DagsterInstance, run_id: str) -> dg.ExecuteInProcessResult:
    job = dg.define_asset_job("ingest_only", selection=dg.AssetSelection.assets(ASSETS[0]))
    defs = dg.Definitions(assets=ASSETS, jobs=[job], resources=build_resources(str(raw), str(warehouse)))
    return defs.get_job_def("ingest_only").execute_in_process(partition_key="2024-Q3", instance=instance, run_id=run_id)


def _messages(instance: dg.DagsterInstance, run_id: str, level: int) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.level >= level and e.user_message]


@pytest.mark.parametrize("same_run", [True, False])
def test_a_step_waiting_for_its_own_run_is_not_reported_as_waiting(
    sample_raw: Path, tmp_path: Path, same_run: bool
) -> None:
    warehouse = tmp_path / "wh"
    run_id = make_new_run_id()
    holder = f"dagster run {run_id}" if same_run else "kttt run"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PERIOD_PARTITIONS, ["2024-Q3"])
        release = tmp_path / "release"
        proc = _hold_lock(warehouse, "2024-Q3", holder, release)
        watcher = _release_once_waiting(instance, run_id, release)
        try:
            assert _ingest(sample_raw, warehouse, instance, run_id).success
        finally:
            release.touch()
            proc.wait(timeout=30)
            watcher.join(timeout=30)
        warnings = [m for m in _messages(instance, run_id, logging.WARNING) if "2024-Q3" in m]
    if same_run:
        assert warnings == []
    else:
        assert len(warnings) == 1 and "kttt run" in warnings[0]
        assert "waiting for another run of this period" in warnings[0]


def _checked_run(raw: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PERIOD_PARTITIONS, ["2024-Q3"])
    selection = PERIOD_SELECTION - dg.AssetSelection.assets("report", "feedback")
    return dg.materialize(
        ASSETS,
        selection=selection,
        partition_key="2024-Q3",
        instance=instance,
        resources=build_resources(str(raw), str(warehouse)),
    )


def _log_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    found = result.asset_materializations_for_node("period_submissions")
    (log,) = [m for m in found if m.asset_key.path == ["submission_log"]]
    return {k: v.value for k, v in log.metadata.items()}


def test_a_quarter_without_an_accepted_file_fails_an_error_check_naming_it(sample_raw: Path, tmp_path: Path) -> None:
    folder = sample_raw / "2024" / "Q3"
    for path in folder.glob("*.xlsx"):
        if not path.name.startswith("_"):
            path.write_bytes(b"not a workbook")
    (folder / "~$thach-lien.xlsx").write_bytes(b"lock")  # an office lock file: skipped
    result = _checked_run(sample_raw, tmp_path / "wh")
    assert result.success  # bad data never fails the run
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    periods = {name: e.metadata["period"].value for name, e in evaluations.items()}
    assert periods == dict.fromkeys(evaluations, "2024-Q3")
    assert len(evaluations) == 7
    accepted = evaluations["files_accepted"]
    assert not accepted.passed and accepted.severity == dg.AssetCheckSeverity.ERROR
    assert accepted.metadata["commune_files"].value == 22 and accepted.metadata["accepted"].value == 0
    meta = _log_metadata(result)
    assert meta["period"] == "2024-Q3"
    assert (meta["files_accepted"], meta["files_rejected"], meta["files_superseded"]) == (1, 22, 0)  # the district's
    assert meta["files_skipped"] == 1
    assert meta["skipped"].startswith("- ") and "~$thach-lien.xlsx" in meta["skipped"]


def test_a_good_quarter_passes_its_checks_and_lists_no_empty_skipped_bullet(sample_raw: Path, tmp_path: Path) -> None:
    result = _checked_run(sample_raw, tmp_path / "wh")
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["files_accepted"].passed and evaluations["files_accepted"].metadata["accepted"].value == 22
    meta = _log_metadata(result)
    counts = (meta["files_total"], meta["files_accepted"], meta["files_rejected"], meta["files_skipped"])
    assert counts == (23, 23, 0, 0)
    assert "skipped" not in meta
    for node in ("completeness", "indicators", "figures"):
        for m in result.asset_materializations_for_node(node):
            assert m.metadata["period"].value == "2024-Q3", m.asset_key
