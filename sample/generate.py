"""Generate the sample raw data of Thạch Hà district (Hà Tĩnh) for 2024-Q2 and 2024-Q3.

The 2024-Q3 quarter reproduces, summed over the 22 communes, every figure of the
district's real 2024 report on the collective economy (the "Report figures" seed
values of ``warehouse.md``): 135 cooperatives (HTX) rated 26 / 44 / 49 / 11, with
2 suspended and 3 new; members and charter capital per sector; 140 cooperative
groups (THT); credit funds' loans; tax, insurance, OCOP and drone counts; the
named cooperatives and groups in the communes the report gives; and the district's
support programmes (sheet ``HoTro`` of ``_district.xlsx``). 2024-Q2 is a plausible
earlier quarter of the same cooperatives.

Everything is deterministic: one seeded :class:`random.Random` per quarter, integer
arithmetic for every split of a total, fixed workbook metadata, so that a rerun
writes byte-identical files. Headers and category labels come from the pandera
models in :mod:`schemas` (never copied here).

The writers (:func:`write_workbook`, :func:`write_csv_folder`,
:func:`write_district_workbook`) take any :class:`Submission` and are meant for
tests and benchmarks as well as for the sample itself::

    python -m sample.generate [--raw DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
import yaml

from forms.cells import write_cell
from sample.words import HTX_NAME_TEMPLATES, NAME_WORDS, THT_NAME_TEMPLATES, VILLAGE_FIRST, VILLAGE_SECOND
from schemas import vocab
from schemas.fields import SheetColumn, display_value, sheet_columns
from schemas.periods import ROMAN_QUARTERS, period_folders, period_label, period_parts
from schemas.sheets import SHEETS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RAW = ROOT / "raw"
COMMUNES_CSV = DEFAULT_RAW / "reference" / "communes.csv"

SEED = 20241015
"""Seed of the Q3 population; the Q2 view uses ``SEED + 2``."""
PERIODS = ("2024-Q2", "2024-Q3")
WORKBOOK_CREATED = datetime(2024, 10, 15, 8, 0, 0)
"""Creation time stored in every workbook, so that reruns give identical bytes."""
TITLE_ROWS = 3
"""Rows above the header when ``title_rows=True``: form title, commune, blank line."""

DISTRICT = {"name": "Thạch Hà", "province": "Hà Tĩnh", "report_deadline_days": 15}

VOCABS = vocab.BY_NAME

# ---------------------------------------------------------------------------------------------
# Data model


@dataclass(frozen=True)
class Commune:
    """One commune of the reference list."""

    code: str
    name: str
    kind: str


@dataclass
class Submission:
    """One commune's report for one quarter.

    ``htx`` and ``tht`` rows are dicts keyed by the model column names of sheets HTX
    and THT, with codes (``agriculture``, ``active``, ``good``) as category values,
    ``bool`` for yes/no and ``None`` for an empty cell. The TongHop row is not
    stored: :func:`summary_row` computes it from the detail rows.
    """

    commune_code: str
    commune_name: str
    period: str
    report_date: date
    htx: list[dict[str, Any]]
    tht: list[dict[str, Any]]
    commune_kind: str = "xa"


@dataclass
class _Coop:
    """A cooperative while the population is built (internal)."""

    commune: str
    name: str | None
    sector: str
    subsector: str | None
    status: str = "active"
    rating: str | None = None
    ocop_stars: int | None = None
    drones: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# The district's composition (2024-Q3)

_HTX_LETTERS: dict[str, tuple[str, str | None]] = {
    "C": ("agriculture", "crops"),
    "L": ("agriculture", "livestock"),
    "A": ("agriculture", "aquaculture"),
    "F": ("agriculture", "forestry"),
    "S": ("agriculture", "salt"),
    "D": ("agriculture", "agri_services"),
    "I": ("industry_handicraft", None),
    "T": ("trade_services", None),
    "E": ("environment", None),
    "K": ("construction", None),
    "V": ("transport", None),
    "Q": ("credit_fund", None),
}

HTX_MIX: dict[str, str] = {
    "18562": "C1 I1 T2 E1 K1 V2 Q1",  # Thạch Hà (thị trấn)
    "18565": "C2 L1 F1 T1",  # Ngọc Sơn
    "18571": "C1 L1 A3 S1 E1",  # Thạch Hải
    "18586": "C2 L2 K1",  # Thạch Kênh
    "18589": "C1 L1 T1",  # Thạch Sơn
    "18592": "C3 L1 E1 Q1",  # Thạch Liên
    "18595": "C2 L1 A2 T1 E1",  # Đỉnh Bàn
    "18601": "C2 L2 T1",  # Việt Tiến
    "18604": "C2 L1 A2 E1",  # Thạch Khê
    "18607": "C2 L1 K1",  # Thạch Long
    "18619": "C2 L1 A3 T1",  # Thạch Trị
    "18622": "C2 L1 A2 E1",  # Thạch Lạc
    "18625": "C3 L2 I1 E1",  # Thạch Ngọc
    "18628": "C2 L2 A2 T1 E1",  # Tượng Sơn
    "18631": "C1 L1 A3 K1",  # Thạch Văn
    "18634": "C3 L3 T1 E1 V1 Q1",  # Lưu Vĩnh Sơn
    "18637": "C3 L1 A1 E1",  # Thạch Thắng
    "18643": "C2 L1 T1 K1",  # Thạch Đài
    "18649": "C2 L1 A2 E1",  # Thạch Hội
    "18652": "C3 L2 D1 I1 T1",  # Tân Lâm Hương
    "18658": "C2 L2 F1 T1",  # Thạch Xuân
    "18667": "C1 F1 E1",  # Nam Điền
}
"""Cooperatives per commune by sector letter (see ``_HTX_LETTERS``)."""

_THT_LETTERS: dict[str, str] = {
    "C": "crops",
    "L": "livestock",
    "A": "aquaculture",
    "P": "processing",
    "E": "environment",
    "G": "general_services",
}

THT_MIX: dict[str, str] = {
    "18562": "C2 G1",
    "18565": "C4 L2",
    "18571": "C2 L2 A4",
    "18586": "C4 L2 G1",
    "18589": "C2 L1 E1",
    "18592": "C5 L2 P1 G1",
    "18595": "C2 L2 A3",
    "18601": "C3 L2 G1",
    "18604": "C3 L1 A3",
    "18607": "C2 L2 P1",
    "18619": "C3 L1 A3 P1",
    "18622": "C2 L1 A2",
    "18625": "C3 L2 G1",
    "18628": "C6 L3",
    "18631": "C3 L1 A3",
    "18634": "C5 L3 G1",
    "18637": "C4 L2",
    "18643": "C2 L1 G1",
    "18649": "C3 L1 A2",
    "18652": "C4 L2 G1",
    "18658": "C5 L1",
    "18667": "C3 L1 G1",
}
"""Cooperative groups per commune by kind letter (see ``_THT_LETTERS``)."""


@dataclass(frozen=True)
class _Named:
    """A cooperative or group fixed by the seed report (or by the sample's design)."""

    commune: str
    name: str | None
    sector: str
    subsector: str | None
    status: str
    rating: str | None
    ocop_stars: int | None = None
    drones: int | None = None


NAMED_HTX: tuple[_Named, ...] = (
    _Named("18592", "HTX Đạt Lộc", "agriculture", "crops", "active", "good"),
    _Named("18628", "HTX Hoàng Hà", "agriculture", "crops", "active", "good", ocop_stars=3),
    _Named("18634", "HTX Quyết Tiến", "agriculture", "crops", "active", "good"),
    _Named("18634", "HTX DVNN và DVTH Bắc Sơn", "agriculture", "crops", "active", "good", ocop_stars=3),
    _Named("18625", "HTX Thống Nhất", "agriculture", "crops", "active", "good", drones=2),
    _Named("18571", "HTX NTTS Đại Tiến", "agriculture", "aquaculture", "active", "good"),
    _Named("18625", "HTX Dịch vụ tổng hợp môi trường Thạch Ngọc", "environment", None, "active", "good"),
    _Named("18631", "HTX Trường Thủy", "agriculture", "aquaculture", "active", "fair"),
    _Named("18601", "HTX Cường Thịnh", "agriculture", "livestock", "active", "fair"),
    _Named("18589", "HTX Hoài Yên", "agriculture", "crops", "active", "good", ocop_stars=3),
    _Named("18595", "HTX môi trường Thạch Bàn", "environment", None, "active", "fair", ocop_stars=2),
    _Named("18649", "HTX Thiên An", "agriculture", "crops", "active", "good", drones=1),
    _Named("18637", "HTX Hoà Yên", "agriculture", "crops", "active", "fair", drones=1),
    _Named("18652", "HTX dịch vụ NN Thạch Lâm", "agriculture", "agri_services", "active", "good", drones=1),
    # Founded in 2024 (not rated): one per sector named in the seed or chosen here.
    _Named("18652", "HTX Cơ khí và mộc mỹ nghệ Tân Lâm", "industry_handicraft", None, "new", None),
    _Named("18562", "HTX Dịch vụ thương mại Phú Thịnh", "trade_services", None, "new", None),
    _Named("18658", "HTX Nông nghiệp công nghệ cao Thạch Xuân", "agriculture", "crops", "new", None),
    # Suspended, awaiting dissolution (names drawn like the others).
    _Named("18586", None, "construction", None, "suspended", None),
    _Named("18604", None, "agriculture", "livestock", "suspended", None),
)

NAMED_THT: tuple[_Named, ...] = (
    _Named("18619", "THT chế biến sữa Mai Dung", "processing", None, "active", "good", ocop_stars=3),
    _Named("18592", "THT sản xuất giò Xuân Thanh", "processing", None, "active", "good", ocop_stars=3),
    _Named("18607", "THT giò bột Tuyết Hoa", "processing", None, "active", "good", ocop_stars=3),
    _Named("18628", "THT sản xuất rau, củ, quả Sâm Lộc", "crops", None, "active", "good"),
    _Named("18592", "THT sản xuất rau, củ, quả Thuận Hòa", "crops", None, "active", "good"),
    _Named("18592", "THT sản xuất rau an toàn thôn Thọ, thôn Khang", "crops", None, "active", "good"),
)

Q3_HTX_RATINGS = {"good": 26, "fair": 44, "average": 49, "weak": 11}
Q3_THT_STATUS_RATINGS = {"good": 56, "fair": 30, "average": 34, "weak": 14, "suspended": 6}

Q3_SECTOR_TOTALS: dict[str, tuple[int, int | None]] = {
    "agriculture": (965, 136941),
    "industry_handicraft": (21, 21000),
    "trade_services": (84, 13850),
    "environment": (84, 13200),
    "construction": (35, 5750),
    "transport": (21, 5100),
    "credit_fund": (563, None),
}
"""Sector → (members, charter capital in million VND) of the seed; credit funds' capital is free."""

FUND_LOANS = (("HTX Dịch vụ tổng hợp môi trường Thạch Ngọc", 450), ("HTX Trường Thủy", 400), ("HTX Cường Thịnh", 400))
"""Loans of the provincial cooperative development fund (cumulative at Q3), per beneficiary."""
DRONE_SUPPORT = (
    ("HTX Thống Nhất", 115),
    ("HTX Thiên An", 112),
    ("HTX Hoà Yên", 113),
    ("HTX dịch vụ NN Thạch Lâm", 112),
)
"""District budget for agricultural drones (452 million VND at Q3), per beneficiary."""

CREDIT_LOANS = ((142356, 561), (121905, 478), (96436, 390))
"""Loans disbursed (million VND) and credit contracts, year to date at Q3, of the three credit funds."""

TAX_CODE_COUNT, TAX_PAID_COUNT, TAX_PAID_TOTAL = 94, 46, 840
INSURED_COUNT, INSURED_TOTAL, INCOME_MIN_TENTHS, INCOME_MAX_TENTHS = 31, 110, 35, 60
THT_REVENUE_COUNT, THT_AVG_REVENUE, THT_AVG_PROFIT = 120, 415, 125

TARGETS_2025: tuple[tuple[str, int, str, str], ...] = (
    ("htx.new", 8, "count", "Thành lập mới hợp tác xã"),
    ("htx.rating.good.count", 35, "count", "Số hợp tác xã hoạt động tốt"),
    ("htx.rating.fair.count", 60, "count", "Số hợp tác xã hoạt động khá"),
    ("htx.avg_revenue_mvnd", 960, "mvnd/year", "Doanh thu bình quân 01 hợp tác xã (triệu đồng/năm)"),
    ("htx.avg_income_mvnd_year", 70, "mvnd/year", "Thu nhập bình quân 01 lao động trong hợp tác xã (triệu đồng/năm)"),
    ("htx.managers_college.pct", 30, "pct", "Tỷ lệ cán bộ quản lý HTX có trình độ đại học, cao đẳng"),
    ("htx.managers_vocational.pct", 35, "pct", "Tỷ lệ cán bộ quản lý HTX có trình độ trung cấp"),
    ("htx.digital_training.pct", 100, "pct", "Tỷ lệ HTX được tuyên truyền, tập huấn về chuyển đổi số"),
)
"""2025 targets of part two, section 3 of the seed report: indicator, target, unit, label."""

# ---------------------------------------------------------------------------------------------
# Small pure helpers


def in_window(period: str, row: dict[str, str]) -> bool:
    """Whether ``period`` (``YYYY-Qn``) lies in a communes.csv row's ``valid_from``..``valid_to``.

    Both ends are inclusive; an empty or missing end leaves the window open on that side.
    """
    valid_from = (row.get("valid_from") or "").strip()
    valid_to = (row.get("valid_to") or "").strip()
    return (not valid_from or valid_from <= period) and (not valid_to or period <= valid_to)


def load_communes(path: Path = COMMUNES_CSV, period: str | None = None) -> list[Commune]:
    """The communes of the reference list, in file order (sorted by code).

    With ``period``, only those whose validity window (``valid_from``..``valid_to``)
    contains it: the communes expected to report that quarter.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [Commune(r["code"], r["name"], r["kind"]) for r in rows if period is None or in_window(period, r)]


def slugify(text: str) -> str:
    """Accent-free, lower-case, hyphenated form of a Vietnamese name (``Thạch Liên`` → ``thach-lien``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def commune_slug(commune: Commune) -> str:
    """File stem of a commune's workbook: its slug, prefixed ``thi-tran-`` for a township."""
    prefix = "thi-tran-" if commune.kind == "thi_tran" else ""
    return prefix + slugify(commune.name)


def commune_title(name: str, kind: str) -> str:
    """``Xã Thạch Liên`` / ``Thị trấn Thạch Hà``."""
    return f"{VOCABS['commune_kind'].label_vi(kind)} {name}"


def parse_mix(mix: str, letters: dict[str, Any]) -> list[Any]:
    """Expand ``"C2 L1"`` into ``[letters["C"], letters["C"], letters["L"]]``."""
    out: list[Any] = []
    for token in mix.split():
        out.extend([letters[token[0]]] * int(token[1:]))
    return out


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` into integers proportional to integer ``weights``.

    Largest remainder method, ties broken by position; integer arithmetic only.
    """
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("weights must sum to a positive number")
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def spread(total: int, weights: Sequence[int], *, minimum: int = 0, step: int = 1) -> list[int]:
    """Integers ≥ ``minimum`` summing to ``total``, proportional to ``weights`` above the minimum.

    The amount above the minimum is split in multiples of ``step`` (round figures);
    what does not divide goes to the item of largest weight.
    """
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError(f"cannot spread {total} over {len(weights)} items of at least {minimum}")
    units, residual = divmod(rest, step)
    parts = [minimum + step * p for p in apportion(units, weights)]
    parts[max(range(len(weights)), key=lambda i: (weights[i], -i))] += residual
    return parts


def spread_capped(total: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """Like :func:`apportion` but no part exceeds its cap (the excess moves to items with room)."""
    if total > sum(caps):
        raise ValueError("total exceeds the caps")
    parts = [0] * len(weights)
    left = total
    open_items = [i for i in range(len(weights)) if caps[i] > 0]
    while left > 0:
        shares = apportion(left, [max(weights[i], 1) for i in open_items])
        for i, share in zip(open_items, shares, strict=True):
            take = min(share, caps[i] - parts[i])
            parts[i] += take
            left -= take
        open_items = [i for i in open_items if parts[i] < caps[i]]
    return parts


def pick(rng: random.Random, items: Sequence[Any], count: int, weight: Callable[[Any], int]) -> list[Any]:
    """``count`` items drawn without replacement, favouring larger integer weights (deterministic)."""
    keyed = sorted(items, key=lambda it: -weight(it) * rng.randint(50, 150))
    return keyed[:count]


# ---------------------------------------------------------------------------------------------
# Building the population (2024-Q3)


def _draw_names(rng: random.Random) -> tuple[list[str], list[str]]:
    """Shuffled word pools for cooperative names and village names."""
    words = list(NAME_WORDS)
    rng.shuffle(words)
    villages = [f"thôn {a} {b}" for a in VILLAGE_FIRST for b in VILLAGE_SECOND]
    rng.shuffle(villages)
    return words, villages


def _htx_population(rng: random.Random, communes: Sequence[Commune], words: list[str]) -> list[_Coop]:
    """Every cooperative with sector, status and rating; named ones where the seed puts them."""
    names = {c.code: c for c in communes}
    coops: list[_Coop] = []
    free_words = list(words)
    for commune in communes:
        slots = parse_mix(HTX_MIX[commune.code], _HTX_LETTERS)
        for named in (n for n in NAMED_HTX if n.commune == commune.code):
            slot = (named.sector, named.subsector)
            if slot not in slots:
                raise ValueError(f"no {slot} slot left in {commune.name} for {named.name}")
            slots.remove(slot)
            coops.append(
                _Coop(
                    commune.code,
                    named.name,
                    named.sector,
                    named.subsector,
                    named.status,
                    named.rating,
                    named.ocop_stars,
                    named.drones,
                )
            )
        for sector, subsector in slots:
            status, rating = "active", None
            if sector == "credit_fund":
                rating = "good"
            coops.append(_Coop(commune.code, None, sector, subsector, status, rating))
    # Ratings of the cooperatives that are neither named nor credit funds.
    fixed = [c for c in coops if c.rating is not None]
    left = {r: n - sum(1 for c in fixed if c.rating == r) for r, n in Q3_HTX_RATINGS.items()}
    bag = [r for r, n in left.items() for _ in range(n)]
    rng.shuffle(bag)
    open_coops = [c for c in coops if c.status == "active" and c.rating is None]
    if len(bag) != len(open_coops):
        raise ValueError(f"{len(open_coops)} cooperatives to rate, {len(bag)} ratings")
    for coop, rating in zip(open_coops, bag, strict=True):
        coop.rating = rating
    # Names.
    for coop in coops:
        if coop.name is None:
            template = rng.choice(HTX_NAME_TEMPLATES[coop.subsector or coop.sector])
            place = names[coop.commune]
            place_name = place.name if place.kind == "xa" else f"thị trấn {place.name}"
            word = free_words.pop() if "{w}" in template else ""
            coop.name = template.format(w=word, c=place_name)
    return coops


def _founded_year(rng: random.Random, coop: _Coop) -> int:
    """A plausible founding year for the sector; 2024 for a new cooperative."""
    if coop.status == "new":
        return 2024
    ranges = {
        "credit_fund": (1995, 2001),
        "environment": (2012, 2023),
        "trade_services": (2003, 2023),
        "construction": (2000, 2020),
        "transport": (2002, 2018),
        "industry_handicraft": (2005, 2021),
    }
    if coop.sector in ranges:
        return rng.randint(*ranges[coop.sector])
    era = rng.randint(1, 20)
    if era == 1:
        return rng.randint(1976, 1996)  # an old cooperative re-registered under the 1996 law
    if era <= 6:
        return rng.randint(1997, 2001)  # transformed under the 1996 law
    if era <= 13:
        return rng.randint(2002, 2015)
    return rng.randint(2016, 2023)


_RATING_REVENUE = {"good": (90, 160), "fair": (60, 110), "average": (35, 75), "weak": (10, 35)}
_RATING_PROFIT = {"good": (6, 15), "fair": (4, 10), "average": (1, 6), "weak": (0, 2)}


def _fill_htx_values(rng: random.Random, coops: list[_Coop]) -> None:
    """Members, capital and the optional columns, keeping every seed total exact."""
    for sector, (members_total, capital_total) in Q3_SECTOR_TOTALS.items():
        rows = [c for c in coops if c.sector == sector]
        minimum = 100 if sector == "credit_fund" else 5
        member_weights = [rng.randint(1, 12) if rng.randint(1, 8) > 1 else rng.randint(15, 40) for _ in rows]
        for coop, members in zip(rows, spread(members_total, member_weights, minimum=minimum), strict=True):
            coop.values["members"] = members
        if capital_total is None:
            capitals = [rng.randint(180, 360) * 10 for _ in rows]
        else:
            weights = [rng.randint(40, 160) // (2 if c.status == "new" else 1) for c in rows]
            capitals = spread(capital_total, weights, minimum=100, step=10)
        for coop, capital in zip(rows, capitals, strict=True):
            coop.values["charter_capital_mvnd"] = capital

    for coop in coops:
        v = coop.values
        v["founded_year"] = _founded_year(rng, coop)
        capital = v["charter_capital_mvnd"]
        if coop.sector == "credit_fund":
            v["revenue_mvnd"] = rng.randint(55, 85) * 100
            v["profit_mvnd"] = v["revenue_mvnd"] * rng.randint(8, 14) // 100
        elif coop.status == "suspended" or (coop.status == "active" and rng.randint(1, 14) == 1):
            v["revenue_mvnd"] = v["profit_mvnd"] = None
        elif coop.status == "new":
            v["revenue_mvnd"] = max(20, capital * rng.randint(5, 20) // 100)
            v["profit_mvnd"] = 0
        else:
            low, high = _RATING_REVENUE[coop.rating or "average"]
            v["revenue_mvnd"] = max(30, capital * rng.randint(low, high) // 100)
            low, high = _RATING_PROFIT[coop.rating or "average"]
            v["profit_mvnd"] = v["revenue_mvnd"] * rng.randint(low, high) // 100
        if coop.status == "suspended":
            v["managers"] = v["managers_college"] = v["managers_vocational"] = None
            v["digital_training"] = False
        else:
            managers = rng.randint(5, 7) if coop.sector == "credit_fund" else rng.choice((3, 3, 4, 4, 5))
            college = rng.choice((0, 0, 0, 1, 1, 2)) + (1 if coop.sector == "credit_fund" else 0)
            vocational = min(rng.choice((0, 0, 1, 1, 1, 2)), managers - college)
            v.update(managers=managers, managers_college=college, managers_vocational=vocational)
            v["digital_training"] = None if coop.status == "new" else rng.randint(1, 100) <= 64
        v["ocop_stars"] = coop.ocop_stars
        v["drones"] = coop.drones
        v["tax_code"] = v["tax_paid_mvnd"] = v["insured_workers"] = v["avg_income_mvnd_month"] = None
        v["loans_disbursed_mvnd"] = v["loan_contracts"] = None

    credit = [c for c in coops if c.sector == "credit_fund"]
    for coop, (loans, contracts) in zip(credit, CREDIT_LOANS, strict=True):
        coop.values.update(loans_disbursed_mvnd=loans, loan_contracts=contracts)

    _fill_tax(rng, coops)
    _fill_insurance(rng, coops)


def _tax_priority(coop: _Coop) -> int:
    """Who registers for tax first: non-farm sectors, then well-rated farms, then the rest."""
    if coop.sector != "agriculture":
        return 0
    if coop.status == "active" and coop.rating in ("good", "fair"):
        return 1
    return 2 if coop.rating == "average" else 3


def _fill_tax(rng: random.Random, coops: list[_Coop]) -> None:
    """Tax codes for 94 cooperatives; 46 of them paid 840 million VND in total."""
    ranked = sorted(coops, key=lambda c: (_tax_priority(c), rng.randint(0, 10**6)))
    holders = ranked[:TAX_CODE_COUNT]
    numbers = rng.sample(range(1_000_000, 9_999_999), TAX_CODE_COUNT)
    branches = set(rng.sample(range(TAX_CODE_COUNT), 2))
    for i, (coop, number) in enumerate(zip(holders, numbers, strict=True)):
        coop.values["tax_code"] = f"300{number:07d}" + ("-001" if i in branches else "")
    payers = pick(
        rng, [c for c in holders if c.values["revenue_mvnd"]], TAX_PAID_COUNT, lambda c: c.values["revenue_mvnd"]
    )
    amounts = spread(TAX_PAID_TOTAL, [c.values["revenue_mvnd"] // 10 + 1 for c in payers], minimum=2)
    for coop, amount in zip(payers, amounts, strict=True):
        coop.values["tax_paid_mvnd"] = amount


def _fill_insurance(rng: random.Random, coops: list[_Coop]) -> None:
    """31 cooperatives insure 110 workers earning 3.5 to 6.0 million VND a month.

    Some other active cooperatives report an average income too.
    """
    credit = [c for c in coops if c.sector == "credit_fund"]
    candidates = [
        c
        for c in coops
        if c.values["tax_code"]
        and c.status == "active"
        and c.sector != "credit_fund"
        and c.rating in ("good", "fair", "average")
    ]
    chosen = credit + pick(
        rng,
        candidates,
        INSURED_COUNT - len(credit),
        lambda c: 3 if c.rating == "good" else 2 if c.rating == "fair" else 1,
    )
    weights = [8 if c.sector == "credit_fund" else rng.randint(1, 4) for c in chosen]
    workers = spread(INSURED_TOTAL, weights, minimum=1)
    incomes = [rng.randint(INCOME_MIN_TENTHS + 1, INCOME_MAX_TENTHS - 1) for _ in chosen]
    incomes[0] = INCOME_MAX_TENTHS  # a credit fund pays best
    incomes[-1] = INCOME_MIN_TENTHS
    for coop, count, income in zip(chosen, workers, incomes, strict=True):
        coop.values["insured_workers"] = count
        coop.values["avg_income_mvnd_month"] = income / 10
    for coop in coops:
        if coop.values["insured_workers"] is None and coop.status == "active" and rng.randint(1, 10) <= 4:
            coop.values["avg_income_mvnd_month"] = rng.randint(28, 52) / 10


def _htx_rows(coops: list[_Coop], commune: str) -> list[dict[str, Any]]:
    """The sheet rows of one commune, ordered by founding year, with ids ``<code>-HTX-01`` ..."""
    mine = sorted((c for c in coops if c.commune == commune), key=lambda c: (c.values["founded_year"], c.name or ""))
    rows = []
    for i, coop in enumerate(mine, start=1):
        row = {
            "coop_id": f"{commune}-HTX-{i:02d}",
            "name": coop.name,
            "sector": coop.sector,
            "subsector": coop.subsector,
            "status": coop.status,
            "rating": coop.rating,
            **coop.values,
        }
        rows.append({col.name: row.get(col.name) for col in sheet_columns(SHEETS["HTX"])})
    return rows


def _tht_population(rng: random.Random, communes: Sequence[Commune], villages: list[str]) -> list[_Coop]:
    """Every cooperative group with kind, status and rating."""
    groups: list[_Coop] = []
    for commune in communes:
        slots = parse_mix(THT_MIX[commune.code], _THT_LETTERS)
        for named in (n for n in NAMED_THT if n.commune == commune.code):
            slots.remove(named.sector)
            groups.append(
                _Coop(commune.code, named.name, named.sector, None, named.status, named.rating, named.ocop_stars)
            )
        groups.extend(_Coop(commune.code, None, kind, None) for kind in slots)
    fixed = [g for g in groups if g.rating is not None]
    left = {r: n - sum(1 for g in fixed if g.rating == r) for r, n in Q3_THT_STATUS_RATINGS.items()}
    bag = [r for r, n in left.items() for _ in range(n)]
    rng.shuffle(bag)
    open_groups = [g for g in groups if g.rating is None]
    for group, rating in zip(open_groups, bag, strict=True):
        if rating == "suspended":
            group.status, group.rating = "suspended", None
        else:
            group.rating = rating
    for group in groups:
        if group.name is None:
            group.name = rng.choice(THT_NAME_TEMPLATES[group.sector]).format(v=villages.pop())
        group.values["members"] = rng.randint(2, 9) if rng.randint(1, 4) > 1 else rng.randint(10, 28)
        group.values["ocop_stars"] = group.ocop_stars
    _fill_tht_money(rng, groups)
    return groups


_KIND_REVENUE = {
    "crops": 60,
    "livestock": 90,
    "aquaculture": 110,
    "processing": 300,
    "environment": 50,
    "general_services": 80,
}
_RATING_FACTOR = {"good": 13, "fair": 10, "average": 8, "weak": 5}


def _fill_tht_money(rng: random.Random, groups: list[_Coop]) -> None:
    """Revenue and profit for 120 groups: means of exactly 415 and 125 million VND."""
    active = [g for g in groups if g.status == "active"]
    silent = {id(g) for g in rng.sample(active, len(active) - THT_REVENUE_COUNT)}
    reporting = [g for g in active if id(g) not in silent]
    weights = [_KIND_REVENUE[g.sector] * _RATING_FACTOR[g.rating or "weak"] * rng.randint(70, 130) for g in reporting]
    revenues = spread(THT_AVG_REVENUE * THT_REVENUE_COUNT, weights, minimum=40, step=5)
    profit_weights = [r * rng.randint(18, 42) for r in revenues]
    profits = spread_capped(THT_AVG_PROFIT * THT_REVENUE_COUNT, profit_weights, [r // 2 for r in revenues])
    for group in groups:
        group.values["revenue_mvnd"] = group.values["profit_mvnd"] = None
    for group, revenue, profit in zip(reporting, revenues, profits, strict=True):
        group.values.update(revenue_mvnd=revenue, profit_mvnd=profit)


def _tht_rows(groups: list[_Coop], commune: str) -> list[dict[str, Any]]:
    """The sheet rows of one commune, ordered by kind then name, with ids ``<code>-THT-01`` ..."""
    kinds = vocab.THT_KINDS.codes
    mine = sorted((g for g in groups if g.commune == commune), key=lambda g: (kinds.index(g.sector), g.name))
    rows = []
    for i, group in enumerate(mine, start=1):
        row = {
            "group_id": f"{commune}-THT-{i:02d}",
            "name": group.name,
            "kind": group.sector,
            "status": group.status,
            "rating": group.rating,
            **group.values,
        }
        rows.append({col.name: row.get(col.name) for col in sheet_columns(SHEETS["THT"])})
    return rows


def _q3_report_date(rng: random.Random) -> date:
    """A report date on time for Q3 (deadline 15 October 2024)."""
    return date(2024, 10, rng.randint(1, 12))


def _build_q3(communes: Sequence[Commune]) -> list[Submission]:
    """The 2024-Q3 submissions: the seed-matching population, split by commune."""
    rng = random.Random(SEED)
    words, villages = _draw_names(rng)
    coops = _htx_population(rng, communes, words)
    _fill_htx_values(rng, coops)
    groups = _tht_population(rng, communes, villages)
    subs = [
        Submission(
            c.code, c.name, "2024-Q3", _q3_report_date(rng), _htx_rows(coops, c.code), _tht_rows(groups, c.code), c.kind
        )
        for c in communes
    ]
    return subs


# ---------------------------------------------------------------------------------------------
# 2024-Q2: the same cooperatives one quarter earlier

_YTD_COLUMNS = ("revenue_mvnd", "profit_mvnd", "tax_paid_mvnd", "loans_disbursed_mvnd", "loan_contracts")


def _previous_quarter(q3: list[Submission]) -> list[Submission]:
    """2024-Q2 from 2024-Q3: no new cooperatives yet, a few ratings lower, smaller year-to-date amounts."""
    rng = random.Random(SEED + 2)
    htx = [row for s in q3 for row in s.htx if row["status"] != "new"]
    named = {n.name for n in NAMED_HTX}
    unnamed_good = [r for r in htx if r["rating"] == "good" and r["name"] not in named and r["sector"] != "credit_fund"]
    promoted = {r["coop_id"] for r in rng.sample(unnamed_good, 4)}  # fair in Q2, good in Q3
    fair = [r for r in htx if r["rating"] == "fair" and r["name"] not in named]
    raised = {r["coop_id"] for r in rng.sample(fair, 3)}  # average in Q2, fair in Q3
    suspended_later = next(r["coop_id"] for r in htx if r["status"] == "suspended" and r["sector"] == "agriculture")
    early_drones = {name for name, _ in DRONE_SUPPORT[:2]}  # the other two bought theirs in Q3
    tht_good = [r for s in q3 for r in s.tht if r["rating"] == "good" and r["ocop_stars"] is None]
    tht_promoted = {(r["group_id"]) for r in rng.sample(tht_good, 3)}

    out = []
    for sub in q3:
        rows = []
        for q3_row in sub.htx:
            if q3_row["status"] == "new":
                continue
            row = dict(q3_row)
            if row["coop_id"] in promoted:
                row["rating"] = "fair"
            elif row["coop_id"] in raised:
                row["rating"] = "average"
            elif row["coop_id"] == suspended_later:
                row.update(status="active", rating="weak", managers=3, managers_college=0, managers_vocational=0)
            if row["drones"] is not None and row["name"] not in early_drones:
                row["drones"] = None
            share = rng.randint(58, 70)
            for col in _YTD_COLUMNS:
                if row[col] is not None:
                    row[col] = row[col] * share // 100
            if row["tax_paid_mvnd"] == 0:
                row["tax_paid_mvnd"] = None
            rows.append(row)
        groups = []
        for q3_group in sub.tht:
            group = dict(q3_group)
            if group["group_id"] in tht_promoted:
                group["rating"] = "fair"
            groups.append(group)
        out.append(replace(sub, period="2024-Q2", report_date=date(2024, 7, rng.randint(1, 10)), htx=rows, tht=groups))
    return out


# ---------------------------------------------------------------------------------------------
# Public building functions


def build_district(period: str, communes: Sequence[Commune] | None = None) -> list[Submission]:
    """The 22 communes' submissions of ``period`` (``2024-Q3`` or ``2024-Q2``), in commune-code order.

    ``communes`` defaults to those of the reference list whose window contains ``period``.
    """
    communes = load_communes(period=period) if communes is None else communes
    q3 = _build_q3(communes)
    if period == "2024-Q3":
        return q3
    if period == "2024-Q2":
        return _previous_quarter(q3)
    raise ValueError(f"no sample data for {period!r}; use one of {PERIODS}")


def find_coop(submissions: Iterable[Submission], name: str) -> str:
    """The ``coop_id`` of the cooperative called ``name``."""
    for sub in submissions:
        for row in sub.htx:
            if row["name"] == name:
                return str(row["coop_id"])
    raise LookupError(f"no cooperative {name!r}")


def district_support(period: str, submissions: Sequence[Submission] | None = None) -> list[dict[str, Any]]:
    """Rows of sheet ``HoTro`` (keyed by HoTroSheet column names) for ``period``; amounts are cumulative."""
    subs = build_district(period) if submissions is None else submissions
    if period == "2024-Q3":
        province, district_plan, district_paid = 6801, 12700, 4428
        fund, drones = FUND_LOANS, DRONE_SUPPORT
    elif period == "2024-Q2":
        province, district_plan, district_paid = 3950, 12700, 1865
        fund, drones = FUND_LOANS[:2], DRONE_SUPPORT[:2]
    else:
        raise ValueError(f"no support data for {period!r}")
    rows: list[dict[str, Any]] = [
        {
            "program": "NQ44-NQ51",
            "level": "province",
            "purpose": "Hỗ trợ theo Nghị quyết 44 và Nghị quyết 51 của HĐND tỉnh (nông nghiệp, nông thôn mới)",
            "coop_id": None,
            "plan_mvnd": None,
            "disbursed_mvnd": province,
        }
    ]
    rows += [
        {
            "program": "QHTX-TINH",
            "level": "coop_fund",
            "purpose": "Cho vay vốn từ Quỹ hỗ trợ phát triển HTX tỉnh",
            "coop_id": find_coop(subs, name),
            "plan_mvnd": amount,
            "disbursed_mvnd": amount,
        }
        for name, amount in fund
    ]
    rows += [
        {
            "program": "HT-MAYBAY",
            "level": "district",
            "purpose": "Hỗ trợ mua máy bay không người lái (ngân sách huyện)",
            "coop_id": find_coop(subs, name),
            "plan_mvnd": amount,
            "disbursed_mvnd": amount,
        }
        for name, amount in drones
    ]
    rows.append(
        {
            "program": "VB624-UBND",
            "level": "district",
            "purpose": "Hỗ trợ phát triển nông nghiệp, nông thôn, NTM theo Văn bản 624/UBND-TCKH",
            "coop_id": None,
            "plan_mvnd": district_plan,
            "disbursed_mvnd": district_paid,
        }
    )
    return rows


def summary_row(submission: Submission, *, period_style: str = "quy") -> dict[str, Any]:
    """The TongHop row computed from the detail rows (keyed by TongHopSheet column names)."""
    htx, tht = submission.htx, submission.tht

    def count(rows: list[dict[str, Any]], **match: str) -> int:
        return sum(1 for r in rows if all(r[k] == v for k, v in match.items()))

    return {
        "commune": submission.commune_name,
        "period_text": period_label(submission.period, period_style),
        "report_date": submission.report_date,
        "htx_total": len(htx),
        "htx_new": count(htx, status="new"),
        "htx_good": count(htx, status="active", rating="good"),
        "htx_fair": count(htx, status="active", rating="fair"),
        "htx_average": count(htx, status="active", rating="average"),
        "htx_weak": count(htx, status="active", rating="weak"),
        "htx_suspended": count(htx, status="suspended"),
        "htx_members": sum(r["members"] for r in htx),
        "htx_capital_mvnd": sum(r["charter_capital_mvnd"] for r in htx),
        "tht_total": len(tht),
        "tht_new": count(tht, status="new"),
        "tht_good": count(tht, status="active", rating="good"),
        "tht_fair": count(tht, status="active", rating="fair"),
        "tht_average": count(tht, status="active", rating="average"),
        "tht_weak": count(tht, status="active", rating="weak") + count(tht, status="suspended"),
    }


# ---------------------------------------------------------------------------------------------
# Writers


def cell_value(col: SheetColumn, value: Any) -> Any:
    """A model value as a person writes it: category → Vietnamese label, bool → Có/Không, else as is."""
    return display_value(col, value)


def _sheet_titles(period: str) -> dict[str, str]:
    """The form title above each sheet's header."""
    year, quarter = period_parts(period)
    when = f"QUÝ {ROMAN_QUARTERS[quarter]}/{year}"
    return {
        "HTX": f"PHỤ BIỂU 01 - TÌNH HÌNH HỢP TÁC XÃ {when}",
        "THT": f"PHỤ BIỂU 02 - TÌNH HÌNH TỔ HỢP TÁC {when}",
        "TongHop": f"PHỤ BIỂU 03 - TỔNG HỢP TÌNH HÌNH HTX, THT {when}",
    }


class _Book:
    """An xlsxwriter workbook with fixed metadata and the few formats the sample uses."""

    def __init__(self, path: Path, title: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = {"strings_to_numbers": False, "strings_to_formulas": False}
        self.book = xlsxwriter.Workbook(str(path), options)
        self.book.set_properties({"title": title, "author": "kttt sample generator", "created": WORKBOOK_CREATED})
        self.title = self.book.add_format({"bold": True, "font_size": 12})
        self.header = self.book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1})
        self.date = self.book.add_format({"num_format": "dd/mm/yyyy"})

    def sheet(
        self,
        name: str,
        columns: list[SheetColumn],
        rows: Iterable[dict[str, Any]],
        titles: Sequence[str] = (),
        total_row: dict[str, Any] | None = None,
    ) -> None:
        """Add a sheet: title rows, the header row of ``header_vi``, then one row per dict."""
        ws = self.book.add_worksheet(name)
        for r, text in enumerate(titles):
            if text:
                ws.write_string(r, 0, text, self.title)
        top = len(titles)
        for c, col in enumerate(columns):
            ws.write_string(top, c, col.header_vi, self.header)
            ws.set_column(c, c, max(10, min(40, len(col.header_vi) + 2)))
        r = top
        for r, row in enumerate(rows, start=top + 1):
            for c, col in enumerate(columns):
                self.write(ws, r, c, cell_value(col, row.get(col.name)))
        if total_row is not None:
            for c, col in enumerate(columns):
                self.write(ws, r + 1, c, total_row.get(col.name))

    def write(self, ws: Any, r: int, c: int, value: Any) -> None:
        """Write one cell with its proper type (number, Excel date or text); skip None."""
        write_cell(ws, r, c, value, self.date)

    def close(self) -> None:
        """Write the file."""
        self.book.close()


def _total(rows: list[dict[str, Any]], first: str, columns: Sequence[str]) -> dict[str, Any]:
    """A "Tổng cộng" row summing ``columns``."""
    return {first: "Tổng cộng"} | {c: sum(r[c] or 0 for r in rows) for c in columns}


def write_workbook(
    path: Path, submission: Submission, *, title_rows: bool = True, period_style: str = "quy", total_row: bool = False
) -> Path:
    """Write a commune's workbook with sheets ``HTX``, ``THT`` and ``TongHop``.

    ``title_rows`` puts :data:`TITLE_ROWS` rows (form title, commune, blank) above
    each header; ``period_style`` is how the period is written (see :func:`schemas.periods.period_label`);
    ``total_row`` adds a "Tổng cộng" row below the detail rows, as people often do.
    """
    titles = _sheet_titles(submission.period)
    commune = commune_title(submission.commune_name, submission.commune_kind)
    book = _Book(path, f"{titles['HTX']} - {commune}")
    for name, rows, totals in (
        ("HTX", submission.htx, ("members", "charter_capital_mvnd")),
        ("THT", submission.tht, ("members",)),
    ):
        columns = sheet_columns(SHEETS[name])
        book.sheet(
            name,
            columns,
            rows,
            (titles[name], commune, "") if title_rows else (),
            _total(rows, columns[0].name, totals) if total_row else None,
        )
    summary = summary_row(submission, period_style=period_style)
    book.sheet(
        "TongHop", sheet_columns(SHEETS["TongHop"]), [summary], (titles["TongHop"], commune, "") if title_rows else ()
    )
    book.close()
    return path


def _csv_text(value: Any) -> str:
    """A cell as CSV text: empty for None, dd/mm/yyyy for dates, no trailing .0."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv_folder(path: Path, submission: Submission, *, period_style: str = "quy") -> Path:
    """Write a commune's submission as a folder of ``HTX.csv``, ``THT.csv`` and ``TongHop.csv``.

    UTF-8 without BOM, header in line 1, labels as in the workbook, dates dd/mm/yyyy.
    """
    path.mkdir(parents=True, exist_ok=True)
    sheets = {
        "HTX": submission.htx,
        "THT": submission.tht,
        "TongHop": [summary_row(submission, period_style=period_style)],
    }
    for name, rows in sheets.items():
        columns = sheet_columns(SHEETS[name])
        with (path / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(col.header_vi for col in columns)
            for row in rows:
                writer.writerow(_csv_text(cell_value(col, row.get(col.name))) for col in columns)
    return path


def write_district_workbook(path: Path, rows: Sequence[dict[str, Any]], *, title: str | None = None) -> Path:
    """Write ``_district.xlsx`` with sheet ``HoTro`` (rows keyed by HoTroSheet column names)."""
    book = _Book(path, title or "HoTro")
    titles = (title, f"Huyện {DISTRICT['name']}", "") if title else ()
    book.sheet("HoTro", sheet_columns(SHEETS["HoTro"]), rows, titles)
    book.close()
    return path


def write_targets(path: Path) -> Path:
    """Write ``targets.csv``: the 2025 targets of the seed report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("year", "indicator", "target", "unit", "label_vi"))
        writer.writerows((2025, *target) for target in TARGETS_2025)
    return path


def write_district_yaml(path: Path) -> Path:
    """Write ``district.yaml``: district name, province and report deadline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(DISTRICT, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_sample(raw_dir: Path) -> list[Path]:
    """Write the whole sample under ``raw_dir`` and return the files written.

    ``raw/2024/Q3/<slug>.xlsx`` per commune and ``_district.xlsx``, the same for Q2,
    ``reference/targets.csv`` and ``reference/district.yaml``. ``reference/communes.csv``
    is copied from the project only when ``raw_dir`` has none.
    """
    written: list[Path] = []
    reference = raw_dir / "reference"
    reference.mkdir(parents=True, exist_ok=True)
    if not (reference / "communes.csv").exists():
        shutil.copyfile(COMMUNES_CSV, reference / "communes.csv")
    for period in PERIODS:
        communes = load_communes(period=period)
        slugs = {c.code: commune_slug(c) for c in communes}
        year, quarter = period_parts(period)
        folder = raw_dir.joinpath(*period_folders(period))
        subs = build_district(period, communes)
        for sub in subs:
            written.append(write_workbook(folder / f"{slugs[sub.commune_code]}.xlsx", sub))
        title = f"TỔNG HỢP HỖ TRỢ KINH TẾ TẬP THỂ QUÝ {ROMAN_QUARTERS[quarter]}/{year}"
        written.append(write_district_workbook(folder / "_district.xlsx", district_support(period, subs), title=title))
    written.append(write_targets(reference / "targets.csv"))
    written.append(write_district_yaml(reference / "district.yaml"))
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m sample.generate [--raw DIR]``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help=f"raw directory (default: {DEFAULT_RAW})")
    args = parser.parse_args(argv)
    written = write_sample(args.raw)
    print(f"wrote {len(written)} files under {args.raw}")


if __name__ == "__main__":
    main()
