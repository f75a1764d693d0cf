"""The pipeline through the real Dagster machinery, on the bundled sample district."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.registry import TABLES as REGISTRY_TABLES
from assets.submissions import PERIOD_TABLES
from pipeline.definitions import ASSETS, defs
from pipeline.jobs import PERIOD_SELECTION
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from pipeline.runner import run_periods
from schemas.warehouse import TABLES, polars_schema
from tests.conftest import REPO, SAMPLE_PERIODS

ALL_TABLES = [*PERIOD_TABLES, "completeness", "indicators", "indicators_restated", "report_figures", "figure_sources"]


def _materialize(raw: Path, warehouse: Path, period: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    resources = build_resources(str(raw), str(warehouse))
    return dg.materialize(
        ASSETS, selection=PERIOD_SELECTION, partition_key=period, instance=instance, resources=resources
    )


def _instance(periods: list[str]) -> dg.DagsterInstance:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PERIOD_PARTITIONS, periods)
    return instance


def test_every_asset_has_description_group_and_kinds() -> None:
    graph = defs.get_repository_def().asset_graph
    keys = {k.to_user_string(): k for k in graph.get_all_asset_keys()}
    assert set(keys) == {
        *ALL_TABLES,
        *REGISTRY_TABLES,
        "reviews",
        "report",
        "feedback",
        "indicators_yearly",
        "analyst_database",
        "units",
    }
    for name, key in keys.items():
        node = graph.get(key)
        assert node.description and len(node.description) > 20, name
        assert node.group_name in {"submissions", "report", "analysts", "communes", "registry"}, name
        assert node.kinds, name
        if name in TABLES:
            assert {"polars", "parquet"} <= set(node.kinds), name
            assert "dagster/column_schema" in node.metadata, name


def test_sample_builds_every_table_with_only_the_planted_faults(sample_warehouse: Path) -> None:
    """2024-Q3 is clean; 2024-Q2 has four faulty rows in four communes and one late commune (the sample's
    practice material, see tests/test_sample_generator.py)."""
    for table in ALL_TABLES:
        files = sorted((sample_warehouse / table).glob("*.parquet"))
        assert [f.stem for f in files] == SAMPLE_PERIODS, table
        df = pl.scan_parquet(str(sample_warehouse / table / "**" / "*.parquet")).collect()
        assert df.schema == pl.Schema(polars_schema(TABLES[table])), table
        assert set(df["period"].unique()) <= set(SAMPLE_PERIODS)
    rejected = pl.read_parquet(sample_warehouse / "rejected_rows" / "*.parquet")
    assert rejected.filter(pl.col("period") == "2024-Q3").is_empty(), rejected["message_en"].to_list()[:5]
    assert rejected.filter(pl.col("period") == "2024-Q2").height == 4
    comp = pl.read_parquet(sample_warehouse / "completeness" / "*.parquet")
    for period in SAMPLE_PERIODS:
        c = comp.filter(pl.col("period") == period)
        assert c.height == 22 and c["submitted"].all()
        assert (~c["on_time"]).sum() == (1 if period == "2024-Q2" else 0)
    log = pl.read_parquet(sample_warehouse / "submission_log" / "*.parquet")
    assert set(log.filter(pl.col("period") == "2024-Q3")["status"]) == {"accepted"}
    assert log.filter(pl.col("status") != "accepted")["status"].to_list() == ["accepted_with_errors"] * 4
    assert (log["rows_in"] == log["rows_accepted"] + log["rows_rejected"]).all()
    coops = pl.read_parquet(sample_warehouse / "cooperatives" / "2024-Q3.parquet")
    assert coops.height == 135
    assert coops["source_row"].min() > 1 and coops["source_sha256"].str.len_chars().unique().to_list() == [64]


def test_tables_read_back_with_duckdb_and_pandas(sample_warehouse: Path) -> None:
    glob = str(sample_warehouse / "cooperatives" / "**" / "*.parquet")
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}') WHERE period = '2024-Q3'").fetchall()
    assert n == [(135,)]
    import pandas as pd

    pdf = pd.read_parquet(sample_warehouse / "coop_groups")
    assert len(pdf[pdf["period"] == "2024-Q3"]) == 140


def test_asset_checks_pass_on_the_sample(sample_raw: Path, tmp_path: Path) -> None:
    result = _materialize(sample_raw, tmp_path / "wh", "2024-Q3", _instance(["2024-Q3"]))
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {
        "row_accounting",
        "files_accepted",
        "no_rejected_rows",
        "no_rejected_files",
        "all_communes_reported",
        "figures_traced",
        "rating_pct_sum_100",
    }
    assert all(e.passed for e in evaluations.values())
    meta = result.asset_materializations_for_node("period_submissions")
    counts = {m.asset_key.to_user_string(): m.metadata["dagster/row_count"].value for m in meta}
    assert counts["cooperatives"] == 135 and counts["coop_groups"] == 140


def test_failed_checks_report_bad_data_without_failing_the_run(sample_raw: Path, tmp_path: Path) -> None:
    (sample_raw / "2024" / "Q3" / "thach-lien.xlsx").write_bytes(b"not a workbook at all")
    result = _materialize(sample_raw, tmp_path / "wh", "2024-Q3", _instance(["2024-Q3"]))
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["row_accounting"].passed
    assert not evaluations["no_rejected_files"].passed
    assert evaluations["no_rejected_files"].severity == dg.AssetCheckSeverity.WARN
    assert not evaluations["all_communes_reported"].passed
    comp = pl.read_parquet(tmp_path / "wh" / "completeness" / "2024-Q3.parquet")
    assert comp.filter(pl.col("commune_name") == "Thạch Liên")["status"].item() == "missing"


def test_downstream_asset_reads_partitions_back_through_the_io_manager(sample_raw: Path, tmp_path: Path) -> None:
    @dg.asset(partitions_def=ASSETS[0].partitions_def)
    def capital_by_sector(cooperatives: pl.DataFrame) -> pl.DataFrame:
        return cooperatives.group_by("sector").agg(pl.col("charter_capital_mvnd").sum())

    instance = _instance(["2024-Q3"])
    resources = build_resources(str(sample_raw), str(tmp_path / "wh"))
    selection = PERIOD_SELECTION | dg.AssetSelection.assets(capital_by_sector)
    assert dg.materialize(
        [*ASSETS, capital_by_sector],
        selection=selection,
        partition_key="2024-Q3",
        instance=instance,
        resources=resources,
    ).success
    out = pl.read_parquet(tmp_path / "wh" / "capital_by_sector" / "2024-Q3.parquet")
    assert out.filter(pl.col("sector") == "agriculture")["charter_capital_mvnd"].item() == 136941


def test_rerun_replaces_the_period_without_duplicates(sample_raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q3"]))
    first = {t: (warehouse / t / "2024-Q3.parquet").read_bytes() for t in ALL_TABLES}
    assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q3"]))
    for table in ALL_TABLES:
        files = sorted(p.name for p in (warehouse / table).iterdir())
        assert files == ["2024-Q3.parquet"], files  # no temporary or duplicate file left
        assert (warehouse / table / "2024-Q3.parquet").read_bytes() == first[table], table


def test_cli_run_exits_zero_and_prints_a_summary(sample_raw: Path, tmp_path: Path) -> None:
    (sample_raw / "2024" / "Q3" / "nam-dien.xlsx").write_bytes(b"\x00garbage")
    env = {**os.environ, "KTTT_WAREHOUSE_DIR": str(tmp_path / "wh")}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--raw", str(sample_raw), "--period", "2024-Q3"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "21/22 xã đã nộp" in proc.stdout and "21/22 communes submitted" in proc.stdout
    assert "nam-dien.xlsx" in proc.stdout and "rejected" in proc.stdout
    assert (tmp_path / "wh" / "cooperatives" / "2024-Q3.parquet").exists()


def test_cli_validate_prints_problems_and_writes_nothing(sample_raw: Path, tmp_path: Path) -> None:
    bad = tmp_path / "thach-lien.xlsx"
    shutil.copy(sample_raw / "2024" / "Q3" / "thach-lien.xlsx", bad)
    good = sample_raw / "2024" / "Q3" / "tuong-son.xlsx"
    ok = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", str(good), "--raw", str(sample_raw)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "accepted" in ok.stdout
    import openpyxl

    wb = openpyxl.load_workbook(bad)
    ws = wb["HTX"]
    header_row = next(r for r in range(1, 15) if ws.cell(r, 1).value == "Mã HTX" or ws.cell(r, 2).value == "Mã HTX")
    ws.cell(header_row + 1, [c.value for c in ws[header_row]].index("Vốn điều lệ") + 1).value = "-5"
    wb.save(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", str(bad), "--raw", str(sample_raw), "--period", "2024-Q3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert f"dòng {header_row + 1}" in proc.stdout and f"row {header_row + 1}" in proc.stdout
    assert "Vốn điều lệ" in proc.stdout and "min" in proc.stdout
    assert not (tmp_path / "warehouse").exists()


@pytest.mark.parametrize("doc", ["data-dictionary.md", "rules.md", "figures.md"])
def test_generated_docs_are_up_to_date(doc: str) -> None:
    from pipeline.docs import DOCS

    text = DOCS[doc]()
    assert (REPO / "docs" / doc).read_text(encoding="utf-8") == text, "run `kttt docs`"


def test_warehouse_on_an_object_store(sample_raw: Path) -> None:
    """An fsspec file system instead of a folder (memory:// here; s3:// in production)."""
    from upath import UPath

    from pipeline.storage import read_table

    base = "memory://kttt-test/warehouse"
    assert all(o.success for o in run_periods(sample_raw, base, ["2024-Q3"]))
    coops = read_table(base, "cooperatives", ["2024-Q3"])
    assert coops.height == 135
    assert read_table(base, "report_figures").filter(pl.col("figure_id") == "htx.total")["value"].item() == 135
    report = UPath(base) / "report" / "2024-Q3"
    assert (report / "bao-cao.docx").read_bytes().startswith(b"PK")
    assert sorted(p.name for p in (UPath(base) / "cooperatives").iterdir()) == ["2024-Q3.parquet"]


def test_every_warehouse_table_is_an_analyst_view(sample_warehouse: Path) -> None:
    """The analysts' DuckDB database has a view of every table of the warehouse registry, and is refreshed when any
    of them is."""
    from pipeline.analyst_db import UNIONS

    graph = defs.get_repository_def().asset_graph
    deps = {k.to_user_string() for k in graph.get(dg.AssetKey("analyst_database")).parent_keys}
    assert deps == set(TABLES)
    con = duckdb.connect(str(sample_warehouse / "kttt.duckdb"), read_only=True)
    try:
        views = {name for (name,) in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    finally:
        con.close()
    assert views == set(TABLES) | set(UNIONS)


def test_settings_are_resource_fields_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbook password, the reader count and the directories are fields of the resources: set from the
    environment as `EnvVar`s (the UI shows the variable's name, not the value), read only when a run or a command
    resolves them, with the defaults when unset."""
    from ingest.workbook import PASSWORD_ENV
    from pipeline.resources import RAW_ENV, WAREHOUSE_ENV, WORKERS_ENV, resolved_resources

    for name in (PASSWORD_ENV, RAW_ENV, WAREHOUSE_ENV, WORKERS_ENV):
        monkeypatch.delenv(name, raising=False)
    source, warehouse = resolved_resources()
    assert (source.raw_dir, warehouse.path, source.workbook_password, source.read_workers) == (
        "raw",
        "warehouse",
        None,
        None,
    )
    monkeypatch.setenv(PASSWORD_ENV, "thu-nghiem")
    monkeypatch.setenv(WORKERS_ENV, "3")
    monkeypatch.setenv(RAW_ENV, "/srv/kttt/raw")
    shown = build_resources()["source"]
    assert isinstance(shown.workbook_password, dg.EnvVar) and shown.workbook_password == PASSWORD_ENV
    source, _ = resolved_resources()
    assert (source.raw_dir, source.workbook_password, source.read_workers) == ("/srv/kttt/raw", "thu-nghiem", 3)
    source, _ = resolved_resources("/elsewhere")
    assert source.raw_dir == "/elsewhere"
