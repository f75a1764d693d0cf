"""Tools for the communes: the fill-in template, the marked workbook of `kttt validate`, the feedback workbooks."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from forms.template import HEADER_ROW, write_template
from ingest.discover import period_files
from ingest.period import process_period
from ingest.reference import load_reference
from schemas.fields import sheet_columns
from schemas.sheets import SHEETS
from schemas.vocab import RATINGS, SECTORS, STATUSES, SUBSECTORS
from tests import builders as b
from tests.conftest import REPO

EXCEL_HEADER = HEADER_ROW + 1  # 1-based row of the header


def _kttt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def _column(ws: openpyxl.worksheet.worksheet.Worksheet, name: str, sheet: str) -> int:
    header = next(c.header_vi for c in sheet_columns(SHEETS[sheet]) if c.name == name)
    return [c.value for c in ws[EXCEL_HEADER]].index(header) + 1


def _fill(path: Path, coops: int = 3, *, capital: object = 100, sector: str | None = None) -> None:
    """Fill a template as a clerk would: cooperatives, no groups, the TongHop totals."""
    wb = openpyxl.load_workbook(path)
    ws = wb["HTX"]
    values = {
        "coop_id": None,
        "name": None,
        "sector": sector or SECTORS.label_vi("agriculture"),
        "subsector": SUBSECTORS.label_vi("crops"),
        "founded_year": 2010,
        "status": STATUSES.label_vi("active"),
        "rating": RATINGS.label_vi("good"),
        "members": 9,
        "charter_capital_mvnd": capital,
    }
    for i in range(coops):
        for name, value in values.items():
            v = {"coop_id": f"HTX-{i + 1:02d}", "name": f"HTX số {i + 1}"}.get(name, value)
            ws.cell(row=EXCEL_HEADER + 1 + i, column=_column(ws, name, "HTX"), value=v)
    summary = wb["TongHop"]
    totals = {
        "report_date": datetime(2024, 10, 8),
        "htx_total": coops,
        "htx_new": 0,
        "htx_good": coops,
        "htx_fair": 0,
        "htx_average": 0,
        "htx_weak": 0,
        "htx_suspended": 0,
        "tht_total": 0,
        "tht_new": 0,
        "tht_good": 0,
        "tht_fair": 0,
        "tht_average": 0,
        "tht_weak": 0,
    }
    for name, value in totals.items():
        cell = summary.cell(row=EXCEL_HEADER + 1, column=_column(summary, name, "TongHop"), value=value)
        if name == "report_date":
            cell.number_format = "dd/mm/yyyy"
    wb.save(path)


@pytest.mark.parametrize("period", ["2024-Q3", "2026-Q1"])
def test_template_has_the_lists_and_checks_the_schemas_define(tmp_path: Path, period: str) -> None:
    """Every column of the period's form gets the check of its kind (the 2026 form has a heading longer than the
    32 characters Excel allows an error box's title)."""
    path = write_template(tmp_path / "t.xlsx", commune_name="Thạch Liên", period=period)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["HTX", "THT", "TongHop", "KiemTra"]
    for sheet in ("HTX", "THT", "TongHop"):
        ws = wb[sheet]
        columns = sheet_columns(SHEETS[sheet], period)
        assert [c.value for c in ws[EXCEL_HEADER]][: len(columns)] == [c.header_vi for c in columns]
        assert ws.freeze_panes == f"C{EXCEL_HEADER + 1}"
        rules = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
        for i, col in enumerate(columns):
            letter = openpyxl.utils.get_column_letter(i + 1)
            dv = rules.get(f"{letter}{EXCEL_HEADER + 1}")
            if col.kind == "category":
                from schemas.vocab import BY_NAME

                assert dv is not None and dv.type == "list", col.name
                assert dv.formula1.strip('"').split(",") == [t.label_vi for t in BY_NAME[col.vocab].terms]
            elif col.kind == "int":
                assert dv is not None and dv.type == "whole", col.name
            elif col.kind in ("money", "number"):
                assert dv is not None and dv.type == "decimal", col.name
                assert len(dv.errorTitle) <= 32 and dv.errorTitle.rstrip("…") in col.header_vi, col.name
            elif col.kind == "text":
                assert dv is None, col.name
    years = next(dv for dv in wb["HTX"].data_validations.dataValidation if dv.formula1 == "1955")
    assert years.formula2 == period[:4]
    assert wb["HTX"].cell(EXCEL_HEADER, 1).comment is not None  # a note under each header


def test_a_filled_template_passes_validate_and_the_pipeline_without_warning(tmp_path: Path) -> None:
    raw = b.make_raw_dir(tmp_path)
    path = write_template(b.q3(raw) / "thach-lien.xlsx", commune_name="Thạch Liên", period="2024-Q3")
    _fill(path)
    proc = _kttt("validate", str(path), "--raw", str(raw), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["problems"] == []
    assert report["files"][0]["status"] == "accepted" and report["files"][0]["rows_accepted"] == 4
    files, _ = period_files(raw, "2024-Q3")
    tables = process_period(files, load_reference(raw), "2024-Q3").tables
    assert tables["cooperatives"].height == 3 and tables["rejected_rows"].is_empty()


@pytest.mark.parametrize(
    ("fill", "rule", "column"),
    [
        ({"capital": -5}, "min_value", "charter_capital_mvnd"),
        ({"capital": "nhiều"}, "type_number", "charter_capital_mvnd"),
        ({"sector": "Trồng lúa"}, "domain", "sector"),
    ],
)
def test_validate_xlsx_marks_the_faulty_cells(tmp_path: Path, fill: dict, rule: str, column: str) -> None:
    raw = b.make_raw_dir(tmp_path)
    path = write_template(tmp_path / "thach-lien.xlsx", commune_name="Thạch Liên", period="2024-Q3")
    _fill(path, coops=2, **fill)
    proc = _kttt(
        "validate",
        str(path),
        "--raw",
        str(raw),
        "--period",
        "2024-Q3",
        "--format",
        "xlsx",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    marked = openpyxl.load_workbook(tmp_path / "out" / "thach-lien.kiem-tra.xlsx")
    ws = marked["HTX"]
    col = _column(ws, column, "HTX")
    for row in (EXCEL_HEADER + 1, EXCEL_HEADER + 2):
        cell = ws.cell(row=row, column=col)
        assert cell.fill.fgColor.rgb.endswith("FFC7CE"), (row, col)
        assert cell.comment is not None and "dòng" in cell.comment.text and "row" in cell.comment.text
    untouched = ws.cell(row=EXCEL_HEADER + 1, column=_column(ws, "members", "HTX"))
    assert untouched.comment is None
    problems = marked["Danh sách lỗi"]
    rules = [r[6] for r in problems.iter_rows(min_row=2, values_only=True)]
    assert rules.count(rule) == 2


def test_feedback_workbooks_after_a_run_with_planted_errors(sample_raw: Path, tmp_path: Path) -> None:
    from pipeline.runner import run_periods

    path = sample_raw / "2024" / "Q3" / "tuong-son.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["HTX"]
    header = next(r for r in range(1, 10) if any(c.value == "Vốn điều lệ" for c in ws[r]))
    ws.cell(header + 1, [c.value for c in ws[header]].index("Vốn điều lệ") + 1).value = "=1+1"
    wb.save(path)
    (sample_raw / "2024" / "Q3" / "nam-dien.xlsx").write_bytes(b"broken")
    warehouse = tmp_path / "wh"
    assert all(o.success for o in run_periods(sample_raw, warehouse, ["2024-Q3"]))
    folder = warehouse / "feedback" / "2024-Q3"
    names = sorted(p.name for p in folder.glob("*.xlsx"))
    assert names == ["18628-tuong-son.xlsx", "nam-dien.xlsx"]
    sheet = openpyxl.load_workbook(folder / "18628-tuong-son.xlsx")["Danh sách lỗi"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows and rows[0][1] == "Lỗi" and "Tượng Sơn" in sheet["A1"].value
    assert all(isinstance(v, str) or v is None or isinstance(v, int) for r in rows for v in r)
    log = pl.read_parquet(warehouse / "submission_log" / "2024-Q3.parquet")
    assert log.filter(pl.col("source_file").str.ends_with("nam-dien.xlsx"))["status"].item() == "rejected"


def test_template_command_prefills_last_quarter(sample_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "tl.xlsx"
    proc = _kttt(
        "template",
        "--commune",
        "18592",
        "--period",
        "2024-Q4",
        "--prefill",
        "--out",
        str(out),
        "--raw",
        str(REPO / "raw"),
        "--warehouse",
        str(sample_warehouse),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    coops = pl.read_parquet(sample_warehouse / "cooperatives" / "2024-Q3.parquet").filter(
        pl.col("commune_code") == "18592"
    )
    ws = openpyxl.load_workbook(out)["HTX"]
    ids = [ws.cell(r, 1).value for r in range(EXCEL_HEADER + 1, EXCEL_HEADER + 1 + coops.height)]
    assert ids == coops.sort("source_row")["coop_id"].to_list()
    sector = ws.cell(EXCEL_HEADER + 1, _column(ws, "sector", "HTX")).value
    assert sector in [t.label_vi for t in SECTORS.terms]
