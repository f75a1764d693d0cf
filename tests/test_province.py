"""The two-tier era with real units: the Hà Tĩnh province sample (209 units in 2025-Q2, 69 in 2025-Q4),
the district sample's units across 1 January 2025, another province's quarter, and broken references."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from ingest.completeness import completeness
from ingest.reference import load_reference
from ingest.units import Units
from pipeline.runner import run_periods
from sample.province import DEFAULT_RAW as PROVINCE_RAW
from sample.province import PERIODS, province_units, write_quarter, write_unit_yaml, write_units_csv
from tests import builders
from tests.conftest import REPO, SAMPLE_RAW


@pytest.fixture(scope="session")
def province_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled province sample run once through the whole pipeline (real Dagster)."""
    base = tmp_path_factory.mktemp("province")
    shutil.copytree(PROVINCE_RAW, base / "raw")
    warehouse = base / "warehouse"
    outcomes = run_periods(base / "raw", warehouse, list(PERIODS))
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return warehouse


def _table(warehouse: Path, name: str, period: str) -> pl.DataFrame:
    return pl.read_parquet(warehouse / name / f"{period}.parquet")


def _reference_rows() -> list[dict[str, str]]:
    with (PROVINCE_RAW / "reference" / "communes.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_bundled_sample_is_what_the_package_says() -> None:
    rows = province_units("Hà Tĩnh")
    assert [tuple(r.__dict__.values()) for r in rows] == [tuple(r.values()) for r in _reference_rows()]
    assert sum(1 for r in rows if r.valid_to == "2025-Q2") == 209
    assert sum(1 for r in rows if r.valid_from == "2025-Q3") == 69


def test_code_18562_is_the_town_until_2025_q2_and_the_merged_commune_after() -> None:
    units = load_reference(PROVINCE_RAW).units
    town, commune = units.resolve("18562", "2025-Q2"), units.resolve("18562", "2025-Q4")
    assert (town.kind, town.valid_to, town.district) == ("thi_tran", "2025-Q2", "Huyện Thạch Hà")
    assert (commune.kind, commune.valid_from) == ("xa", "2025-Q3")
    assert town.name == commune.name == "Thạch Hà" and town != commune
    # the commune of 2025-Q3 is the town with Thạch Long and Thạch Sơn
    before = units.restate_map("2025-Q2", "2025-Q4")
    assert {units.unit(c, "2025-Q2").name for c, new in before.items() if new == "18562"} == {
        "Thạch Hà",
        "Thạch Long",
        "Thạch Sơn",
    }


def test_code_reuse_in_the_warehouse(province_warehouse: Path) -> None:
    table = pl.read_parquet(province_warehouse / "units" / "all.parquet").filter(pl.col("code") == "18562")
    assert table.select("kind", "valid_from", "valid_to", "current_code").rows() == [
        ("thi_tran", None, "2025-Q2", "18562"),
        ("xa", "2025-Q3", None, "18562"),
    ]
    for period, kind in (("2025-Q2", "thi_tran"), ("2025-Q4", "xa")):
        log = _table(province_warehouse, "submission_log", period).filter(pl.col("commune_code") == "18562")
        assert log["status"].to_list() == ["accepted"]
        coops = _table(province_warehouse, "cooperatives", period).filter(pl.col("commune_code") == "18562")
        assert coops.height > 0, kind


def test_the_two_ha_huy_tap_wards_are_told_apart_by_period() -> None:
    units = load_reference(PROVINCE_RAW).units
    old = units.resolve("Phường Hà Huy Tập", "2025-Q2")
    new = units.resolve("UBND phường Hà Huy Tập", "2025-Q4")
    assert (old.code, old.district, old.valid_to) == ("18085", "Thành phố Hà Tĩnh", "2025-Q2")
    assert (new.code, new.valid_from) == ("18652", "2025-Q3")
    assert units.successor_in("18085", "2025-Q2", "2025-Q4").name == "Thành Sen"  # the old ward is not the new one
    assert units.resolve("Hà Huy Tập", "2025-Q2").code == "18085"


def test_the_ha_huy_tap_files_land_on_their_own_units(province_warehouse: Path) -> None:
    for period, code in (("2025-Q2", "18085"), ("2025-Q4", "18652")):
        log = _table(province_warehouse, "submission_log", period)
        files = log.filter(pl.col("source_file").str.contains("ha-huy-tap"))
        assert files.select("commune_code", "status").rows() == [(code, "accepted")]


def test_completeness_counts_every_unit_of_its_period(province_warehouse: Path) -> None:
    for period, expected in (("2025-Q2", 209), ("2025-Q4", 69)):
        table = _table(province_warehouse, "completeness", period)
        assert table.height == expected and table["submitted"].all()
    assert _table(province_warehouse, "rejected_rows", "2025-Q2").is_empty()
    q2 = _table(province_warehouse, "submission_log", "2025-Q2")
    assert q2.filter(pl.col("file_kind") == "district")["source_file"].to_list() == ["2025/Q2/_unit.xlsx"]
    assert q2["source_file"].str.count_matches("/").max() == 3  # files of the former districts' subfolders


def test_restated_counts_are_sums_over_the_predecessors(province_warehouse: Path) -> None:
    predecessors: dict[str, list[str]] = defaultdict(list)
    for row in _reference_rows():
        if row["valid_to"] == "2025-Q2":
            predecessors[row["merged_into"]].append(row["code"])
    pick = (pl.col("indicator") == "htx.count") & pl.col("breakdown").is_null()
    original = dict(
        _table(province_warehouse, "indicators", "2025-Q2")
        .filter(pick & (pl.col("geo_level") == "commune"))
        .select("commune_code", "value")
        .iter_rows()
    )
    restated = _table(province_warehouse, "indicators_restated", "2025-Q2").filter(pick)
    assert restated.height == 69
    for code, value, sources in restated.select("commune_code", "value", "from_communes").iter_rows():
        assert sorted(sources.split(",")) == sorted(predecessors[code])
        assert value == sum(original.get(p, 0) for p in predecessors[code]), code
    assert restated["value"].sum() == sum(original.values())


def test_the_province_report_names_the_province_and_lists_every_unit(province_warehouse: Path) -> None:
    folder = province_warehouse / "report" / "2025-Q4"
    text = (folder / "bao-cao.md").read_text(encoding="utf-8")
    assert "các xã, phường tỉnh Hà Tĩnh" in text
    assert "So với quý gần nhất có số liệu (2025-Q2), tính trên 69 đơn vị" in text
    assert "phường Đại Nài" in text  # split between successors: said, not divided
    book = openpyxl.load_workbook(folder / "phu-bieu.xlsx")
    rows = list(book["PB01 HTX theo xếp loại"].iter_rows(min_row=4, values_only=True))
    assert sum(1 for r in rows if isinstance(r[0], int)) == 69
    assert book["PB01 HTX theo xếp loại"]["A1"].value.endswith("tỉnh Hà Tĩnh, 2025-Q4")
    compared = [r for r in book["PB04 So sánh các kỳ"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert len(compared) == 69
    q2 = openpyxl.load_workbook(province_warehouse / "report" / "2025-Q2" / "phu-bieu.xlsx")
    q2_rows = list(q2["PB01 HTX theo xếp loại"].iter_rows(min_row=4, values_only=True))
    assert sum(1 for r in q2_rows if isinstance(r[0], int)) == 209
    groups = [r[1] for r in q2_rows if r[0] is None and r[1] != "Tổng cộng"]
    assert len(groups) == 12 and "Huyện Thạch Hà" in groups
    assert "các xã, phường, thị trấn tỉnh Hà Tĩnh" in (
        province_warehouse / "report" / "2025-Q2" / "bao-cao.md"
    ).read_text(encoding="utf-8")


def _district_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW / "reference", raw / "reference")
    return raw


def test_a_file_of_a_unit_that_ended_before_its_period_is_rejected(tmp_path: Path) -> None:
    raw = _district_raw(tmp_path)
    folder = raw / "2025" / "Q2"
    folder.mkdir(parents=True)
    # Thạch Hải left Thạch Hà for Hà Tĩnh city on 1 January 2025 (window ends 2024-Q4); Thạch Liên stays.
    builders.submission(
        folder / "thach-hai.xlsx", commune="Xã Thạch Hải", period="Quý 2/2025", report_date=date(2025, 7, 5)
    )
    builders.submission(
        folder / "thach-lien.xlsx", commune="Thạch Liên", period="Quý 2/2025", report_date=date(2025, 7, 5)
    )
    tables = builders.run(raw, "2025-Q2")
    log = dict(tables["submission_log"].select("source_file", "status").iter_rows())
    assert log == {"2025/Q2/thach-hai.xlsx": "rejected", "2025/Q2/thach-lien.xlsx": "accepted"}
    problem = tables["rejected_rows"].filter(pl.col("rule") == "commune_outside_window").row(0, named=True)
    assert problem["severity"] == "error" and problem["column"] == "commune"
    assert "xã Thạch Hải" in problem["message_vi"] and "…–2024-Q4" in problem["message_vi"]
    assert "not expected to report in this period" in problem["message_en"]
    assert "thach-hai.xlsx" in problem["message_en"] and "sheet TongHop" in problem["message_en"]
    status = completeness(tables["submission_log"], load_reference(raw), "2025-Q2")
    assert status.height == 22 and "18571" not in status["commune_code"].to_list()  # 11 stayed + 11 of Lộc Hà


def test_another_province_runs_through_the_same_code(tmp_path: Path) -> None:
    rows = province_units("Lai Châu")
    raw = tmp_path / "raw"
    write_units_csv(raw / "reference" / "communes.csv", rows)
    write_unit_yaml(raw / "reference" / "unit.yaml", "Lai Châu", "12")
    write_quarter(raw, rows, "2025-Q3")
    expected = [r for r in rows if r.valid_from == "2025-Q3"]
    warehouse = tmp_path / "warehouse"
    outcomes = run_periods(raw, warehouse, ["2025-Q3"])
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    completeness = _table(warehouse, "completeness", "2025-Q3")
    assert completeness.height == len(expected) > 30 and completeness["submitted"].all()
    assert _table(warehouse, "rejected_rows", "2025-Q3").is_empty()
    assert "các xã, phường tỉnh Lai Châu" in (warehouse / "report" / "2025-Q3" / "bao-cao.md").read_text("utf-8")


def test_the_national_list_of_units_holds_together(tmp_path: Path) -> None:
    """Every province's units before and after the reform in one list: 10,035 commune-level units until 2025-Q2
    (island districts had none), 3,321 from 2025-Q3, each earlier unit restated on a later one."""
    from vietnamadminunits.database import query

    provinces = sorted({r["provinceShort"] for r in query("SELECT DISTINCT provinceShort FROM admin_units")})
    rows = [row for province in provinces for row in province_units(province)]
    units = Units.from_csv(write_units_csv(tmp_path / "communes.csv", rows))
    after = units.valid_in("2025-Q3")
    assert len(provinces) == 34 and len(after) == 3321 and len(units.valid_in("2025-Q2")) == 10035
    assert {u.kind for u in after} == {"xa", "phuong", "dac_khu"}
    mapping = units.restate_map("2025-Q2", "2025-Q4")
    assert None not in mapping.values() and set(mapping.values()) <= {u.code for u in after}
    assert all(units.resolve(u.code, "2025-Q3") == u for u in after)


BAD_UNITS = [
    ("unit.yaml", "level: region\nname: Hà Tĩnh\ncode: '42'\n", "level «region»", "level 'region' must be"),
    ("unit.yaml", "level: province\nname: Hà Tĩnh\ncode: '420'\n", "code «420»", "2-digit code"),
    ("unit.yaml", "level: district\nname: Thạch Hà\ncode: '436'\n", "thiếu province", "province (the district"),
    ("unit.yaml", "level: [province\n", "không đọc được YAML", "not readable YAML"),
    ("district.yaml+unit.yaml", "level: district\nname: Thạch Hà\ncode: '436'\nprovince: Hà Tĩnh\n", "có cả", "both"),
]


@pytest.mark.parametrize(("files", "text", "vi", "en"), BAD_UNITS, ids=[b[2] for b in BAD_UNITS])
def test_a_bad_reference_stops_the_run_before_anything_is_read_or_written(
    tmp_path: Path, files: str, text: str, vi: str, en: str
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    if "district.yaml" not in files:
        (raw / "reference" / "district.yaml").unlink()
    (raw / "reference" / "unit.yaml").write_text(text, encoding="utf-8")
    warehouse = tmp_path / "warehouse"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--raw", str(raw), "--warehouse", str(warehouse)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "unit.yaml" in proc.stderr and vi in proc.stderr and en in proc.stderr
    assert "Lỗi cấu hình" in proc.stderr and "Configuration error" in proc.stderr
    assert not warehouse.exists()


def test_overlapping_windows_in_the_commune_list_stop_the_run(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    with (raw / "reference" / "communes.csv").open("a", encoding="utf-8") as handle:
        handle.write("18562,Thạch Hà,xa,2025-Q2,,,,,,,,\n")  # overlaps the town's window (until 2025-Q2)
    warehouse = tmp_path / "warehouse"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--raw", str(raw), "--warehouse", str(warehouse)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "communes.csv" in proc.stderr and "overlapping windows" in proc.stderr and "18562" in proc.stderr
    assert not warehouse.exists()


def test_a_province_takes_over_its_districts_files_filed_by_district(tmp_path: Path) -> None:
    """2024 commune workbooks and support files of two districts, each in its own subfolder of the quarter."""
    raw = tmp_path / "raw"
    shutil.copytree(PROVINCE_RAW / "reference", raw / "reference")
    folder = raw / "2024" / "Q4"
    when = {"period": "Quý 4/2024", "report_date": date(2025, 1, 10)}
    builders.submission(folder / "thach-ha" / "thach-lien.xlsx", commune="Thạch Liên", **when)
    builders.submission(folder / "thanh-pho" / "ha-huy-tap.xlsx", commune="Phường Hà Huy Tập", **when)
    for sub in ("thach-ha", "thanh-pho"):
        builders.district(folder / sub / "_district.xlsx", [builders.valid_support_row(program=f"P-{sub}")])
    tables = builders.run(raw, "2024-Q4")
    log = tables["submission_log"].sort("source_file")
    assert log.select("source_file", "commune_code", "status").rows() == [
        ("2024/Q4/thach-ha/_district.xlsx", None, "accepted"),
        ("2024/Q4/thach-ha/thach-lien.xlsx", "18592", "accepted"),
        ("2024/Q4/thanh-pho/_district.xlsx", None, "accepted"),
        ("2024/Q4/thanh-pho/ha-huy-tap.xlsx", "18085", "accepted"),
    ]
    assert sorted(tables["support_disbursements"]["program"].to_list()) == ["P-thach-ha", "P-thanh-pho"]
