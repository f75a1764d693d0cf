"""The cooperative registry over three quarters of the sample: 2024-Q2, 2024-Q3 and 2024-Q4 with planted cases.

The 2024-Q4 workbooks come from `sample.planted` (real Excel files); one commune, Thạch
Long, is made to merge into the town of Thạch Hà at the end of 2024-Q3 (its window
ends there in this copy of `communes.csv`), so that its cooperatives come back
renumbered in their new unit. The whole pipeline runs through Dagster; the tests read
the Parquet tables back.
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.registry import every_row_has_identity, one_row_per_quarter
from ingest.discover import period_files
from ingest.period import process_period
from ingest.reference import load_reference
from pipeline.cli import main as kttt
from pipeline.runner import run_periods
from registry.build import build_registry
from registry.units import unit_mapper
from sample.generate import write_workbook
from sample.planted import ID_COLUMN, ORIGIN, PLANTED, build_later, expected_rule, write_later
from tests.conftest import SAMPLE_RAW

PERIODS = ["2024-Q2", "2024-Q3", "2024-Q4"]
LATER = "2024-Q4"
MERGED, HEIR = "18607", "18562"  # Thạch Long → thị trấn Thạch Hà


def _merge_thach_long(communes_csv: Path) -> None:
    with communes_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["code"] == MERGED:
            row["merged_into"] = HEIR
            row["valid_to"] = "2024-Q3"
    with communes_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.xlsx"))}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw, warehouse): the sample with Thạch Long merged away after 2024-Q3, its 2024-Q4, run through Dagster."""
    base = tmp_path_factory.mktemp("registry")
    raw = base / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    _merge_thach_long(raw / "reference" / "communes.csv")
    before = {q: _digest(raw / "2024" / q) for q in ("Q2", "Q3")}
    write_later(raw)
    assert {q: _digest(raw / "2024" / q) for q in ("Q2", "Q3")} == before, "the seed's quarters must not change"
    warehouse = base / "warehouse"
    outcomes = run_periods(raw, warehouse, PERIODS, report=False)
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return raw, warehouse


def _read(warehouse: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(str(warehouse / table / "*.parquet"))


def _identity(history: pl.DataFrame, period: str, commune: str, row_id: str) -> dict:
    rows = history.filter(
        (pl.col("period") == period) & (pl.col("commune_code") == commune) & (pl.col("row_id") == row_id)
    )
    assert rows.height == 1, (period, commune, row_id)
    return rows.row(0, named=True)


def _later_rows(raw: Path) -> list[tuple[str, str, dict]]:
    """(sheet, commune, row) of every 2024-Q4 row as the generator made it (with its origin)."""
    subs = build_later(LATER, raw / "reference" / "communes.csv")
    return [(sheet, s.commune_code, r) for s in subs for sheet, rows in (("HTX", s.htx), ("THT", s.tht)) for r in rows]


def test_every_later_row_joins_the_identity_it_comes_from_by_the_expected_rule(planted: tuple[Path, Path]) -> None:
    raw, warehouse = planted
    history = _read(warehouse, "registry_history")
    q3 = {
        (sheet, r["commune_code"], r[ID_COLUMN[sheet]]): r
        for sheet, table in (("HTX", "cooperatives"), ("THT", "coop_groups"))
        for r in _read(warehouse, table).filter(pl.col("period") == "2024-Q3").iter_rows(named=True)
    }
    checked = {"tax_code": 0, "row_id": 0, "name": 0, "new": 0}
    moved = 0
    for sheet, commune, row in _later_rows(raw):
        later = _identity(history, LATER, commune, row[ID_COLUMN[sheet]])
        if ORIGIN not in row:
            assert later["match_rule"] == "new", row
            checked["new"] += 1
            continue
        origin_commune, origin_id = row[ORIGIN]
        origin = _identity(history, "2024-Q3", origin_commune, origin_id)
        assert later["registry_id"] == origin["registry_id"], (row["name"], later, origin)
        rule = expected_rule(q3[(sheet, origin_commune, origin_id)], origin_commune, row, commune)
        assert later["match_rule"] == rule, (row["name"], later["match_rule"], rule)
        assert later["previous_period"] == "2024-Q3"
        assert later["previous_commune_code"] == origin_commune
        checked[rule] += 1
        moved += origin_commune == MERGED
    assert moved == 4 + 5  # Thạch Long's cooperatives and groups, now in the town of Thạch Hà
    assert checked["name"] >= 6 + 5 and checked["new"] == 2 and checked["tax_code"] > 80, checked


def test_every_planted_case_is_matched_or_flagged(planted: tuple[Path, Path]) -> None:
    raw, warehouse = planted
    history, registry, warnings = (_read(warehouse, t) for t in ("registry_history", "registry", "registry_warnings"))
    facts = {sheet: _read(warehouse, table) for sheet, table in (("HTX", "cooperatives"), ("THT", "coop_groups"))}
    later = {(r[ORIGIN] if ORIGIN in r else (c, r[ID_COLUMN[s]])): (s, c, r) for s, c, r in _later_rows(raw)}
    for plant in PLANTED:
        if plant.action == "renumber":
            continue  # every row of the commune is checked by the test above
        if plant.action == "drop":
            origin = _identity(history, "2024-Q3", plant.commune, plant.row_id)
            assert history.filter(pl.col("registry_id") == origin["registry_id"])["period"].max() == "2024-Q3"
            lifecycle = registry.filter(pl.col("registry_id") == origin["registry_id"])["lifecycle"].item()
            assert lifecycle == plant.case, plant
            found = warnings.filter(pl.col("message_en").str.contains(plant.row_id, literal=True))
            assert found["rule"].to_list() == ([plant.warning] if plant.warning else []), plant
            continue
        sheet, commune, row = later[(plant.commune, plant.row_id)]
        rid = ID_COLUMN[sheet]
        got = _identity(history, LATER, commune, row[rid])
        if plant.rule is not None:
            assert got["match_rule"] in (plant.rule, "name" if commune != plant.commune else plant.rule), plant
        fact = (
            facts[sheet]
            .filter((pl.col("period") == LATER) & (pl.col("commune_code") == commune) & (pl.col(rid) == row[rid]))
            .row(0, named=True)
        )
        flagged = warnings.filter(
            (pl.col("period") == LATER)
            & (pl.col("source_file") == fact["source_file"])
            & (pl.col("source_row") == fact["source_row"])
        )
        assert flagged["rule"].to_list() == ([plant.warning] if plant.warning else []), (plant, flagged)
        assert set(flagged["severity"]) <= {"warning"}
        for message in flagged["message_vi"].to_list() + flagged["message_en"].to_list():
            assert "2024-Q3" in message and LATER in message and fact["source_file"] in message, message


def test_the_registry_says_what_became_of_each_identity(planted: tuple[Path, Path]) -> None:
    _, warehouse = planted
    registry = _read(warehouse, "registry")
    assert set(registry["period"]) == {LATER}
    assert registry.filter(pl.col("kind") == "HTX").height == 135 + 1  # the seed's, plus one founded in Q4
    counts = dict(registry.group_by("lifecycle").len().iter_rows())
    assert counts["vanished"] == 1 and counts["dissolved"] == 1, counts
    long = registry.filter(pl.col("last_commune_code") == HEIR).join(
        _read(warehouse, "registry_history").filter(pl.col("commune_code") == MERGED).select("registry_id").unique(),
        on="registry_id",
    )
    assert long.height == 9 and set(long["current_commune_code"]) == {HEIR}
    renamed = registry.filter(pl.col("names_seen").str.contains("TIẾN THÀNH", literal=True))
    assert renamed["names_seen"].item() == "HTX chăn nuôi Tiến Thành | HTX CHĂN NUÔI  TIẾN THÀNH"


def test_registry_figures_beside_the_clerks_statuses(planted: tuple[Path, Path]) -> None:
    _, warehouse = planted
    figures = {
        (r["period"], r["figure_id"]): r["value"] for r in _read(warehouse, "registry_figures").iter_rows(named=True)
    }
    report = {
        (r["period"], r["figure_id"]): r["value"] for r in _read(warehouse, "report_figures").iter_rows(named=True)
    }
    assert figures[("2024-Q2", "registry.htx.first_seen.count")] is None  # the warehouse starts there
    assert figures[("2024-Q3", "registry.htx.first_seen.count")] == report[("2024-Q3", "htx.new")] == 3
    assert figures[("2024-Q4", "registry.htx.first_seen.count")] == 4  # Q3's three, and one founded in Q4
    assert figures[("2024-Q4", "registry.htx.disappeared.count")] == 2
    assert figures[("2024-Q4", "registry.htx.disappeared_unexplained.count")] == 1
    assert figures[("2024-Q4", "registry.htx.transition.good_to_weak.count")] == 1
    assert figures[("2024-Q4", "registry.htx.transition.weak_to_suspended.count")] == 1  # rated weak in Q2
    # The year's first quarter (2024-Q2) to 2024-Q4: every cooperative of both, classed once.
    moves = sum(v for (p, f), v in figures.items() if p == LATER and f.startswith("registry.htx.transition."))
    assert moves == 132 - 2  # those of Q2, but the vanished and the dissolved ones
    assert not [f for (p, f) in figures if p == "2024-Q2" and ".transition." in f]


def test_warnings_stay_out_of_the_quarters_own_tables(planted: tuple[Path, Path]) -> None:
    _, warehouse = planted
    rejected = _read(warehouse, "rejected_rows")
    assert not rejected.filter(pl.col("rule").str.starts_with("registry_")).height
    assert sorted(p.name for p in (warehouse / "registry_warnings").glob("*.parquet")) == ["all.parquet"]
    con = duckdb.connect(str(warehouse / "kttt.duckdb"), read_only=True)
    con.execute(f"SET file_search_path = '{warehouse}'")
    union = con.sql("SELECT rule, count(*) FROM rejected_rows_all GROUP BY rule").fetchall()
    assert dict(union)["registry_drop"] == 2
    assert sum(n for _, n in union) == rejected.height + _read(warehouse, "registry_warnings").height


def test_checks_pass_on_the_sample_and_fail_on_a_doubled_identity(planted: tuple[Path, Path]) -> None:
    _, warehouse = planted
    history, registry = _read(warehouse, "registry_history"), _read(warehouse, "registry")
    coops, groups = _read(warehouse, "cooperatives"), _read(warehouse, "coop_groups")
    assert history.height == coops.height + groups.height
    assert one_row_per_quarter(history).passed
    assert every_row_has_identity(history, registry, coops, groups).passed
    first = history.filter(pl.col("period") == LATER).head(2)
    doubled = history.join(
        first.select("period", "row_id", "commune_code"), on=["period", "row_id", "commune_code"], how="anti"
    )
    doubled = pl.concat([doubled, first.with_columns(pl.lit(first["registry_id"][0]).alias("registry_id"))])
    assert not one_row_per_quarter(doubled).passed
    assert not every_row_has_identity(history.head(-1), registry, coops, groups).passed


def test_the_registry_assets_and_checks_are_in_the_ui() -> None:
    from pipeline.definitions import defs

    graph = defs.get_repository_def().asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"registry", "registry_history", "registry_warnings", "registry_figures"} <= keys
    checks = {c.name for c in graph.asset_check_keys}
    assert {"one_row_per_quarter", "every_row_has_identity"} <= checks
    node = graph.get(dg.AssetKey("registry"))
    assert node.partitions_def is None and node.group_name == "registry"


def test_kttt_history_prints_one_cooperative(planted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, warehouse = planted
    assert kttt(["history", "3007503528", "--warehouse", str(warehouse)]) == 0  # HTX sản xuất lúa giống Xuân An
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith("2024-Q") and "→" not in line]
    assert [line.split()[0] for line in lines] == PERIODS
    assert lines[-1].split()[1] == HEIR and "weak" in lines[-1] and "tax_code" in lines[-1]
    assert kttt(["history", "3005342757-001", "--warehouse", str(warehouse)]) == 0  # written without -001 in Q4
    out = capsys.readouterr().out
    assert out.startswith("HTX-2024-Q2-18592-") and "HTX Môi trường Thạch Liên" in out
    assert [line.split()[-1] for line in out.splitlines() if line.strip().startswith("2024-Q") and "→" not in line] == [
        "new",
        "tax_code",
        "tax_code",
    ]
    assert kttt(["history", "tiến thành", "--warehouse", str(warehouse)]) == 0
    assert "HTX CHĂN NUÔI  TIẾN THÀNH" in capsys.readouterr().out
    assert kttt(["history", "no such cooperative", "--warehouse", str(warehouse)]) == 1


def test_status_new_for_one_seen_in_an_earlier_year(planted: tuple[Path, Path]) -> None:
    """A 2025-Q1 copy of 2024-Q4 in which a clerk marks an old cooperative as new."""
    raw, warehouse = planted
    coops, groups, log = (_read(warehouse, t) for t in ("cooperatives", "coop_groups", "submission_log"))
    q4 = coops.filter(pl.col("period") == LATER)
    target = q4.filter(pl.col("status") == "active").sort("coop_id").row(0, named=True)
    q1 = q4.with_columns(
        pl.lit("2025-Q1").alias("period"),
        pl.lit(2025, pl.Int32).alias("year"),
        pl.lit(1, pl.Int8).alias("quarter"),
        pl.when(pl.col("coop_id") == target["coop_id"]).then(pl.lit("new")).otherwise("status").alias("status"),
    )
    q1_log = log.filter(pl.col("period") == LATER).with_columns(pl.lit("2025-Q1").alias("period"))
    tables = build_registry(
        pl.concat([coops, q1]), groups, pl.concat([log, q1_log]), unit_mapper(load_reference(raw).communes)
    )
    new = tables.warnings.filter(pl.col("rule") == "registry_new_seen_before")
    # The one marked new now, and the ones still marked new a year after they were (all seen in 2024).
    still_new = q1.filter(pl.col("status") == "new").select("source_file", "source_row")
    assert sorted(new.select("source_file", "source_row").iter_rows()) == sorted(still_new.iter_rows())
    assert (target["source_file"], target["source_row"]) in set(still_new.iter_rows())
    mine = new.filter(pl.col("source_file").eq(target["source_file"]) & pl.col("source_row").eq(target["source_row"]))
    assert "2024-Q2" in mine["message_en"].item() and "2025-Q1" in mine["message_en"].item()
    assert "Đang hoạt động" in mine["message_vi"].item() and "Mới thành lập" in mine["message_vi"].item()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_shuffling_files_and_rows_of_a_quarter_gives_the_same_registry(planted: tuple[Path, Path], seed: int) -> None:
    raw, warehouse = planted
    unit_in = unit_mapper(load_reference(raw).communes)
    coops, groups, log = (_read(warehouse, t) for t in ("cooperatives", "coop_groups", "submission_log"))
    expected = build_registry(coops, groups, log, unit_in)
    rng = random.Random(seed)

    def shuffled(frame: pl.DataFrame) -> pl.DataFrame:
        parts = [part for _, part in frame.group_by("period")]
        rng.shuffle(parts)
        out = []
        for part in parts:
            files = part["source_file"].unique().to_list()
            rng.shuffle(files)
            for file in files:
                rows = part.filter(pl.col("source_file") == file).sample(
                    fraction=1.0, shuffle=True, seed=rng.randrange(2**32)
                )
                if "source_row" in rows.columns:  # the rows stand in another order in the workbook too
                    numbers = rows["source_row"].to_list()
                    rng.shuffle(numbers)
                    rows = rows.with_columns(pl.Series("source_row", numbers, pl.Int64))
                out.append(rows)
        return pl.concat(out)

    got = build_registry(shuffled(coops), shuffled(groups), shuffled(log), unit_in)
    for name in ("registry", "history", "figures"):
        assert getattr(got, name).equals(getattr(expected, name)), name
    where = ["source_row", "message_vi", "message_en"]  # warnings name the rows where they now stand
    assert got.warnings.drop(where).sort(pl.all()).equals(expected.warnings.drop(where).sort(pl.all()))


def test_workbooks_with_rows_and_files_in_another_order_give_the_same_registry(
    planted: tuple[Path, Path], tmp_path: Path
) -> None:
    """2024-Q4 written again with every sheet's rows reversed and the files under other names, read again."""
    raw, warehouse = planted
    other = tmp_path / "raw"
    shutil.copytree(raw / "reference", other / "reference")
    for sub in build_later(LATER, raw / "reference" / "communes.csv"):
        reversed_sub = replace(sub, htx=sub.htx[::-1], tht=sub.tht[::-1])
        write_workbook(other / "2024" / "Q4" / f"{999999 - int(sub.commune_code)}.xlsx", reversed_sub)
    files, _ = period_files(other, LATER)
    again = process_period(files, load_reference(other), LATER).tables
    unit_in = unit_mapper(load_reference(raw).communes)
    tables = {t: _read(warehouse, t) for t in ("cooperatives", "coop_groups", "submission_log")}
    earlier = {t: frame.filter(pl.col("period") != LATER) for t, frame in tables.items()}
    expected = build_registry(tables["cooperatives"], tables["coop_groups"], tables["submission_log"], unit_in)
    got = build_registry(
        *(pl.concat([earlier[t], again[t].select(earlier[t].columns)]) for t in earlier), unit_in=unit_in
    )
    assert (
        again["cooperatives"]["source_row"].to_list()
        != tables["cooperatives"].filter(pl.col("period") == LATER)["source_row"].to_list()
    )
    for name in ("registry", "history", "figures"):
        assert getattr(got, name).equals(getattr(expected, name)), name
    where = ["source_file", "source_sha256", "source_row", "message_vi", "message_en"]
    assert got.warnings.drop(where).sort(pl.all()).equals(expected.warnings.drop(where).sort(pl.all()))
    assert got.warnings.height == expected.warnings.height == 6


def test_a_unit_without_a_report_is_not_said_to_lose_its_cooperatives(planted: tuple[Path, Path]) -> None:
    """Nam Điền sends nothing for 2024-Q4: its cooperatives are `unit_not_reported`, none is warned missing."""
    raw, warehouse = planted
    silent = "18667"
    coops, groups, log = (
        _read(warehouse, t).filter(~((pl.col("period") == LATER) & (pl.col("commune_code") == silent)))
        for t in ("cooperatives", "coop_groups", "submission_log")
    )
    tables = build_registry(coops, groups, log, unit_mapper(load_reference(raw).communes))
    theirs = tables.registry.filter(pl.col("last_commune_code") == silent)
    assert theirs.height == 3 + 5 and set(theirs["lifecycle"]) == {"unit_not_reported"}
    assert tables.warnings.filter(pl.col("rule") == "registry_missing").is_empty()
    gone = tables.figures.filter(
        (pl.col("period") == LATER) & (pl.col("figure_id") == "registry.htx.disappeared.count")
    )
    assert gone["value"].item() == 1  # the dissolved one of Thạch Kênh only


def test_rows_of_a_first_quarter_sharing_a_unit_and_id_get_numbered_identities() -> None:
    """Every row of a kind's first quarter starts an identity named by kind, quarter, unit and id; two rows with
    the same id in a unit (ids are checked within a file only) are told apart by `#2`,
    even when another row's own id reads like that."""
    from registry.match import STACKED, match

    def frame(ids: list[str]) -> pl.DataFrame:
        rows = [
            {"period": "2024-Q2", "commune_code": HEIR, "kind": "HTX", "row_id": row_id, "name": f"HTX {n}"}
            for n, row_id in enumerate(ids)
        ]
        stated = pl.DataFrame(rows).with_columns(pl.col("name").str.to_lowercase().alias("name_key"))
        return stated.select(pl.col(c) if c in stated.columns else pl.lit(None).alias(c) for c in STACKED).cast(STACKED)

    unit_in = unit_mapper(load_reference(SAMPLE_RAW).communes)
    plain = match(frame(["1", "2", "3"]), unit_in)
    assert plain["registry_id"].to_list() == [f"HTX-2024-Q2-{HEIR}-{n}" for n in ("1", "2", "3")]
    assert set(plain["match_rule"].to_list()) == {"new"}
    doubled = match(frame(["7", "7", "7#2"]), unit_in)
    assert doubled.sort("row_id", "name")["registry_id"].to_list() == [
        f"HTX-2024-Q2-{HEIR}-7",
        f"HTX-2024-Q2-{HEIR}-7#2",
        f"HTX-2024-Q2-{HEIR}-7#2#2",
    ]
    assert doubled["registry_id"].is_unique().all()
