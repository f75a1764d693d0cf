"""Phase 4 of a quarter: checks across sheets and files, once every sheet is validated on its own.

Summary rows of rejected or superseded files are not facts; a support row must name a
cooperative that some submission of the quarter lists.
"""

from __future__ import annotations

import polars as pl

from ingest.stacking import SheetResult, row_mask
from ingest.submission import FileState


def drop_dead_summaries(summaries: SheetResult, states: list[FileState]) -> None:
    """Summary rows of files that are rejected or superseded are not facts, and their row issues are dropped (the
    file's own issue says why); those of a held file are kept with their issues (`drop_held` takes its rows out
    of the facts later)."""
    live_states = [i for i, s in enumerate(states) if s.live or s.held]
    summaries.rejected = summaries.rejected | ~summaries.frame["_state"].is_in(live_states)
    summaries.issues = summaries.issues.join(
        summaries.frame.with_row_index("_i").filter(~pl.col("_state").is_in(live_states)).select("_i"),
        on="_i",
        how="anti",
    )


def check_beneficiaries(support: SheetResult, cooperatives: SheetResult) -> None:
    """Reject support rows naming a cooperative no submission of the quarter lists (`coop_unknown`).

    Any cooperative of the period's submissions counts, accepted or not: a support row is
    not lost because the beneficiary's own row had an error.
    """
    known_ids = set(cooperatives.typed["coop_id"].drop_nulls().to_list())
    unknown = support.typed.with_row_index("_i").filter(
        pl.col("coop_id").is_not_null() & ~pl.col("coop_id").is_in(list(known_ids)) & ~support.rejected
    )
    if unknown.height:
        support.issues = pl.concat(
            [
                support.issues,
                unknown.select(
                    "_i",
                    pl.lit("coop_id").alias("column"),
                    pl.lit("coop_unknown").alias("rule"),
                    pl.col("coop_id").alias("value"),
                    pl.lit(None, dtype=pl.String).alias("detail"),
                ),
            ]
        )
        support.rejected = support.rejected | row_mask(support.frame.height, unknown["_i"].to_list())


def drop_held(tables: dict[str, pl.DataFrame], states: list[FileState]) -> dict[str, pl.DataFrame]:
    """The fact tables without the rows of held files: checked and warned like the others, out of the facts until
    the officer approves them (ingest/review.py)."""
    held = [s.file.rel for s in states if s.held]
    if not held:
        return tables
    return {name: t.filter(~pl.col("source_file").is_in(held)) for name, t in tables.items()}
