"""What a commune clerk reads: messages that name allowed values and missing cells, the cause before its
consequences, headings on one line, Vietnamese numbers; the marked copy of `kttt validate --format xlsx` (where it
goes, when it is written, never ingested, no live formula, headings the clerk sees)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from ingest.discover import period_files
from pipeline.cli import main
from schemas.vocab import SECTORS, YES_NO
from tests import builders as b


def _messages(tables: dict[str, pl.DataFrame], **where: object) -> list[str]:
    return b.issues(tables, **where)["message_vi"].to_list()


def test_a_value_outside_the_list_names_the_allowed_labels(raw_dir: Path) -> None:
    rows = [b.valid_htx_row(coop_id="A1", sector="Nông nghiệp X"), b.valid_htx_row(coop_id="A2", drones="có")]
    rows[1]["digital_training"] = "Chắc có"
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", rows)
    tables = b.run(raw_dir)
    [sector] = b.issues(tables, rule="domain", column="sector").to_dicts()
    allowed = ", ".join(t.label_vi for t in SECTORS.terms)
    assert sector["message_vi"].endswith(f"giá trị hợp lệ: {allowed}"), sector["message_vi"]
    assert sector["message_en"].endswith(f"allowed: {allowed}")
    [answer] = b.issues(tables, column="digital_training").to_dicts()
    assert all(t.label_vi in answer["message_vi"] for t in YES_NO.terms), answer["message_vi"]


@pytest.mark.parametrize(("field", "heading"), [("commune", "Xã"), ("period", "Kỳ báo cáo"), ("report_date", None)])
def test_a_blank_identity_cell_is_missing_not_invalid(raw_dir: Path, field: str, heading: str | None) -> None:
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", **{field: None})
    tables = b.run(raw_dir)
    [cause] = b.issues(tables, sheet="TongHop", severity="error").to_dicts()
    assert cause["rule"] == "required", cause
    assert "Thiếu giá trị bắt buộc" in cause["message_vi"] and "missing" in cause["message_en"]
    assert "không hợp lệ" not in cause["message_vi"] and "không có trong danh mục" not in cause["message_vi"]
    if heading:
        assert f"«{heading}»" in cause["message_vi"]


def test_the_cause_of_a_rejected_file_comes_before_its_rows(raw_dir: Path, tmp_path: Path) -> None:
    path = b.submission(b.q3(raw_dir) / "thach-lien.xlsx", b.htx_rows(12), period="Quý 2/2024")
    tables = b.run(raw_dir)
    rules = tables["rejected_rows"]["rule"].to_list()
    assert rules[0] == "period_mismatch" and rules.count("file_rejected") == 13, rules
    # The marked copy's list and the printed list keep that order.
    main(["validate", str(path), "--raw", str(raw_dir), "--format", "xlsx", "--out", str(tmp_path / "out")])
    listed = openpyxl.load_workbook(tmp_path / "out" / "thach-lien.kiem-tra.xlsx")["Danh sách lỗi"]
    assert [r[6] for r in listed.iter_rows(min_row=2, max_row=3, values_only=True)] == [
        "period_mismatch",
        "file_rejected",
    ]


def test_a_heading_on_two_lines_is_quoted_on_one(raw_dir: Path) -> None:
    b.submission(
        b.q3(raw_dir) / "thach-lien.xlsx",
        [b.valid_htx_row(members=None)],
        headers={"HTX": {"members": "Số thành\nviên"}},
    )
    [msg] = _messages(b.run(raw_dir), rule="required", column="members")
    assert "\n" not in msg and "«Số thành viên»" in msg, msg


def test_numbers_in_vietnamese_messages_have_a_decimal_comma(raw_dir: Path) -> None:
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", [b.valid_htx_row(revenue_mvnd=1200.25, profit_mvnd=1500.5)])
    [row] = b.issues(b.run(raw_dir), rule="profit_above_revenue").to_dicts()
    assert "Lợi nhuận 1500,5 lớn hơn" in row["message_vi"], row["message_vi"]
    assert "Profit 1500.5 is larger" in row["message_en"]


def test_a_correct_summary_is_not_blamed_for_rejected_detail_rows(raw_dir: Path) -> None:
    """TongHop counts four cooperatives, one of them with a fault: it agrees with the detail rows read."""
    rows = [*b.htx_rows(3), b.valid_htx_row(coop_id="HTX-009", name="HTX lỗi", founded_year="năm ngoái")]
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", rows, summary=b.summary_row(rows, [b.valid_tht_row()]))
    tables = b.run(raw_dir)
    assert b.issues(tables, rule="type_integer").height == 1
    assert b.issues(tables, rule="reconciliation").height == 0, b.issues(tables, rule="reconciliation")
    # A summary that is really wrong is still said to be.
    b.submission(
        b.q3(raw_dir) / "thach-lien.xlsx", rows, summary=b.summary_row(rows, [b.valid_tht_row()], htx_members=999)
    )
    assert b.issues(b.run(raw_dir), rule="reconciliation", column="htx_members").height == 1


# ---------------------------------------------------------------------------------------------
# The marked copy


def _faulty(raw_dir: Path) -> Path:
    rows = [b.valid_htx_row(sector="Nông nghiệp X", charter_capital_mvnd=-5)]
    return b.submission(b.q3(raw_dir) / "thach-lien.xlsx", rows)


def test_the_problem_list_names_the_headings_the_clerk_sees(raw_dir: Path, tmp_path: Path) -> None:
    path = _faulty(raw_dir)
    main(["validate", str(path), "--raw", str(raw_dir), "--format", "xlsx", "--out", str(tmp_path / "out")])
    ws = openpyxl.load_workbook(tmp_path / "out" / "thach-lien.kiem-tra.xlsx")["Danh sách lỗi"]
    assert ws["D1"].value == "Cột"
    columns = {r[3] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert columns == {"Lĩnh vực", "Vốn điều lệ", "Tổng vốn điều lệ"}, columns


def test_the_marked_copy_goes_to_the_current_folder_and_only_when_there_is_something_to_mark(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    faulty = _faulty(raw_dir)
    clean = b.submission(b.q3(raw_dir) / "thach-dai.xlsx", b.htx_rows(2), commune="Thạch Đài")
    here = tmp_path / "desk"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["validate", str(faulty), str(clean), "--raw", str(raw_dir), "--format", "xlsx"]) == 1
    assert sorted(p.name for p in here.iterdir()) == ["thach-lien.kiem-tra.xlsx"]
    assert sorted(p.name for p in b.q3(raw_dir).iterdir()) == ["thach-dai.xlsx", "thach-lien.xlsx"]
    assert "không ghi bản đánh dấu" in capsys.readouterr().err


def test_the_marked_copy_is_never_written_inside_raw(
    raw_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    faulty = _faulty(raw_dir)
    monkeypatch.chdir(b.q3(raw_dir))
    assert main(["validate", str(faulty), "--raw", str(raw_dir), "--format", "xlsx"]) == 2
    assert "--out" in capsys.readouterr().err
    assert [p.name for p in b.q3(raw_dir).iterdir()] == ["thach-lien.xlsx"]


def test_a_marked_copy_left_in_a_quarter_folder_is_skipped_with_its_reason(raw_dir: Path, tmp_path: Path) -> None:
    from ingest.discover import skip_reason

    faulty = _faulty(raw_dir)
    main(["validate", str(faulty), "--raw", str(raw_dir), "--format", "xlsx", "--out", str(tmp_path)])
    copy = b.q3(raw_dir) / "thach-lien.kiem-tra.xlsx"
    (tmp_path / copy.name).rename(copy)  # a clerk copies it back among the submissions
    files, skipped = period_files(raw_dir, b.PERIOD)
    assert [f.path.name for f in files] == ["thach-lien.xlsx"]
    assert skipped == [copy] and "kttt validate" in skip_reason(copy, raw_dir)
    log = b.run(raw_dir)["submission_log"]
    assert log["source_file"].to_list() == ["2024/Q3/thach-lien.xlsx"] and log["status"].to_list() != ["superseded"]


def test_formulas_of_the_submission_are_not_live_in_the_marked_copy(raw_dir: Path, tmp_path: Path) -> None:
    rows = [b.valid_htx_row(coop_id="A1", charter_capital_mvnd=-5), b.valid_htx_row(coop_id="A2")]
    path = b.submission(b.q3(raw_dir) / "thach-lien.xlsx", rows)
    link = '=HYPERLINK("http://example.invalid/x","Xem")'
    wb = openpyxl.load_workbook(path)
    ws = wb["HTX"]
    ws["B2"] = link  # the name cell, saved by openpyxl without a cached value
    ws["W5"] = "=1+1"
    wb.save(path)
    main(["validate", str(path), "--raw", str(raw_dir), "--format", "xlsx", "--out", str(tmp_path / "out")])
    marked = openpyxl.load_workbook(tmp_path / "out" / "thach-lien.kiem-tra.xlsx")
    cells = [c for ws in marked.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert marked["HTX"]["B2"].value == link and marked["HTX"]["B2"].data_type == "s"
    assert marked["HTX"]["W5"].value == "=1+1" and marked["HTX"]["W5"].data_type == "s"


def test_a_formula_with_a_stored_value_becomes_that_value(raw_dir: Path, tmp_path: Path) -> None:
    rows = [b.valid_htx_row(coop_id="A1", charter_capital_mvnd=b.Formula("=250*2", 500), members=-1)]
    path = b.submission(b.q3(raw_dir) / "thach-lien.xlsx", rows)
    main(["validate", str(path), "--raw", str(raw_dir), "--format", "xlsx", "--out", str(tmp_path / "out")])
    ws = openpyxl.load_workbook(tmp_path / "out" / "thach-lien.kiem-tra.xlsx")["HTX"]
    col = b.column_letter("HTX", "charter_capital_mvnd")
    assert ws[f"{col}2"].value == 500 and ws[f"{col}2"].data_type == "n"
