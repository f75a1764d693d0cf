"""The format follows the law over time: real workbooks validated in different quarters.

The same files are put in folders of different quarters of one raw directory and run
through `process_period`, `kttt validate`, `kttt template` and `kttt run`: each quarter
gets the columns and rules in force then (schemas.law, docs/law.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from forms.template import HEADER_ROW
from ingest.reference import load_reference
from ingest.scale import ThresholdError
from pipeline.docs import render_data_dictionary, render_rules
from pipeline.law_doc import render_law
from report.figures import compute_figures
from schemas import vocab
from schemas.fields import sheet_columns
from schemas.in_force import first_quarter_from, last_quarter_before
from schemas.law import TEXTS
from schemas.rules import RULES
from schemas.sheets import SHEETS
from tests.builders import (
    columns,
    header,
    issues,
    log_row,
    make_raw_dir,
    run,
    submission,
    valid_htx_row,
    valid_tht_row,
)

REPO = Path(__file__).resolve().parents[1]
COMMUNE = ("99100", "Thử Luật")  # a test commune expected in every period
NEW_HTX = [c.name for c in sheet_columns(SHEETS["HTX"], every=True) if not c.standing]
EXCEL_HEADER = HEADER_ROW + 1


def _raw(tmp_path: Path) -> Path:
    raw = make_raw_dir(tmp_path)
    path = raw / "reference" / "communes.csv"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    width = len(text.splitlines()[0].split(","))
    path.write_text(text + "\n" + ",".join([*COMMUNE, "xa"] + [""] * (width - 3)) + "\n", encoding="utf-8")
    return raw


def _folder(raw: Path, period: str) -> Path:
    year, quarter = period.split("-Q")
    folder = raw / year / f"Q{quarter}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _put(raw: Path, period: str, name: str = "thu-luat.xlsx", **kwargs: object) -> str:
    """Write a workbook of the test commune into the folder of `period`; its name relative to raw."""
    year, quarter = period.split("-Q")
    end = {"1": 4, "2": 7, "3": 10, "4": 1}[quarter]
    report = date(int(year) + (quarter == "4"), end, 10)
    submission(
        _folder(raw, period) / name,
        commune=COMMUNE[1],
        period=f"Quý {quarter}/{year}",
        report_date=report,
        **kwargs,  # type: ignore[arg-type]
    )
    return f"{year}/Q{quarter}/{name}"


def _kttt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def _unrated(**cells: object) -> dict[str, object]:
    return {**valid_htx_row(coop_id="HTX-002", name="HTX Chưa xếp loại", rating=None), **cells}


# ---------------------------------------------------------------------------------------------
# Quarters and texts


def test_a_text_governs_from_the_first_quarter_beginning_on_or_after_its_day() -> None:
    assert first_quarter_from(date(2024, 7, 1)) == "2024-Q3"  # the 2023 Law: on the first day of a quarter
    assert first_quarter_from(date(2024, 11, 1)) == "2025-Q1"  # Decree 113/2024: mid-quarter
    assert first_quarter_from(date(2025, 9, 18)) == "2025-Q4"  # Circular 78/2025
    assert last_quarter_before(date(2025, 9, 18)) == "2025-Q3"  # Circular 01/2020 still governs 2025-Q3
    assert last_quarter_before(date(2024, 7, 1)) == "2024-Q2"
    assert TEXTS["circular_01_2020"].last_period == RULES["rating_required"].valid_to == "2025-Q3"
    rating = next(c for c in sheet_columns(SHEETS["HTX"]) if c.name == "rating")
    assert rating.required_to == "2025-Q3" and rating.mandatory_in("2025-Q3") and not rating.mandatory_in("2025-Q4")
    law = TEXTS["law_2023"].first_period
    assert {c.valid_from for c in sheet_columns(SHEETS["HTX"], every=True) if c.name.startswith("total_")} == {law}


# ---------------------------------------------------------------------------------------------
# The rating: required until the repeal, optional after; never for credit funds


def test_the_same_row_gets_the_rules_of_each_period(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    htx = [valid_htx_row(coop_id="HTX-001"), _unrated()]
    for period in ("2024-Q3", "2025-Q3", "2025-Q4", "2026-Q1"):
        _put(raw, period, htx=htx)

    for period, required in (("2024-Q3", True), ("2025-Q3", True), ("2025-Q4", False), ("2026-Q1", False)):
        tables = run(raw, period)
        src = f"{period[:4]}/Q{period[-1]}/thu-luat.xlsx"
        found = issues(tables, source_file=src, rule="rating_required")
        coops = tables["cooperatives"].filter(pl.col("source_file") == src)
        if required:
            assert found.height == 1, period
            line = found.row(0, named=True)
            assert (line["sheet"], line["source_row"], line["column"], line["severity"]) == (
                "HTX",
                3,
                "rating",
                "error",
            )
            assert "Xếp loại" in line["message_vi"] and "rating" in line["message_en"]
            assert coops["coop_id"].to_list() == ["HTX-001"]
            assert log_row(tables, src)["status"] == "accepted_with_errors"
        else:
            assert found.is_empty(), period
            assert tables["rejected_rows"].filter(pl.col("severity") == "error").is_empty(), period
            assert coops.sort("coop_id")["rating"].to_list() == ["fair", None]  # reported when present
            assert log_row(tables, src)["status"] == "accepted"


def test_kttt_validate_follows_the_period_of_the_folder(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    htx = [_unrated(coop_id="HTX-001")]
    old = raw / _put(raw, "2024-Q3", htx=htx)
    new = raw / _put(raw, "2025-Q4", htx=htx)
    before = _kttt("validate", str(old), "--raw", str(raw), "--format", "json", cwd=tmp_path)
    after = _kttt("validate", str(new), "--raw", str(raw), "--format", "json", cwd=tmp_path)
    assert before.returncode == 1, before.stdout + before.stderr
    # under Circular 01/2020 the unrated unit also breaks TongHop's rating counts; neither rule exists after
    assert sorted(p["rule"] for p in json.loads(before.stdout)["problems"]) == ["htx_ratings_sum", "rating_required"]
    assert after.returncode == 0, after.stdout + after.stderr
    assert json.loads(after.stdout)["problems"] == []


def test_credit_funds_need_no_rating_in_any_period(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    fund = valid_htx_row(
        coop_id="QTD-01",
        name="Quỹ tín dụng nhân dân Thử",
        sector=vocab.SECTORS.label_vi("credit_fund"),
        subsector=None,
        rating=None,
        loans_disbursed_mvnd=1500,
        loan_contracts=40,
    )
    src = _put(raw, "2024-Q3", htx=[fund, _unrated()])
    tables = run(raw, "2024-Q3")
    assert issues(tables, source_file=src, rule="rating_required")["source_row"].to_list() == [3]  # not the fund
    assert tables["cooperatives"]["coop_id"].to_list() == ["QTD-01"]
    exempt = RULES["rating_required"].exempt
    assert exempt == (("sector", ("credit_fund",)),)
    assert "circular_01_2020" in RULES["rating_required"].exempt_basis


def test_after_the_repeal_the_rating_columns_may_be_left_out(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    htx_cols = [c for c in columns("HTX") if c != "rating"]
    summary_cols = [c for c in columns("TongHop") if c not in ("htx_good", "htx_fair", "htx_average", "htx_weak")]
    cols = {"HTX": htx_cols, "TongHop": summary_cols}
    old = _put(raw, "2025-Q3", cols=cols)
    new = _put(raw, "2025-Q4", cols=cols)
    q3, q4 = run(raw, "2025-Q3"), run(raw, "2025-Q4")
    missing = issues(q3, source_file=old, rule="column_missing")
    assert set(missing["column"]) == {"rating", "htx_good", "htx_fair", "htx_average", "htx_weak"}
    assert log_row(q3, old)["status"] == "rejected"
    assert log_row(q4, new)["status"] == "accepted"
    assert q4["rejected_rows"].filter(pl.col("severity") == "error").is_empty()
    assert q4["commune_summaries"]["htx_good"].to_list() == [None]


# ---------------------------------------------------------------------------------------------
# New fields: accepted from their period, ignored with a note before


def test_a_new_field_is_taken_in_its_period_and_ignored_with_a_note_before(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    row = {**valid_htx_row(), "total_assets_mvnd": "1.250,5", "total_workers": 14}
    cols = {"HTX": [*columns("HTX"), "total_assets_mvnd", "total_workers"]}
    before = _put(raw, "2024-Q2", htx=[row], cols=cols)
    inside = _put(raw, "2024-Q3", htx=[row], cols=cols)
    q2, q3 = run(raw, "2024-Q2"), run(raw, "2024-Q3")

    notes = issues(q2, source_file=before, rule="column_not_in_force").sort("column")
    assert notes["column"].to_list() == ["total_assets_mvnd", "total_workers"]
    assert set(notes["severity"]) == {"warning"}
    assets = notes.row(0, named=True)
    assert assets["sheet"] == "HTX" and assets["source_row"] == 1
    assert (
        "Tổng tài sản" in assets["message_vi"]
        and "2024-Q2" in assets["message_vi"]
        and "2024-Q3" in assets["message_vi"]
    )
    assert json.loads(assets["raw_values"]) == {"2": "1.250,5"}  # kept as written
    coop_q2 = q2["cooperatives"].row(0, named=True)
    assert coop_q2["total_assets_mvnd"] is None and coop_q2["total_workers"] is None
    assert log_row(q2, before)["status"] == "accepted" and log_row(q2, before)["warnings"] == 2

    assert issues(q3, source_file=inside).is_empty()
    coop_q3 = q3["cooperatives"].row(0, named=True)
    assert coop_q3["total_assets_mvnd"] == pytest.approx(1250.5) and coop_q3["total_workers"] == 14


def test_group_registration_from_2024_q4(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    group = {**valid_tht_row(), "registration_no": "05/THT-2024", "registration_date": date(2024, 8, 12)}
    cols = {"THT": [*columns("THT"), "registration_no", "registration_date"]}
    _put(raw, "2024-Q3", tht=[group], cols=cols)
    _put(raw, "2024-Q4", tht=[group], cols=cols)
    q3, q4 = run(raw, "2024-Q3"), run(raw, "2024-Q4")
    assert set(issues(q3, rule="column_not_in_force")["column"]) == {"registration_no", "registration_date"}
    assert q3["coop_groups"]["registration_no"].to_list() == [None]
    assert issues(q4).is_empty()
    assert q4["coop_groups"].select("registration_no", "registration_date").row(0) == ("05/THT-2024", date(2024, 8, 12))


def test_member_types_may_not_exceed_the_members(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    ok = {**valid_htx_row(coop_id="HTX-001"), "members_individuals": 20, "members_households": 5}
    bad = {**valid_htx_row(coop_id="HTX-002"), "members_individuals": 20, "members_legal_entities": 6}
    cols = {"HTX": [*columns("HTX"), "members_individuals", "members_households", "members_legal_entities"]}
    src = _put(raw, "2024-Q3", htx=[ok, bad], cols=cols)
    tables = run(raw, "2024-Q3")
    assert issues(tables, source_file=src, severity="error")["rule"].to_list() == ["member_types_above_members"]
    assert tables["cooperatives"]["coop_id"].to_list() == ["HTX-001"]


# ---------------------------------------------------------------------------------------------
# Scale classes


def _scale_rows() -> list[dict[str, object]]:
    agri = vocab.SCALES.label_vi
    return [
        # 60 members, revenue 2.5 billion: small; reported medium → warning
        {**valid_htx_row(coop_id="HTX-001", members=60, revenue_mvnd=2500, profit_mvnd=100), "scale_reported": "Vừa"},
        # 250 members, total capital 6 billion: medium; reported medium → no warning
        {
            **valid_htx_row(coop_id="HTX-002", members=250, revenue_mvnd=900, profit_mvnd=10),
            "total_capital_mvnd": 6000,
            "scale_reported": agri("medium"),
        },
        # 25 members: micro, reported as such
        {**valid_htx_row(coop_id="HTX-003"), "scale_reported": "Siêu nhỏ"},
        # trade and services: the decree's thresholds for it are not in the defaults → not computed
        {
            **valid_htx_row(
                coop_id="HTX-004", sector=vocab.SECTORS.label_vi("trade_services"), subsector=None, members=400
            ),
            "scale_reported": "Lớn",
        },
    ]


SCALE_COLS = {"HTX": [*columns("HTX"), "total_capital_mvnd", "scale_reported"]}


def test_the_scale_class_is_computed_and_a_different_reported_class_warned(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    src = _put(raw, "2025-Q1", htx=_scale_rows(), cols=SCALE_COLS)
    tables = run(raw, "2025-Q1")
    coops = tables["cooperatives"].sort("coop_id")
    assert coops["scale_computed"].to_list() == ["small", "medium", "micro", None]
    assert coops["scale_reported"].to_list() == ["medium", "medium", "micro", "large"]
    warned = issues(tables, source_file=src, rule="scale_mismatch")
    assert warned.height == 1
    line = warned.row(0, named=True)
    assert (line["source_row"], line["column"], line["severity"]) == (2, "scale_reported", "warning")
    assert "Vừa" in line["message_vi"] and "Nhỏ" in line["message_vi"] and "Quy mô" in line["message_vi"]
    assert log_row(tables, src)["status"] == "accepted"

    figures = compute_figures(tables, "2025-Q1", load_reference(raw).targets)
    values = dict(figures.figures.select("figure_id", "value").iter_rows())
    assert values["htx.scale.small.count"] == 1 and values["htx.scale.medium.count"] == 1
    assert values["htx.scale.micro.count"] == 1 and values["htx.scale.large.count"] == 0
    assert values["htx.scale_reported.medium.count"] == 2 and values["htx.scale_reported.large.count"] == 1
    assert values["htx.scale.mismatch.count"] == 1
    behind = figures.sources.filter(pl.col("figure_id") == "htx.scale.mismatch.count")
    assert behind.select("unit_id", "source_file", "source_row").rows() == [("HTX-001", src, 2)]


def test_before_the_decree_no_class_is_computed(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    src = _put(raw, "2024-Q4", htx=_scale_rows(), cols=SCALE_COLS)
    tables = run(raw, "2024-Q4")
    assert tables["cooperatives"]["scale_computed"].null_count() == 4
    assert tables["cooperatives"]["scale_reported"].null_count() == 4  # not in the form yet
    assert issues(tables, source_file=src, rule="column_not_in_force")["column"].to_list() == ["scale_reported"]
    assert issues(tables, rule="scale_mismatch").is_empty()


def test_a_district_sets_its_own_thresholds(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    default = (REPO / "schemas" / "scale_thresholds.csv").read_text(encoding="utf-8")
    filled = default.replace(
        "trade_services transport credit_fund,large,members,,,,",
        "trade_services transport credit_fund,large,members,300,50000,10000,",
    )
    (raw / "reference" / "scale_thresholds.csv").write_text(filled, encoding="utf-8")
    _put(raw, "2025-Q1", htx=[{**_scale_rows()[3], "total_capital_mvnd": 12000}], cols=SCALE_COLS)
    tables = run(raw, "2025-Q1")
    assert tables["cooperatives"]["scale_computed"].to_list() == ["large"]
    assert issues(tables, rule="scale_mismatch").is_empty()

    (raw / "reference" / "scale_thresholds.csv").write_text(filled.replace(",300,50000", ",ba trăm,50000"), "utf-8")
    with pytest.raises(ThresholdError, match=r"scale_thresholds\.csv, dòng / line \d+: min_headcount «ba trăm»"):
        load_reference(raw)
    warehouse = tmp_path / "warehouse"
    proc = _kttt("run", "--raw", str(raw), "--warehouse", str(warehouse), "--no-report", cwd=tmp_path)
    assert proc.returncode == 2 and "min_headcount «ba trăm» không phải số / is not a number" in proc.stderr
    assert not warehouse.exists()  # stopped before anything is written


# ---------------------------------------------------------------------------------------------
# Figures of the new fields


def test_figures_of_the_new_fields_by_sector_and_commune(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    trade = {"sector": vocab.SECTORS.label_vi("trade_services"), "subsector": None}
    htx = [
        {**valid_htx_row(coop_id="HTX-001"), "total_assets_mvnd": 3000, "total_workers": 12},
        {**valid_htx_row(coop_id="HTX-002", **trade), "total_assets_mvnd": 1000, "total_workers": 8},
        {**valid_htx_row(coop_id="HTX-003")},
    ]
    src = _put(raw, "2025-Q1", htx=htx, cols={"HTX": [*columns("HTX"), "total_assets_mvnd", "total_workers"]})
    tables = run(raw, "2025-Q1")
    result = compute_figures(tables, "2025-Q1", load_reference(raw).targets)
    values = dict(result.figures.select("figure_id", "value").iter_rows())
    assert values["htx.total_assets_mvnd"] == 4000 and values["htx.total_workers"] == 20
    assert values["htx.sector.agriculture.total_assets_mvnd"] == 3000
    assert values["htx.sector.agriculture.total_assets_mvnd.pct"] == 75.0
    assert values["htx.sector.trade_services.total_assets_mvnd.pct"] == 25.0
    assert values["htx.sector.trade_services.total_workers.pct"] == 40.0
    assert values["htx.sector.construction.total_assets_mvnd"] is None  # no construction cooperative reports it
    assert values["htx.members_households"] is None
    code = COMMUNE[0]
    assert values[f"htx.commune.{code}.total_assets_mvnd"] == 4000
    assert values[f"htx.commune.{code}.total_assets_mvnd.pct"] == 100.0
    rows = result.sources.filter(pl.col("figure_id") == "htx.sector.agriculture.total_assets_mvnd")
    assert rows.select("unit_id", "source_file", "source_row").rows() == [("HTX-001", src, 2)]


# ---------------------------------------------------------------------------------------------
# The form and the docs follow the period


def test_kttt_template_writes_the_form_in_force(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    forms = {}
    for period in ("2024-Q2", "2026-Q1"):
        out = tmp_path / f"{period}.xlsx"
        proc = _kttt(
            "template", "--commune", COMMUNE[0], "--period", period, "--raw", str(raw), "--out", str(out), cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        forms[period] = openpyxl.load_workbook(out)
    headers = {
        p: {s: [c.value for c in wb[s][EXCEL_HEADER] if c.value] for s in ("HTX", "THT")} for p, wb in forms.items()
    }
    standing = [c.header_vi for c in sheet_columns(SHEETS["HTX"])]
    assert headers["2024-Q2"]["HTX"] == standing
    assert headers["2026-Q1"]["HTX"] == standing + [header("HTX", c) for c in NEW_HTX]
    assert headers["2026-Q1"]["THT"][-2:] == ["Số đăng ký THT", "Ngày đăng ký THT"]
    assert "Số đăng ký THT" not in headers["2024-Q2"]["THT"]

    def note(wb: openpyxl.Workbook, sheet: str, text: str) -> str:
        ws = wb[sheet]
        cell = next(c for c in ws[EXCEL_HEADER] if c.value == text)
        return cell.comment.text

    assert "Không bắt buộc" in note(forms["2026-Q1"], "TongHop", "HTX tốt")
    assert "Bắt buộc" in note(forms["2024-Q2"], "TongHop", "HTX tốt") and "Không" not in note(
        forms["2024-Q2"], "TongHop", "HTX tốt"
    )
    scale = next(
        dv for dv in forms["2026-Q1"]["HTX"].data_validations.dataValidation if "Siêu nhỏ" in (dv.formula1 or "")
    )
    assert scale.formula1.strip('"').split(",") == [t.label_vi for t in vocab.SCALES.terms]


def test_docs_show_rules_and_fields_by_period_and_legal_basis() -> None:
    rules, dictionary = render_rules(), render_data_dictionary()
    for doc in (rules, dictionary):
        assert "| rule or field | periods in force | legal basis |" in doc
        assert "| rule `rating_required` | → 2025-Q3; not for sector = credit_fund" in doc
        assert "| HTX `total_assets_mvnd` (Tổng tài sản) | 2024-Q3 → |" in doc
        assert "| THT `registration_no` (Số đăng ký THT) | 2024-Q4 → |" in doc
        assert "[01/2020/TT-BKHĐT](law.md#circular_01_2020)" in doc
    law = (REPO / "docs" / "law.md").read_text(encoding="utf-8")
    assert law == render_law(), "run `kttt docs`"
    for text in TEXTS.values():
        assert f'<a id="{text.key}"></a>' in law and text.number in law
    assert "No published source for this Circular was found" in law or "no published source" in law.lower()


# ---------------------------------------------------------------------------------------------
# One warehouse, two laws: the real pipeline


def test_one_warehouse_holds_quarters_read_under_different_laws(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    htx = [valid_htx_row(coop_id="HTX-001"), _unrated()]
    _put(raw, "2024-Q3", htx=htx)
    _put(raw, "2025-Q4", htx=htx)
    warehouse = tmp_path / "warehouse"
    proc = _kttt(
        "run",
        "--raw",
        str(raw),
        "--warehouse",
        str(warehouse),
        "--period",
        "2024-Q3",
        "--period",
        "2025-Q4",
        "--no-report",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    coops = pl.read_parquet(warehouse / "cooperatives" / "*.parquet")
    assert coops.group_by("period").len().sort("period").rows() == [("2024-Q3", 1), ("2025-Q4", 2)]
    assert "scale_computed" in coops.columns and "total_assets_mvnd" in coops.columns
    rejected = pl.read_parquet(warehouse / "rejected_rows" / "*.parquet")
    assert sorted(rejected.select("period", "rule").rows()) == [
        ("2024-Q3", "htx_ratings_sum"),
        ("2024-Q3", "rating_required"),
    ]
    checker = subprocess.run(
        [sys.executable, "/work/shared/tools/check_warehouse.py", str(warehouse)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checker.returncode == 0, checker.stdout + checker.stderr
