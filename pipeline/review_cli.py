"""``kttt review approve|return|reopen``: the officer's decisions from the command line.

    kttt review approve --period 2024-Q3 --unit 18562 --by "Nguyễn Văn A" [--note TEXT]
    kttt review approve --period 2024-Q3 --all-clean --by "Nguyễn Văn A"
    kttt review return  --period 2024-Q3 --unit 18562 --by "Nguyễn Văn A" --note "Thiếu HTX Thạch Liên"
    kttt review reopen  --period 2024-Q3 --unit 18562 --by "Nguyễn Văn A"

The decision is checked against the quarter as last stored in the warehouse (its submission log), appended to
the ``reviews`` table, then the quarter is refreshed so that its tables, figures and report follow it (the same
as the ``review`` job of the Dagster UI). Exits 2 when the decision cannot be made (nothing is written), else as
``kttt run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.locks import DEFAULT_WAIT
from pipeline.resources import DEFAULT_RAW, DEFAULT_WAREHOUSE, RAW_ENV, WAREHOUSE_ENV
from pipeline.storage import WarehouseWriteError
from schemas.messages import say
from schemas.periods import is_period_key


def record(args: argparse.Namespace, raw: Path, warehouse: str) -> str | int:
    """Check and append the decision of ``args``; the period to refresh, or the exit code when there is none."""
    from ingest.reference import load_reference
    from ingest.review import Request, ReviewConfigError, ReviewRequestError, load_review_policy, plan
    from pipeline.review_store import append_decisions, read_decisions
    from pipeline.storage import read_table

    if not (raw / "reference" / "communes.csv").exists():
        print(say("no_reference", raw=raw), file=sys.stderr)
        return 2
    period = args.period.strip().upper()
    if not is_period_key(period):
        print(say("bad_period", period=args.period), file=sys.stderr)
        return 2
    try:
        load_review_policy(raw)
        try:
            log = read_table(warehouse, "submission_log", [period])
            rejected = read_table(warehouse, "rejected_rows", [period])
        except FileNotFoundError as exc:
            raise ReviewRequestError(say("review_not_run", period=period)) from exc
        request = Request(args.action, period, args.by, args.unit, args.all_clean, args.note)
        new, told = plan(request, log, rejected, read_decisions(warehouse, period), load_reference(raw).resolve)
    except (ReviewConfigError, ReviewRequestError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        append_decisions(warehouse, new)
    except WarehouseWriteError as exc:  # the decisions written before the failure stay
        print(str(exc), file=sys.stderr)
        return 1
    for r in new.iter_rows(named=True):
        unit, file, decision, by = r["commune_code"], r["source_file"], r["decision"], r["decided_by"]
        print(say("review_recorded", unit=unit, file=file, decision=decision, by=by))
    for line in told:
        print(line)
    if new.is_empty():
        print(say("review_nothing"))
        return 0
    print(say("review_refreshing", period=period), file=sys.stderr)
    return period


def add_review_parser(sub: argparse._SubParsersAction, func: Callable[[argparse.Namespace], int]) -> None:
    """``kttt review …`` on the command-line parser."""
    rev = sub.add_parser(
        "review", help="record the officer's decision on a commune's submission (approve, return, reopen)"
    )
    rev.add_argument("action", choices=("approve", "return", "reopen"))
    rev.add_argument("--period", required=True, help="quarter, e.g. 2024-Q3")
    rev.add_argument("--unit", help="commune code or name")
    rev.add_argument("--all-clean", action="store_true", help="approve every commune whose file has no error")
    rev.add_argument("--by", required=True, help="who decides (recorded with the decision)")
    rev.add_argument("--note", help="comment for the commune (required to return a submission)")
    rev.add_argument("--raw", help=f"raw directory (default ${RAW_ENV} or ./{DEFAULT_RAW})")
    rev.add_argument("--warehouse", help=f"warehouse directory (default ${WAREHOUSE_ENV} or ./{DEFAULT_WAREHOUSE})")
    rev.add_argument(
        "--wait", type=float, default=DEFAULT_WAIT, metavar="SECONDS", help="as for run: wait for another run"
    )
    rev.add_argument("--no-report", action="store_true", help="refresh every table but do not render the report")
    rev.set_defaults(func=func)
