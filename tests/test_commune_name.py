"""`cooperatives` and `coop_groups` name each row's commune beside its code, from the reference list."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from schemas import warehouse as wh
from tests.conftest import REPO, SAMPLE_RAW


@pytest.mark.parametrize(("table", "model"), [("cooperatives", wh.Cooperatives), ("coop_groups", wh.CoopGroups)])
def test_rows_carry_the_commune_name(sample_warehouse: Path, table: str, model: type) -> None:
    rows = pl.read_parquet(sample_warehouse / table / "*.parquet")
    assert rows.columns[3:5] == ["commune_code", "commune_name"]
    assert wh.column_order(model)[3:5] == ["commune_code", "commune_name"]
    names = pl.read_csv(SAMPLE_RAW / "reference" / "communes.csv", infer_schema=False).select(
        "code", pl.col("name").alias("expected")
    )
    joined = (
        rows.select("commune_code", "commune_name")
        .unique()
        .join(names, left_on="commune_code", right_on="code", how="left")
    )
    assert joined.height >= 20 and joined["commune_name"].null_count() == 0
    assert (joined["commune_name"] == joined["expected"]).all(), joined.filter(
        pl.col("commune_name") != pl.col("expected")
    )


def test_the_data_dictionary_lists_it() -> None:
    text = (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    for table in ("cooperatives", "coop_groups"):
        section = text.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        assert "commune_name" in section, table
