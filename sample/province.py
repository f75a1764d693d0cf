"""The province sample: a province's real units before and after the 2025 reform, and a few rows per unit.

The units come from `vietnamadminunits`: its legacy (63-province) dataset gives the
commune-level units in force from 1 January 2025 to 30 June 2025, with their districts;
its 2025 dataset gives the units from 1 July 2025; its converter gives, for every legacy
unit, the 2025 unit that took it over (and, for the few units split between several new
ones, the others). `reference/communes.csv` then holds one row per legacy unit (valid
until 2025-Q2, `merged_into` its successor, `split_into` the others) and one per 2025 unit
(valid from 2025-Q3), so codes reused across the reform (18562, the town and then the
commune of Thạch Hà) are two rows with two windows.

Island districts without communes before the reform (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn,
Côn Đảo) have no legacy row: the special zones (`dac_khu`) they became have no predecessor.
The legacy units have no `valid_from`: the package does not know the units merged on
1 January 2025 or before, so the list says nothing about them (see docs/reform.md for
how a province adds its 2024 units).

Submissions are synthetic (`sample.national`): in 2025-Q2 two or three cooperatives and
three or four groups per unit, filed in one subfolder per former district (as a province
files its districts' workbooks); in 2025-Q4 each unit reports its predecessors'
cooperatives and groups and one new cooperative. Each quarter has a `_unit.xlsx` of
support rows. The output is deterministic.

    kttt sample --province                       # Hà Tĩnh into sample/ha-tinh
    kttt sample --province "Lai Châu" --raw DIR  # any province
"""

from __future__ import annotations

import csv
import json
from dataclasses import astuple, dataclass, fields
from functools import cache
from pathlib import Path

import yaml

from sample.generate import Commune, slugify, write_district_workbook, write_workbook
from sample.national import commune_submission
from schemas.periods import next_period

ROOT = Path(__file__).resolve().parent
DEFAULT_PROVINCE = "Hà Tĩnh"
DEFAULT_RAW = ROOT / "ha-tinh"
LAST_QUARTER_OF_DISTRICTS = "2025-Q2"
PERIODS = ("2025-Q2", "2025-Q4")
SEED = 2025_10_15
KINDS = {"Xã": "xa", "Phường": "phuong", "Thị trấn": "thi_tran", "Đặc khu": "dac_khu"}
HTX_ROWS = (2, 3)
THT_ROWS = (3, 4)


@dataclass(frozen=True)
class UnitRow:
    """One line of the province's `communes.csv`."""

    code: str
    name: str
    kind: str
    valid_from: str
    valid_to: str
    district: str
    merged_into: str
    split_into: str
    province: str
    latitude: str
    longitude: str


@cache
def _query(sql: str) -> list[dict]:
    from vietnamadminunits.database import query  # type: ignore[import-untyped]

    return query(sql)


@cache
def _converter() -> dict:
    import vietnamadminunits  # type: ignore[import-untyped]

    path = Path(vietnamadminunits.__file__).parent / "data" / "converter_2025.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _coordinate(value: object) -> str:
    return repr(float(value)) if isinstance(value, int | float) else ""


def _district(record: dict) -> str:
    """ "Huyện Kỳ Anh", "Thị xã Kỳ Anh", "Thành phố Hà Tĩnh" (the package disambiguates short names)."""
    short = str(record["districtShort"]).split(" (")[0]
    return f"{record['districtType']} {short}"


def province_units(province: str = DEFAULT_PROVINCE) -> list[UnitRow]:
    """Every commune-level unit of `province` (its 2025 short name) before and after the reform, by code."""
    new_units = [
        r
        for r in _query("SELECT provinceKey, wardKey, wardCode, wardShort, wardType, wardLat, wardLon FROM admin_units")
        if r["provinceKey"] and _short(r["provinceKey"]) == _short_key(province)
    ]
    if not new_units:
        msg = f"no 2025 province named {province!r} in vietnamadminunits"
        raise LookupError(msg)
    key = new_units[0]["provinceKey"]
    converter = _converter()
    legacy_provinces = set(converter["DICT_PROVINCE"][key])
    code_of = {r["wardKey"]: str(r["wardCode"]) for r in new_units}
    successor: dict[str, str] = {}
    for new_key, olds in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][key].items():
        for old in olds:
            successor[old] = new_key
    divided = converter["DICT_PROVINCE_WARD_DIVIDED"].get(key, {})
    legacy = [
        r
        for r in _query(
            "SELECT provinceKey, districtKey, wardKey, wardCode, wardShort, wardType, districtShort, districtType, "
            "wardLat, wardLon FROM admin_units_legacy"
        )
        if r["provinceKey"] in legacy_provinces and r["wardCode"]  # island districts had no commune level
    ]
    rows = []
    for r in legacy:
        full = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"
        split: list[str] = []
        if full in divided:
            parts = divided[full]
            main = next((p["newWardKey"] for p in parts if p["isDefaultNewWard"]), parts[0]["newWardKey"])
            split = sorted(
                code_of[p["newWardKey"]] for p in parts if p["newWardKey"] != main and p["newWardKey"] in code_of
            )
        else:
            main = successor.get(full)
        rows.append(
            UnitRow(
                code=str(r["wardCode"]),
                name=str(r["wardShort"]),
                kind=KINDS[str(r["wardType"])],
                valid_from="",
                valid_to=LAST_QUARTER_OF_DISTRICTS,
                district=_district(r),
                merged_into=code_of.get(main or "", ""),
                split_into=",".join(split),
                province=province,
                latitude=_coordinate(r["wardLat"]),
                longitude=_coordinate(r["wardLon"]),
            )
        )
    start = next_period(LAST_QUARTER_OF_DISTRICTS)
    rows += [
        UnitRow(
            str(r["wardCode"]),
            str(r["wardShort"]),
            KINDS[str(r["wardType"])],
            start,
            "",
            "",
            "",
            "",
            province,
            _coordinate(r["wardLat"]),
            _coordinate(r["wardLon"]),
        )
        for r in new_units
    ]
    return sorted(rows, key=lambda u: (u.code, u.valid_from))


def _short_key(name: str) -> str:
    return slugify(name).replace("-", "")


def _short(province_key: str) -> str:
    for prefix in ("thanhpho", "tinh"):
        if province_key.startswith(prefix):
            return province_key[len(prefix) :]
    return province_key


def province_code(province: str = DEFAULT_PROVINCE) -> str:
    """The 2-digit code of a 2025 province."""
    codes = {
        str(r["provinceCode"])
        for r in _query("SELECT provinceKey, provinceCode FROM admin_units")
        if _short(str(r["provinceKey"])) == _short_key(province)
    }
    return sorted(codes)[0]


def write_units_csv(path: Path, rows: list[UnitRow]) -> Path:
    """`reference/communes.csv`, UTF-8, Unix line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(f.name for f in fields(UnitRow))
        writer.writerows(astuple(r) for r in rows)
    return path


def write_unit_yaml(path: Path, province: str, code: str) -> Path:
    """`reference/unit.yaml` of a province."""
    data = {"level": "province", "name": province, "code": code, "province": province, "report_deadline_days": 15}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _valid(rows: list[UnitRow], period: str) -> list[UnitRow]:
    return [
        u for u in rows if (not u.valid_from or u.valid_from <= period) and (not u.valid_to or period <= u.valid_to)
    ]


def write_quarter(raw_dir: Path, rows: list[UnitRow], period: str, seed: int = SEED) -> list[Path]:
    """One workbook per unit valid in `period` (in a subfolder per district while there are districts), and
    `_unit.xlsx`; a unit whose name recurs in the period names itself by code in TongHop."""
    year, quarter = (int(x) for x in period.split("-Q"))
    folder = raw_dir / str(year) / f"Q{quarter}"
    units = _valid(rows, period)
    names = [slugify(u.name) for u in units]
    written = []
    for u in units:
        recurs = names.count(slugify(u.name)) > 1
        sub = folder / slugify(u.district) if u.district else folder
        stem = slugify(u.name) + (f"-{u.code}" if recurs else "")
        commune = Commune(u.code, u.code if recurs else u.name, u.kind)
        submission = commune_submission(commune, period, seed, HTX_ROWS, THT_ROWS)
        if period > LAST_QUARTER_OF_DISTRICTS:  # a merged unit reports its predecessors' cooperatives and groups
            before = [
                commune_submission(Commune(p.code, p.name, p.kind), LAST_QUARTER_OF_DISTRICTS, seed, HTX_ROWS, THT_ROWS)
                for p in rows
                if p.valid_to == LAST_QUARTER_OF_DISTRICTS and p.merged_into == u.code
            ]
            if before:
                new = {**submission.htx[0], "coop_id": f"{u.code}-HTX-M1", "status": "new", "rating": None}
                submission.htx = [r for b in before for r in b.htx] + [{**new, "founded_year": 2025}]
                submission.tht = [r for b in before for r in b.tht]
        written.append(write_workbook(sub / f"{stem}.xlsx", submission))
    support = [
        {
            "program": "NQ44-NQ51",
            "level": "province",
            "purpose": "Hỗ trợ phát triển hợp tác xã",
            "plan_mvnd": 12000,
            "disbursed_mvnd": 1500 * quarter,
        },
        {"program": "TW-KTTT", "level": "central", "purpose": "Hỗ trợ kinh tế tập thể", "disbursed_mvnd": 800},
    ]
    written.append(write_district_workbook(folder / "_unit.xlsx", support))
    return written


def write_province_sample(raw_dir: Path = DEFAULT_RAW, province: str = DEFAULT_PROVINCE) -> list[Path]:
    """The whole province sample under `raw_dir`: reference files and the quarters of `PERIODS`."""
    rows = province_units(province)
    reference = raw_dir / "reference"
    written = [
        write_units_csv(reference / "communes.csv", rows),
        write_unit_yaml(reference / "unit.yaml", province, province_code(province)),
    ]
    for period in PERIODS:
        written += write_quarter(raw_dir, rows, period)
    return written
