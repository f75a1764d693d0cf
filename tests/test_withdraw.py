"""Withdrawing a quarter stored by mistake: from the command line and through the Dagster job the UI launches."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipeline.definitions import defs
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from pipeline.runner import run_periods
from pipeline.withdrawal import refresh_after_withdrawal, withdraw_period
from report.yearly import yearly_indicators
from tests.conftest import REPO


def _files(warehouse: Path) -> dict[str, bytes]:
    return {p.relative_to(warehouse).as_posix(): p.read_bytes() for p in warehouse.rglob("*") if p.is_file()}


def test_kttt_withdraw_removes_the_quarter_records_it_and_refreshes_the_yearly_assets(
    sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    warehouse = tmp_path / "wh"
    assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q2", "2024-Q3"]))
    before = _files(warehouse)
    assert any("2024-Q3" in path for path in before)
    shutil.rmtree(sample_raw / "2024" / "Q3")  # the folder sent by mistake is gone; what was stored stays

    argv = [sys.executable, "-m", "pipeline.cli", "withdraw", "--period", "2024-Q3"]
    argv += ["--raw", str(sample_raw), "--warehouse", str(warehouse)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "2024-Q3 withdrawn from the warehouse" in proc.stdout

    after = _files(warehouse)
    assert [p for p in after if ("2024-Q3" in p or ".withdrawn" in p) and not p.startswith(".locks/")] == []
    assert not list(warehouse.glob(".withdrawn*"))
    for path, data in before.items():  # the other quarter's files are untouched
        if "2024-Q2" in path:
            assert after[path] == data, path
    log = pl.read_csv(warehouse / "withdrawals.csv")
    assert log["period"].to_list() == ["2024-Q3"] and log["files_removed"].item() > 10

    yearly = pl.read_parquet(warehouse / "indicators_yearly" / "all.parquet")
    q2 = pl.read_parquet(warehouse / "indicators" / "2024-Q2.parquet")
    assert yearly["period"].unique().to_list() == ["2024-Q2"]
    assert yearly.equals(yearly_indicators(q2))
    con = duckdb.connect(str(warehouse / "kttt.duckdb"), read_only=True)
    con.execute(f"SET file_search_path = '{warehouse}'")
    assert con.sql("SELECT DISTINCT period FROM cooperatives").fetchall() == [("2024-Q2",)]
    con.close()

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.get_dynamic_partitions(PERIOD_PARTITIONS) == ["2024-Q2"]
        (withdrawal,) = instance.get_runs(dg.RunsFilter(job_name="withdraw_period"))
        assert withdrawal.status == dg.DagsterRunStatus.SUCCESS
        latest = instance.get_latest_materialization_event(dg.AssetKey("indicators_yearly"))
        assert latest is not None and latest.timestamp > withdrawal_end(instance, withdrawal.run_id)
    finally:
        instance.dispose()

    # Nothing left of it: a second withdrawal says so and changes nothing.
    again = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    assert again.returncode == 2 and "holds nothing of 2024-Q3" in again.stderr
    assert _files(warehouse) == after


def withdrawal_end(instance: dg.DagsterInstance, run_id: str) -> float:
    record = instance.get_run_record_by_id(run_id)
    assert record is not None and record.end_time is not None
    return record.end_time


def test_the_ui_job_withdraws_and_its_success_requests_the_yearly_refresh(sample_raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    with dg.instance_for_test() as instance:
        assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q3"], instance=instance, report=False))
        resources = build_resources(str(sample_raw), str(warehouse))
        job = dg.Definitions(jobs=[withdraw_period], resources=resources).resolve_job_def("withdraw_period")
        config = {"ops": {"withdraw_quarter": {"config": {"period": "2024-Q3"}}}}
        result = job.execute_in_process(run_config=config, instance=instance)
        assert result.success
        assert not list(warehouse.glob("*/2024-Q3.parquet")) and not (warehouse / "feedback" / "2024-Q3").exists()
        assert instance.get_dynamic_partitions(PERIOD_PARTITIONS) == []

        run = instance.get_run_by_id(result.run_id)
        success = next(
            e
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_SUCCESS"
        )
        context = dg.build_run_status_sensor_context(
            sensor_name=refresh_after_withdrawal.name,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=success.dagster_event,
            repository_def=defs.get_repository_def(),
        )
        request = refresh_after_withdrawal(context)
        assert isinstance(request, dg.RunRequest)
        assert refresh_after_withdrawal.job_name == "refresh_yearly"
        assert refresh_after_withdrawal.default_status == dg.DefaultSensorStatus.RUNNING
