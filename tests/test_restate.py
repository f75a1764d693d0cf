"""Indicators restated on today's communes after merges."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from report.restate import restate, successors, today_names


def _communes() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "code": ["A", "B", "C", "D"],
            "name": ["An", "Bình", "Cường", "Đông"],
            "merged_into": ["C", "C", None, "A"],
            "code_2025": ["C", "C", "C", "C"],
            "name_2025": ["Mới", "Mới", "Mới", "Mới"],
        }
    )


def test_successors_follow_chains_and_stop_on_cycles() -> None:
    assert successors(_communes()) == {"A": "C", "B": "C", "C": "C", "D": "C"}
    loop = pl.DataFrame({"code": ["X", "Y"], "merged_into": ["Y", "X"]})
    assert set(successors(loop).values()) <= {"X", "Y"}
    assert today_names(_communes())["C"] == "Mới"


def test_additive_indicators_are_summed_and_means_left_out() -> None:
    ind = pl.DataFrame(
        {
            "period": ["2024-Q3"] * 4,
            "year": [2024] * 4,
            "quarter": [3] * 4,
            "geo_level": ["commune"] * 3 + ["district"],
            "commune_code": ["A", "B", "A", None],
            "indicator": ["htx.count", "htx.count", "htx.avg_income_mvnd_month", "htx.count"],
            "breakdown": [None] * 4,
            "value": [2.0, 3.0, 4.5, 5.0],
            "unit": ["count", "count", "mvnd/month", "count"],
        },
        schema_overrides={"year": pl.Int32, "quarter": pl.Int8},
    )
    out = restate(ind, _communes())
    assert out.select("commune_code", "commune_name", "from_communes", "indicator", "value").rows() == [
        ("C", "Mới", "A,B", "htx.count", 5.0)
    ]


def test_sample_is_restated_on_the_2025_communes(sample_warehouse: Path) -> None:
    original = pl.read_parquet(sample_warehouse / "indicators" / "2024-Q3.parquet")
    restated = pl.read_parquet(sample_warehouse / "indicators_restated" / "2024-Q3.parquet")
    totals = restated.filter((pl.col("indicator") == "htx.count") & pl.col("breakdown").is_null())
    assert totals["value"].sum() == 135
    assert (
        totals.height
        < original.filter(
            (pl.col("geo_level") == "commune") & (pl.col("indicator") == "htx.count") & pl.col("breakdown").is_null()
        ).height
    )
    assert "Đông Kinh" in totals["commune_name"].to_list()
