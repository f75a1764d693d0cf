"""What the `follow_refreshes` sensor does after a quarter changed, evaluated by Dagster's own automation engine
over real runs recorded in an instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.submissions import PERIOD_TABLES, period_submissions
from pipeline.automation import follow_refreshes
from pipeline.definitions import defs
from pipeline.jobs import ASSETS, PERIOD_SELECTION, YEARLY_SELECTION
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from pipeline.runner import run_periods

YEARLY = {k.to_user_string() for k in YEARLY_SELECTION.resolve(defs.get_repository_def().asset_graph)}
"""What spans every quarter: yearly indicators, the cooperative registry, the DuckDB views."""


def _defs(raw: Path, warehouse: Path) -> dg.Definitions:
    return dg.Definitions(assets=ASSETS, resources=build_resources(str(raw), str(warehouse)))


def _requested(result: object) -> dict[str, list[str | None]]:
    """Asset → partitions requested by one evaluation."""
    out: dict[str, list[str | None]] = {}
    for key in defs.get_repository_def().asset_graph.get_all_asset_keys():
        parts = result.get_requested_partitions(key)  # type: ignore[attr-defined]
        if parts:
            out[key.to_user_string()] = sorted(parts, key=str)
    return out


def _run(definitions: dg.Definitions, instance: dg.DagsterInstance, requested: dict[str, list[str | None]]) -> None:
    """Run what the sensor requested, as the daemon would: the quarter's assets, then what spans every quarter."""
    by_partition: dict[str | None, list[str]] = {}
    for name, parts in requested.items():
        for part in parts:
            by_partition.setdefault(part, []).append(name)
    for part, names in sorted(by_partition.items(), key=lambda kv: kv[0] is None):
        result = dg.materialize(
            ASSETS,
            partition_key=part,
            instance=instance,
            resources=definitions.resources,
            selection=dg.AssetSelection.assets(*names),
        )
        assert result.success


def _materialized_after(instance: dg.DagsterInstance, name: str, storage_id: int, partition: str | None) -> bool:
    parts = None if partition is None else [partition]
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(name), asset_partitions=parts), limit=1
    ).records
    return bool(found) and found[0].storage_id > storage_id


def test_the_sensor_is_on_and_watches_every_asset() -> None:
    assert follow_refreshes.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.get_repository_def().asset_graph
    watched = follow_refreshes.asset_selection.resolve(graph)
    assert {k.to_user_string() for k in watched} >= {"report", "indicators", "completeness", *YEARLY}
    assert follow_refreshes.name in {s.name for s in defs.get_repository_def().sensor_defs}


def test_one_table_materialized_from_the_ui_refreshes_the_whole_quarter_then_the_yearly_assets(
    sample_raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh"
    definitions = _defs(sample_raw, warehouse)
    with dg.instance_for_test() as instance:
        assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q3"], instance=instance))
        first = dg.evaluate_automation_conditions(defs=definitions, instance=instance)
        assert first.total_requested == 0  # everything is up to date after `kttt run`

        # The UI's "Materialize" on `cooperatives`: the ingestion multi-asset cannot be split, so all six tables.
        ui = dg.materialize(
            [period_submissions],
            partition_key="2024-Q3",
            instance=instance,
            resources=definitions.resources,
        )
        assert ui.success
        mark = max(r.storage_id for r in instance.fetch_materializations(dg.AssetKey("cooperatives"), limit=1).records)
        cursor = first.cursor
        for _ in range(6):
            result = dg.evaluate_automation_conditions(defs=definitions, instance=instance, cursor=cursor)
            cursor = result.cursor
            requested = _requested(result)
            if not requested:
                break
            assert "cooperatives" not in requested  # never the input itself
            _run(definitions, instance, requested)
        else:
            raise AssertionError("the sensor keeps requesting runs")
        graph = definitions.get_repository_def().asset_graph
        following = dg.AssetSelection.assets(period_submissions).downstream().resolve(graph)
        stale = [
            key.to_user_string()
            for key in following
            if key.to_user_string() not in PERIOD_TABLES  # what the UI materialized
            and not _materialized_after(
                instance,
                key.to_user_string(),
                mark,
                None if key.to_user_string() in YEARLY else "2024-Q3",
            )
        ]
        assert stale == []


def test_yearly_assets_follow_a_quarter_run_even_when_another_quarter_was_never_stored(
    sample_raw: Path, tmp_path: Path
) -> None:
    """The sensor's or the UI's `refresh_period` run of one quarter, another quarter registered but not run."""
    warehouse = tmp_path / "wh"
    definitions = _defs(sample_raw, warehouse)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PERIOD_PARTITIONS, ["2024-Q2", "2024-Q3"])
        first = dg.evaluate_automation_conditions(defs=definitions, instance=instance)
        job = dg.define_asset_job("refresh", selection=PERIOD_SELECTION)
        run = dg.Definitions(assets=ASSETS, jobs=[job], resources=definitions.resources).resolve_job_def("refresh")
        assert run.execute_in_process(partition_key="2024-Q3", instance=instance).success
        result = dg.evaluate_automation_conditions(defs=definitions, instance=instance, cursor=first.cursor)
        assert _requested(result) == {key: [None] for key in YEARLY}
        assert {"indicators_yearly", "analyst_database", "registry"} <= YEARLY
