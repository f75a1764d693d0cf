"""A synthetic national quarter: thousands of commune workbooks with realistic row counts.

The sample district (:mod:`sample.generate`) reproduces one real report figure for
figure; this module scales the same submission model and the same workbook writer
to a whole country, for benchmarks and load tests. Every commune gets about ten
cooperatives and twenty cooperative groups whose values pass every rule, a TongHop
row computed from them, and a line in ``reference/communes.csv``. The output is
deterministic for a given number of communes, period and seed: each commune draws
from its own random stream, so workbooks can be written in parallel.

    python -m sample.national --communes 3321 --raw /tmp/national/raw
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from sample.generate import Commune, Submission, write_workbook
from schemas import vocab
from schemas.fields import sheet_columns
from schemas.periods import period_folders, period_parts
from schemas.sheets import HtxSheet, ThtSheet

COMMUNES_2025 = 3321
SEED = 2025_07_01
PERIOD = "2025-Q3"

_SYLLABLES = (
    "An",
    "Bình",
    "Châu",
    "Đông",
    "Đức",
    "Gia",
    "Hà",
    "Hải",
    "Hòa",
    "Hồng",
    "Hưng",
    "Khánh",
    "Kim",
    "Lạc",
    "Lâm",
    "Lộc",
    "Long",
    "Minh",
    "Mỹ",
    "Nam",
    "Nghĩa",
    "Ngọc",
    "Phú",
    "Phúc",
    "Phong",
    "Quang",
    "Sơn",
    "Tân",
    "Thạch",
    "Thái",
    "Thanh",
    "Thành",
    "Thịnh",
    "Thuận",
    "Tiến",
    "Trung",
    "Trường",
    "Tường",
    "Vân",
    "Vĩnh",
    "Xuân",
    "Yên",
)
_KINDS = ("xa", "xa", "xa", "xa", "phuong")
_HTX_SECTORS = (
    ("agriculture", 12),
    ("trade_services", 3),
    ("construction", 1),
    ("transport", 1),
    ("industry_handicraft", 1),
    ("environment", 1),
)
_RATINGS = ("good", "fair", "average", "weak")
_HTX_COLUMNS = [c.name for c in sheet_columns(HtxSheet)]
_THT_COLUMNS = [c.name for c in sheet_columns(ThtSheet)]


def commune_name(index: int) -> str:
    """A unique two- or three-syllable commune name for position ``index``."""
    n = len(_SYLLABLES)
    first, rest = index % n, index // n
    second, third = rest % n, rest // n
    words = [_SYLLABLES[first], _SYLLABLES[(second + first + 1) % n]]
    if third:
        words.append(_SYLLABLES[(third - 1) % n])
    return " ".join(words)


def national_communes(count: int = COMMUNES_2025) -> list[Commune]:
    """``count`` communes with five-digit codes and names unique across the country."""
    names: set[str] = set()
    out = []
    index = 0
    while len(out) < count:
        name = commune_name(index)
        index += 1
        if name in names:
            continue
        names.add(name)
        out.append(Commune(f"{len(out) + 1:05d}", name, _KINDS[len(out) % len(_KINDS)]))
    return out


def write_communes_csv(path: Path, communes: Sequence[Commune]) -> Path:
    """``reference/communes.csv`` for the national list (no validity windows: all current)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("code", "name", "kind", "valid_from", "valid_to", "merged_into", "district", "province"))
        for c in communes:
            writer.writerow((c.code, c.name, c.kind, "", "", "", "", f"Tỉnh {1 + int(c.code) % 34:02d}"))
    return path


def _weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _status_rating(rng: random.Random) -> tuple[str, str | None]:
    roll = rng.randint(1, 100)
    if roll <= 4:
        return "new", None
    if roll <= 9:
        return "suspended", None
    return "active", rng.choices(_RATINGS, weights=(35, 30, 25, 10))[0]


def _htx_row(rng: random.Random, commune: Commune, i: int) -> dict[str, Any]:
    sector = "credit_fund" if i == 1 and rng.randint(1, 5) == 1 else _weighted(rng, _HTX_SECTORS)
    status, rating = _status_rating(rng)
    if sector == "credit_fund":
        status, rating = "active", "good"
    capital = rng.randint(10, 300) * 10
    revenue = None if status != "active" or rng.randint(1, 12) == 1 else capital * rng.randint(20, 160) // 100
    managers = None if status == "suspended" else rng.randint(3, 7)
    college = None if managers is None else rng.randint(0, 2)
    row: dict[str, Any] = {
        "coop_id": f"{commune.code}-HTX-{i:02d}",
        "name": f"HTX {vocab.SECTORS.label_vi(sector)} {commune.name} {i}",
        "sector": sector,
        "subsector": rng.choice(vocab.SUBSECTORS.codes) if sector == "agriculture" else None,
        "founded_year": 2025 if status == "new" else rng.randint(1997, 2024),
        "status": status,
        "rating": rating,
        "members": rng.randint(7, 40) if sector != "credit_fund" else rng.randint(300, 1500),
        "charter_capital_mvnd": capital,
        "revenue_mvnd": revenue,
        "profit_mvnd": None if revenue is None else revenue * rng.randint(0, 15) // 100,
        "tax_code": f"30{rng.randint(10_000_000, 99_999_999)}" if rng.randint(1, 3) > 1 else None,
        "tax_paid_mvnd": rng.randint(1, 40) if revenue and rng.randint(1, 2) == 1 else None,
        "insured_workers": rng.randint(1, 8) if status == "active" and rng.randint(1, 3) == 1 else None,
        "avg_income_mvnd_month": rng.randint(30, 70) / 10 if status == "active" else None,
        "managers": managers,
        "managers_college": college,
        "managers_vocational": None if managers is None else rng.randint(0, managers - college),
        "digital_training": None if status == "new" else rng.randint(1, 100) <= 60,
        "ocop_stars": rng.choice((3, 3, 3, 4)) if rng.randint(1, 12) == 1 else None,
        "drones": rng.randint(1, 2) if sector == "agriculture" and rng.randint(1, 15) == 1 else None,
        "loans_disbursed_mvnd": rng.randint(20_000, 150_000) if sector == "credit_fund" else None,
        "loan_contracts": rng.randint(100, 600) if sector == "credit_fund" else None,
    }
    return {name: row.get(name) for name in _HTX_COLUMNS}


def _tht_row(rng: random.Random, commune: Commune, i: int) -> dict[str, Any]:
    status, rating = _status_rating(rng)
    revenue = rng.randint(8, 120) * 5 if status == "active" and rng.randint(1, 3) > 1 else None
    row: dict[str, Any] = {
        "group_id": f"{commune.code}-THT-{i:02d}",
        "name": f"THT thôn {commune.name} {i}",
        "kind": rng.choice(vocab.THT_KINDS.codes),
        "status": status,
        "rating": rating,
        "members": rng.randint(2, 25),
        "revenue_mvnd": revenue,
        "profit_mvnd": None if revenue is None else revenue * rng.randint(10, 40) // 100,
        "ocop_stars": 3 if rng.randint(1, 60) == 1 else None,
    }
    return {name: row.get(name) for name in _THT_COLUMNS}


def commune_submission(
    commune: Commune,
    period: str = PERIOD,
    seed: int = SEED,
    htx_rows: tuple[int, int] = (6, 14),
    tht_rows: tuple[int, int] = (12, 28),
) -> Submission:
    """One commune's quarter: by default 6 to 14 cooperatives and 12 to 28 groups (about 10 and 20)."""
    rng = random.Random(f"{seed}/{period}/{commune.code}")
    year, quarter = period_parts(period)
    deadline_month = 3 * quarter + 1
    report_date = date(year + deadline_month // 13, (deadline_month - 1) % 12 + 1, rng.randint(1, 14))
    htx = [_htx_row(rng, commune, i) for i in range(1, rng.randint(*htx_rows) + 1)]
    tht = [_tht_row(rng, commune, i) for i in range(1, rng.randint(*tht_rows) + 1)]
    return Submission(commune.code, commune.name, period, report_date, htx, tht, commune.kind)


def _write_one(job: tuple[Path, Commune, str, int]) -> Path:
    folder, commune, period, seed = job
    return write_workbook(folder / f"{commune.code}.xlsx", commune_submission(commune, period, seed))


def write_national(
    raw_dir: Path, communes: int = COMMUNES_2025, period: str = PERIOD, seed: int = SEED, workers: int = 1
) -> list[Path]:
    """Write ``raw/<year>/Q<n>/<code>.xlsx`` for ``communes`` communes and ``reference/communes.csv``."""
    people = national_communes(communes)
    write_communes_csv(raw_dir / "reference" / "communes.csv", people)
    folder = raw_dir.joinpath(*period_folders(period))
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(folder, c, period, seed) for c in people]
    if workers <= 1:
        return [_write_one(job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_write_one, jobs, chunksize=64))


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m sample.national --communes N --raw DIR``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--communes", type=int, default=COMMUNES_2025)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--period", default=PERIOD)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    written = write_national(args.raw, args.communes, args.period, workers=args.workers)
    print(f"wrote {len(written)} workbooks under {args.raw}")


if __name__ == "__main__":
    main()
