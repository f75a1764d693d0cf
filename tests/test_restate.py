"""Units over time and restatement on a later period's units (small hand-made lists; real units in
test_province.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ingest.units import ReferenceConfigError, Units, normalise
from report.restate import restated_indicators, restatement, restatement_note
from schemas import warehouse as wh

FACTS = {"cooperatives": wh.Cooperatives, "coop_groups": wh.CoopGroups}

HEADER = "code,name,kind,valid_from,valid_to,district,merged_into,split_into\n"


def _units(text: str) -> Units:
    return Units(normalise(pl.read_csv(HEADER.encode() + text.encode(), infer_schema=False)))


CHAIN = _units(
    "A,An,xa,,2024-Q4,H1,C,\n"  # 2024 commune → 2025-Q1 commune → 2025-Q3 commune
    "B,Bình,xa,,2024-Q4,H1,C,\n"
    "C,Cường,xa,2025-Q1,2025-Q2,H1,C,\n"
    "C,Cường Mới,xa,2025-Q3,,,,\n"
    "D,Đông,thi_tran,,2025-Q2,H1,,\n"  # left the reporting unit after 2025-Q2
    "E,Én,phuong,2025-Q3,,,,\n"  # new in 2025-Q3, no predecessor
)


def test_a_unit_absorbed_by_one_that_goes_on_is_followed_to_it() -> None:
    units = _units("A,An,xa,,2024-Q3,,B,\nB,Bình,xa,,,,,\n")
    assert units.successor_in("A", "2024-Q3", "2024-Q4").name == "Bình"
    assert units.restate_map("2024-Q3", "2025-Q3") == {"A": "B", "B": "B"}


def test_chains_are_followed_to_the_unit_of_the_later_period() -> None:
    assert CHAIN.successor_in("A", "2024-Q3", "2025-Q4").name == "Cường Mới"
    assert CHAIN.successor_in("A", "2024-Q3", "2025-Q1").name == "Cường"
    assert CHAIN.successor_in("D", "2024-Q3", "2025-Q3") is None
    assert CHAIN.restate_map("2024-Q4", "2025-Q3") == {"A": "C", "B": "C", "D": None}
    assert [u.code for u in CHAIN.valid_in("2025-Q3")] == ["C", "E"]


def test_a_code_is_resolved_in_its_period_only() -> None:
    assert CHAIN.resolve("C", "2025-Q2").name == "Cường"
    assert CHAIN.resolve("C", "2025-Q4").name == "Cường Mới"
    assert CHAIN.resolve("Xã An", "2025-Q3") is None
    assert CHAIN.elsewhere("Xã An", "2025-Q3").window == "…–2024-Q4"
    assert CHAIN.resolve("UBND phường Én", "2025-Q3").code == "E"


def test_restated_rows_and_note() -> None:
    how = restatement(CHAIN, "2024-Q4", "2025-Q3")
    rows = pl.DataFrame({"commune_code": ["A", "A", "B", "D"], "x": [1, 2, 3, 4]})
    assert how.rows(rows).sort("x").rows() == [("C", 1), ("C", 2), ("C", 3)]
    note = restatement_note(how)
    assert note is not None and "thị trấn Đông" in note and "phường Én" in note


def test_means_are_recomputed_from_restated_rows_not_averaged() -> None:
    coops = pl.DataFrame(
        {
            "commune_code": ["A", "B", "B"],
            "coop_id": ["1", "2", "3"],
            "status": ["active"] * 3,
            "rating": ["good"] * 3,
            "sector": ["transport"] * 3,
            "members": [10, 20, 30],
            "avg_income_mvnd_month": [3.0, 6.0, 6.0],
        }
    )
    empty = {name: pl.DataFrame(schema=wh.polars_schema(model)) for name, model in FACTS.items()}
    tables = {**empty, "cooperatives": pl.concat([empty["cooperatives"], coops], how="diagonal_relaxed")}
    out = restated_indicators(tables, CHAIN, "2024-Q4", "2025-Q4")
    value = dict(out.filter(pl.col("breakdown").is_null()).select("indicator", "value").iter_rows())
    assert value["htx.count"] == 3 and value["htx.members"] == 60
    assert value["htx.avg_income_mvnd_month"] == 5.0  # (3 + 6 + 6) / 3, not the mean of 3 and 6
    assert set(out["from_communes"].to_list()) == {"A,B"}


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("A,An,xa,,2025-Q2,,,\nA,An Mới,xa,2025-Q2,,,,\n", "overlapping"),
        ("A,An,xa,,2025-Q2,,Z,\n", "no row with that code is valid in 2025-Q3"),
        ("A,An,huyen,,,,,\n", "unknown kind"),
        ("A,An,xa,2025-Q5,,,,\n", "is not a quarter"),
        ("A,An,xa,,,,B,\nB,Bình,xa,,,,,\n", "but no valid_to"),
        ("A,An,xa,,2024-Q4,,B,\nB,Bình,xa,2025-Q3,,,,\n", "no row with that code is valid in 2025-Q1"),
    ],
)
def test_a_broken_commune_list_is_a_configuration_error(rows: str, problem: str) -> None:
    with pytest.raises(ReferenceConfigError) as caught:
        _units(rows)
    assert problem in str(caught.value) and "Lỗi cấu hình" in str(caught.value)


def test_sample_is_restated_on_its_latest_quarter(sample_warehouse: Path) -> None:
    original = pl.read_parquet(sample_warehouse / "indicators" / "2024-Q2.parquet")
    restated = pl.read_parquet(sample_warehouse / "indicators_restated" / "2024-Q2.parquet")
    pick = (pl.col("indicator") == "htx.count") & pl.col("breakdown").is_null()
    before = original.filter(pick & (pl.col("geo_level") == "commune")).select("commune_code", "value")
    after = restated.filter(pick).select("commune_code", "value")
    assert after.sort("commune_code").rows() == before.sort("commune_code").rows()  # same units in 2024-Q3
    units = pl.read_parquet(sample_warehouse / "units" / "all.parquet")
    assert units.height == 33 and units["current_code"].null_count() == 0


def test_restated_indicators_taken_from_the_quarters_own_are_those_computed_from_its_rows(
    sample_warehouse: Path,
) -> None:
    """Where a quarter's units are the latest's, `indicators_restated` is taken from the quarter's `indicators`
    (changes against the previous quarter left out): the same table as computed from the restated rows."""
    from ingest.reference import load_reference
    from tests.conftest import SAMPLE_PERIODS, SAMPLE_RAW

    units = load_reference(SAMPLE_RAW).units
    latest = max(SAMPLE_PERIODS)
    for period in SAMPLE_PERIODS:
        tables = {name: pl.read_parquet(sample_warehouse / name / f"{period}.parquet") for name in FACTS}
        own = pl.read_parquet(sample_warehouse / "indicators" / f"{period}.parquet")
        stored = pl.read_parquet(sample_warehouse / "indicators_restated" / f"{period}.parquet")
        assert stored.equals(restated_indicators(tables, units, period, latest)), period
        assert stored.equals(restated_indicators(tables, units, period, latest, own=own)), period
    changes = pl.read_parquet(sample_warehouse / "indicators" / f"{latest}.parquet").filter(
        pl.col("indicator").str.starts_with("htx.change.") & (pl.col("geo_level") == "commune")
    )
    assert changes.height and restatement(units, latest, latest).changes_nothing(tables)
