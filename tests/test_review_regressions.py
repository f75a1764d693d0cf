"""Regressions found in review: each test is an input that was once misread, lost or wrongly rejected."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.submissions import row_accounting
from ingest.completeness import completeness
from ingest.reference import load_reference, load_targets
from ingest.text import parse_date
from report.figures import compute_figures
from report.indicators import quarter_changes
from report.text import Values
from schemas.periods import parse_period
from tests import builders as b


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return b.make_raw_dir(tmp_path)


def test_semicolon_csv_with_decimal_commas_is_read(raw: Path) -> None:
    rows = [b.valid_htx_row(coop_id=f"H{i}", avg_income_mvnd_month="5,2", tax_paid_mvnd="12,5") for i in range(5)]
    b.write_csv_folder(b.q3(raw) / "thach-lien.csv", htx=rows, delimiter=";")
    tables = b.run(raw)
    log = b.log_row(tables, "2024/Q3/thach-lien.csv")
    assert log["status"] == "accepted", tables["rejected_rows"]["message_en"].to_list()
    assert tables["cooperatives"]["avg_income_mvnd_month"].to_list() == [5.2] * 5


def test_rows_of_a_file_rejected_for_a_missing_column_are_all_kept(raw: Path) -> None:
    b.submission(
        b.q3(raw) / "thach-lien.xlsx",
        htx=b.htx_rows(3),
        tht=[b.valid_tht_row(group_id=f"T{i}") for i in range(4)],
        cols={"THT": [c for c in b.columns("THT") if c != "kind"]},
    )
    tables = b.run(raw)
    log = b.log_row(tables, "2024/Q3/thach-lien.xlsx")
    assert log["status"] == "rejected" and log["rows_in"] == 3 + 4 + 1
    lines = b.issues(tables, source_file="2024/Q3/thach-lien.xlsx").filter(pl.col("source_row").is_not_null())
    assert lines.select("sheet", "source_row").unique().height == log["rows_rejected"]
    assert lines.filter(pl.col("sheet") == "HTX")["column"].null_count() == 3  # the cause is in THT, not HTX
    assert lines["raw_values"].null_count() == 0
    # The commune is still known from TongHop: completeness says rejected, not missing.
    status = completeness(tables["submission_log"], load_reference(raw), "2024-Q3")
    assert status.filter(pl.col("commune_code") == b.COMMUNE_CODE)["status"].item() == "rejected"


def test_a_tht_sheet_holding_only_a_note_is_no_table(raw: Path) -> None:
    path = b.q3(raw) / "thach-lien.xlsx"
    b.submission(path, htx=b.htx_rows(2), tht=[])
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["THT"]
    ws.delete_rows(1, ws.max_row)
    ws["A1"] = "Xã không có tổ hợp tác"
    wb.save(path)
    tables = b.run(raw)
    assert b.log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "accepted"


def test_two_digit_years_and_zero_padded_quarters() -> None:
    assert parse_date("05/10/24") == date(2024, 10, 5)
    assert parse_date("05/10/2024") == date(2024, 10, 5)
    assert parse_period("Quý 03/2024") == "2024-Q3"


def test_support_for_a_cooperative_whose_own_row_has_an_error_is_kept(raw: Path) -> None:
    b.submission(b.q3(raw) / "thach-lien.xlsx", htx=[b.valid_htx_row(coop_id="HTX-001", tax_code="123")])
    b.district(b.q3(raw) / "_district.xlsx", [b.valid_support_row(coop_id="HTX-001", disbursed_mvnd=450)])
    tables = b.run(raw)
    assert tables["cooperatives"].is_empty()
    assert tables["support_disbursements"]["disbursed_mvnd"].to_list() == [450]


def test_a_second_district_file_supersedes_the_first(raw: Path) -> None:
    b.submission(b.q3(raw) / "thach-lien.xlsx", htx=b.htx_rows(1))
    old = b.district(b.q3(raw) / "_district.xlsx", [b.valid_support_row(coop_id=None, disbursed_mvnd=100)])
    new = b.district(b.q3(raw) / "_district_v2.xlsx", [b.valid_support_row(coop_id=None, disbursed_mvnd=150)])
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    tables = b.run(raw)
    assert tables["support_disbursements"]["disbursed_mvnd"].to_list() == [150]
    superseded = b.log_row(tables, "2024/Q3/_district.xlsx")
    assert superseded["status"] == "superseded" and superseded["superseded_by"] == "2024/Q3/_district_v2.xlsx"
    assert superseded["rows_in"] == superseded["rows_accepted"] + superseded["rows_rejected"] == 0
    assert superseded["rows_read"] == 1


def test_total_row_with_dashes_and_notes_in_parentheses(raw: Path) -> None:
    rows = [*b.htx_rows(2), ["Tổng cộng", "-", "-", "x", None, None, None, None, 50]]
    headers = {"HTX": {"revenue_mvnd": "Doanh thu (nếu có)", "ocop_stars": "Sản phẩm OCOP (số sao)"}}
    b.submission(b.q3(raw) / "thach-lien.xlsx", htx=rows, headers=headers)
    tables = b.run(raw)
    log = b.log_row(tables, "2024/Q3/thach-lien.xlsx")
    assert log["status"] == "accepted", tables["rejected_rows"]["message_en"].to_list()
    assert tables["cooperatives"].height == 2


def test_a_foreign_currency_still_rejects_the_sheet(raw: Path) -> None:
    b.submission(
        b.q3(raw) / "thach-lien.xlsx", htx=b.htx_rows(2), headers={"HTX": {"charter_capital_mvnd": "Vốn điều lệ (USD)"}}
    )
    tables = b.run(raw)
    assert set(b.issues(tables, sheet="HTX", severity="error")["rule"]) == {"unit_unknown"}


def test_a_quoted_field_over_two_lines_is_numbered_by_its_first_line(raw: Path) -> None:
    folder = b.write_csv_folder(b.q3(raw) / "thach-lien.csv", htx=b.htx_rows(2))
    text = (folder / "HTX.csv").read_text(encoding="utf-8").replace("HTX Dịch vụ số 1", '"HTX Dịch vụ\nsố 1"', 1)
    (folder / "HTX.csv").write_text(
        text.replace('""HTX Dịch vụ', '"HTX Dịch vụ').replace('số 1""', 'số 1"'), encoding="utf-8"
    )
    tables = b.run(raw)
    coops = tables["cooperatives"].sort("source_row")
    assert coops["source_row"].to_list() == [2, 4]


def test_a_broken_csv_rejects_its_file_and_not_the_quarter(raw: Path) -> None:
    folder = b.q3(raw) / "thach-lien.csv"
    folder.mkdir()
    (folder / "HTX.csv").write_bytes(b"\xff\xfe" + "Mã HTX,Tên".encode("utf-16-le") + b"\x00")  # odd byte count
    (folder / "TongHop.csv").write_bytes(b"\xff\xfe\x00")
    b.submission(b.q3(raw) / "tuong-son.xlsx", htx=b.htx_rows(1), commune="Tượng Sơn")
    tables = b.run(raw)
    assert b.log_row(tables, "2024/Q3/thach-lien.csv")["status"] == "rejected"
    assert b.log_row(tables, "2024/Q3/tuong-son.xlsx")["status"] == "accepted"


def test_targets_in_vietnamese_style_and_unreadable_lines(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(
        'year,indicator,target,unit\n2025,htx.new,"8,5",count\n2025,htx.x,abc,count\ntwo,htx.y,3,count\n',
        encoding="utf-8",
    )
    targets = load_targets(path)
    assert targets.select("source_row", "indicator", "target").rows() == [(2, "htx.new", 8.5)]


def _coops(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "commune_code": ["1"] * n,
        "coop_id": [f"c{i}" for i in range(n)],
        "source_file": ["f"] * n,
        "source_row": list(range(2, n + 2)),
        "status": ["active"] * n,
        "rating": ["good"] * n,
    }
    return pl.DataFrame({**base, **columns})


def test_shares_leave_out_cooperatives_that_do_not_report() -> None:
    from report.registry import figure_by_id

    coops = _coops(managers=[4, 4], managers_college=[2, None], digital_training=[True, None])
    for fid, expected in (("htx.managers_college.pct", 50.0), ("htx.digital_training.pct", 100.0)):
        fig = figure_by_id(fid)
        assert fig is not None
        assert coops.filter(fig.where).select(fig.value).item() == expected
    nobody = _coops(managers=[4], managers_college=[None], digital_training=[None])
    fig = figure_by_id("htx.managers_college.pct")
    assert nobody.filter(fig.where).is_empty() and fig.empty is None


def test_missing_figures_print_as_an_ellipsis_not_zero() -> None:
    assert Values({}).fill("{d[htx.insured.income_min]} - {n[tht.avg_revenue_mvnd]}") == "… - …"


def test_a_commune_absent_last_quarter_makes_no_cooperative_new_or_gone() -> None:
    now = _coops(commune_code=["A", "B"], coop_id=["a1", "b1"])
    before = _coops(commune_code=["A", "C"], coop_id=["a0", "c1"])
    changes = pl.concat(quarter_changes(now, before))
    new = changes.filter((pl.col("indicator") == "htx.change.new") & (pl.col("geo_level") == "district"))
    gone = changes.filter((pl.col("indicator") == "htx.change.gone") & (pl.col("geo_level") == "district"))
    assert new["value"].to_list() == [1.0] and gone["value"].to_list() == [1.0]  # only commune A compares


def test_row_accounting_check_compares_with_stored_rows() -> None:
    log = pl.DataFrame(
        {"source_file": ["f"], "status": ["accepted"], "rows_in": [3], "rows_accepted": [3], "rows_rejected": [0]}
    )
    empty = pl.DataFrame(schema={"source_file": pl.String})
    stored = pl.DataFrame({"source_file": ["f", "f"]})
    facts = {"cooperatives": stored, "coop_groups": empty, "commune_summaries": empty, "support_disbursements": empty}
    rejected = pl.DataFrame(
        schema={"source_file": pl.String, "severity": pl.String, "sheet": pl.String, "source_row": pl.Int64}
    )
    assert not row_accounting("2024-Q3", log, rejected, facts).passed
    facts["commune_summaries"] = pl.DataFrame({"source_file": ["f"]})
    assert row_accounting("2024-Q3", log, rejected, facts).passed


def test_figures_of_the_sample_are_unchanged_by_the_denominator_rules(sample_warehouse: Path) -> None:
    tables = {
        t: pl.read_parquet(sample_warehouse / t / "2024-Q3.parquet")
        for t in ("cooperatives", "coop_groups", "support_disbursements")
    }
    targets = pl.DataFrame(
        schema={
            "source_row": pl.Int64,
            "year": pl.Int32,
            "indicator": pl.String,
            "target": pl.Float64,
            "unit": pl.String,
            "label_vi": pl.String,
        }
    )
    values = dict(compute_figures(tables, "2024-Q3", targets).figures.select("figure_id", "value").iter_rows())
    assert values["htx.rating.good.pct"] == 19.70
    assert values["htx.managers_college.pct"] is not None
