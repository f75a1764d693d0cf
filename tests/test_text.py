"""Unit tests of ``ingest.text``: folding, Vietnamese numbers, units and dates (periods: test_periods.py)."""

from __future__ import annotations

import unicodedata
from datetime import date

import polars as pl
import pytest

from ingest.text import (
    EXCEL_EPOCH,
    NUMBER_CELL_TEXT,
    date_expr,
    fold,
    money_factor,
    needs_number_flag,
    number_expr,
    number_flag,
    parse_date,
    parse_number,
    row_needs_number_flag_expr,
    split_unit,
)

# ---------------------------------------------------------------------------------------------
# fold


@pytest.mark.parametrize("text", ["Thạch Liên", "Công nghiệp - TTCN", "Quỹ tín dụng nhân dân", "Đang hoạt động"])
def test_fold_is_the_same_for_nfc_and_nfd(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert nfc != nfd
    assert fold(nfc) == fold(nfd)


def test_fold_drops_accents_and_case() -> None:
    assert fold("Thạch Liên") == "thach lien"
    assert fold("THẠCH LIÊN") == "thach lien"
    assert fold("thach lien") == "thach lien"


@pytest.mark.parametrize("text", ["Đỉnh Bàn", "đỉnh bàn", "ĐỈNH BÀN", "Dinh Ban"])
def test_fold_turns_d_with_stroke_into_d(text: str) -> None:
    assert fold(text) == "dinh ban"


def test_fold_collapses_whitespace_and_punctuation() -> None:
    assert fold("  Công   nghiệp -  TTCN ") == "cong nghiep ttcn"
    assert fold("Mã\u00a0HTX\t") == "ma htx"
    assert fold("Trình độ ĐH, CĐ") == "trinh do dh cd"


def test_fold_of_nothing_is_empty() -> None:
    assert fold(None) == ""
    assert fold("   ") == ""


def test_fold_expr_matches_fold() -> None:
    from ingest.text import fold_expr

    texts = ["Thạch Liên", unicodedata.normalize("NFD", "Đang hoạt động"), "  CÔNG  nghiệp - ttcn "]
    got = pl.Series(texts).to_frame("t").select(fold_expr(pl.col("t")))["t"].to_list()
    assert got == [fold(t) for t in texts]


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.250", 1250.0),
        ("3,5", 3.5),
        ("1.250,75", 1250.75),
        ("1.250.000", 1_250_000.0),
        ("1 250", 1250.0),
        ("1\u00a0250", 1250.0),
        ("1\u00a0250,5", 1250.5),
        (" 1.250 ", 1250.0),
        ("1250.5", 1250.5),
        ("1250", 1250.0),
        ("0,75", 0.75),
        ("-1.250", -1250.0),
        ("-3,5", -3.5),
        ("-12", -12.0),
        ("0", 0.0),
    ],
)
def test_vietnamese_numbers(text: str, expected: float) -> None:
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["nhiều", "12 người", "1,2,3", "", "abc", "1.2.3,4,5"])
def test_text_that_is_no_number_is_null(text: str) -> None:
    assert parse_number(text) is None


def test_numbers_that_are_numbers_stay_numbers() -> None:
    assert parse_number(360.697) == 360.697
    assert parse_number(7) == 7.0
    assert parse_number(None) is None


def test_numeric_cell_text_is_cast_as_written() -> None:
    """A numeric cell 360.697 reads 360.697; the same text typed by a person reads 360697."""
    df = pl.DataFrame({"t": ["360.697", "360.697"], "num": [True, False]})
    got = df.select(number_expr(pl.col("t"), pl.col("num")).alias("v"))["v"].to_list()
    assert got == [pytest.approx(360.697), 360697.0]


# ---------------------------------------------------------------------------------------------
# Units in headers


@pytest.mark.parametrize(
    ("hdr", "factor"),
    [
        ("Vốn điều lệ", 1.0),
        ("Vốn điều lệ (triệu đồng)", 1.0),
        ("Vốn điều lệ (Triệu Đồng)", 1.0),
        ("Vốn điều lệ (trieu dong)", 1.0),
        ("Vốn điều lệ (đồng)", 1e-6),
        ("Vốn điều lệ (VNĐ)", 1e-6),
        ("Vốn điều lệ (nghìn đồng)", 1e-3),
        ("Vốn điều lệ (ngàn đồng)", 1e-3),
        ("Vốn điều lệ (tỷ đồng)", 1e3),
        ("Thu nhập bình quân (triệu đồng/người/tháng)", 1.0),
        ("Thu nhập bình quân (nghìn đồng/người/tháng)", 1e-3),
    ],
)
def test_money_units(hdr: str, factor: float) -> None:
    name, unit = split_unit(hdr)
    assert money_factor(unit) == pytest.approx(factor)
    assert name == fold(hdr.split("(")[0])


@pytest.mark.parametrize(
    ("hdr", "factor"),
    [
        ("Vốn điều lệ (Tr.đồng)", 1.0),
        ("Vốn điều lệ (tr.đ)", 1.0),
        ("Vốn điều lệ (triệu đ)", 1.0),
        ("Vốn điều lệ (Triệu VNĐ)", 1.0),
        ("Vốn điều lệ (1.000 đồng)", 1e-3),
        ("Vốn điều lệ (nghìn VNĐ)", 1e-3),
        ("Vốn điều lệ (ngàn VNĐ)", 1e-3),
        ("Vốn điều lệ (tỉ đồng)", 1e3),
    ],
    ids=["Tr.dong", "tr.d", "trieu-d", "trieu-VND", "1.000-dong", "nghin-VND", "ngan-VND", "ti-dong"],
)
def test_money_unit_spelling_variants(hdr: str, factor: float) -> None:
    """The same units in the other spellings communes use (tỉ = tỷ, đ = đồng, ngàn = nghìn, VNĐ = đồng)."""
    assert money_factor(split_unit(hdr)[1]) == pytest.approx(factor)


@pytest.mark.parametrize("hdr", ["Vốn điều lệ (USD)", "Vốn điều lệ (lượng vàng)", "Vốn điều lệ (%)x", "Doanh thu (kg)"])
def test_unknown_money_unit_has_no_factor(hdr: str) -> None:
    _, unit = split_unit(hdr)
    if unit is not None:
        assert money_factor(unit) is None


def test_split_unit_without_unit() -> None:
    assert split_unit("Mã HTX") == ("ma htx", None)
    assert split_unit("Vốn điều lệ ( triệu  đồng )") == ("von dieu le", "trieu dong")


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15/10/2024", date(2024, 10, 15)),
        ("05/01/2024", date(2024, 1, 5)),
        ("5/1/2024", date(2024, 1, 5)),
        ("2024-10-15", date(2024, 10, 15)),
        ("2024-10-15 00:00:00", date(2024, 10, 15)),
        (45580, date(2024, 10, 15)),
        (45580.0, date(2024, 10, 15)),
        (date(2024, 10, 15), date(2024, 10, 15)),
    ],
)
def test_dates(value: object, expected: date) -> None:
    assert parse_date(value) == expected


def test_excel_serial_is_days_since_the_excel_epoch() -> None:
    assert (date(2024, 10, 15) - EXCEL_EPOCH).days == 45580


@pytest.mark.parametrize("text", ["31/02/2024", "15/13/2024", "hôm nay", "", "2024-02-30"])
def test_invalid_dates(text: str) -> None:
    assert parse_date(text) is None


def test_dd_mm_is_not_read_as_mm_dd() -> None:
    assert parse_date("03/04/2024") == date(2024, 4, 3)


def test_numeric_date_cells_and_text_dates_in_bulk() -> None:
    df = pl.DataFrame({"t": ["45580", "15/10/2024"], "num": [True, False]})
    got = df.select(date_expr(pl.col("t"), pl.col("num")).alias("v"))["v"].to_list()
    assert got == [date(2024, 10, 15), date(2024, 10, 15)]


def test_two_digit_years() -> None:
    assert parse_date("05/10/24") == date(2024, 10, 5)
    assert parse_date("05/10/2024") == date(2024, 10, 5)


def test_the_number_cell_shape_reads_alike_in_python_and_in_polars() -> None:
    """The cell-by-cell cut (`number_flag`) and the columnar cut (`NUMBER_CELL_TEXT` in polars) tell a number
    cell's text alike, trailing newline and all (Python's `$` also matches before one); `true` and `false` take
    the workbook's own flag."""
    texts = ["12", "-0.5", "360.697", "True", "12\n", " 12", "1e5", "1,5", "", "12.", ".5", "٣"]
    in_polars = pl.Series(texts).str.contains(NUMBER_CELL_TEXT).to_list()
    assert [number_flag(t, held_number=False, kind="text") for t in texts] == in_polars
    assert in_polars[:3] == [True] * 3 and not any(in_polars[3:])
    assert pl.Series(["true", "false"]).str.contains(NUMBER_CELL_TEXT).all()
    assert [number_flag(t, held, "text") for t in ("true", "false") for held in (True, False)] == [True, False] * 2


def test_a_row_needs_number_flags_when_one_of_its_cells_does() -> None:
    """The columnar cut asks the workbook for a sheet's number flags when some row matches one pattern over the
    row's cells joined (`row_needs_number_flag_expr`): it must say what `needs_number_flag` says of any cell, for
    cells that look alike but for a digit, a sign, a space or a line break, next to each other or alone."""
    kinds = ("text", "money", "date")
    texts = ["true", "false", "True", "360.697", "-1.234", "1.2345", "12.34", "1234.567", "45292", "45292.5", "-7"]
    texts += ["12\n", " 360.697", "360.697 ", "", "x", None]
    rows = [(a, b, c) for a in texts for b in texts for c in texts[::2]]
    frame = pl.DataFrame({kind: [row[k] for row in rows] for k, kind in enumerate(kinds)}, orient="col")
    got = frame.select(row_needs_number_flag_expr(pl.col(kinds), pl.col("money"), pl.col("date"))).to_series()
    expected = [any(needs_number_flag(t, kind) for t, kind in zip(row, kinds, strict=True)) for row in rows]
    assert got.to_list() == expected
    assert 0 < sum(expected) < len(expected)
    # without the number or the date column, their patterns are not asked
    only_text = frame.select(row_needs_number_flag_expr(pl.col(kinds), None, None)).to_series().to_list()
    assert only_text == [any(needs_number_flag(t, "text") for t in row) for row in rows]
