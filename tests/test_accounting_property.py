"""Property: nothing is lost and nothing is counted twice, whatever the communes send.

Random periods of a few submissions (workbooks and CSV folders) mix valid cooperative rows
with broken cells (negative capital, unknown sector, text in number columns, missing and
repeated ids, profit above revenue), blank and total rows, sometimes a broken TongHop
row, and sometimes an unreadable file. For every file of the submission log the row
accounting must hold, every error must carry a rule and both messages, and the
district's sums over the accepted cooperatives must equal the sums over the rows
generated as valid.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.submissions import row_accounting
from schemas import vocab
from schemas.rules import RULES
from tests.builders import (
    columns,
    communes,
    make_raw_dir,
    q3,
    run,
    submission,
    summary_row,
    valid_htx_row,
    valid_tht_row,
    write_csv_folder,
)

BREAKS = (
    "negative_capital",
    "unknown_sector",
    "text_members",
    "text_capital",
    "missing_id",
    "profit_above_revenue",
)
LAYOUT = ("blank", "total")
HTX_COLUMNS = columns("HTX")
STATUSES = ("active", "active", "active", "new", "suspended")


def vn_text(value: float) -> str:
    """A number as a Vietnamese writes it: 1.234,5"""
    whole, _, frac = f"{abs(value):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = ".".join(groups)
    frac = frac.rstrip("0")
    return ("-" if value < 0 else "") + text + ("," + frac if frac else "")


@dataclass
class FileSpec:
    name: str
    commune: str
    kind: str  # xlsx, csv, unreadable
    rows: list[Any] = field(default_factory=list)  # dict, list (total row) or None (blank)
    valid: list[dict[str, Any]] = field(default_factory=list)  # rows generated as valid, written as numbers
    groups: list[dict[str, Any]] = field(default_factory=list)
    broken_summary: bool = False
    junk: bytes = b""


@st.composite
def htx_entry(draw: st.DrawFn, n: int) -> tuple[str, Any, dict[str, Any] | None]:
    """(what, row as written, values when valid) for the n-th entry of a sheet."""
    what = draw(st.sampled_from(("valid",) * 6 + BREAKS + LAYOUT))
    if what == "blank":
        return what, None, None
    if what == "total":
        cells: list[Any] = [None] * len(HTX_COLUMNS)
        cells[0] = draw(st.sampled_from(["Tổng", "Tổng cộng", "Cộng", "TỔNG CỘNG"]))
        cells[HTX_COLUMNS.index("members")] = draw(st.integers(0, 999))
        cells[HTX_COLUMNS.index("charter_capital_mvnd")] = draw(st.integers(0, 99_999))
        return what, cells, None
    members = draw(st.integers(0, 300))
    capital = draw(st.one_of(st.integers(0, 50_000), st.decimals(0, 50_000, places=2).map(float)))
    status = draw(st.sampled_from(STATUSES))
    row = valid_htx_row(
        coop_id=f"HTX-{n:03d}",
        name=f"HTX số {n}",
        members=members if draw(st.booleans()) else vn_text(members),
        charter_capital_mvnd=capital if draw(st.booleans()) else vn_text(capital),
        status=vocab.STATUSES.label_vi(status),
        rating=vocab.RATINGS.label_vi(draw(st.sampled_from(vocab.RATINGS.codes))) if status == "active" else None,
        founded_year=2024 if status == "new" else draw(st.integers(1955, 2024)),
    )
    values = {"coop_id": row["coop_id"], "members": members, "charter_capital_mvnd": float(capital)}
    if what == "valid":
        return what, row, values
    if what == "negative_capital":
        row["charter_capital_mvnd"] = -float(capital) - 1
    elif what == "unknown_sector":
        row["sector"] = draw(st.sampled_from(["Nông lâm kết hợp", "Khác", "Dịch vụ"]))
    elif what == "text_members":
        row["members"] = draw(st.sampled_from(["khoảng 20", "nhiều", "12,5", "?"]))
    elif what == "text_capital":
        row["charter_capital_mvnd"] = draw(st.sampled_from(["năm trăm", "1.2.3", "chưa rõ", "500tr"]))
    elif what == "missing_id":
        row["coop_id"] = None
    elif what == "profit_above_revenue":
        row["revenue_mvnd"], row["profit_mvnd"] = 100, 250
    return what, row, None


@st.composite
def file_spec(draw: st.DrawFn, index: int, commune: str) -> FileSpec:
    kind = draw(st.sampled_from(["xlsx", "xlsx", "csv", "unreadable"]))
    spec = FileSpec(name=f"xa-{index}.{'csv' if kind == 'csv' else 'xlsx'}", commune=commune, kind=kind)
    if kind == "unreadable":
        spec.junk = draw(st.binary(min_size=1, max_size=300))
        return spec
    rows_valid = [draw(htx_entry(n + 1)) for n in range(draw(st.integers(0, 10)))]
    # repeated ids: a second row with the id of an existing one; every row with that id is rejected
    with_id = [i for i, (_, row, _) in enumerate(rows_valid) if isinstance(row, dict) and row["coop_id"]]
    repeated: set[str] = set()
    if with_id and draw(st.booleans()):
        src = rows_valid[draw(st.sampled_from(with_id))][1]
        twin = dict(src, name="HTX trùng mã")
        repeated.add(src["coop_id"])
        rows_valid.insert(draw(st.integers(0, len(rows_valid))), ("duplicate", twin, None))
    for _, row, values in rows_valid:
        spec.rows.append(row)
        if values is not None and values["coop_id"] not in repeated:
            spec.valid.append(values)
    n_groups = draw(st.integers(0, 3))
    spec.groups = [
        valid_tht_row(group_id=f"THT-{g}", members=draw(st.sampled_from([1, 8, "nhiều", "-2"])))
        for g in range(n_groups)
    ]
    spec.broken_summary = draw(st.booleans()) and draw(st.booleans())
    return spec


@st.composite
def periods(draw: st.DrawFn) -> list[FileSpec]:
    names = [name for _, name in communes()]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    return [draw(file_spec(i, commune)) for i, commune in enumerate(chosen)]


def write(raw: Path, spec: FileSpec) -> None:
    path = q3(raw) / spec.name
    if spec.kind == "unreadable":
        path.write_bytes(spec.junk)
        return
    summary = summary_row([r for r in spec.rows if isinstance(r, dict)], spec.groups, commune=spec.commune)
    if spec.broken_summary:
        summary["htx_good"] += 1  # the ratings no longer add up to the total
    if spec.kind == "csv":
        write_csv_folder(path, htx=spec.rows, tht=spec.groups, summary=summary)
    else:
        submission(path, htx=spec.rows, tht=spec.groups, summary=summary, title=["BÁO CÁO HTX", None])


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(specs=periods())
def test_every_row_is_accounted_for(specs: list[FileSpec]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = make_raw_dir(Path(tmp))
        for spec in specs:
            write(raw, spec)
        t = run(raw)

    log = t["submission_log"]
    rejected = t["rejected_rows"]
    assert sorted(log["source_file"]) == sorted(f"2024/Q3/{s.name}" for s in specs)

    # every problem has a rule of the catalogue and both messages
    assert set(rejected["rule"]) <= set(RULES)
    assert rejected.filter(
        pl.col("message_vi").is_null()
        | (pl.col("message_vi") == "")
        | pl.col("message_en").is_null()
        | (pl.col("message_en") == "")
    ).is_empty()
    for r in rejected.iter_rows(named=True):
        assert r["severity"] == RULES[r["rule"]].severity
        assert r["source_file"] in r["message_vi"]
        assert r["source_file"] in r["message_en"]

    facts = ("cooperatives", "coop_groups", "commune_summaries", "support_disbursements")
    for entry in log.iter_rows(named=True):
        f = entry["source_file"]
        assert entry["status"] in ("accepted", "accepted_with_errors", "rejected"), entry
        assert entry["rows_in"] == entry["rows_accepted"] + entry["rows_rejected"], entry
        errors = rejected.filter(
            (pl.col("source_file") == f) & (pl.col("severity") == "error") & pl.col("source_row").is_not_null()
        )
        error_rows = set(errors.select("sheet", "source_row").iter_rows())
        if entry["status"] != "rejected":
            assert len(error_rows) == entry["rows_rejected"], (entry, sorted(error_rows))
            assert entry["status"] == ("accepted_with_errors" if error_rows else "accepted")
        else:
            assert rejected.filter((pl.col("source_file") == f) & (pl.col("severity") == "error")).height >= 1
        n_facts = sum(t[name].filter(pl.col("source_file") == f).height for name in facts)
        assert n_facts == entry["rows_accepted"], entry
        # no rejected row is also a fact
        for sheet, table in (("HTX", "cooperatives"), ("THT", "coop_groups"), ("TongHop", "commune_summaries")):
            kept = set(t[table].filter(pl.col("source_file") == f)["source_row"])
            assert not kept & {row for s, row in error_rows if s == sheet}

    for spec in specs:
        entry = log.filter(pl.col("source_file") == f"2024/Q3/{spec.name}").row(0, named=True)
        assert entry["status"] == ("rejected" if spec.kind == "unreadable" else entry["status"])
        if spec.kind != "unreadable":
            assert entry["status"] != "rejected", entry

    # the district's sums are those of the rows generated as valid
    valid = [v for s in specs if s.kind != "unreadable" for v in s.valid]
    coops = t["cooperatives"]
    assert coops.height == len(valid)
    assert int(coops["members"].sum() or 0) == sum(v["members"] for v in valid)
    capital = float(coops["charter_capital_mvnd"].sum() or 0.0)
    expected = sum(v["charter_capital_mvnd"] for v in valid)
    assert abs(capital - expected) <= 1e-6 * max(1.0, expected)


def test_row_accounting_check_compares_with_stored_rows() -> None:
    log = pl.DataFrame(
        {"source_file": ["f"], "status": ["accepted"], "rows_in": [3], "rows_accepted": [3], "rows_rejected": [0]}
    )
    empty = pl.DataFrame(schema={"source_file": pl.String})
    stored = pl.DataFrame({"source_file": ["f", "f"]})
    facts = {"cooperatives": stored, "coop_groups": empty, "commune_summaries": empty, "support_disbursements": empty}
    rejected = pl.DataFrame(
        schema={"source_file": pl.String, "severity": pl.String, "sheet": pl.String, "source_row": pl.Int64}
    )
    assert not row_accounting("2024-Q3", log, rejected, facts).passed
    facts["commune_summaries"] = pl.DataFrame({"source_file": ["f"]})
    assert row_accounting("2024-Q3", log, rejected, facts).passed
