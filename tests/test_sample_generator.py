"""Tests of the sample generator and of the sample it committed under ``raw/``.

* the committed files are exactly what ``sample.generate`` writes (byte for byte);
* the committed 2024-Q3 workbooks, read back with fastexcel (not through the
  pipeline, which is written elsewhere), give every seed value of the "Report
  figures" table of ``warehouse.md``;
* every committed submission (2024-Q2 and 2024-Q3) obeys the row rules of
  ``submission-format.md``, but for the few faults planted in 2024-Q2 (and its late
  commune), so the pipeline accepts it without other error or warning.

Headers and labels are taken from :mod:`schemas`, the single source of both.
"""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest

from ingest.convert import DTYPES
from sample import generate
from schemas import vocab
from schemas.fields import SheetColumn, sheet_columns
from schemas.sheets import SHEETS
from tests.seed_values import SEED_Q3

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"

VOCABS = vocab.BY_NAME
YES, NO = vocab.YES_NO.label_vi("true"), vocab.YES_NO.label_vi("false")

OCOP_HTX = {
    "HTX DVNN và DVTH Bắc Sơn": "Lưu Vĩnh Sơn",
    "HTX Hoài Yên": None,
    "HTX Hoàng Hà": "Tượng Sơn",
    "HTX môi trường Thạch Bàn": "Đỉnh Bàn",
}
DRONE_HTX = {
    "HTX Thống Nhất": "Thạch Ngọc",
    "HTX Thiên An": "Thạch Hội",
    "HTX Hoà Yên": "Thạch Thắng",
    "HTX dịch vụ NN Thạch Lâm": "Tân Lâm Hương",
}
NAMED_HTX = {
    "HTX Đạt Lộc": "Thạch Liên",
    "HTX Hoàng Hà": "Tượng Sơn",
    "HTX Quyết Tiến": "Lưu Vĩnh Sơn",
    "HTX DVNN và DVTH Bắc Sơn": "Lưu Vĩnh Sơn",
    "HTX Thống Nhất": "Thạch Ngọc",
    "HTX NTTS Đại Tiến": None,
    "HTX Dịch vụ tổng hợp môi trường Thạch Ngọc": "Thạch Ngọc",
    "HTX Trường Thủy": None,
    "HTX Cường Thịnh": None,
}
OCOP_THT = {
    "THT chế biến sữa Mai Dung": "Thạch Trị",
    "THT sản xuất giò Xuân Thanh": None,
    "THT giò bột Tuyết Hoa": None,
}
NAMED_THT = {
    "THT sản xuất rau, củ, quả Sâm Lộc": "Tượng Sơn",
    "THT sản xuất rau, củ, quả Thuận Hòa": None,
    "THT sản xuất rau an toàn thôn Thọ, thôn Khang": "Thạch Liên",
}
FUND_BENEFICIARIES = {"HTX Dịch vụ tổng hợp môi trường Thạch Ngọc": 450, "HTX Trường Thủy": 400, "HTX Cường Thịnh": 400}

# ---------------------------------------------------------------------------------------------
# Reading the committed files back, without the pipeline


def load_communes() -> list[dict[str, str]]:
    """Rows of raw/reference/communes.csv whose validity window contains the sample's quarters."""
    with (RAW / "reference" / "communes.csv").open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if all(generate.in_window(p, row) for p in generate.PERIODS)]


def commune_file(commune: dict[str, str], period: str) -> Path:
    """Where the sample puts a commune's workbook."""
    year, quarter = period.split("-Q")
    stem = ("thi-tran-" if commune["kind"] == "thi_tran" else "") + generate.slugify(commune["name"])
    return RAW / year / f"Q{quarter}" / f"{stem}.xlsx"


_FASTEXCEL_DTYPE = {"int": "float", "money": "float", "number": "float", "date": "datetime"}


def read_sheet(path: Path, sheet: str) -> pl.DataFrame:
    """A sheet as written, header row under the title rows, columns renamed to model names."""
    columns = sheet_columns(SHEETS[sheet])
    dtypes = {c.header_vi: _FASTEXCEL_DTYPE.get(c.kind, "string") for c in columns}
    frame = (
        fastexcel.read_excel(path).load_sheet_by_name(sheet, header_row=generate.TITLE_ROWS, dtypes=dtypes).to_polars()
    )
    assert frame.columns == [c.header_vi for c in columns], f"{path.name}/{sheet}: headers"
    return frame.rename({c.header_vi: c.name for c in columns})


def decode(frame: pl.DataFrame, sheet: str) -> pl.DataFrame:
    """Vietnamese labels → codes, Có/Không → bool, integral floats → Int64, datetimes → dates.

    A label that is not in the vocabulary becomes the marker ``?<label>`` so that the
    checks below report it.
    """
    exprs = []
    for col in sheet_columns(SHEETS[sheet]):
        expr = pl.col(col.name)
        if col.kind == "category" and col.vocab:
            mapping = {t.label_vi: t.code for t in VOCABS[col.vocab].terms}
            expr = expr.replace_strict(mapping, default=pl.lit("?") + expr, return_dtype=pl.String)
        elif col.kind == "bool":
            expr = expr.replace_strict({YES: True, NO: False}, default=None, return_dtype=pl.Boolean)
        elif col.kind == "int":
            expr = expr.cast(pl.Int64, strict=True)
        elif col.kind == "date":
            expr = expr.cast(pl.Date)
        exprs.append(expr.alias(col.name))
    return frame.with_columns(exprs)


def read_period(period: str) -> dict[str, pl.DataFrame]:
    """All communes' sheets of a period (with commune code and name), and HoTro."""
    parts: dict[str, list[pl.DataFrame]] = {"HTX": [], "THT": [], "TongHop": []}
    for commune in load_communes():
        path = commune_file(commune, period)
        for sheet in parts:
            frame = read_sheet(path, sheet)
            assert_integral(frame, sheet, path)
            parts[sheet].append(
                decode(frame, sheet).with_columns(
                    commune_code=pl.lit(commune["code"]), commune_name=pl.lit(commune["name"]), source=pl.lit(path.name)
                )
            )
    out = {sheet: pl.concat(frames) for sheet, frames in parts.items()}
    hotro = read_sheet(path.parent / "_district.xlsx", "HoTro")
    out["HoTro"] = decode(hotro, "HoTro")
    return out


def assert_integral(frame: pl.DataFrame, sheet: str, path: Path) -> None:
    """Integer columns hold whole numbers."""
    for col in sheet_columns(SHEETS[sheet]):
        if col.kind == "int":
            values = frame[col.name].drop_nulls()
            assert (values == values.round(0)).all(), f"{path.name}/{sheet}/{col.name} not integral"


@pytest.fixture(scope="module")
def q3() -> dict[str, pl.DataFrame]:
    return read_period("2024-Q3")


@pytest.fixture(scope="module", params=generate.PERIODS)
def period_data(request: pytest.FixtureRequest) -> tuple[str, dict[str, pl.DataFrame]]:
    return request.param, read_period(request.param)


# ---------------------------------------------------------------------------------------------
# (a) the committed files are the generator's output


def test_regenerated_sample_is_byte_identical(tmp_path: Path) -> None:
    written = generate.write_sample(tmp_path)
    assert len(written) == 2 * (22 + 1) + 2
    for path in written:
        relative = path.relative_to(tmp_path)
        committed = RAW / relative
        assert committed.exists(), f"{relative} is not committed: run python -m sample.generate"
        assert committed.read_bytes() == path.read_bytes(), f"{relative} differs from the generator's output"


def test_workbook_bytes_are_deterministic(tmp_path: Path) -> None:
    sub = generate.build_district("2024-Q3")[5]
    first = generate.write_workbook(tmp_path / "a.xlsx", sub)
    second = generate.write_workbook(tmp_path / "b.xlsx", sub)
    assert first.read_bytes() == second.read_bytes()
    assert generate.build_district("2024-Q3") == generate.build_district("2024-Q3")


def test_writer_options_and_csv_folder(tmp_path: Path) -> None:
    sub = next(s for s in generate.build_district("2024-Q3") if s.commune_name == "Thạch Liên")
    path = generate.write_workbook(tmp_path / "plain.xlsx", sub, title_rows=False, period_style="roman", total_row=True)
    reader = fastexcel.read_excel(path)
    assert reader.sheet_names == ["HTX", "THT", "TongHop"]
    htx = reader.load_sheet_by_name("HTX", header_row=0).to_polars()
    assert htx.columns == [c.header_vi for c in sheet_columns(SHEETS["HTX"])]
    assert htx[-1, 0] == "Tổng cộng" and htx.height == len(sub.htx) + 1
    summary = reader.load_sheet_by_name("TongHop", header_row=0).to_polars()
    assert summary["Kỳ báo cáo"].to_list() == ["Quý III/2024"]

    folder = generate.write_csv_folder(tmp_path / "thach-lien.csv", sub)
    assert sorted(p.name for p in folder.iterdir()) == ["HTX.csv", "THT.csv", "TongHop.csv"]
    for sheet, rows in (("HTX", sub.htx), ("THT", sub.tht)):
        frame = pl.read_csv(folder / f"{sheet}.csv", infer_schema=False)
        assert frame.columns == [c.header_vi for c in sheet_columns(SHEETS[sheet])]
        assert frame.height == len(rows)
    lines = (folder / "TongHop.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"Thạch Liên,Quý 3/2024,{sub.report_date:%d/%m/%Y},")


# ---------------------------------------------------------------------------------------------
# (b) the committed 2024-Q3 workbooks give the seed figures


def largest_remainder_pct(counts: dict[str, int], base: int) -> dict[str, float]:
    """Percentages with two decimals that sum to exactly 100.00 (largest remainder)."""
    hundredths = {k: v * 10000 / base for k, v in counts.items()}
    floors = {k: math.floor(v) for k, v in hundredths.items()}
    missing = 10000 - sum(floors.values())
    for k in sorted(counts, key=lambda k: (-(hundredths[k] - floors[k]), k))[:missing]:
        floors[k] += 1
    return {k: v / 100 for k, v in floors.items()}


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def district_figures(data: dict[str, pl.DataFrame]) -> dict[str, float]:
    """The report figures of the seed table, computed here from the sheets."""
    htx, tht, hotro = data["HTX"], data["THT"], data["HoTro"]
    out: dict[str, float] = {}
    out["htx.total"] = htx.height
    out["htx.new"] = htx.filter(pl.col("status") == "new").height
    out["htx.evaluated"] = out["htx.total"] - out["htx.new"]
    active = htx.filter(pl.col("status") == "active")
    counts = {r: active.filter(pl.col("rating") == r).height for r in vocab.RATINGS.codes}
    counts["suspended"] = htx.filter(pl.col("status") == "suspended").height
    for rating, pct in largest_remainder_pct(counts, int(out["htx.evaluated"])).items():
        out[f"htx.rating.{rating}.count"] = counts[rating]
        out[f"htx.rating.{rating}.pct"] = pct
    for sector in vocab.SECTORS.codes:
        rows = htx.filter(pl.col("sector") == sector)
        out[f"htx.sector.{sector}.count"] = rows.height
        out[f"htx.sector.{sector}.members"] = rows["members"].sum()
        if sector != "credit_fund":
            out[f"htx.sector.{sector}.capital_mvnd"] = rows["charter_capital_mvnd"].sum()
        out[f"htx.new.{sector}.count"] = rows.filter(pl.col("status") == "new").height
    for sub in vocab.SUBSECTORS.codes:
        out[f"htx.agriculture.{sub}.count"] = htx.filter(pl.col("subsector") == sub).height
    out["credit_fund.loans_disbursed_mvnd"] = htx["loans_disbursed_mvnd"].sum()
    out["credit_fund.loan_contracts"] = htx["loan_contracts"].sum()
    out["htx.tax_code.count"] = htx["tax_code"].drop_nulls().len()
    paid = htx.filter(pl.col("tax_paid_mvnd") > 0)
    out["htx.tax_paid.count"], out["htx.tax_paid_mvnd"] = paid.height, paid["tax_paid_mvnd"].sum()
    insured = htx.filter(pl.col("insured_workers") > 0)
    out["htx.insured.count"], out["htx.insured.workers"] = insured.height, insured["insured_workers"].sum()
    out["htx.insured.income_min"] = insured["avg_income_mvnd_month"].min()
    out["htx.insured.income_max"] = insured["avg_income_mvnd_month"].max()
    out["htx.ocop.count"] = htx["ocop_stars"].drop_nulls().len()
    out["htx.drones.count"] = htx.filter(pl.col("drones") > 0).height

    out["tht.total"] = tht.height
    for kind in vocab.THT_KINDS.codes:
        out[f"tht.kind.{kind}.count"] = tht.filter(pl.col("kind") == kind).height
    tht_active = tht.filter(pl.col("status") == "active")
    for rating in ("good", "fair", "average"):
        out[f"tht.rating.{rating}.count"] = tht_active.filter(pl.col("rating") == rating).height
    out["tht.rating.weak_or_suspended.count"] = tht.filter(
        (pl.col("rating") == "weak") | (pl.col("status") == "suspended")
    ).height
    out["tht.avg_revenue_mvnd"] = round_half_up(tht["revenue_mvnd"].drop_nulls().mean())
    out["tht.avg_profit_mvnd"] = round_half_up(tht["profit_mvnd"].drop_nulls().mean())
    out["tht.ocop.count"] = tht["ocop_stars"].drop_nulls().len()

    for (program,), rows in hotro.group_by("program", maintain_order=True):
        key = f"support.{str(program).lower()}"
        out[f"{key}.disbursed_mvnd"] = rows["disbursed_mvnd"].sum()
        out[f"{key}.plan_mvnd"] = rows["plan_mvnd"].sum()
        out[f"{key}.beneficiaries"] = rows["coop_id"].drop_nulls().n_unique()

    targets = pl.read_csv(RAW / "reference" / "targets.csv")
    for row in targets.filter(pl.col("year") == 2025).iter_rows(named=True):
        out[f"target.{row['indicator']}"] = row["target"]
    return out


def test_q3_figures_match_the_seed(q3: dict[str, pl.DataFrame]) -> None:
    figures = district_figures(q3)
    wrong = {k: (figures.get(k), v) for k, v in SEED_Q3.items() if figures.get(k) != pytest.approx(v, abs=1e-9)}
    assert not wrong, f"figure: (computed, seed) {wrong}"
    # "hơn 450 tr.đồng" for the four drones, bought by the four drone-owning cooperatives.
    assert 450 < figures["support.ht-maybay.disbursed_mvnd"] < 460


def test_q3_names_are_where_the_seed_puts_them(q3: dict[str, pl.DataFrame]) -> None:
    htx, tht, hotro = q3["HTX"], q3["THT"], q3["HoTro"]
    where = dict(zip(htx["name"], htx["commune_name"], strict=True))
    assert len(where) == htx.height, "cooperative names are unique in the district"
    for names in (NAMED_HTX, OCOP_HTX, DRONE_HTX):
        for name, commune in names.items():
            assert name in where, name
            assert commune is None or where[name] == commune, (name, where[name])
    assert set(htx.filter(pl.col("ocop_stars").is_not_null())["name"]) == set(OCOP_HTX)
    assert set(htx.filter(pl.col("ocop_stars").is_not_null())["ocop_stars"]) <= {2, 3}
    assert set(htx.filter(pl.col("drones") > 0)["name"]) == set(DRONE_HTX)
    assert htx.filter(pl.col("name") == "HTX NTTS Đại Tiến")["subsector"].to_list() == ["aquaculture"]
    assert htx.filter(pl.col("name").str.contains("môi trường Thạch Ngọc"))["sector"].to_list() == ["environment"]
    assert htx.filter((pl.col("sector") == "industry_handicraft") & (pl.col("status") == "new")).height == 1
    assert set(htx.filter(pl.col("status") == "new")["founded_year"]) == {2024}

    tht_where = dict(zip(tht["name"], tht["commune_name"], strict=True))
    for names in (NAMED_THT, OCOP_THT):
        for name, commune in names.items():
            assert name in tht_where, name
            assert commune is None or tht_where[name] == commune, (name, tht_where[name])
    ocop = tht.filter(pl.col("ocop_stars").is_not_null())
    assert set(ocop["name"]) == set(OCOP_THT) and set(ocop["ocop_stars"]) == {3}
    assert tht.filter(pl.col("status") == "new").height == 0

    ids = dict(zip(htx["name"], htx["coop_id"], strict=True))
    fund = hotro.filter(pl.col("level") == "coop_fund")
    assert dict(zip(fund["coop_id"], fund["disbursed_mvnd"], strict=True)) == {
        ids[name]: amount for name, amount in FUND_BENEFICIARIES.items()
    }
    province = hotro.filter(pl.col("program") == "NQ44-NQ51")
    assert province["level"].to_list() == ["province"] and province["coop_id"].to_list() == [None]
    drones = hotro.filter(pl.col("program") == "HT-MAYBAY")
    assert set(drones["level"]) == {"district"} and set(drones["coop_id"]) == {ids[n] for n in DRONE_HTX}
    assert set(hotro.filter(pl.col("program") == "VB624-UBND")["level"]) == {"district"}


# ---------------------------------------------------------------------------------------------
# (c) every committed submission obeys the contract's row rules


def quarter_end(period: str) -> date:
    year, quarter = (int(x) for x in period.split("-Q"))
    return date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)


def bad(frame: pl.DataFrame, rule: pl.Expr) -> list[Any]:
    """Ids (or sources) of the rows where ``rule`` is false."""
    id_col = next(c for c in ("coop_id", "group_id", "program", "source") if c in frame.columns)
    return frame.filter(~rule.fill_null(False))[id_col].to_list()


def in_vocab(name: str, vocab_name: str) -> pl.Expr:
    return pl.col(name).is_null() | pl.col(name).is_in(VOCABS[vocab_name].codes)


def planted(period: str) -> dict[str, tuple[str, str]]:
    """The rows the generator made faulty on purpose (2024-Q2 only): coop_id → (column, rule)."""
    return generate.q2_faults(generate.build_district(period)) if period == "2024-Q2" else {}


def test_htx_rows_obey_the_contract(period_data: tuple[str, dict[str, pl.DataFrame]]) -> None:
    period, data = period_data
    year = int(period[:4])
    htx = data["HTX"].filter(~pl.col("coop_id").is_in(list(planted(period))))
    c = pl.col
    rules: dict[str, pl.Expr] = {
        "required": pl.all_horizontal(
            c(n).is_not_null()
            for n in ("coop_id", "name", "sector", "founded_year", "status", "members", "charter_capital_mvnd")
        ),
        "sector": in_vocab("sector", "sector"),
        "subsector": in_vocab("subsector", "subsector"),
        "status": in_vocab("status", "status"),
        "rating": in_vocab("rating", "rating"),
        "subsector_required": (c("sector") != "agriculture") | c("subsector").is_not_null(),
        "subsector_only_agriculture": c("subsector").is_null() | (c("sector") == "agriculture"),
        "founded_year": c("founded_year").is_between(1955, year),
        "new_founded_this_year": (c("status") != "new") | (c("founded_year") == year),
        "rating_required": (c("status") != "active") | c("rating").is_not_null(),
        "rating_unexpected": (c("status") == "active") | c("rating").is_null(),
        "members_law_minimum": c("members") >= 5,
        "profit_above_revenue": c("profit_mvnd").is_null()
        | c("revenue_mvnd").is_null()
        | (c("profit_mvnd") <= c("revenue_mvnd")),
        "tax_code": c("tax_code").is_null() | c("tax_code").str.contains(r"^\d{10}(-\d{3})?$"),
        "qualified_above_managers": c("managers").is_null()
        | (c("managers_college").fill_null(0) + c("managers_vocational").fill_null(0) <= c("managers")),
        "ocop_stars": c("ocop_stars").is_null() | c("ocop_stars").is_between(1, 5),
        "credit_fields_not_credit_fund": (c("sector") == "credit_fund")
        | (c("loans_disbursed_mvnd").is_null() & c("loan_contracts").is_null()),
    }
    for col in sheet_columns(SHEETS["HTX"]):
        if col.kind in ("int", "money"):
            rules[f"{col.name}_not_negative"] = c(col.name).is_null() | (c(col.name) >= 0)
    failures = {rule: ids for rule, expr in rules.items() if (ids := bad(htx, expr))}
    assert not failures

    for (source,), rows in htx.group_by("source", maintain_order=True):
        assert rows["coop_id"].is_unique().all(), f"{source}: repeated coop_id"
        code = rows["commune_code"][0]
        assert rows["coop_id"].str.starts_with(f"{code}-HTX-").all()
        assert rows.height >= 1, f"{source}: no cooperative"
    assert htx["tax_code"].drop_nulls().is_unique().all(), "tax codes are unique"
    assert htx["name"].is_unique().all(), "cooperative names are unique in the district"
    raw_labels = pl.concat(read_sheet(commune_file(cm, period), "HTX") for cm in load_communes())
    assert set(raw_labels["digital_training"].drop_nulls()) <= {YES, NO}
    SHEETS["HTX"].validate(typed(htx, "HTX"), lazy=True)


def test_tht_rows_obey_the_contract(period_data: tuple[str, dict[str, pl.DataFrame]]) -> None:
    period, data = period_data
    tht = data["THT"]
    c = pl.col
    rules = {
        "required": pl.all_horizontal(c(n).is_not_null() for n in ("group_id", "name", "kind", "status", "members")),
        "kind": in_vocab("kind", "kind"),
        "status": in_vocab("status", "status"),
        "rating": in_vocab("rating", "rating"),
        "rating_required": (c("status") != "active") | c("rating").is_not_null(),
        "rating_unexpected": (c("status") == "active") | c("rating").is_null(),
        "members_minimum": c("members") >= 2,
        "revenue": c("revenue_mvnd").is_null() | (c("revenue_mvnd") >= 0),
        "profit": c("profit_mvnd").is_null() | (c("profit_mvnd") >= 0),
        "profit_above_revenue": c("profit_mvnd").is_null() | (c("profit_mvnd") <= c("revenue_mvnd")),
        "ocop_stars": c("ocop_stars").is_null() | c("ocop_stars").is_between(1, 5),
    }
    failures = {rule: ids for rule, expr in rules.items() if (ids := bad(tht, expr))}
    assert not failures
    for (source,), rows in tht.group_by("source", maintain_order=True):
        assert rows["group_id"].is_unique().all(), f"{source}: repeated group_id"
        assert rows.height >= 1, f"{source}: no cooperative group"
    SHEETS["THT"].validate(typed(tht, "THT"), lazy=True)
    assert period in generate.PERIODS


def test_summaries_reconcile_and_are_on_time(period_data: tuple[str, dict[str, pl.DataFrame]]) -> None:
    period, data = period_data
    htx, tht, summaries = data["HTX"], data["THT"], data["TongHop"]
    year, quarter = period.split("-Q")
    deadline = quarter_end(period) + timedelta(days=15)
    assert summaries.height == 22 and summaries["commune_code"].is_unique().all()
    late = [r["commune"] for r in summaries.iter_rows(named=True) if r["report_date"] > deadline]
    assert late == (["Thạch Khê"] if period == "2024-Q2" else [])
    for row in summaries.iter_rows(named=True):
        code = row["commune_code"]
        assert row["commune"] == row["commune_name"]
        assert row["period_text"] == f"Quý {quarter}/{year}"
        assert quarter_end(period) < row["report_date"] <= deadline or row["commune"] in late
        mine, groups = htx.filter(pl.col("commune_code") == code), tht.filter(pl.col("commune_code") == code)
        active = mine.filter(pl.col("status") == "active")
        expected = {
            "htx_total": mine.height,
            "htx_new": mine.filter(pl.col("status") == "new").height,
            "htx_suspended": mine.filter(pl.col("status") == "suspended").height,
            "htx_members": mine["members"].sum(),
            "htx_capital_mvnd": mine["charter_capital_mvnd"].sum(),
            "tht_total": groups.height,
            "tht_new": groups.filter(pl.col("status") == "new").height,
            "tht_weak": groups.filter((pl.col("rating") == "weak") | (pl.col("status") == "suspended")).height,
        }
        for rating in ("good", "fair", "average", "weak"):
            expected[f"htx_{rating}"] = active.filter(pl.col("rating") == rating).height
        for rating in ("good", "fair", "average"):
            expected[f"tht_{rating}"] = groups.filter(
                (pl.col("status") == "active") & (pl.col("rating") == rating)
            ).height
        assert {k: row[k] for k in expected} == expected, row["commune"]
        assert (
            sum(row[k] for k in ("htx_good", "htx_fair", "htx_average", "htx_weak", "htx_suspended", "htx_new"))
            == row["htx_total"]
        )
        assert sum(row[k] for k in ("tht_good", "tht_fair", "tht_average", "tht_weak", "tht_new")) == row["tht_total"]
    SHEETS["TongHop"].validate(typed(summaries, "TongHop"), lazy=True)


def test_district_support_rows(period_data: tuple[str, dict[str, pl.DataFrame]]) -> None:
    _, data = period_data
    hotro, ids = data["HoTro"], set(data["HTX"]["coop_id"])
    c = pl.col
    assert not bad(hotro, c("program").is_not_null() & c("disbursed_mvnd").is_not_null())
    assert not bad(hotro, in_vocab("level", "level") & c("level").is_not_null())
    assert not bad(hotro, (c("disbursed_mvnd") >= 0) & (c("plan_mvnd").is_null() | (c("plan_mvnd") >= 0)))
    assert set(hotro["coop_id"].drop_nulls()) <= ids, "beneficiaries reported in the period"
    SHEETS["HoTro"].validate(typed(hotro, "HoTro"), lazy=True)


def test_no_outliers(period_data: tuple[str, dict[str, pl.DataFrame]]) -> None:
    """No amount or count is far from its column's district median (no outlier warning)."""
    _, data = period_data
    for sheet in ("HTX", "THT"):
        for col in sheet_columns(SHEETS[sheet]):
            if col.kind not in ("int", "money") or col.name == "founded_year":
                continue
            values = data[sheet][col.name].drop_nulls()
            if values.len() == 0:
                continue
            median = values.median()
            assert median is not None and median > 0, f"{sheet}.{col.name}: median {median}"
            assert values.max() <= 50 * median, f"{sheet}.{col.name}: max {values.max()} vs median {median}"


def test_q2_is_an_earlier_quarter_of_the_same_cooperatives() -> None:
    q2, q3 = read_period("2024-Q2"), read_period("2024-Q3")
    old, new = q2["HTX"].filter(~pl.col("coop_id").is_in(list(planted("2024-Q2")))), q3["HTX"]
    assert old.filter(pl.col("status") == "new").height == 0
    assert set(old["coop_id"]) == set(new.filter(pl.col("status") != "new")["coop_id"])
    joined = old.join(new, on="coop_id", suffix="_q3")
    assert (joined["name"] == joined["name_q3"]).all() and (joined["sector"] == joined["sector_q3"]).all()
    for col in ("revenue_mvnd", "tax_paid_mvnd", "loans_disbursed_mvnd", "loan_contracts"):
        both = joined.filter(pl.col(col).is_not_null())
        assert (both[col] <= both[f"{col}_q3"]).all(), col
    moved = joined.filter((pl.col("rating") == "fair") & (pl.col("rating_q3") == "good"))
    assert moved.height >= 3
    assert set(q2["THT"]["group_id"]) == set(q3["THT"]["group_id"])
    dates = q2["TongHop"].filter(pl.col("commune") != "Thạch Khê")["report_date"]
    assert dates.min() >= date(2024, 7, 1) and dates.max() <= date(2024, 7, 12)
    assert q2["TongHop"].filter(pl.col("commune") == "Thạch Khê")["report_date"].to_list() == [date(2024, 7, 26)]
    assert q2["HoTro"]["disbursed_mvnd"].sum() < q3["HoTro"]["disbursed_mvnd"].sum()


# ---------------------------------------------------------------------------------------------
# Pandera: the models' own checks on the typed values


def typed(frame: pl.DataFrame, sheet: str) -> pl.DataFrame:
    """The sheet's columns with the dtypes the pandera model declares."""
    columns: list[SheetColumn] = sheet_columns(SHEETS[sheet])
    return frame.select(pl.col(c.name).cast(DTYPES[c.kind]) for c in columns)


def test_report_dates_are_real_excel_dates() -> None:
    commune = load_communes()[0]
    reader = fastexcel.read_excel(commune_file(commune, "2024-Q3"))
    summary = reader.load_sheet_by_name("TongHop", header_row=generate.TITLE_ROWS).to_polars()
    assert summary.schema["Ngày báo cáo"] in (pl.Datetime("ms"), pl.Date)
    value = summary["Ngày báo cáo"][0]
    assert isinstance(value, datetime | date)
    assert re.fullmatch(
        r"PHỤ BIỂU 0\d - .+ QUÝ III/2024", reader.load_sheet_by_name("HTX", header_row=None).to_polars()[0, 0]
    )


def test_the_pipeline_finds_exactly_the_planted_faults(sample_warehouse: Path) -> None:
    """2024-Q2: four rows rejected with the rule planted on them, one commune late, no warning (TongHop counts the
    faulty rows as the clerk wrote them, and is right); 2024-Q3: nothing rejected, everyone on time."""
    problems = pl.read_parquet(sample_warehouse / "rejected_rows" / "*.parquet")
    assert problems.filter(pl.col("period") == "2024-Q3").is_empty()
    q2 = problems.filter(pl.col("period") == "2024-Q2")
    assert set(q2["severity"]) == {"error"}, q2.filter(pl.col("severity") != "error")["message_en"].to_list()
    coops = pl.read_parquet(sample_warehouse / "cooperatives" / "*.parquet")
    assert coops.filter(pl.col("period") == "2024-Q2").height == 132  # the faulty rows are of cooperatives gone by Q3
    ids = [json.loads(v)["Mã HTX"] for v in q2.sort("source_file")["raw_values"]]
    assert dict(
        zip(ids, zip(q2.sort("source_file")["column"], q2.sort("source_file")["rule"], strict=True), strict=True)
    ) == planted("2024-Q2")
    completeness = pl.read_parquet(sample_warehouse / "completeness" / "*.parquet")
    late = completeness.filter(pl.col("status") == "late")
    assert late.select("period", "commune_code").rows() == [("2024-Q2", "18604")]
