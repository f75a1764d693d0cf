"""Review, approval and lock (docs/review.md), on real workbooks, the real CLI and the real Dagster runs.

The long test walks the officer's year on a copy of the sample district with `review: required`: everything
held, approved in one go (the seed's figures), a resubmission held with the figures unchanged byte for byte,
approved (the figures change, the old file superseded), a later file returned with a comment that reaches the
commune's feedback workbook. Shorter tests cover the lock (arrival time in Vietnam), reopening, `--all-clean`
and configuration errors; one kills `kttt review` with SIGKILL while it writes decisions.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import polars as pl
import pytest

from ingest.completeness import completeness
from ingest.reference import load_reference
from ingest.review import Request, ReviewConfigError, ReviewRequestError, load_review_policy, plan
from pipeline.cli import main
from pipeline.jobs import ASSETS, PERIOD_SELECTION
from pipeline.partitions import PERIOD_PARTITIONS
from pipeline.resources import build_resources
from pipeline.review_store import append_decisions, read_decisions
from schemas.warehouse import Reviews, polars_schema
from tests.builders import COMMUNE, COMMUNE_CODE, htx_rows, log_row, q3, run, submission
from tests.conftest import REPO
from tests.seed_values import SEED_Q3

PERIOD = "2024-Q3"
OFFICER = "Nguyễn Văn An"
NOTE = "Thiếu HTX Thạch Liên 2; đề nghị bổ sung và gửi lại"


def _require_review(raw: Path, *lines: str) -> None:
    ref = raw / "reference" / "district.yaml"
    text = ref.read_text(encoding="utf-8") if ref.exists() else ""
    ref.write_text(text + "".join(f"{line}\n" for line in lines), encoding="utf-8")


def _kttt(*args: object) -> int:
    return main([str(a) for a in args])


def _figures(wh: Path) -> dict[str, float]:
    return dict(pl.read_parquet(wh / "report_figures" / f"{PERIOD}.parquet").select("figure_id", "value").iter_rows())


def _log(wh: Path) -> pl.DataFrame:
    return pl.read_parquet(wh / "submission_log" / f"{PERIOD}.parquet")


def _status(wh: Path, name: str) -> dict:
    rows = _log(wh).filter(pl.col("source_file") == f"2024/Q3/{name}").to_dicts()
    assert len(rows) == 1, _log(wh)
    return rows[0]


def _reviews(wh: Path) -> pl.DataFrame:
    return pl.scan_parquet(str(wh / "reviews" / "**" / "*.parquet")).collect()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]


def test_approve_resubmit_hold_approve_and_return_with_the_real_cli(sample_raw: Path, tmp_path: Path) -> None:
    raw, wh = sample_raw, tmp_path / "wh"
    _require_review(raw, "review: required")
    common = ("--raw", raw, "--warehouse", wh)

    # 1. Nothing approved yet: every commune file is held, no fact, the report says who is not approved.
    assert _kttt("run", *common, "--period", PERIOD) == 0
    log = _log(wh)
    assert log.filter(pl.col("file_kind") != "district")["status"].unique().to_list() == ["held"]
    assert _status(wh, "_district.xlsx")["status"] == "accepted"
    assert pl.read_parquet(wh / "cooperatives" / f"{PERIOD}.parquet").is_empty()
    assert _figures(wh)["htx.total"] == 0
    comp = pl.read_parquet(wh / "completeness" / f"{PERIOD}.parquet")
    assert comp["review_state"].unique().to_list() == ["received"] and comp["submitted"].all()
    md = (wh / "report" / PERIOD / "bao-cao.md").read_text(encoding="utf-8")
    assert "Các xã chưa được duyệt (22/22)" in md and "Thạch Liên (chưa duyệt)" in md

    # 2. Approve every clean file: the seed's figures, every decision in the reviews table.
    assert _kttt("review", "approve", "--all-clean", "--period", PERIOD, "--by", OFFICER, *common, "--no-report") == 0
    figures = _figures(wh)
    for figure_id, value in SEED_Q3.items():
        assert figures[figure_id] == pytest.approx(value), figure_id
    decisions = _reviews(wh)
    assert decisions.height == 22 and decisions["decision"].unique().to_list() == ["approved"]
    assert decisions["decided_by"].unique().to_list() == [OFFICER]
    shas = dict(_log(wh).select("source_file", "source_sha256").iter_rows())
    assert all(shas[f] == s for f, s in decisions.select("source_file", "source_sha256").iter_rows())
    comp = pl.read_parquet(wh / "completeness" / f"{PERIOD}.parquet")
    assert comp["review_state"].unique().to_list() == ["approved"] and comp["held_file"].is_null().all()
    old_rows = pl.read_parquet(wh / "cooperatives" / f"{PERIOD}.parquet").filter(pl.col("commune_code") == COMMUNE_CODE)
    assert old_rows.height > 3

    # 3. The commune resubmits: the new file is held, the figures are the same bytes.
    before = (wh / "report_figures" / f"{PERIOD}.parquet").read_bytes()
    second = submission(q3(raw) / "thach-lien-lan-2.xlsx", htx=htx_rows(3), report_date=date(2024, 10, 12))
    assert _kttt("run", *common, "--period", PERIOD, "--no-report") == 0
    assert _status(wh, "thach-lien-lan-2.xlsx")["status"] == "held"
    assert _status(wh, "thach-lien.xlsx")["status"] == "accepted"
    assert (wh / "report_figures" / f"{PERIOD}.parquet").read_bytes() == before
    mine = pl.read_parquet(wh / "completeness" / f"{PERIOD}.parquet").filter(pl.col("commune_code") == COMMUNE_CODE)
    assert mine.row(0, named=True)["held_file"] == "2024/Q3/thach-lien-lan-2.xlsx"

    # 4. The officer approves the held file: it supersedes the old one, the figures change.
    assert (
        _kttt("review", "approve", "--unit", COMMUNE, "--period", PERIOD, "--by", OFFICER, *common, "--no-report") == 0
    )
    latest = _reviews(wh).sort("decided_at").row(-1, named=True)
    assert latest["source_sha256"] == _sha(second) and latest["commune_code"] == COMMUNE_CODE
    assert _status(wh, "thach-lien-lan-2.xlsx")["status"] == "accepted"
    old = _status(wh, "thach-lien.xlsx")
    assert old["status"] == "superseded" and old["superseded_by"] == "2024/Q3/thach-lien-lan-2.xlsx"
    assert _figures(wh)["htx.total"] == 135 - old_rows.height + 3

    # 5. A third file is returned with a comment: out of the figures, the comment in the feedback workbook.
    approved_figures = (wh / "report_figures" / f"{PERIOD}.parquet").read_bytes()
    submission(q3(raw) / "thach-lien-lan-3.xlsx", htx=htx_rows(5), report_date=date(2024, 10, 14))
    assert _kttt("run", *common, "--period", PERIOD, "--no-report") == 0
    assert _status(wh, "thach-lien-lan-3.xlsx")["status"] == "held"
    n = _reviews(wh).height
    assert _kttt("review", "return", "--unit", COMMUNE_CODE, "--period", PERIOD, "--by", OFFICER, *common) == 2
    assert _reviews(wh).height == n, "a return without a comment is refused before anything is written"
    args = ("review", "return", "--unit", COMMUNE_CODE, "--period", PERIOD, "--by", OFFICER, "--note", NOTE)
    assert _kttt(*args, *common, "--no-report") == 0
    assert _status(wh, "thach-lien-lan-3.xlsx")["status"] == "rejected"
    assert _status(wh, "thach-lien-lan-2.xlsx")["status"] == "accepted"
    assert (wh / "report_figures" / f"{PERIOD}.parquet").read_bytes() == approved_figures
    [workbook] = (wh / "feedback" / PERIOD).glob(f"{COMMUNE_CODE}-*.xlsx")
    cells = _cells(workbook)
    assert any(NOTE in c and OFFICER in c and "thach-lien-lan-3.xlsx" in c for c in cells), cells
    mine = pl.read_parquet(wh / "completeness" / f"{PERIOD}.parquet").filter(pl.col("commune_code") == COMMUNE_CODE)
    row = mine.row(0, named=True)
    assert (row["review_state"], row["review_note"], row["reviewed_by"]) == ("returned", NOTE, OFFICER)
    assert row["source_file"] == "2024/Q3/thach-lien-lan-2.xlsx" and row["submitted"]
    assert [r for r in _reviews(wh)["decision"].to_list() if r != "approved"] == ["returned"]

    # The DuckDB views of the warehouse include the decisions.
    con = duckdb.connect(str(wh / "kttt.duckdb"), read_only=True)
    con.execute(f"SET file_search_path = '{wh}'")
    assert con.sql("SELECT count(*) FROM reviews").fetchall() == [(24,)]
    con.close()


# ---------------------------------------------------------------------------------------------------------------
# The lock: arrival time is the file's modification time, in Vietnam's time


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


def _decide(raw: Path, tables: dict[str, pl.DataFrame], name: str, decision: str, note: str | None = None) -> None:
    """Append a decision on a file of the last run, as `kttt review` does, into the warehouse beside `raw`."""
    row = log_row(tables, f"2024/Q3/{name}")
    action = {"approved": "approve", "returned": "return", "reopened": "reopen"}[decision]
    request = Request(action, PERIOD, OFFICER, unit=row["commune_code"], note=note)
    wh = raw.parent / "warehouse"
    new, _ = plan(request, tables["submission_log"], tables["rejected_rows"], read_decisions(wh, PERIOD), str)
    assert new.height == 1
    append_decisions(wh, new)


def test_a_locked_period_holds_a_late_file_until_approved(raw_dir: Path) -> None:
    """Deadline 15/10/2024, `lock_after_days: 10`: the period locks at the end of 25/10/2024, Vietnam time."""
    _require_review(raw_dir, "name: Thạch Hà", "lock_after_days: 10")
    folder = q3(raw_dir)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2), mtime=_stamp("2024-10-20T09:00:00+07:00"))
    submission(
        folder / "thach-lien-bo-sung.xlsx",
        htx=htx_rows(4),
        report_date=date(2024, 10, 28),
        mtime=_stamp("2024-10-26T00:00:01+07:00"),
    )
    # Another commune: in time by one second (23:59:59 in Hà Tĩnh is 16:59:59 UTC), and one late by one second.
    submission(folder / "ngoc-son.xlsx", commune="Ngọc Sơn", mtime=_stamp("2024-10-25T23:59:59+07:00"))
    submission(folder / "viet-tien.xlsx", commune="Việt Tiến", mtime=_stamp("2024-10-26T00:00:00+07:00"))
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "accepted"
    late = log_row(tables, "2024/Q3/thach-lien-bo-sung.xlsx")
    assert late["status"] == "held" and late["rows_read"] == 4 + 1 + 1 and late["rows_in"] == 0  # HTX, THT, TongHop
    assert log_row(tables, "2024/Q3/ngoc-son.xlsx")["status"] == "accepted"
    assert log_row(tables, "2024/Q3/viet-tien.xlsx")["status"] == "held"
    coops = tables["cooperatives"]
    assert coops.filter(pl.col("commune_code") == COMMUNE_CODE).height == 2
    assert set(coops["source_file"]) == {"2024/Q3/thach-lien.xlsx", "2024/Q3/ngoc-son.xlsx"}
    said = tables["rejected_rows"].filter(pl.col("rule") == "submission_held_late")
    assert sorted(said["source_file"]) == ["2024/Q3/thach-lien-bo-sung.xlsx", "2024/Q3/viet-tien.xlsx"]
    assert all("25/10/2024" in m for m in said["message_vi"]) and set(said["severity"]) == {"warning"}
    comp = completeness(tables["submission_log"], load_reference(raw_dir), PERIOD)
    viet_tien = comp.filter(pl.col("commune_name") == "Việt Tiến").row(0, named=True)
    assert viet_tien["submitted"] and viet_tien["source_file"] is None
    assert viet_tien["held_file"] == "2024/Q3/viet-tien.xlsx" and viet_tien["review_state"] == "received"

    _decide(raw_dir, tables, "thach-lien-bo-sung.xlsx", "approved")
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien-bo-sung.xlsx")["status"] == "accepted"
    old = log_row(tables, "2024/Q3/thach-lien.xlsx")
    assert old["status"] == "superseded" and old["superseded_by"] == "2024/Q3/thach-lien-bo-sung.xlsx"
    assert tables["cooperatives"].filter(pl.col("commune_code") == COMMUNE_CODE).height == 4
    assert log_row(tables, "2024/Q3/viet-tien.xlsx")["status"] == "held"


def test_reopening_takes_the_approval_back(raw_dir: Path) -> None:
    _require_review(raw_dir, "name: Thạch Hà", "review: required")
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=htx_rows(3))
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "held" and tables["cooperatives"].is_empty()
    _decide(raw_dir, tables, "thach-lien.xlsx", "approved")
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "accepted" and tables["cooperatives"].height == 3
    _decide(raw_dir, tables, "thach-lien.xlsx", "reopened")
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "held" and tables["cooperatives"].is_empty()
    decisions = read_decisions(raw_dir.parent / "warehouse", PERIOD)
    comp = completeness(tables["submission_log"], load_reference(raw_dir), PERIOD, decisions=decisions)
    assert comp.filter(pl.col("commune_code") == COMMUNE_CODE)["review_state"].to_list() == ["reopened"]


def test_with_review_off_a_return_still_takes_the_file_out_and_the_earlier_one_stands(raw_dir: Path) -> None:
    folder = q3(raw_dir)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2), report_date=date(2024, 10, 5))
    submission(folder / "thach-lien-2.xlsx", htx=htx_rows(4), report_date=date(2024, 10, 9))
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "superseded"
    _decide(raw_dir, tables, "thach-lien-2.xlsx", "returned", note=NOTE)
    tables = run(raw_dir)
    assert log_row(tables, "2024/Q3/thach-lien-2.xlsx")["status"] == "rejected"
    assert log_row(tables, "2024/Q3/thach-lien.xlsx")["status"] == "accepted"
    assert tables["cooperatives"].height == 2
    returned = tables["rejected_rows"].filter(pl.col("rule") == "submission_returned").row(0, named=True)
    assert NOTE in returned["message_vi"] and NOTE in returned["message_en"] and OFFICER in returned["message_en"]


def test_all_clean_leaves_files_with_errors_and_approved_units_alone(raw_dir: Path) -> None:
    _require_review(raw_dir, "name: Thạch Hà", "review: required")
    folder = q3(raw_dir)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2))
    submission(folder / "ngoc-son.xlsx", commune="Ngọc Sơn", htx=htx_rows(2, members="nhiều"))
    submission(folder / "viet-tien.xlsx", commune="Việt Tiến")
    tables = run(raw_dir)
    wh = raw_dir.parent / "warehouse"
    _decide(raw_dir, tables, "viet-tien.xlsx", "approved")
    reference = load_reference(raw_dir)
    request = Request("approve", PERIOD, OFFICER, all_clean=True)
    new, told = plan(request, tables["submission_log"], tables["rejected_rows"], read_decisions(wh), reference.resolve)
    assert new["source_file"].to_list() == ["2024/Q3/thach-lien.xlsx"]
    assert len(told) == 1 and "ngoc-son.xlsx" in told[0]
    for bad in (
        Request("approve", PERIOD, " ", unit=COMMUNE),
        Request("return", PERIOD, OFFICER, unit=COMMUNE),
        Request("reopen", PERIOD, OFFICER, unit=COMMUNE),
        Request("approve", PERIOD, OFFICER, unit="Không Có"),
        Request("approve", PERIOD, OFFICER),
        Request("return", PERIOD, OFFICER, all_clean=True, note=NOTE),
        Request("approve", "2024-Q2", OFFICER, unit=COMMUNE),
    ):
        with pytest.raises(ReviewRequestError) as caught:
            plan(bad, tables["submission_log"], tables["rejected_rows"], read_decisions(wh), reference.resolve)
        assert " / " in str(caught.value), "Vietnamese, then English"


@pytest.mark.parametrize(
    ("line", "key"), [("review: maybe", "review"), ("lock_after_days: -3", "lock_after_days")], ids=["review", "lock"]
)
def test_a_wrong_setting_stops_before_anything_is_written(sample_raw: Path, tmp_path: Path, line: str, key: str):
    _require_review(sample_raw, line)
    with pytest.raises(ReviewConfigError) as caught:
        load_review_policy(sample_raw)
    assert "district.yaml" in str(caught.value) and f"'{key}'" in str(caught.value)
    (sample_raw / "reference" / "unit.yaml").write_text("level: district\nreview: required\n", encoding="utf-8")
    assert load_review_policy(sample_raw).required, "unit.yaml, when there is one, is the file read"
    (sample_raw / "reference" / "unit.yaml").unlink()
    wh = tmp_path / "wh"
    assert _kttt("run", "--raw", sample_raw, "--warehouse", wh, "--period", PERIOD, "--no-report") == 2
    assert not wh.exists()
    # A run started elsewhere (the UI, a schedule) stops at its first step, before any table is written.
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PERIOD_PARTITIONS, [PERIOD])
    result = dg.materialize(
        ASSETS,
        selection=PERIOD_SELECTION,
        partition_key=PERIOD,
        instance=instance,
        resources=build_resources(str(sample_raw), str(wh)),
        raise_on_error=False,
    )
    assert not result.success
    failures = [str(e.event_specific_data) for e in result.all_events if e.is_failure]
    assert any("district.yaml" in f and f"'{key}'" in f for f in failures), failures
    assert not list(wh.rglob("*.parquet"))


# ---------------------------------------------------------------------------------------------------------------
# Append-only, even when killed


def _pause_at_a_decision(proc: subprocess.Popen[bytes], folder: Path) -> list[str]:
    """SIGSTOP `proc` at a moment one of its decision files is being written (a hidden temporary file there)."""
    while proc.poll() is None:
        try:
            names = [p.name for p in folder.iterdir()]
        except OSError:
            names = []
        if any(n.startswith(".") and n.endswith(".tmp") for n in names):
            os.killpg(proc.pid, signal.SIGSTOP)
            present = [p.name for p in folder.iterdir() if p.name.startswith(".")]
            if present:
                return present
            os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.0005)
    pytest.fail(f"kttt review ended before writing a decision: {proc.returncode}")


def test_decisions_are_never_lost_even_when_killed_mid_write(sample_warehouse: Path, tmp_path: Path) -> None:
    """`kttt review approve --all-clean` (22 decisions) is killed with SIGKILL while it writes one: every decision
    written before is whole and readable (polars, DuckDB), an older decision of another quarter is still there,
    the one being written is not visible at all; running the command again records exactly the missing ones."""
    wh = tmp_path / "wh"
    shutil.copytree(sample_warehouse, wh)
    raw = sample_warehouse.parent / "raw"
    earlier = pl.DataFrame(
        [
            {
                "period": "2024-Q2",
                "year": 2024,
                "quarter": 2,
                "commune_code": COMMUNE_CODE,
                "decision": "approved",
                "source_file": "2024/Q2/thach-lien.xlsx",
                "source_sha256": _sha(raw / "2024" / "Q2" / "thach-lien.xlsx"),
                "decided_by": OFFICER,
                "decided_at": datetime(2024, 8, 1, tzinfo=UTC),
                "note": None,
                "decision_id": "1" * 32,
            }
        ],
        schema=polars_schema(Reviews),
    )
    append_decisions(wh, earlier)
    folder = wh / "reviews"
    argv = [sys.executable, "-m", "pipeline.cli", "review", "approve", "--all-clean", "--period", PERIOD]
    argv += ["--by", OFFICER, "--raw", str(raw), "--warehouse", str(wh), "--no-report"]
    with (tmp_path / "killed.log").open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        hidden = _pause_at_a_decision(proc, folder)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGCONT)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert hidden
    visible = sorted(p.name for p in folder.glob("*.parquet"))
    assert all(not n.startswith(".") for n in visible)
    decisions = _reviews(wh)
    assert decisions.height == len(visible) and 1 <= decisions.height < 23
    assert decisions.filter(pl.col("period") == "2024-Q2").height == 1
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{folder}/*.parquet')").fetchall() == [(len(visible),)]
    for name in visible:  # each file is whole: one decision
        assert pl.read_parquet(folder / name).height == 1
    written = set(decisions.filter(pl.col("period") == PERIOD)["commune_code"])

    again = subprocess.run([*argv], cwd=REPO, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    after = _reviews(wh)
    assert after.filter(pl.col("period") == "2024-Q2").height == 1
    q3_decisions = after.filter(pl.col("period") == PERIOD)
    assert q3_decisions.height == 22 and q3_decisions["commune_code"].n_unique() == 22
    assert set(decisions["decision_id"]) <= set(after["decision_id"]), "a decision was lost"
    assert written < set(q3_decisions["commune_code"])
    comp = pl.read_parquet(wh / "completeness" / f"{PERIOD}.parquet")
    assert comp["review_state"].unique().to_list() == ["approved"]
