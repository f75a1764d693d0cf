"""Which expected communes reported in a period, and on time."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ingest.reference import Reference
from ingest.review import unit_reviews
from schemas import warehouse as wh
from schemas.periods import period_parts, quarter_end

ACCEPTED = ("accepted", "accepted_with_errors")


def completeness(
    log: pl.DataFrame,
    reference: Reference,
    period: str,
    deadline_days: int | None = None,
    decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per commune expected in ``period`` (validity window), from the submission log.

    ``on_time`` compares the accepted submission's report date with the deadline: the
    quarter's last day plus ``deadline_days`` (default from ``district.yaml``, else 15).
    A file held for review counts as submitted (the commune did send it); the review
    columns come from the officer's ``decisions`` (ingest/review.py).
    """
    year, quarter = period_parts(period)
    days = reference.deadline_days if deadline_days is None else deadline_days
    deadline = quarter_end(period) + timedelta(days=days)
    communes = log.filter(pl.col("file_kind") != "district")
    winners = {r["commune_code"]: r for r in communes.filter(pl.col("status").is_in(ACCEPTED)).iter_rows(named=True)}
    held = {r["commune_code"]: r for r in communes.filter(pl.col("status") == "held").iter_rows(named=True)}
    tried = set(communes["commune_code"].drop_nulls().to_list())
    units = unit_reviews(decisions.filter(pl.col("period") == period)) if decisions is not None else {}
    rows = []
    for code, name in reference.expected(period).select("code", "name").iter_rows():
        accepted = winners.get(code)
        w = accepted or held.get(code)
        latest = units[code].latest if code in units else None
        on_time = w is not None and w["report_date"] is not None and w["report_date"] <= deadline
        if w is not None:
            status = "on_time" if on_time else "late"
        else:
            status = "rejected" if code in tried else "missing"
        rows.append(
            {
                "period": period,
                "year": year,
                "quarter": quarter,
                "commune_code": code,
                "commune_name": name,
                "submitted": w is not None,
                "on_time": on_time,
                "status": status,
                "report_date": w["report_date"] if w else None,
                "deadline": deadline,
                "source_file": accepted["source_file"] if accepted else None,
                "review_state": latest["decision"] if latest else ("received" if code in tried else None),
                "reviewed_by": latest["decided_by"] if latest else None,
                "reviewed_at": latest["decided_at"] if latest else None,
                "review_note": latest["note"] if latest else None,
                "held_file": held[code]["source_file"] if code in held else None,
            }
        )
    return pl.DataFrame(rows, schema=wh.polars_schema(wh.Completeness)).sort("commune_code")
