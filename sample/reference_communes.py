"""Build the reference list of the communes of Thạch Hà district (Hà Tĩnh) over time.

The list is derived from the ``vietnamadminunits`` package: its legacy
(63-province, pre-July-2025) dataset gives the official 5-digit commune codes,
names and coordinates, and its 2025 converter gives each commune's successor in
the 34-province structure without districts.

Each row's validity window (``valid_from`` .. ``valid_to``, quarters
``YYYY-Qn``, both inclusive, empty ``valid_from`` = since before the data
starts) says in which quarters the commune reports to Thạch Hà district:

* the 22 units of the district during 2024: eleven of them were transferred to
  the city of Hà Tĩnh on 1 January 2025, so their window ends in ``2024-Q4``;
  the other eleven stay until ``2025-Q2``;
* the 11 units of the former Lộc Hà district that joined Thạch Hà on
  1 January 2025 report from ``2025-Q1`` to ``2025-Q2``;
* districts were abolished and communes merged on 1 July 2025, so no window
  goes past ``2025-Q2``.

``code_2025`` and ``name_2025`` give every row's successor commune after
1 July 2025, for information. ``merged_into`` is empty on every row: a
district's list holds no unit after 2025-Q2, and the eleven communes moved to
the city left the district (``merged_into`` names a successor row of the same
list; a province's list, ``sample/province.py``, carries the 2025 successors).

This script is run once by hand to refresh the reference file::

    python -m sample.reference_communes [--out PATH]

It requires ``vietnamadminunits`` (1.0.4) in the running environment. The
output is sorted by commune code, so re-running it gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import unicodedata
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from vietnamadminunits import convert_address  # type: ignore[import-untyped]
from vietnamadminunits.database import get_data  # type: ignore[import-untyped]

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "raw" / "reference" / "communes.csv"

DISTRICT = "Thạch Hà"
PROVINCE = "Hà Tĩnh"
LAST_QUARTER_BEFORE_TRANSFER = "2024-Q4"
"""Last quarter before the 1 January 2025 boundary changes."""
FIRST_QUARTER_AFTER_TRANSFER = "2025-Q1"
"""First quarter after the 1 January 2025 boundary changes."""
LAST_QUARTER_OF_DISTRICTS = "2025-Q2"
"""Last quarter before districts were abolished (1 July 2025)."""

# The 22 commune-level units of huyện Thạch Hà during 2024.
THACH_HA_COMMUNES_2024: tuple[str, ...] = (
    "Thạch Hà",
    "Ngọc Sơn",
    "Thạch Hải",
    "Thạch Kênh",
    "Thạch Sơn",
    "Thạch Liên",
    "Đỉnh Bàn",
    "Việt Tiến",
    "Thạch Khê",
    "Thạch Long",
    "Thạch Trị",
    "Thạch Lạc",
    "Thạch Ngọc",
    "Tượng Sơn",
    "Thạch Văn",
    "Lưu Vĩnh Sơn",
    "Thạch Thắng",
    "Thạch Đài",
    "Thạch Hội",
    "Tân Lâm Hương",
    "Thạch Xuân",
    "Nam Điền",
)

# Those of the 2024 units transferred to the city of Hà Tĩnh on 1 January 2025.
MOVED_TO_CITY_2025: frozenset[str] = frozenset(
    {
        "Thạch Hải",
        "Đỉnh Bàn",
        "Thạch Khê",
        "Thạch Trị",
        "Thạch Lạc",
        "Tượng Sơn",
        "Thạch Văn",
        "Thạch Thắng",
        "Thạch Đài",
        "Thạch Hội",
        "Tân Lâm Hương",
    }
)

# The 11 units of the former Lộc Hà district that joined Thạch Hà on 1 January 2025
# ("Lộc Hà" is the township, thị trấn Lộc Hà).
FROM_LOC_HA_2025: tuple[str, ...] = (
    "Lộc Hà",
    "Tân Lộc",
    "Hồng Lộc",
    "Thịnh Lộc",
    "Bình An",
    "Ích Hậu",
    "Phù Lưu",
    "Thạch Mỹ",
    "Thạch Kim",
    "Thạch Châu",
    "Mai Phụ",
)

# Legacy districts (short names) in which the package files these communes:
# its legacy data follows the boundaries in force from 1 January 2025.
CITY = "Hà Tĩnh"
PACKAGE_DISTRICTS: frozenset[str] = frozenset({DISTRICT, CITY})

KINDS: dict[str, str] = {"Xã": "xa", "Thị trấn": "thi_tran"}

LEGACY_FIELDS = (
    "province",
    "provinceShort",
    "district",
    "districtShort",
    "ward",
    "wardShort",
    "wardType",
    "wardCode",
    "wardLat",
    "wardLon",
)


@dataclass(frozen=True)
class CommuneRow:
    """One line of the reference file."""

    code: str
    name: str
    kind: str
    valid_from: str
    valid_to: str
    merged_into: str
    district: str
    province: str
    latitude: str
    longitude: str
    code_2025: str
    name_2025: str


def fold(text: str) -> str:
    """Return ``text`` lower-cased and without Vietnamese diacritics."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def format_coordinate(value: object) -> str:
    """Format a coordinate as a decimal string, or an empty string if missing."""
    return repr(float(value)) if isinstance(value, int | float) else ""


def legacy_units() -> list[dict[str, object]]:
    """Return the package's legacy commune records in the districts of interest."""
    records: list[dict[str, object]] = get_data(fields=list(LEGACY_FIELDS), table="admin_units_legacy")
    return [
        record
        for record in records
        if record["provinceShort"] == PROVINCE and record["districtShort"] in PACKAGE_DISTRICTS
    ]


def find_unit(name: str, units: list[dict[str, object]]) -> dict[str, object]:
    """Return the single legacy record whose short name matches ``name``.

    An exact match is preferred; otherwise case and diacritics are ignored
    (which matters because, e.g., "Thạch Hà" and "Thạch Hạ" fold to the same
    text). Raises ``LookupError`` when there is no match or more than one.
    """
    wanted = unicodedata.normalize("NFC", name)
    matches = [unit for unit in units if unit["wardShort"] == wanted]
    if not matches:
        matches = [unit for unit in units if fold(str(unit["wardShort"])) == fold(name)]
    if len(matches) != 1:
        msg = f"expected one legacy commune named {name!r}, found {len(matches)}"
        raise LookupError(msg)
    return matches[0]


def successor_2025(unit: dict[str, object]) -> tuple[str, str]:
    """Return the code and short name of the 2025 commune succeeding ``unit``.

    Raises ``LookupError`` if the converter does not resolve the old commune
    to itself or finds no new commune.
    """
    address = f"{unit['ward']}, {unit['district']}, {unit['province']}"
    new_unit = convert_address(address)
    if new_unit.OldAdminUnit.ward_code != unit["wardCode"] or not new_unit.ward_code:
        msg = f"cannot convert {address!r} to the 2025 structure"
        raise LookupError(msg)
    return str(new_unit.ward_code), str(new_unit.short_ward)


@dataclass(frozen=True)
class Membership:
    """A commune of Thạch Hà at some time: its name and the quarters it reports to the district."""

    name: str
    valid_from: str
    valid_to: str
    package_district: str
    """Legacy district (short name) in which the package files the commune."""


def memberships() -> list[Membership]:
    """Every commune that belongs to Thạch Hà at some time, with its validity window."""
    moved = MOVED_TO_CITY_2025 - set(THACH_HA_COMMUNES_2024)
    if moved:
        msg = f"communes moved to the city but not in Thạch Hà in 2024: {sorted(moved)}"
        raise ValueError(msg)
    original = [
        Membership(name, "", LAST_QUARTER_BEFORE_TRANSFER, CITY)
        if name in MOVED_TO_CITY_2025
        else Membership(name, "", LAST_QUARTER_OF_DISTRICTS, DISTRICT)
        for name in THACH_HA_COMMUNES_2024
    ]
    joined = [
        Membership(name, FIRST_QUARTER_AFTER_TRANSFER, LAST_QUARTER_OF_DISTRICTS, DISTRICT) for name in FROM_LOC_HA_2025
    ]
    return original + joined


def check_package_district(members: list[Membership], units: list[dict[str, object]]) -> None:
    """Raise ``LookupError`` unless the package files exactly ``members``' Thạch Hà units under Thạch Hà.

    This catches a commune of the package's (1 January 2025) district that the
    lists above forget, or one they file in the wrong place.
    """
    listed = {unicodedata.normalize("NFC", m.name) for m in members if m.package_district == DISTRICT}
    filed = {str(unit["wardShort"]) for unit in units if unit["districtShort"] == DISTRICT}
    if listed != filed:
        msg = f"package district {DISTRICT!r}: unlisted {sorted(filed - listed)}, not filed {sorted(listed - filed)}"
        raise LookupError(msg)


def build_rows(members: list[Membership] | None = None) -> list[CommuneRow]:
    """Build the reference rows of ``members`` (default: :func:`memberships`), sorted by commune code.

    Raises ``LookupError`` if a commune is missing from the package, or filed
    there in another district than the boundaries of 1 January 2025 imply; with
    the default members, also if the package's Thạch Hà district holds other
    units (:func:`check_package_district`).
    """
    units = legacy_units()
    if members is None:
        members = memberships()
        check_package_district(members, units)
    rows = []
    for member in members:
        unit = find_unit(member.name, units)
        if unit["districtShort"] != member.package_district:
            msg = f"{member.name!r} is filed under {unit['districtShort']!r}, expected {member.package_district!r}"
            raise LookupError(msg)
        code = str(unit["wardCode"])
        code_2025, name_2025 = successor_2025(unit)
        rows.append(
            CommuneRow(
                code=code,
                name=str(unit["wardShort"]),
                kind=KINDS[str(unit["wardType"])],
                valid_from=member.valid_from,
                valid_to=member.valid_to,
                merged_into="",
                district=DISTRICT,
                province=PROVINCE,
                latitude=format_coordinate(unit["wardLat"]),
                longitude=format_coordinate(unit["wardLon"]),
                code_2025=code_2025,
                name_2025=name_2025,
            )
        )
    codes = [row.code for row in rows]
    if len(set(codes)) != len(codes):
        msg = "the same commune is listed twice"
        raise ValueError(msg)
    return sorted(rows, key=lambda row: row.code)


def write_csv(rows: list[CommuneRow], out: Path) -> None:
    """Write ``rows`` to ``out`` as UTF-8 CSV with a header row and Unix line ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(field.name for field in fields(CommuneRow))
        writer.writerows(astuple(row) for row in rows)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, then build and write the reference file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output CSV (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    rows = build_rows()
    write_csv(rows, args.out)
    print(f"wrote {len(rows)} communes to {args.out}")


if __name__ == "__main__":
    main()
