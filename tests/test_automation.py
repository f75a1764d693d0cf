"""The quarterly schedule and the raw-folder sensor, evaluated through Dagster's test contexts."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipeline.automation import TIMEZONE, quarterly_refresh, raw_files_sensor
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import SubmissionSource, WarehouseDir
from pipeline.runner import run_periods
from schemas.periods import quarter_closed_before

HCM = ZoneInfo(TIMEZONE)


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (date(2024, 10, 20), "2024-Q3"),
        (date(2025, 1, 20), "2024-Q4"),
        (date(2024, 7, 1), "2024-Q2"),
        (date(2024, 3, 31), "2023-Q4"),
    ],
)
def test_quarter_closed_before(day: date, period: str) -> None:
    assert quarter_closed_before(day) == period


def test_schedule_runs_the_quarter_just_closed(sample_raw: Path) -> None:
    with dg.instance_for_test() as instance:
        _check_schedule(instance, sample_raw)


def _check_schedule(instance: dg.DagsterInstance, sample_raw: Path) -> None:
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2024, 10, 20, 6, 0, tzinfo=HCM),
        resources={"source": SubmissionSource(raw_dir=str(sample_raw))},
    )
    request = quarterly_refresh(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2024-Q3"
    assert "2024-Q3" in instance.get_dynamic_partitions(PERIOD_PARTITIONS)
    assert quarterly_refresh.execution_timezone == TIMEZONE
    assert quarterly_refresh.job_name == "refresh_period"


def test_schedule_skips_a_quarter_without_folder(sample_raw: Path) -> None:
    context = dg.build_schedule_context(
        instance=dg.DagsterInstance.ephemeral(),
        scheduled_execution_time=datetime(2025, 1, 20, 6, 0, tzinfo=HCM),
        resources={"source": SubmissionSource(raw_dir=str(sample_raw))},
    )
    assert isinstance(quarterly_refresh(context), dg.SkipReason)


def _tick(
    instance: dg.DagsterInstance, raw: Path, cursor: str | None, warehouse: Path | None = None
) -> dg.SensorResult:
    resources = {
        "source": SubmissionSource(raw_dir=str(raw)),
        "warehouse": WarehouseDir(path=str(warehouse or raw.parent / "empty-warehouse")),
    }
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    return raw_files_sensor(context)


def test_sensor_requests_runs_only_when_content_changes(sample_raw: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first = _tick(instance, sample_raw, None)
    assert sorted(r.partition_key for r in first.run_requests) == ["2024-Q2", "2024-Q3"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["2024-Q2", "2024-Q3"]
    instance.add_dynamic_partitions(PERIOD_PARTITIONS, ["2024-Q2", "2024-Q3"])

    assert _tick(instance, sample_raw, first.cursor).run_requests == []

    # The same file dropped again (new modification time, same bytes): nothing to do.
    target = sample_raw / "2024" / "Q3" / "thach-lien.xlsx"
    data = target.read_bytes()
    target.write_bytes(data)
    os.utime(target, (1_000_000_000, 1_000_000_000))
    again = _tick(instance, sample_raw, first.cursor)
    assert again.run_requests == []

    # A changed file, even one carrying an old modification time: one run for its quarter.
    shutil.copy(sample_raw / "2024" / "Q2" / "thach-lien.xlsx", target)
    os.utime(target, (1_000_000_000, 1_000_000_000))
    changed = _tick(instance, sample_raw, again.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2024-Q3"]
    assert changed.dynamic_partitions_requests == []

    # A new quarter folder: registered and requested.
    (sample_raw / "2024" / "Q4").mkdir()
    shutil.copy(sample_raw / "2024" / "Q3" / "nam-dien.xlsx", sample_raw / "2024" / "Q4" / "nam-dien.xlsx")
    new = _tick(instance, sample_raw, changed.cursor)
    assert [r.partition_key for r in new.run_requests] == ["2024-Q4"]
    assert new.dynamic_partitions_requests[0].partition_keys == ["2024-Q4"]

    # Back to the earlier content (A → B → A): refreshed again.
    shutil.copy(sample_raw / "2024" / "Q4" / "nam-dien.xlsx", sample_raw / "2024" / "Q3" / "nam-dien.xlsx")
    shutil.rmtree(sample_raw / "2024" / "Q4")
    target.write_bytes(data)
    back = _tick(instance, sample_raw, new.cursor)
    assert [r.partition_key for r in back.run_requests] == ["2024-Q3"]

    # A change to the reference (targets.csv) refreshes every quarter.
    targets = sample_raw / "reference" / "targets.csv"
    targets.write_text(targets.read_text(encoding="utf-8") + "2026,htx.new,9,count,\n", encoding="utf-8")
    ref = _tick(instance, sample_raw, back.cursor)
    assert sorted(r.partition_key for r in ref.run_requests) == ["2024-Q2", "2024-Q3"]


def test_sensor_starts_from_what_the_warehouse_holds(sample_raw: Path, tmp_path: Path) -> None:
    """After `kttt run`, the UI's sensor does not run the stored quarters again; it runs what changed since."""
    warehouse = tmp_path / "wh"
    with dg.instance_for_test() as instance:
        assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q2", "2024-Q3"], instance=instance))
        first = _tick(instance, sample_raw, None, warehouse)
        assert first.run_requests == []

        # A commune sends a corrected file: only its quarter runs.
        target = sample_raw / "2024" / "Q3" / "thach-lien.xlsx"
        shutil.copy(sample_raw / "2024" / "Q2" / "thach-lien.xlsx", target)
        assert [r.partition_key for r in _tick(instance, sample_raw, first.cursor, warehouse).run_requests] == [
            "2024-Q3"
        ]
        # A fresh sensor (no cursor) sees the same difference between the folder and the warehouse.
        assert [r.partition_key for r in _tick(instance, sample_raw, None, warehouse).run_requests] == ["2024-Q3"]

        # A reference file changed after the quarters were stored: both run again.
        shutil.copy(sample_raw / "2024" / "Q3" / "thach-hai.xlsx", target)
        targets = sample_raw / "reference" / "targets.csv"
        targets.write_text(targets.read_text(encoding="utf-8") + "2026,htx.new,9,count,\n", encoding="utf-8")
        later = (warehouse / "submission_log" / "2024-Q3.parquet").stat().st_mtime + 5
        os.utime(targets, (later, later))
        assert sorted(r.partition_key for r in _tick(instance, sample_raw, None, warehouse).run_requests) == [
            "2024-Q2",
            "2024-Q3",
        ]


def test_a_new_quarter_folder_is_registered_even_when_nothing_runs(sample_raw: Path, tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        assert _tick(instance, sample_raw, None).dynamic_partitions_requests[0].partition_keys == [
            "2024-Q2",
            "2024-Q3",
        ]


def test_kttt_run_is_recorded_in_the_local_instance_by_default(
    sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without DAGSTER_HOME, `kttt run` records in the checkout's `.dagster_home` (here a copy of it)."""
    import pipeline.instance

    home = tmp_path / "home"
    shutil.copytree(pipeline.instance.LOCAL_HOME, home, ignore=shutil.ignore_patterns("*.db", "history", "storage"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(pipeline.instance, "LOCAL_HOME", home)
    assert all(o.success for o in run_periods(sample_raw, tmp_path / "wh", ["2024-Q3"], report=False))
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.get_dynamic_partitions(PERIOD_PARTITIONS) == ["2024-Q3"]
        runs = instance.get_runs()
        assert len(runs) == 2 and {r.tags.get("kttt/source") for r in runs} == {"cli"}
        for asset in ("cooperatives", "indicators_yearly", "analyst_database"):
            assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None, asset
    finally:
        instance.dispose()
