"""Report figures, provenance, indicators and the report files, on the bundled sample district."""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from docx import Document

from report.figures import compute_figures, largest_remainder
from report.indicators import quarter_changes
from report.registry import STATIC_FIGURES
from report.text import Values
from tests.seed_values import SEED_Q3

# The contract's reference values, and the same support figures by level (the report text uses those).
SEED = {
    **SEED_Q3,
    "support.level.coop_fund.disbursed_mvnd": 1250,
    "support.level.coop_fund.beneficiaries": 3,
}


@pytest.fixture(scope="module")
def q3(sample_warehouse: Path) -> pl.DataFrame:
    return pl.read_parquet(sample_warehouse / "report_figures" / "2024-Q3.parquet")


def _values(figures: pl.DataFrame) -> dict[str, float]:
    return dict(figures.select("figure_id", "value").iter_rows())


def test_every_seed_figure_is_reproduced(q3: pl.DataFrame) -> None:
    values = _values(q3)
    wrong = {k: (values.get(k), v) for k, v in SEED.items() if values.get(k) != pytest.approx(v)}
    assert not wrong
    drones = values["support.ht-maybay.disbursed_mvnd"]
    assert drones > 450  # "hơn 450 tr.đồng"


def test_the_two_percentages_where_the_printed_seed_is_off() -> None:
    # The seed prints 19,69% for 26/132 = 19.6969…%: that is truncation, not rounding (19.70).
    # It prints 1,53% for 2/132 = 1.5151…%, which no rounding gives (1.52); and its five printed
    # shares (19.69 + 33.33 + 37.12 + 8.33 + 1.53) sum to 100.00 only because both errors cancel.
    counts = [26, 44, 49, 11, 2]
    exact = [100 * c / 132 for c in counts]
    assert round(exact[0], 2) == 19.70 and int(exact[0] * 100) / 100 == 19.69
    assert round(exact[4], 2) == 1.52 and round(exact[4], 2) != 1.53
    assert largest_remainder(counts) == [19.70, 33.33, 37.12, 8.33, 1.52]
    assert round(sum(largest_remainder(counts)), 2) == 100.00


@pytest.mark.parametrize(
    ("counts", "expected"),
    [([1, 1, 1], [33.34, 33.33, 33.33]), ([0, 0], [0.0, 0.0]), ([5], [100.0]), ([2, 1], [66.67, 33.33])],
)
def test_largest_remainder_always_sums_to_100(counts: list[int], expected: list[float]) -> None:
    shares = largest_remainder(counts)
    assert shares == expected
    assert round(sum(shares), 2) in (0.0, 100.0)


def test_registry_ids_are_unique_and_all_present(q3: pl.DataFrame) -> None:
    ids = [f.id for f in STATIC_FIGURES]
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(q3["figure_id"])
    assert q3["figure_id"].is_unique().all()


def test_every_figure_is_traced_to_real_rows(sample_warehouse: Path, q3: pl.DataFrame) -> None:
    sources = pl.read_parquet(sample_warehouse / "figure_sources" / "2024-Q3.parquet")
    nonzero = q3.filter(pl.col("value").fill_null(0) != 0)["figure_id"]
    assert set(nonzero) <= set(sources["figure_id"])
    coops = pl.read_parquet(sample_warehouse / "cooperatives" / "2024-Q3.parquet")
    behind = sources.filter(pl.col("source_table") == "cooperatives").join(
        coops.select("source_file", "source_row", "coop_id"), on=["source_file", "source_row"], how="left"
    )
    assert behind["coop_id"].null_count() == 0
    assert (behind["coop_id"] == behind["unit_id"]).all()
    total = sources.filter(pl.col("figure_id") == "htx.rating.good.count")
    assert total.height == 26
    targets = sources.filter(pl.col("figure_id") == "target.htx.new")
    assert targets["source_file"].to_list() == ["reference/targets.csv"] and targets["source_row"].item() >= 2


def test_indicators_by_district_commune_and_changes(sample_warehouse: Path) -> None:
    ind = pl.read_parquet(sample_warehouse / "indicators" / "2024-Q3.parquet")
    district = ind.filter(pl.col("geo_level") == "district")

    def value(name: str, breakdown: str | None = None) -> float:
        rows = district.filter(pl.col("indicator") == name)
        rows = rows.filter(pl.col("breakdown").is_null() if breakdown is None else pl.col("breakdown") == breakdown)
        return rows["value"].item()

    assert value("htx.count") == 135 and value("htx.count", "sector=agriculture") == 97
    assert value("tht.count", "kind=crops") == 72
    communes = ind.filter(
        (pl.col("geo_level") == "commune") & (pl.col("indicator") == "htx.count") & pl.col("breakdown").is_null()
    )
    assert communes.height == 22 and communes["value"].sum() == 135
    assert value("htx.change.new") == 3  # the three cooperatives founded in 2024 are new since Q2
    assert value("htx.change.rating", "move=fair>good") == 4
    q2 = pl.read_parquet(sample_warehouse / "indicators" / "2024-Q2.parquet")
    assert q2.filter(pl.col("indicator").str.starts_with("htx.change")).is_empty()  # nothing stored before Q2


def test_indicators_are_stored_sorted_by_their_keys(sample_warehouse: Path) -> None:
    for period in ("2024-Q2", "2024-Q3"):
        ind = pl.read_parquet(sample_warehouse / "indicators" / f"{period}.parquet")
        assert ind.equals(ind.sort("geo_level", "commune_code", "indicator", "breakdown", nulls_last=False))


def test_yearly_indicators_come_from_the_latest_quarter(sample_warehouse: Path) -> None:
    yearly = pl.read_parquet(sample_warehouse / "indicators_yearly" / "*.parquet")
    assert set(yearly["period"]) == {"2024-Q3"} and set(yearly["year"]) == {2024}
    total = yearly.filter(
        (pl.col("geo_level") == "district") & (pl.col("indicator") == "htx.count") & pl.col("breakdown").is_null()
    )
    assert total["value"].item() == 135 and total["change"].item() is None


def test_docx_reads_back_with_the_key_sentences(sample_warehouse: Path) -> None:
    doc = Document(str(sample_warehouse / "report" / "2024-Q3" / "bao-cao.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Tổng số HTX trên địa bàn hiện nay là 135 HTX" in text
    assert "có 03 HTX mới thành lập năm 2024" in text
    assert "26 HTX hoạt động tốt, chiếm tỷ lệ 19,70%" in text
    assert "02 HTX tạm dừng chờ giải thể, chiếm tỷ lệ 1,52%" in text
    assert "Lĩnh vực nông nghiệp: 97 HTX với 965 thành viên, tổng số vốn điều lệ 136.941 triệu đồng" in text
    assert "giải ngân cho vay 360.697 triệu đồng cho 1.429 hợp đồng tín dụng" in text
    assert "Tổng số tổ hợp tác hiện nay là 140 THT" in text
    assert "Doanh thu bình quân của THT khoảng 415 triệu đồng/năm" in text
    assert "Thành lập mới 08 hợp tác xã" in text
    assert len(doc.inline_shapes) == 4  # the four charts are embedded
    table = doc.tables[0]
    assert [c.text for c in table.rows[1].cells] == ["Tốt", "26", "19,70"]


def test_appendix_totals_match_the_figures(sample_warehouse: Path, q3: pl.DataFrame) -> None:
    values = _values(q3)
    wb = openpyxl.load_workbook(sample_warehouse / "report" / "2024-Q3" / "phu-bieu.xlsx")
    checks = {
        "PB01 HTX theo xếp loại": {
            "Tổng số HTX": "htx.total",
            "Tốt": "htx.rating.good.count",
            "Tạm dừng chờ giải thể": "htx.rating.suspended.count",
        },
        "PB02 HTX theo lĩnh vực": {
            "Nông nghiệp": "htx.sector.agriculture.count",
            "Quỹ tín dụng nhân dân": "htx.sector.credit_fund.count",
        },
        "PB03 THT": {
            "Tổng số THT": "tht.total",
            "Trồng trọt": "tht.kind.crops.count",
            "Yếu, tạm dừng": "tht.rating.weak_or_suspended.count",
        },
    }
    for sheet, columns in checks.items():
        ws = wb[sheet]
        header = [c.value for c in ws[3]]
        total_row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[1] == "Tổng cộng")
        for label, fid in columns.items():
            assert total_row[header.index(label)] == values[fid], (sheet, label)
        assert all(not (isinstance(c.value, str) and c.value.startswith("=")) for row in ws.iter_rows() for c in row)
        assert ws.max_row == 3 + 22 + 1


def test_appendix_keeps_formula_like_names_as_text(tmp_path: Path) -> None:
    from report.appendix import appendix_tables, write_appendix

    communes = pl.DataFrame({"code": ["1", "2"], "name": ['=HYPERLINK("x")', "+Xã"]})
    coops = pl.DataFrame({"commune_code": ["1"], "status": ["active"], "rating": ["good"], "sector": ["transport"]})
    groups = pl.DataFrame(
        schema={"commune_code": pl.String, "status": pl.String, "rating": pl.String, "kind": pl.String}
    )
    path = write_appendix(tmp_path / "a.xlsx", appendix_tables(coops, groups, communes), "test")
    ws = openpyxl.load_workbook(path)["PB01 HTX theo xếp loại"]
    assert ws.cell(4, 2).value == '=HYPERLINK("x")' and ws.cell(4, 2).data_type == "s"
    assert ws.cell(5, 2).data_type == "s"


def test_charts_and_markdown_are_written(sample_warehouse: Path) -> None:
    folder = sample_warehouse / "report" / "2024-Q3"
    for name in ("ratings", "sectors", "trend", "map"):
        data = (folder / "charts" / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
    md = (folder / "bao-cao.md").read_text(encoding="utf-8")
    assert "## Phần thứ nhất" in md and "19,70%" in md


def test_duckdb_views_work_from_any_directory(
    sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    con = duckdb.connect(str(sample_warehouse / "kttt.duckdb"), read_only=True)
    rows = con.sql("SELECT period, count(*) FROM cooperatives GROUP BY period ORDER BY period").fetchall()
    assert rows == [("2024-Q2", 132), ("2024-Q3", 135)]
    figure = con.sql("SELECT value FROM report_figures WHERE period = '2024-Q3' AND figure_id = 'htx.total'")
    assert figure.fetchall() == [(135.0,)]
    con.close()


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
