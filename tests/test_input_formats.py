"""Every format variation of the input contract (``submission-format.md``), through ``process_period``.

Each test writes real files (xlsxwriter workbooks, CSV folders as bytes) into a raw
directory and reads the warehouse tables the pipeline builds from them.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.reference import load_targets
from schemas import vocab
from tests import builders as b
from tests.builders import (
    Formula,
    columns,
    communes,
    data_row,
    grid,
    header,
    htx_rows,
    issues,
    log_row,
    make_raw_dir,
    q3,
    run,
    submission,
    summary_row,
    valid_htx_row,
    valid_tht_row,
    write_csv_folder,
    write_xlsx,
)

FILE = "2024/Q3/thach-lien.xlsx"


def coop(tables: dict[str, pl.DataFrame], coop_id: str, source_file: str = FILE) -> dict[str, Any]:
    """The accepted cooperative ``coop_id`` of one file."""
    df = tables["cooperatives"]
    rows = df.filter((pl.col("coop_id") == coop_id) & (pl.col("source_file") == source_file)).to_dicts()
    assert len(rows) == 1, df.select("coop_id", "source_file", "source_row")
    return rows[0]


def errors(tables: dict[str, pl.DataFrame], source_file: str | None = None) -> pl.DataFrame:
    """Error lines of rejected_rows (of one file when given)."""
    df = tables["rejected_rows"].filter(pl.col("severity") == "error")
    return df if source_file is None else df.filter(pl.col("source_file") == source_file)


def batch(tmp_path_factory: pytest.TempPathFactory, name: str, builders: dict[str, Any]) -> dict[str, Any]:
    """Several independent submissions, one per commune, in one period processed once.

    ``builders`` maps a variant to ``build(folder, commune_name) -> file name``; the result
    maps each variant to its file (relative to the raw directory) and ``tables`` to the tables.
    """
    assert len(builders) <= len(communes())
    raw = make_raw_dir(tmp_path_factory.mktemp(name))
    out: dict[str, Any] = {"codes": {}}
    for (variant, build), (code, commune) in zip(builders.items(), communes(), strict=False):
        out[variant] = f"2024/Q3/{build(q3(raw), commune)}"
        out["codes"][variant] = code
    out["tables"] = run(raw)
    return out


MISC: dict[str, Callable[[Path, str], str]] = {}
"""Single-file variations, each in its own commune, all processed by one ``misc`` run."""


def misc_file(build: Callable[[Path, str], str]) -> Callable[[Path, str], str]:
    """Register a builder ``(folder, commune) -> file name`` of the ``misc`` period."""
    MISC[build.__name__.lstrip("_")] = build
    return build


@pytest.fixture(scope="module")
def misc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return batch(tmp_path_factory, "misc", MISC)


def assert_clean(tables: dict[str, pl.DataFrame], source_file: str = FILE) -> dict[str, Any]:
    """The file is accepted with every row, without errors or warnings."""
    log = log_row(tables, source_file)
    mine = tables["rejected_rows"].filter(pl.col("source_file") == source_file)
    assert mine.is_empty(), mine.select("rule", "sheet", "source_row", "column", "message_en").rows()
    assert log["status"] == "accepted"
    assert log["rows_rejected"] == 0
    assert log["rows_accepted"] == log["rows_in"]
    return log


# ---------------------------------------------------------------------------------------------
# Header row, header spelling


TITLE = ["PHỤ BIỂU 01: DANH SÁCH HỢP TÁC XÃ", "Xã Thạch Liên, huyện Thạch Hà", None]
STARTS = {"title_a1": (0, 0), "title_b3": (2, 1)}


@misc_file
def _title_a1(folder: Path, commune: str) -> str:
    submission(folder / "title-a1.xlsx", htx=htx_rows(2), title=TITLE, start=STARTS["title_a1"], commune=commune)
    return "title-a1.xlsx"


@misc_file
def _title_b3(folder: Path, commune: str) -> str:
    submission(folder / "title-b3.xlsx", htx=htx_rows(2), title=TITLE, start=STARTS["title_b3"], commune=commune)
    return "title-b3.xlsx"


@pytest.mark.parametrize("variant", list(STARTS))
def test_header_row_below_title_rows(misc, variant: str) -> None:
    t, f = misc["tables"], misc[variant]
    log = assert_clean(t, f)
    assert log["rows_in"] == 4  # 2 HTX + 1 THT + 1 TongHop: title and header rows are no data
    assert log["commune_code"] == misc["codes"][variant]
    first = data_row(0, title_rows=len(TITLE), start_row=STARTS[variant][0])
    mine = t["cooperatives"].filter(pl.col("source_file") == f)
    assert mine.sort("source_row")["source_row"].to_list() == [first, first + 1]
    assert t["commune_summaries"].filter(pl.col("source_file") == f)["source_row"].to_list() == [first]


EXPECTED_VALUES = {
    "sector": "agriculture",
    "subsector": "crops",
    "founded_year": 2015,
    "status": "active",
    "rating": "fair",
    "members": 25,
    "charter_capital_mvnd": 500.0,
    "revenue_mvnd": 1200.0,
    "profit_mvnd": 85.0,
    "tax_code": "3001234567",
    "tax_paid_mvnd": 12.5,
    "insured_workers": 4,
    "avg_income_mvnd_month": 5.2,
    "managers": 3,
    "managers_college": 1,
    "managers_vocational": 1,
    "digital_training": True,
    "ocop_stars": 3,
    "drones": 1,
}


STYLES = ["upper", "ascii", "lower_ascii", "nfd", "spaces", "newlines"]


@pytest.fixture(scope="module")
def styles(tmp_path_factory):
    def build(style: str):
        def write(folder, commune):
            submission(folder / f"{style}.xlsx", htx=htx_rows(2), header_style=style, commune=commune)
            return f"{style}.xlsx"

        return write

    return batch(tmp_path_factory, "styles", {s: build(s) for s in STYLES})


@pytest.mark.parametrize("style", STYLES)
def test_header_spellings(styles, style: str) -> None:
    """Headers in upper case, without diacritics, in NFD, with extra whitespace all match."""
    t, f = styles["tables"], styles[style]
    assert_clean(t, f)
    got = coop(t, "HTX-001", f)
    assert {k: got[k] for k in EXPECTED_VALUES} == EXPECTED_VALUES
    assert t["coop_groups"].filter(pl.col("source_file") == f)["kind"].to_list() == ["livestock"]
    summary = t["commune_summaries"].filter(pl.col("source_file") == f).to_dicts()
    assert len(summary) == 1
    assert summary[0]["htx_total"] == 2
    assert summary[0]["htx_fair"] == 2
    assert summary[0]["report_date"] == date(2024, 10, 10)


@misc_file
def _aliases(folder: Path, commune: str) -> str:
    headers = {
        "coop_id": "Mã hợp tác xã",
        "name": "Tên hợp tác xã",
        "sector": "Lĩnh vực hoạt động",
        "members": "members",
    }
    submission(folder / "aliases.xlsx", htx=htx_rows(1), headers={"HTX": headers}, commune=commune)
    return "aliases.xlsx"


def test_header_aliases_and_english_names(misc) -> None:
    t, f = misc["tables"], misc["aliases"]
    assert_clean(t, f)
    assert coop(t, "HTX-001", f)["members"] == 25


# ---------------------------------------------------------------------------------------------
# Category values


CATEGORY_CASES = [
    # (overrides as typed, expected codes)
    ({"sector": "NÔNG NGHIỆP", "subsector": "trồng trọt"}, {"sector": "agriculture", "subsector": "crops"}),
    ({"sector": "nong nghiep", "subsector": "CHAN NUOI"}, {"sector": "agriculture", "subsector": "livestock"}),
    (
        {"sector": unicodedata.normalize("NFD", "Nông nghiệp"), "subsector": "Thuy san"},
        {"sector": "agriculture", "subsector": "aquaculture"},
    ),
    ({"sector": "cong nghiep - ttcn", "subsector": None}, {"sector": "industry_handicraft", "subsector": None}),
    ({"sector": "  Thương  mại -  dịch vụ ", "subsector": None}, {"sector": "trade_services", "subsector": None}),
    ({"sector": "MOI TRUONG", "subsector": None}, {"sector": "environment", "subsector": None}),
    ({"sector": "xây dựng", "subsector": None}, {"sector": "construction", "subsector": None}),
    ({"sector": "VẬN TẢI", "subsector": None}, {"sector": "transport", "subsector": None}),
    ({"status": "dang hoat dong", "rating": "TỐT"}, {"status": "active", "rating": "good"}),
    ({"status": "ĐANG HOẠT ĐỘNG", "rating": "kha"}, {"status": "active", "rating": "fair"}),
    ({"status": "Đang hoạt động", "rating": "trung binh"}, {"status": "active", "rating": "average"}),
    ({"status": "Đang hoạt động", "rating": "YẾU"}, {"status": "active", "rating": "weak"}),
    ({"status": "moi thanh lap", "rating": None, "founded_year": 2024}, {"status": "new", "rating": None}),
    ({"status": "TẠM DỪNG CHỜ GIẢI THỂ", "rating": None}, {"status": "suspended", "rating": None}),
    ({"digital_training": "co"}, {"digital_training": True}),
    ({"digital_training": "KHÔNG"}, {"digital_training": False}),
    ({"digital_training": "x"}, {"digital_training": True}),
]


@pytest.fixture(scope="module")
def categories(tmp_path_factory):
    raw = make_raw_dir(tmp_path_factory.mktemp("categories"))
    rows = [valid_htx_row(coop_id=f"HTX-{i:03d}", **typed) for i, (typed, _) in enumerate(CATEGORY_CASES)]
    submission(q3(raw) / "thach-lien.xlsx", htx=rows)
    return run(raw)


@pytest.mark.parametrize("i", range(len(CATEGORY_CASES)))
def test_category_values_match_case_and_accent_insensitively(categories, i: int) -> None:
    typed, expected = CATEGORY_CASES[i]
    mine = categories["rejected_rows"].filter(pl.col("source_row") == data_row(i))
    assert mine.is_empty(), (typed, mine.select("rule", "column", "message_en").rows())
    got = coop(categories, f"HTX-{i:03d}")
    assert {k: got[k] for k in expected} == expected


@misc_file
def _credit_fund(folder: Path, commune: str) -> str:
    fund = valid_htx_row(sector="quy tin dung nhan dan", subsector=None, loans_disbursed_mvnd=2500, loan_contracts=120)
    groups = [
        valid_tht_row(group_id="THT-001", kind="che bien nong lam thuy san"),
        valid_tht_row(group_id="THT-002", kind="DỊCH VỤ TỔNG HỢP"),
        valid_tht_row(group_id="THT-003", kind=unicodedata.normalize("NFD", "Thủy sản")),
    ]
    submission(folder / "credit-fund.xlsx", htx=[fund], tht=groups, commune=commune)
    return "credit-fund.xlsx"


def test_credit_fund_and_tht_kinds_without_accents(misc) -> None:
    t, f = misc["tables"], misc["credit_fund"]
    assert errors(t, f).is_empty(), errors(t, f).select("rule", "column", "message_en")
    got = coop(t, "HTX-001", f)
    assert (got["sector"], got["loans_disbursed_mvnd"], got["loan_contracts"]) == ("credit_fund", 2500.0, 120)
    kinds = dict(t["coop_groups"].filter(pl.col("source_file") == f).select("group_id", "kind").iter_rows())
    assert kinds == {"THT-001": "processing", "THT-002": "general_services", "THT-003": "aquaculture"}


# ---------------------------------------------------------------------------------------------
# Numbers


@misc_file
def _vn_numbers(folder: Path, commune: str) -> str:
    row = valid_htx_row(
        members="1.250",
        charter_capital_mvnd="3,5",
        revenue_mvnd="1.250,75",
        profit_mvnd="-12,5",
        tax_paid_mvnd="1 250",
        avg_income_mvnd_month="5,2",
        insured_workers="1\u00a0250",
        managers=" 3 ",
    )
    submission(folder / "vn-numbers.xlsx", htx=[row], commune=commune)
    return "vn-numbers.xlsx"


def test_numbers_as_vietnamese_text(misc) -> None:
    t, f = misc["tables"], misc["vn_numbers"]
    assert_clean(t, f)
    got = coop(t, "HTX-001", f)
    assert got["members"] == 1250
    assert got["charter_capital_mvnd"] == pytest.approx(3.5)
    assert got["revenue_mvnd"] == pytest.approx(1250.75)
    assert got["profit_mvnd"] == pytest.approx(-12.5)
    assert got["tax_paid_mvnd"] == pytest.approx(1250.0)
    assert got["avg_income_mvnd_month"] == pytest.approx(5.2)
    assert got["insured_workers"] == 1250
    assert got["managers"] == 3


@misc_file
def _number_ids(folder: Path, commune: str) -> str:
    rows = [valid_htx_row(coop_id=101, tax_code=3001234567, founded_year=2015.0, members=25.0)]
    submission(folder / "number-ids.xlsx", htx=rows, commune=commune)
    return "number-ids.xlsx"


def test_ids_tax_codes_and_counts_typed_as_numbers(misc) -> None:
    """Excel number cells 101, 3001234567, 2015.0 read as the text and integers a person sees."""
    t, f = misc["tables"], misc["number_ids"]
    assert_clean(t, f)
    got = coop(t, "101", f)
    assert (got["tax_code"], got["founded_year"], got["members"]) == ("3001234567", 2015, 25)


@misc_file
def _numeric_cell(folder: Path, commune: str) -> str:
    rows = [
        valid_htx_row(coop_id="HTX-001", charter_capital_mvnd=360.697),
        valid_htx_row(coop_id="HTX-002", charter_capital_mvnd="360.697"),
    ]
    submission(folder / "numeric-cell.xlsx", htx=rows, commune=commune)
    return "numeric-cell.xlsx"


def test_numeric_cell_keeps_its_decimal_point_but_text_reads_vietnamese(misc) -> None:
    t, f = misc["tables"], misc["numeric_cell"]
    assert errors(t, f).is_empty()
    assert coop(t, "HTX-001", f)["charter_capital_mvnd"] == pytest.approx(360.697)
    assert coop(t, "HTX-002", f)["charter_capital_mvnd"] == pytest.approx(360697.0)


# ---------------------------------------------------------------------------------------------
# Units in money headers


@misc_file
def _units(folder: Path, commune: str) -> str:
    headers = {
        "HTX": {
            "charter_capital_mvnd": "Vốn điều lệ (đồng)",
            "revenue_mvnd": "Doanh thu (nghìn đồng)",
            "profit_mvnd": "Lợi nhuận (triệu đồng)",
            "tax_paid_mvnd": "Nộp ngân sách (tỷ đồng)",
        },
        "TongHop": {"htx_capital_mvnd": "Tổng vốn điều lệ (đồng)"},
    }
    row = valid_htx_row(charter_capital_mvnd=360_000_000, revenue_mvnd="1.200.000", profit_mvnd=85, tax_paid_mvnd="0,5")
    summary = summary_row([row], [valid_tht_row()], htx_capital_mvnd=360_000_000, commune=commune)
    submission(folder / "units.xlsx", htx=[row], summary=summary, headers=headers)
    return "units.xlsx"


def test_money_units_are_converted_and_recorded(misc) -> None:
    t, f = misc["tables"], misc["units"]
    got = coop(t, "HTX-001", f)
    assert got["charter_capital_mvnd"] == pytest.approx(360.0)
    assert got["revenue_mvnd"] == pytest.approx(1200.0)
    assert got["profit_mvnd"] == pytest.approx(85.0)
    assert got["tax_paid_mvnd"] == pytest.approx(500.0)
    summary = t["commune_summaries"].filter(pl.col("source_file") == f)
    assert summary["htx_capital_mvnd"].to_list() == [pytest.approx(360.0)]

    log = log_row(t, f)
    assert log["status"] == "accepted"
    assert log["rows_accepted"] == log["rows_in"] == 3
    conversions = json.loads(log["unit_conversions"])
    expected = {
        "charter_capital_mvnd": "đồng",
        "revenue_mvnd": "nghìn đồng",
        "tax_paid_mvnd": "tỷ đồng",
        "htx_capital_mvnd": "đồng",
    }
    recorded = {key.split(".")[-1]: unit for key, unit in conversions.items()}
    assert recorded == expected, conversions  # million VND ("triệu đồng") is no conversion
    # the conversion is a warning on the sheet, not an error, and there is no reconciliation gap
    assert errors(t, f).is_empty()
    assert set(issues(t, source_file=f)["rule"]) == {"unit_converted"}


@misc_file
def _unit_unknown(folder: Path, commune: str) -> str:
    submission(
        folder / "unit-unknown.xlsx",
        htx=htx_rows(3),
        headers={"HTX": {"charter_capital_mvnd": "Vốn điều lệ (USD)"}},
        title=["DANH SÁCH HTX"],
        commune=commune,
    )
    return "unit-unknown.xlsx"


def test_unknown_unit_rejects_the_sheet(misc) -> None:
    t, f = misc["tables"], misc["unit_unknown"]
    data_rows = [data_row(i, title_rows=1) for i in range(3)]
    unit = issues(t, rule="unit_unknown", sheet="HTX", source_file=f)
    assert set(unit["severity"]) == {"error"}
    # every data row of the sheet is in rejected_rows with the rule
    assert set(data_rows) <= set(unit["source_row"].drop_nulls())
    assert t["cooperatives"].filter(pl.col("source_file") == f).is_empty()
    # the rest of the submission is used
    assert t["coop_groups"].filter(pl.col("source_file") == f).height == 1
    assert t["commune_summaries"].filter(pl.col("source_file") == f).height == 1
    log = log_row(t, f)
    assert log["status"] == "accepted_with_errors"
    assert log["rows_in"] == 5
    assert log["rows_rejected"] == 3
    assert log["rows_accepted"] == 2


# ---------------------------------------------------------------------------------------------
# Sheet THT is optional


@misc_file
def _no_tht(folder: Path, commune: str) -> str:
    htx = htx_rows(2)
    submission(folder / "no-tht.xlsx", htx=htx, tht=[], omit_sheets=["THT"], commune=commune)
    return "no-tht.xlsx"


@misc_file
def _blank_tht(folder: Path, commune: str) -> str:
    htx = htx_rows(2)
    sheets = {
        "HTX": grid("HTX", htx),
        "THT": [],  # the template's THT tab left blank: the commune has no cooperative group
        "TongHop": grid("TongHop", [summary_row(htx, [], commune=commune)]),
    }
    write_xlsx(folder / "blank-tht.xlsx", sheets)
    return "blank-tht.xlsx"


@pytest.mark.parametrize("variant", ["no_tht", "blank_tht"])
def test_sheet_tht_may_be_absent_or_blank(misc, variant: str) -> None:
    t, f = misc["tables"], misc[variant]
    log = assert_clean(t, f)
    assert log["rows_in"] == 3
    assert t["cooperatives"].filter(pl.col("source_file") == f).height == 2
    assert t["coop_groups"].filter(pl.col("source_file") == f).is_empty()


# ---------------------------------------------------------------------------------------------
# TongHop: period, report date, commune


PERIOD_FORMS = ["2024-Q3", "Quý 3/2024", "Q3 2024", "Quý III/2024", "quý 3 năm 2024", "QUÝ 3/2024", "Quy 3/2024"]


@pytest.fixture(scope="module")
def periods(tmp_path_factory):
    def build(i: int, period: str):
        def write(folder, commune):
            submission(folder / f"p{i}.xlsx", period=period, commune=commune)
            return f"p{i}.xlsx"

        return write

    return batch(tmp_path_factory, "periods", {p: build(i, p) for i, p in enumerate(PERIOD_FORMS)})


@pytest.mark.parametrize("period", PERIOD_FORMS)
def test_period_text_forms(periods, period: str) -> None:
    t, f = periods["tables"], periods[period]
    assert_clean(t, f)
    assert t["commune_summaries"].filter(pl.col("source_file") == f)["period"].to_list() == ["2024-Q3"]


REPORT_DATES = [date(2024, 10, 10), "10/10/2024", "1/10/2024", "05/10/2024", 45575]


@pytest.fixture(scope="module")
def report_dates(tmp_path_factory):
    def build(i: int, written: object):
        def write(folder, commune):
            submission(folder / f"d{i}.xlsx", report_date=written, commune=commune)
            return f"d{i}.xlsx"

        return write

    return batch(tmp_path_factory, "dates", {repr(w): build(i, w) for i, w in enumerate(REPORT_DATES)})


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (date(2024, 10, 10), date(2024, 10, 10)),
        ("10/10/2024", date(2024, 10, 10)),
        ("1/10/2024", date(2024, 10, 1)),
        ("05/10/2024", date(2024, 10, 5)),
        (45575, date(2024, 10, 10)),
    ],
    ids=["excel-date", "dd/mm/yyyy", "d/mm/yyyy", "leading-zero", "excel-serial"],
)
def test_report_date_forms(report_dates, written: object, expected: date) -> None:
    t, f = report_dates["tables"], report_dates[repr(written)]
    log = assert_clean(t, f)
    assert log["report_date"] == expected
    assert t["commune_summaries"].filter(pl.col("source_file") == f)["report_date"].to_list() == [expected]


def test_a_date_serial_typed_as_text_is_no_date(tmp_path: Path) -> None:
    """In a date column a number cell 45575 is a date serial, while the same digits typed as text are no date:
    only the workbook tells them apart, since their text is the same."""
    raw = b.make_raw_dir(tmp_path)
    b.submission(b.q3(raw) / "serial.xlsx", report_date=45575, commune="Thạch Liên")
    b.submission(b.q3(raw) / "text.xlsx", report_date="45575", commune="Thạch Kênh")
    t = b.run(raw)
    status = {r["source_file"]: (r["status"], r["report_date"]) for r in t["submission_log"].iter_rows(named=True)}
    assert status == {"2024/Q3/serial.xlsx": ("accepted", date(2024, 10, 10)), "2024/Q3/text.xlsx": ("rejected", None)}
    rules = errors(t, "2024/Q3/text.xlsx").filter(pl.col("column") == "report_date")["rule"].to_list()
    assert rules == ["report_date_invalid"]


COMMUNE_FORMS = {
    "name": ("Thạch Liên", "18592"),
    "upper": ("THẠCH KÊNH", "18586"),
    "nfd": (unicodedata.normalize("NFD", "Đỉnh Bàn"), "18595"),
    "code": ("18601", "18601"),
    "number": (18604, "18604"),
}


@pytest.fixture(scope="module")
def commune_forms(tmp_path_factory):
    raw = make_raw_dir(tmp_path_factory.mktemp("communes"))
    for key, (written, _) in COMMUNE_FORMS.items():
        submission(q3(raw) / f"{key}.xlsx", commune=written)
    return run(raw)


@pytest.mark.parametrize("key", list(COMMUNE_FORMS))
def test_commune_by_name_or_code(commune_forms, key: str) -> None:
    f, code = f"2024/Q3/{key}.xlsx", COMMUNE_FORMS[key][1]
    log = assert_clean(commune_forms, f)
    assert log["commune_code"] == code
    coops = commune_forms["cooperatives"].filter(pl.col("source_file") == f)
    assert coops["commune_code"].to_list() == [code]


# ---------------------------------------------------------------------------------------------
# Total rows and blank rows


def _total(label: str, at: int = 0, formulas: bool = False) -> list[object]:
    cells: list[object] = [None] * len(columns("HTX"))
    cells[at] = label
    members, capital = columns("HTX").index("members"), columns("HTX").index("charter_capital_mvnd")
    cells[members] = Formula("=SUM(H3:H7)", 75) if formulas else 75
    cells[capital] = Formula("=SUM(I3:I7)", 1500) if formulas else 1500
    return cells


TOTALS = {
    "tong": ("Tổng", 0),
    "tong-cong": ("Tổng cộng", 0),
    "cong": ("Cộng", 0),
    "upper": ("TỔNG CỘNG", 0),
    "cong-col-B": ("Cộng", 1),
    "tong-cong-col-B": ("Tổng cộng", 1),
    "formulas": ("Tổng cộng", 0, True),
}


@pytest.fixture(scope="module")
def totals(tmp_path_factory):
    def build(key: str, label: str, at: int, formulas: bool = False):
        def write(folder, commune):
            r1, r2, r3 = htx_rows(3)
            blank_with_spaces = ["  ", None, " "]
            rows = [r1, None, r2, blank_with_spaces, r3, None, _total(label, at, formulas)]
            summary = summary_row([r1, r2, r3], [valid_tht_row()], commune=commune)
            submission(folder / f"{key}.xlsx", htx=rows, summary=summary, title=["DANH SÁCH HTX"])
            return f"{key}.xlsx"

        return write

    return batch(tmp_path_factory, "totals", {k: build(k, *v) for k, v in TOTALS.items()})


@pytest.mark.parametrize("key", list(TOTALS))
def test_total_and_blank_rows_are_skipped(totals, key: str) -> None:
    t, f = totals["tables"], totals[key]
    log = assert_clean(t, f)
    assert log["rows_in"] == 5  # 3 HTX + 1 THT + 1 TongHop
    mine = t["cooperatives"].filter(pl.col("source_file") == f)
    assert mine.sort("source_row")["source_row"].to_list() == [
        data_row(0, 1),
        data_row(2, 1),
        data_row(4, 1),
    ]


@misc_file
def _totals_everywhere(folder: Path, commune: str) -> str:
    htx = htx_rows(2)
    tht = [valid_tht_row(group_id="THT-001"), valid_tht_row(group_id="THT-002")]
    tht_total = [None] * len(columns("THT"))
    tht_total[0] = "Cộng"
    tht_total[columns("THT").index("members")] = 16
    submission(
        folder / "totals-everywhere.xlsx", htx=[*htx, _total("Tổng cộng")], tht=[*tht, None, tht_total], commune=commune
    )
    return "totals-everywhere.xlsx"


def test_total_rows_on_every_sheet(misc) -> None:
    t, f = misc["tables"], misc["totals_everywhere"]
    log = assert_clean(t, f)
    assert log["rows_in"] == 5
    assert t["coop_groups"].filter(pl.col("source_file") == f).height == 2


CONG_DONG = [
    valid_htx_row(coop_id="HTX-001", name="Cộng đồng Thạch Liên"),
    valid_htx_row(coop_id="HTX-002", name="Tổng hợp Đồng Xuân"),
    valid_htx_row(coop_id="103", name="Cộng đồng xanh", members=12, charter_capital_mvnd=300),
    valid_htx_row(coop_id="HTX-004", name="Cộng"),
]


@misc_file
def _cong_dong(folder: Path, commune: str) -> str:
    order = ["name", *[c for c in columns("HTX") if c != "name"]]
    submission(folder / "cong-dong.xlsx", htx=CONG_DONG, cols={"HTX": order}, commune=commune)
    return "cong-dong.xlsx"


def test_a_cooperative_named_cong_dong_is_not_a_total_row(misc) -> None:
    t, f = misc["tables"], misc["cong_dong"]
    log = assert_clean(t, f)
    assert log["rows_in"] == 6
    mine = t["cooperatives"].filter(pl.col("source_file") == f)
    assert sorted(mine["name"].to_list()) == sorted(r["name"] for r in CONG_DONG)


# ---------------------------------------------------------------------------------------------
# CSV folders


ENCODINGS = ["utf-8", "utf-8-sig", "cp1258", "utf-16"]
DELIMITERS = {"utf-16": "\t"}  # Excel's "Unicode text" export: UTF-16 with BOM, tab-separated


@pytest.fixture(scope="module")
def csv_folders(tmp_path_factory):
    def build(encoding: str):
        def write(folder, commune):
            name = f"{encoding}.csv"
            delimiter = DELIMITERS.get(encoding, ",")
            write_csv_folder(
                folder / name, htx=CSV_HTX, tht=CSV_THT, encoding=encoding, delimiter=delimiter, commune=commune
            )
            return name

        return write

    return batch(tmp_path_factory, "csv", {e: build(e) for e in ENCODINGS})


CSV_HTX = [
    valid_htx_row(coop_id="HTX-001", name="HTX Nông nghiệp Đồng Tiến", charter_capital_mvnd=360.697),
    valid_htx_row(
        coop_id="HTX-002",
        name="HTX Dịch vụ điện Thạch Liên",
        sector=vocab.SECTORS.label_vi("trade_services"),
        subsector=None,
        status=vocab.STATUSES.label_vi("suspended"),
        rating=None,
        charter_capital_mvnd="1.250",
    ),
]
CSV_THT = [valid_tht_row(name="THT Trồng lúa Ngọc Sơn", kind=vocab.THT_KINDS.label_vi("crops"))]


def test_cp1258_bytes_are_not_utf8() -> None:
    from tests.builders import csv_bytes

    data = csv_bytes([["Mã HTX", "Tên HTX"], ["HTX-001", "HTX Nông nghiệp Đồng Tiến"]], encoding="cp1258")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert unicodedata.normalize("NFC", data.decode("cp1258")).endswith("HTX Nông nghiệp Đồng Tiến\r\n")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_csv_folder(csv_folders, encoding: str) -> None:
    t, f = csv_folders["tables"], csv_folders[encoding]
    log = assert_clean(t, f)
    assert log["file_kind"] == "csv_folder"
    assert log["rows_in"] == 4
    assert log["commune_code"] is not None
    one, two = coop(t, "HTX-001", f), coop(t, "HTX-002", f)
    assert unicodedata.normalize("NFC", one["name"]) == "HTX Nông nghiệp Đồng Tiến"
    assert (one["sector"], one["subsector"], one["rating"]) == ("agriculture", "crops", "fair")
    assert one["charter_capital_mvnd"] == pytest.approx(360.697)  # written "360,697"
    assert (two["sector"], two["status"], two["rating"]) == ("trade_services", "suspended", None)
    assert two["charter_capital_mvnd"] == pytest.approx(1250.0)
    group = t["coop_groups"].filter(pl.col("source_file") == f).to_dicts()[0]
    assert unicodedata.normalize("NFC", group["name"]) == "THT Trồng lúa Ngọc Sơn"
    assert group["kind"] == "crops"
    summary = t["commune_summaries"].filter(pl.col("source_file") == f)
    assert summary["report_date"].to_list() == [date(2024, 10, 10)]


@misc_file
def _csv_360(folder: Path, commune: str) -> str:
    htx = [valid_htx_row(coop_id="HTX-001", charter_capital_mvnd="360.697")]
    write_csv_folder(folder / "csv-360.csv", htx=htx, commune=commune)
    return "csv-360.csv"


def test_csv_text_360_697_reads_vietnamese(misc) -> None:
    t, f = misc["tables"], misc["csv_360"]
    assert_clean(t, f)
    assert coop(t, "HTX-001", f)["charter_capital_mvnd"] == pytest.approx(360697.0)


@misc_file
def _csv_semicolons(folder: Path, commune: str) -> str:
    write_csv_folder(
        folder / "csv-semicolons.csv", htx=htx_rows(2), delimiter=";", header_style="upper", commune=commune
    )
    return "csv-semicolons.csv"


def test_csv_with_semicolons_and_upper_case_headers(misc) -> None:
    t, f = misc["tables"], misc["csv_semicolons"]
    assert_clean(t, f)
    assert t["cooperatives"].filter(pl.col("source_file") == f).height == 2


# ---------------------------------------------------------------------------------------------
# Resubmission


def test_resubmission_latest_report_date_wins(raw_dir) -> None:
    folder = q3(raw_dir)
    # the winner is first by name and older on disk: only the report date can pick it
    submission(folder / "a-thach-lien.xlsx", htx=htx_rows(3), report_date=date(2024, 10, 12), mtime=1_700_000_000)
    submission(folder / "b-thach-lien.xlsx", htx=htx_rows(1), report_date="05/10/2024", mtime=1_700_900_000)
    t = run(raw_dir)
    winner, loser = log_row(t, "2024/Q3/a-thach-lien.xlsx"), log_row(t, "2024/Q3/b-thach-lien.xlsx")
    assert winner["status"] == "accepted"
    assert loser["status"] == "superseded"
    assert loser["superseded_by"] == "2024/Q3/a-thach-lien.xlsx"
    assert winner["superseded_by"] is None
    assert set(t["cooperatives"]["source_file"]) == {"2024/Q3/a-thach-lien.xlsx"}
    assert t["cooperatives"].height == 3
    assert t["commune_summaries"]["source_file"].to_list() == ["2024/Q3/a-thach-lien.xlsx"]
    sup = issues(t, rule="superseded")
    assert sup["source_file"].to_list() == ["2024/Q3/b-thach-lien.xlsx"]
    assert set(sup["severity"]) == {"warning"}


def test_resubmission_tie_broken_by_modification_time(raw_dir) -> None:
    folder = q3(raw_dir)
    newer = submission(folder / "a-thach-lien.xlsx", htx=htx_rows(2))
    older = submission(folder / "b-thach-lien.xlsx", htx=htx_rows(4))
    os.utime(newer, (1_700_900_000, 1_700_900_000))
    os.utime(older, (1_700_000_000, 1_700_000_000))
    t = run(raw_dir)
    assert log_row(t, "2024/Q3/a-thach-lien.xlsx")["status"] == "accepted"
    assert log_row(t, "2024/Q3/b-thach-lien.xlsx")["status"] == "superseded"
    assert t["cooperatives"].height == 2
    assert set(t["cooperatives"]["source_file"]) == {"2024/Q3/a-thach-lien.xlsx"}


def test_resubmission_workbook_against_csv_folder(raw_dir) -> None:
    folder = q3(raw_dir)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2), report_date=date(2024, 10, 5))
    write_csv_folder(folder / "thach-lien.csv", htx=htx_rows(3), report_date=date(2024, 10, 9))
    t = run(raw_dir)
    assert log_row(t, "2024/Q3/thach-lien.csv")["status"] == "accepted"
    assert log_row(t, FILE)["status"] == "superseded"
    assert t["cooperatives"].height == 3


def test_rejected_resubmission_does_not_supersede_the_earlier_file(raw_dir) -> None:
    folder = q3(raw_dir)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2), report_date=date(2024, 10, 5))
    broken_cols = {"HTX": [c for c in columns("HTX") if c != "members"]}
    submission(folder / "thach-lien-2.xlsx", htx=htx_rows(3), report_date=date(2024, 10, 9), cols=broken_cols)
    t = run(raw_dir)
    assert log_row(t, "2024/Q3/thach-lien-2.xlsx")["status"] == "rejected"
    assert log_row(t, FILE)["status"] == "accepted"
    assert t["cooperatives"].height == 2


def test_different_communes_are_not_resubmissions(raw_dir) -> None:
    folder = q3(raw_dir)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2))
    submission(folder / "dinh-ban.xlsx", htx=htx_rows(2), commune="Đỉnh Bàn")
    t = run(raw_dir)
    assert set(t["submission_log"]["status"]) == {"accepted"}
    assert t["cooperatives"].group_by("commune_code").len().sort("commune_code").rows() == [
        ("18592", 2),
        ("18595", 2),
    ]


# ---------------------------------------------------------------------------------------------
# Row numbers


@misc_file
def _excel_rows(folder: Path, commune: str) -> str:
    r1, r2, r3 = htx_rows(3)
    bad = {**r2, "members": "nhiều"}
    title = ["PHỤ BIỂU 01", "Xã Thạch Liên", None]
    summary = summary_row([r1, r3], [valid_tht_row()], commune=commune)
    # two empty rows above the title, then 3 title rows: header on Excel row 6
    submission(folder / "excel-rows.xlsx", htx=[r1, None, bad, r3], summary=summary, title=title, start=(2, 0))
    return "excel-rows.xlsx"


def test_source_row_is_the_excel_row_a_person_sees(misc) -> None:
    t, f = misc["tables"], misc["excel_rows"]
    bad_rows = errors(t, f)
    assert bad_rows.select("sheet", "source_row", "column", "rule").rows() == [("HTX", 9, "members", "type_integer")]
    assert "dòng 9" in bad_rows["message_vi"][0]
    assert "row 9" in bad_rows["message_en"][0]
    mine = {name: t[name].filter(pl.col("source_file") == f) for name in ("cooperatives", "coop_groups")}
    assert mine["cooperatives"].sort("source_row")["source_row"].to_list() == [7, 10]
    assert mine["coop_groups"]["source_row"].to_list() == [7]
    assert t["commune_summaries"].filter(pl.col("source_file") == f)["source_row"].to_list() == [7]


@misc_file
def _csv_lines(folder: Path, commune: str) -> str:
    r1, r2, r3 = htx_rows(3)
    bad = {**r2, "charter_capital_mvnd": "năm trăm"}
    summary = summary_row([r1, r3], [valid_tht_row()], commune=commune)
    write_csv_folder(folder / "csv-lines.csv", htx=[r1, bad, r3], summary=summary)
    return "csv-lines.csv"


def test_source_row_is_the_csv_line_number(misc) -> None:
    t, f = misc["tables"], misc["csv_lines"]
    bad_rows = errors(t, f)
    assert bad_rows.select("source_file", "sheet", "source_row", "column", "rule").rows() == [
        (f, "HTX", 3, "charter_capital_mvnd", "type_number")
    ]
    assert t["cooperatives"].filter(pl.col("source_file") == f).sort("source_row")["source_row"].to_list() == [2, 4]
    log = log_row(t, f)
    assert (log["status"], log["rows_in"], log["rows_accepted"], log["rows_rejected"]) == (
        "accepted_with_errors",
        5,
        4,
        1,
    )


@misc_file
def _upper_labels(folder: Path, commune: str) -> str:
    bad = valid_htx_row(members="nhiều")
    submission(folder / "upper-labels.xlsx", htx=[bad], header_style="upper", commune=commune)
    return "upper-labels.xlsx"


def test_header_labels_used_in_messages_are_the_ones_in_the_file(misc) -> None:
    row = errors(misc["tables"], misc["upper_labels"]).to_dicts()[0]
    assert header("HTX", "members").upper() in row["message_vi"]
    assert header("HTX", "members").upper() in row["message_en"]


def test_semicolon_csv_with_decimal_commas_is_read(raw_dir: Path) -> None:
    rows = [b.valid_htx_row(coop_id=f"H{i}", avg_income_mvnd_month="5,2", tax_paid_mvnd="12,5") for i in range(5)]
    b.write_csv_folder(b.q3(raw_dir) / "thach-lien.csv", htx=rows, delimiter=";")
    tables = b.run(raw_dir)
    log = b.log_row(tables, "2024/Q3/thach-lien.csv")
    assert log["status"] == "accepted", tables["rejected_rows"]["message_en"].to_list()
    assert tables["cooperatives"]["avg_income_mvnd_month"].to_list() == [5.2] * 5


def test_a_tht_sheet_holding_only_a_note_is_no_table(raw_dir: Path) -> None:
    path = b.q3(raw_dir) / "thach-lien.xlsx"
    b.submission(path, htx=b.htx_rows(2), tht=[])
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["THT"]
    ws.delete_rows(1, ws.max_row)
    ws["A1"] = "Xã không có tổ hợp tác"
    wb.save(path)
    tables = b.run(raw_dir)
    assert b.log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "accepted"


def test_total_row_with_dashes_and_notes_in_parentheses(raw_dir: Path) -> None:
    rows = [*b.htx_rows(2), ["Tổng cộng", "-", "-", "x", None, None, None, None, 50]]
    headers = {"HTX": {"revenue_mvnd": "Doanh thu (nếu có)", "ocop_stars": "Sản phẩm OCOP (số sao)"}}
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", htx=rows, headers=headers)
    tables = b.run(raw_dir)
    log = b.log_row(tables, "2024/Q3/thach-lien.xlsx")
    assert log["status"] == "accepted", tables["rejected_rows"]["message_en"].to_list()
    assert tables["cooperatives"].height == 2


def test_a_foreign_currency_still_rejects_the_sheet(raw_dir: Path) -> None:
    b.submission(
        b.q3(raw_dir) / "thach-lien.xlsx",
        htx=b.htx_rows(2),
        headers={"HTX": {"charter_capital_mvnd": "Vốn điều lệ (USD)"}},
    )
    tables = b.run(raw_dir)
    assert set(b.issues(tables, sheet="HTX", severity="error")["rule"]) == {"unit_unknown"}


def test_a_quoted_field_over_two_lines_is_numbered_by_its_first_line(raw_dir: Path) -> None:
    folder = b.write_csv_folder(b.q3(raw_dir) / "thach-lien.csv", htx=b.htx_rows(2))
    text = (folder / "HTX.csv").read_text(encoding="utf-8").replace("HTX Dịch vụ số 1", '"HTX Dịch vụ\nsố 1"', 1)
    (folder / "HTX.csv").write_text(
        text.replace('""HTX Dịch vụ', '"HTX Dịch vụ').replace('số 1""', 'số 1"'), encoding="utf-8"
    )
    tables = b.run(raw_dir)
    coops = tables["cooperatives"].sort("source_row")
    assert coops["source_row"].to_list() == [2, 4]


def test_a_broken_csv_rejects_its_file_and_not_the_quarter(raw_dir: Path) -> None:
    folder = b.q3(raw_dir) / "thach-lien.csv"
    folder.mkdir()
    (folder / "HTX.csv").write_bytes(b"\xff\xfe" + "Mã HTX,Tên".encode("utf-16-le") + b"\x00")  # odd byte count
    (folder / "TongHop.csv").write_bytes(b"\xff\xfe\x00")
    b.submission(b.q3(raw_dir) / "tuong-son.xlsx", htx=b.htx_rows(1), commune="Tượng Sơn")
    tables = b.run(raw_dir)
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
