"""Validation micro-benchmark: rows through the cooperatives' pandera model vs the same rules as bare polars.

    sh scripts/uv run python benchmarks/validation.py [--rows 1000000]

Builds ``--rows`` cooperative rows from the sample district (ids made unique, a few
rows broken on purpose), then, in one process, times ``ingest.validate.model_issues``
(one pandera call, as the pipeline does per table and period) against hand-written
polars expressions checking the same rules, and prints the ratio last.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from ingest.discover import period_files
from ingest.period import process_period
from ingest.reference import load_reference
from ingest.validate import model_issues
from schemas.vocab import BY_NAME, RATINGS, SECTORS, STATUSES, SUBSECTORS
from schemas.warehouse import Cooperatives

RAW = Path(__file__).resolve().parents[1] / "raw"


def sample_rows(n: int) -> pl.DataFrame:
    """``n`` cooperative rows built from the sample's 2024-Q3, with unique ids and 1% broken rows."""
    files, _ = period_files(RAW, "2024-Q3")
    coops = process_period(files, load_reference(RAW), "2024-Q3").tables["cooperatives"]
    reps = n // coops.height + 1
    big = pl.concat([coops] * reps).head(n).with_row_index("_n")
    big = big.with_columns(
        (pl.col("coop_id") + "-" + pl.col("_n").cast(pl.String)).alias("coop_id"),
        (pl.col("source_file") + "#" + (pl.col("_n") // 1000).cast(pl.String)).alias("source_file"),
        pl.when(pl.col("_n") % 100 == 0)
        .then(-1.0)
        .otherwise(pl.col("charter_capital_mvnd"))
        .alias("charter_capital_mvnd"),
    )
    return big.drop("_n")


def bare_polars(df: pl.DataFrame) -> int:
    """The cooperatives' rules as plain polars expressions; returns the number of failing rows."""
    c = pl.col
    ok = pl.all_horizontal(
        c("coop_id").is_not_null(),
        c("name").is_not_null(),
        c("sector").is_in(SECTORS.codes).fill_null(False),
        c("subsector").is_in(SUBSECTORS.codes).fill_null(True),
        c("status").is_in(STATUSES.codes).fill_null(False),
        c("rating").is_in(RATINGS.codes).fill_null(True),
        c("founded_year").is_not_null() & (c("founded_year") >= 1955) & (c("founded_year") <= c("year")),
        c("members").is_not_null() & (c("members") >= 0),
        c("charter_capital_mvnd").is_not_null() & (c("charter_capital_mvnd") >= 0),
        *[
            (c(x) >= 0).fill_null(True)
            for x in (
                "revenue_mvnd",
                "tax_paid_mvnd",
                "insured_workers",
                "avg_income_mvnd_month",
                "managers",
                "managers_college",
                "managers_vocational",
                "drones",
                "loans_disbursed_mvnd",
                "loan_contracts",
            )
        ],
        c("ocop_stars").is_between(1, 5).fill_null(True),
        c("tax_code").str.contains(r"^\d{10}(-\d{3})?$").fill_null(True),
        (c("sector") != "agriculture") | c("subsector").is_not_null(),
        c("subsector").is_null() | (c("sector") == "agriculture"),
        (c("status") != "active") | c("rating").is_not_null(),
        c("rating").is_null() | (c("status") == "active"),
        c("profit_mvnd").is_null() | c("revenue_mvnd").is_null() | (c("profit_mvnd") <= c("revenue_mvnd")),
        c("managers").is_null()
        | (c("managers_college").fill_null(0) + c("managers_vocational").fill_null(0) <= c("managers")),
        (c("loans_disbursed_mvnd").is_null() & c("loan_contracts").is_null()) | (c("sector") == "credit_fund"),
        ~pl.struct("source_file", "coop_id").is_duplicated(),
    )
    return df.select((~ok).sum()).item()


def main() -> None:
    """Run the benchmark and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    df = sample_rows(args.rows)
    start = time.perf_counter()
    issues = model_issues(Cooperatives, df, BY_NAME)
    pandera_s = time.perf_counter() - start
    start = time.perf_counter()
    failing = bare_polars(df)
    polars_s = time.perf_counter() - start
    rows_flagged = issues["_i"].n_unique()
    print(
        f"rows={df.height} pandera_s={pandera_s:.3f} bare_polars_s={polars_s:.3f} "
        f"flagged_pandera={rows_flagged} flagged_polars={failing}"
    )
    print(f"ratio_pandera_vs_polars={pandera_s / polars_s:.2f}")


if __name__ == "__main__":
    main()
