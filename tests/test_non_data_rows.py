"""Rows a clerk adds under the table that are not data (a template's pre-numbered STT, a note, the signature block)
are skipped and listed in `submission_log.skipped_lines`; a Có/Không column ticked with "x" reads blank as no."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ingest.columnar import cut_many
from ingest.nondata import NOTE, NUMBER_ONLY, SIGNATURE, blank_means_no, non_data_reason
from ingest.sheet import columns_by_name, cut_sheet
from ingest.workbook import read_submission
from tests import builders as b


def _with_stt(grid: list[list[object]], first_data: int = 1) -> list[list[object]]:
    """The grid with an STT column in front, numbered on every data row."""
    return [["STT", *grid[0]], *[[i, *row] for i, row in enumerate(grid[1:], first_data)]]


def _signed_htx(cols: list[str] | None = None) -> tuple[list[dict], list[list[object]]]:
    """Three cooperatives ticked with "x", the template's numbered empty rows, a note and a signature block
    (the columns of the 2024-Q3 form, or `cols`)."""
    coops = [
        b.valid_htx_row(coop_id="A1", digital_training="x"),
        b.valid_htx_row(coop_id="A2", digital_training=None),
        b.valid_htx_row(coop_id="A3", digital_training="X"),
    ]
    htx = _with_stt(b.grid("HTX", coops, cols=cols))
    htx += [[n] for n in range(4, 11)]  # the template's numbered rows left empty (Excel rows 5-11)
    htx += [
        [],
        ["Ghi chú: số liệu tạm tính đến ngày 30/9"],  # row 13
        [],
        [None, None, "Thạch Liên, ngày 10 tháng 10 năm 2024"],  # row 15
        [None, "Người lập biểu", None, None, "Chủ tịch UBND xã"],  # row 16
        [None, "(Ký, ghi rõ họ tên)", None, None, "(Ký tên, đóng dấu)"],  # row 17
        [],
        [None, "Nguyễn Văn An", None, None, "Trần Thị Bình"],  # row 19
    ]
    return coops, htx


def test_template_numbers_notes_and_signatures_are_not_data(raw_dir: Path) -> None:
    coops, htx = _signed_htx()
    tht = [b.valid_tht_row()]
    sheets = {
        "HTX": htx,
        "THT": b.grid("THT", tht),
        "TongHop": b.grid("TongHop", [b.summary_row(coops, tht)]),
    }
    b.write_xlsx(b.q3(raw_dir) / "thach-lien.xlsx", sheets)
    tables = b.run(raw_dir)
    assert tables["rejected_rows"].filter(pl.col("severity") == "error").is_empty(), tables["rejected_rows"]
    assert tables["cooperatives"]["coop_id"].to_list() == ["A1", "A2", "A3"]
    assert tables["cooperatives"]["digital_training"].to_list() == [True, False, True]
    log = b.log_row(tables, "2024/Q3/thach-lien.xlsx")
    assert (log["status"], log["rows_read"], log["rows_accepted"]) == ("accepted", 5, 5)
    skipped = json.loads(log["skipped_lines"])
    assert list(skipped) == ["HTX"]
    expected = {str(r): NUMBER_ONLY for r in range(5, 12)} | {"13": NOTE}
    expected |= {str(r): SIGNATURE for r in (15, 16, 17, 19)}
    assert skipped["HTX"] == expected


def test_a_data_row_is_still_data() -> None:
    """A cooperative row, even short, and one after a signature that carries numbers, are read."""
    ignored = {0}
    assert non_data_reason({0: "1", 1: "HTX-01", 2: "HTX Đồng Tiến"}, ignored, False) is None
    assert non_data_reason({1: "Ghi chú", 2: "HTX", 3: "5", 4: "x"}, ignored, False) is None
    assert non_data_reason({1: "HTX-09", 3: "25"}, ignored, True) is None
    assert non_data_reason({1: "Nguyễn Văn An"}, ignored, True) == SIGNATURE


def test_blank_is_no_only_in_a_column_ticked_with_x() -> None:
    assert blank_means_no(["x", None, " ", "Có"]) == ["x", "Không", "Không", "Có"]
    assert blank_means_no(["Có", None, "Không"]) == ["Có", None, "Không"]


def test_without_an_x_a_blank_answer_stays_unanswered(raw_dir: Path) -> None:
    coops = [b.valid_htx_row(coop_id="A1"), b.valid_htx_row(coop_id="A2", digital_training=None)]
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", coops)
    assert b.run(raw_dir)["cooperatives"]["digital_training"].to_list() == [True, None]


def test_the_columnar_cut_skips_the_same_rows_as_the_python_cut(tmp_path: Path) -> None:
    """Both ways of cutting a sheet give the same block: the same data rows, cells, skipped rows and ticks.
    Every column of the model is written, or the columnar cut leaves the sheet to the Python one."""
    every = list(columns_by_name("HTX"))
    _, htx = _signed_htx(every)
    plain = b.grid("HTX", [b.valid_htx_row(coop_id=f"B{k}") for k in range(4)], cols=every)
    # Characters JSON escapes, in one column only: `raw_values` escapes that column and writes the others as read.
    quoted = b.grid(
        "HTX",
        [b.valid_htx_row(coop_id="Q1", name='HTX "Đồng Tiến" \\ 1\t2\nxã'), b.valid_htx_row(coop_id="Q2")],
        cols=every,
    )
    for name, grid in (("signed", htx), ("quoted", quoted), ("plain", plain)):
        path = tmp_path / f"{name}.xlsx"
        b.write_xlsx(path, {"HTX": grid})
        for_columns = read_submission(path, ("HTX",)).find("HTX")
        assert for_columns is not None and for_columns.columnar
        cut = cut_many([(for_columns, "HTX", path.name)])[0]
        assert cut.block is not None, "the sheet was left to the Python cut"
        python = cut_sheet(read_submission(path, ("HTX",)).find("HTX"), "HTX", path.name)
        for attribute in ("header_row", "headers", "rows", "cells", "numeric", "raw", "skipped"):
            assert getattr(cut.block, attribute) == getattr(python, attribute), (name, attribute)
        assert [i.rule for i in cut.block.issues] == [i.rule for i in python.issues]
        if name == "signed":
            assert len(cut.block.skipped) == 12 and cut.block.cells["digital_training"] == ["x", "Không", "X"]
    assert len(cut.block.skipped) == 0 and len(cut.block.rows) == 4
