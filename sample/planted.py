"""A later quarter of the sample district (2024-Q4) with planted changes for the cooperative registry.

The seed's quarters (2024-Q2, 2024-Q3) are untouched: 2024-Q4 starts from the 2024-Q3
submissions and applies the changes of `PLANTED`, one row of data each: a rating
that moves, one that jumps, a commune whose clerk renumbers every cooperative and group,
a name retyped in capitals, cooperatives that vanish or are dissolved, new ones, capital
and members that collapse, a tax code written by two communes, a branch suffix dropped.
Units follow `communes.csv`: a commune whose window ends before the quarter hands its
rows to the unit it is `merged_into`, renumbered after that unit's own (the bundled
list has no such merge at 2024-Q4; a test moves one commune's window to plant it).

Every planted case says what the registry must find: the rule that joins the later row
to its identity, and the warning it raises. The quarter is written on request
(`kttt sample --later` or `python -m sample.planted`), not bundled in `raw/`.
"""

from __future__ import annotations

import argparse
import copy
import csv
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sample.generate import (
    COMMUNES_CSV,
    DEFAULT_RAW,
    Submission,
    build_district,
    commune_slug,
    in_window,
    load_communes,
    write_workbook,
)
from schemas.fields import sheet_columns
from schemas.periods import period_parts
from schemas.sheets import SHEETS

BASE_PERIOD = "2024-Q3"
LATER_PERIODS = ("2024-Q4",)
"""Quarters after the seed's that `build_later` makes."""
YTD_GROWTH = 135
"""Year-to-date amounts of cooperatives at Q4, in % of Q3's."""
YTD_COLUMNS = ("revenue_mvnd", "profit_mvnd", "tax_paid_mvnd", "loans_disbursed_mvnd", "loan_contracts")
ID_COLUMN = {"HTX": "coop_id", "THT": "group_id"}
ORIGIN = "_origin"
"""Key of a later row naming the 2024-Q3 row it comes from, `(commune, id)`; no column of any sheet, so the
writers leave it out. A founded row has none."""


@dataclass(frozen=True)
class Planted:
    """One planted change between 2024-Q3 and the later quarter, and what the registry must make of it.

    `action` is `set` (change columns of the row), `drop` (the row is gone),
    `add` (a new row, `values` complete) or `renumber` (every id of the commune,
    in reverse order, with the same pattern). `rule` is the match rule the later row
    must get (None: no later row, or given per row by `expected_rule`);
    `warning` the rule of `registry_warnings` it must raise.
    """

    case: str
    commune: str
    row_id: str | None
    action: str = "set"
    sheet: str = "HTX"
    values: tuple[tuple[str, Any], ...] = ()
    rule: str | None = None
    warning: str | None = None


PLANTED: tuple[Planted, ...] = (
    Planted("rating_change", "18601", "18601-HTX-03", values=(("rating", "fair"),), rule="row_id"),
    Planted(
        "rating_jump",
        "18607",
        "18607-HTX-02",
        values=(("rating", "weak"),),
        rule="tax_code",
        warning="registry_rating_jump",
    ),
    Planted("renumbered", "18625", None, action="renumber", sheet="HTX"),
    Planted("renumbered", "18625", None, action="renumber", sheet="THT"),
    Planted("name_retyped", "18625", "18625-HTX-01", values=(("name", "HTX CHĂN NUÔI  TIẾN THÀNH"),), rule="name"),
    Planted("vanished", "18667", "18667-HTX-01", action="drop", warning="registry_missing"),
    Planted("dissolved", "18586", "18586-HTX-02", action="drop"),
    Planted(
        "founded",
        "18589",
        "18589-HTX-04",
        action="add",
        values=(
            ("name", "HTX Nông nghiệp sạch Thạch Sơn"),
            ("sector", "agriculture"),
            ("subsector", "crops"),
            ("founded_year", 2024),
            ("status", "new"),
            ("members", 9),
            ("charter_capital_mvnd", 600),
        ),
        rule="new",
    ),
    Planted(
        "founded",
        "18667",
        "18667-THT-06",
        action="add",
        sheet="THT",
        values=(("name", "THT trồng dưa thôn Đông Hà"), ("kind", "crops"), ("status", "new"), ("members", 4)),
        rule="new",
    ),
    Planted(
        "capital_drop",
        "18562",
        "18562-HTX-07",
        values=(("charter_capital_mvnd", 900),),
        rule="tax_code",
        warning="registry_drop",
    ),
    Planted(
        "members_drop",
        "18667",
        "18667-THT-05",
        sheet="THT",
        values=(("members", 2),),
        rule="row_id",
        warning="registry_drop",
    ),
    Planted(
        "shared_tax_code",
        "18562",
        "18562-HTX-02",
        values=(("tax_code", "3005115427"),),
        rule="row_id",
        warning="registry_tax_code_two_units",
    ),
    Planted("tax_suffix_dropped", "18592", "18592-HTX-04", values=(("tax_code", "3005342757"),), rule="tax_code"),
)
"""The planted cases, by commune code and 2024-Q3 id (ids of the seed population, stable)."""


def _units(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def successor_in(code: str, period: str, units: list[dict[str, str]]) -> str | None:
    """The unit valid in `period` that `code` became (itself while valid), following `merged_into`."""
    seen = set()
    while code not in seen:
        seen.add(code)
        rows = [u for u in units if u["code"] == code]
        if any(in_window(period, u) for u in rows):
            return code
        nxt = next((u.get("merged_into") for u in rows if u.get("merged_into")), None)
        if not nxt:
            return None
        code = nxt
    return None


def _rows(sub: Submission, sheet: str) -> list[dict[str, Any]]:
    return sub.htx if sheet == "HTX" else sub.tht


def _apply(subs: dict[str, Submission], plant: Planted) -> None:
    rows = _rows(subs[plant.commune], plant.sheet)
    id_col = ID_COLUMN[plant.sheet]
    if plant.action == "add":
        row = {col.name: None for col in sheet_columns(SHEETS[plant.sheet])}
        row.update({id_col: plant.row_id, **dict(plant.values)})
        rows.append(row)
        return
    if plant.action == "renumber":
        ids = [r[id_col] for r in rows]
        for row, new_id in zip(rows, reversed(ids), strict=True):
            row[id_col] = new_id
        return
    target = next(r for r in rows if r[id_col] == plant.row_id)
    if plant.action == "drop":
        rows.remove(target)
    else:
        target.update(dict(plant.values))


def _merge(subs: dict[str, Submission], period: str, units: list[dict[str, str]]) -> None:
    """Rows of communes no longer valid move to their successor, renumbered after its own rows."""
    for code in sorted(subs):
        if successor_in(code, period, units) == code:
            continue
        gone = subs.pop(code)
        heir = successor_in(code, period, units)
        if heir is None or heir not in subs:
            continue
        for sheet, kind in (("HTX", "HTX"), ("THT", "THT")):
            rows, id_col = _rows(subs[heir], sheet), ID_COLUMN[sheet]
            for row in _rows(gone, sheet):
                rows.append({**row, id_col: f"{heir}-{kind}-{len(rows) + 1:02d}"})


def build_later(period: str = LATER_PERIODS[0], communes_csv: Path = COMMUNES_CSV) -> list[Submission]:
    """The later quarter's submissions of the communes valid in it, with `PLANTED` applied."""
    if period not in LATER_PERIODS:
        raise ValueError(f"no later sample quarter {period!r}; use one of {LATER_PERIODS}")
    base = build_district(BASE_PERIOD, load_communes(communes_csv, BASE_PERIOD))
    year, quarter = period_parts(period)
    report_day = date(year + 1, 1, 10) if quarter == 4 else date(year, 3 * quarter + 1, 10)
    subs = {s.commune_code: replace(copy.deepcopy(s), period=period, report_date=report_day) for s in base}
    for sub in subs.values():
        for sheet, rows in (("HTX", sub.htx), ("THT", sub.tht)):
            for row in rows:
                row[ORIGIN] = (sub.commune_code, row[ID_COLUMN[sheet]])
        for row in sub.htx:
            for col in YTD_COLUMNS:
                if row[col]:
                    row[col] = row[col] * YTD_GROWTH // 100
    for plant in sorted(PLANTED, key=lambda p: p.action == "renumber"):  # ids of 2024-Q3 first, then renumbered
        if plant.commune in subs:
            _apply(subs, plant)
    units = _units(communes_csv)
    _merge(subs, period, units)
    expected = [c.code for c in load_communes(communes_csv, period)]
    missing = [code for code in expected if code not in subs]
    if missing:
        raise ValueError(f"no sample population for communes {missing} in {period}")
    return [subs[code] for code in expected]


def expected_rule(origin_row: dict[str, Any], origin_commune: str, later_row: dict[str, Any], commune: str) -> str:
    """The rule that must join a later row to the identity of the 2024-Q3 row it comes from: a planted case's
    own rule, else the tax code when the row has one, else the id when it kept its id in the same unit, else
    the name (a renumbered commune, or a move to the successor unit)."""
    id_col = ID_COLUMN["HTX"] if "coop_id" in origin_row else ID_COLUMN["THT"]
    plant = next((p for p in PLANTED if p.commune == origin_commune and p.row_id == origin_row[id_col]), None)
    if plant is not None and plant.rule is not None and plant.action == "set":
        if plant.rule == "row_id" and (later_row[id_col] != origin_row[id_col] or commune != origin_commune):
            return "name"
        return plant.rule
    if origin_row.get("tax_code") and later_row.get("tax_code"):
        return "tax_code"
    if later_row[id_col] == origin_row[id_col] and commune == origin_commune:
        return "row_id"
    return "name"


def write_later(raw_dir: Path, periods: tuple[str, ...] = LATER_PERIODS) -> list[Path]:
    """Write the later quarters' workbooks under `raw_dir` (its `reference/communes.csv` decides the units)."""
    communes_csv = raw_dir / "reference" / "communes.csv"
    written = []
    for period in periods:
        communes = {c.code: c for c in load_communes(communes_csv, period)}
        year, quarter = period_parts(period)
        folder = raw_dir / str(year) / f"Q{quarter}"
        for sub in build_later(period, communes_csv):
            written.append(write_workbook(folder / f"{commune_slug(communes[sub.commune_code])}.xlsx", sub))
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m sample.planted [--raw DIR]`."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help=f"raw directory (default: {DEFAULT_RAW})")
    args = parser.parse_args(argv)
    print(f"wrote {len(write_later(args.raw))} files under {args.raw}")


if __name__ == "__main__":
    main()
