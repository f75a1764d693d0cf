"""Every workbook kttt writes prints landscape, one page wide, with its header rows and naming columns repeated;
the report's charts keep their captions on their page. Read back from the files, as Excel and Word see them."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest
from docx import Document

from forms.annotate import write_feedback
from forms.template import HEADER_ROW, write_template
from pipeline.cli import main
from tests import builders as b


def _assert_layout(ws: openpyxl.worksheet.worksheet.Worksheet, rows: str, cols: str | None) -> None:
    setup = ws.page_setup
    assert setup.orientation == "landscape", ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert (int(setup.fitToWidth or 1), int(setup.fitToHeight)) == (1, 0), ws.title
    assert (ws.print_title_rows or "").replace("$", "") == rows, (ws.title, ws.print_title_rows)
    assert (ws.print_title_cols or "").replace("$", "") == (cols or ""), (ws.title, ws.print_title_cols)


def test_the_template(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", commune_name="Thạch Liên", period="2024-Q3"))
    header = f"{HEADER_ROW + 1}:{HEADER_ROW + 1}"
    for name in ("HTX", "THT", "TongHop"):
        _assert_layout(wb[name], header, "A:B")
    _assert_layout(wb["KiemTra"], "3:3", "A:A")


def test_the_appendix_and_the_report(sample_warehouse: Path) -> None:
    folder = sample_warehouse / "report" / "2024-Q3"
    wb = openpyxl.load_workbook(folder / "phu-bieu.xlsx")
    assert len(wb.worksheets) >= 3
    for ws in wb.worksheets:
        _assert_layout(ws, "3:3", "A:B")
    doc = Document(str(folder / "bao-cao.docx"))
    pictures = [i for i, p in enumerate(doc.paragraphs) if p._p.xpath(".//pic:pic")]
    assert len(pictures) == 4
    for i in pictures:
        assert doc.paragraphs[i].paragraph_format.keep_with_next, i
        assert doc.paragraphs[i + 1].text.strip(), "a caption follows each chart"


def test_the_marked_copy(raw_dir: Path, tmp_path: Path) -> None:
    path = b.submission(b.q3(raw_dir) / "thach-lien.xlsx", [b.valid_htx_row(members=-1)], title=["BÁO CÁO", None])
    assert main(["validate", str(path), "--raw", str(raw_dir), "--format", "xlsx", "--out", str(tmp_path)]) == 1
    wb = openpyxl.load_workbook(tmp_path / "thach-lien.kiem-tra.xlsx")
    _assert_layout(wb["HTX"], "3:3", "A:B")  # title rows above the header; Mã HTX and Tên HTX
    _assert_layout(wb["TongHop"], "3:3", "A:A")
    _assert_layout(wb["Danh sách lỗi"], "1:1", None)


@pytest.mark.parametrize("rows", [1, 40])
def test_the_feedback_workbook(tmp_path: Path, rows: int) -> None:
    problems = pl.DataFrame(
        {
            "source_file": ["2024/Q3/x.xlsx"] * rows,
            "severity": ["error"] * rows,
            "sheet": ["HTX"] * rows,
            "source_row": list(range(2, rows + 2)),
            "column": ["members"] * rows,
            "message_vi": ["Giá trị -1 nhỏ hơn mức tối thiểu 0"] * rows,
            "message_en": ["Value -1 is below the minimum 0"] * rows,
            "rule": ["min_value"] * rows,
            "raw_values": ['{"Số thành viên": "-1"}'] * rows,
        }
    )
    wb = openpyxl.load_workbook(write_feedback(tmp_path / "f.xlsx", problems, "Thạch Liên"))
    _assert_layout(wb["Danh sách lỗi"], "3:3", "A:A")
