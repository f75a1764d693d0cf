"""Reference data of a raw directory: the reporting unit (district or province), its units over time, targets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from ingest.reporting_unit import DEFAULT_DEADLINE_DAYS, ReportingUnit, load_reporting_unit
from ingest.scale import THRESHOLD_FILE, load_thresholds
from ingest.text import number_expr
from ingest.units import Units

__all__ = ["DEFAULT_DEADLINE_DAYS", "Reference", "load_reference", "load_targets"]


@dataclass(frozen=True)
class Reference:
    """What `raw/reference/` says: the reporting unit (`unit.yaml` or `district.yaml`), its units over time
    (`communes.csv`, see `ingest.units`) and the yearly targets."""

    unit: ReportingUnit
    units: Units
    targets: pl.DataFrame
    """targets.csv with `source_row` (its line number) for provenance."""
    scale_thresholds: pl.DataFrame = field(default_factory=load_thresholds)
    """Thresholds of the scale classes: reference/scale_thresholds.csv, else kttt's defaults (ingest.scale)."""

    @property
    def district(self) -> str:
        """The reporting unit's name (a district's, or a province's)."""
        return self.unit.name

    @property
    def province(self) -> str:
        """The province of the reporting unit."""
        return self.unit.province

    @property
    def deadline_days(self) -> int:
        """Days after the quarter's end a submission is on time."""
        return self.unit.deadline_days

    @property
    def communes(self) -> pl.DataFrame:
        """`communes.csv` as read (every row, every column)."""
        return self.units.frame

    def expected(self, period: str) -> pl.DataFrame:
        """Rows of the units expected to report in `period` (inside their validity window)."""
        c = self.communes
        return c.filter(
            (pl.col("valid_from").is_null() | (pl.col("valid_from") <= period))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= period))
        )

    def resolve(self, text: object, period: str | None = None) -> str | None:
        """The code of the unit named or coded by `text` (accent- and case-insensitive, "Xã", "Phường", "UBND …"
        ignored) among the units of `period`, or None."""
        unit = self.units.resolve(text, period)
        return unit.code if unit else None

    def name_of(self, code: str, period: str | None = None) -> str:
        """The name of a code in `period` (by default its latest unit)."""
        unit = self.units.unit(code, period) if period else None
        unit = unit or self.units.resolve(code)
        return unit.name if unit else code

    def names_in(self, period: str) -> dict[str, str]:
        """Code → name of the units valid in `period` (names of other units for codes not in use then)."""
        names = {u.code: u.name for u in sorted(self.units.units, key=lambda u: u.valid_from or "")}
        names.update({u.code: u.name for u in self.units.valid_in(period)})
        return names


_TARGET_COLUMNS = {
    "year": pl.Int32,
    "indicator": pl.String,
    "target": pl.Float64,
    "unit": pl.String,
    "label_vi": pl.String,
}


def load_targets(path: Path) -> pl.DataFrame:
    """targets.csv with its line numbers (``source_row``, header = line 1).

    A line whose year, indicator or target cannot be read is left out rather than stopping
    the run; targets may be written Vietnamese style (``8,5``).
    """
    raw = pl.read_csv(path, infer_schema=False).with_row_index("source_row", offset=2)
    for name in _TARGET_COLUMNS:
        if name not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    return raw.select(
        pl.col("source_row"),
        pl.col("year").str.strip_chars().cast(pl.Int32, strict=False),
        pl.col("indicator").str.strip_chars(),
        number_expr(pl.col("target")).alias("target"),
        pl.col("unit"),
        pl.col("label_vi"),
    ).filter(pl.col("year").is_not_null() & pl.col("indicator").is_not_null() & pl.col("target").is_not_null())


def load_reference(raw_dir: Path) -> Reference:
    """Load and check `reference/`: `unit.yaml` (or `district.yaml`), `communes.csv` and the optional
    `targets.csv` and `scale_thresholds.csv`. A broken or conflicting unit list or reporting unit raises
    `ReferenceConfigError` (nothing is read yet).

    Every asset of a run asks for it: it is read again only when a file of the folder changed (a province's unit
    list takes a noticeable time to check)."""
    ref = raw_dir / "reference"
    return _load(ref, _stamp(ref))


def _stamp(ref: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of each file of the folder (empty when it cannot be listed)."""
    try:
        with os.scandir(ref) as entries:
            stats = [(e.name, e.stat()) for e in entries if e.is_file()]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_size, st.st_mtime_ns) for name, st in stats))


@lru_cache(maxsize=8)
def _load(ref: Path, stamp: tuple[tuple[str, int, int], ...]) -> Reference:
    """The reference of folder `ref` as it is when its files are `stamp` (the cache key)."""
    unit = load_reporting_unit(ref)
    units = Units.from_csv(ref / "communes.csv")
    if (ref / "targets.csv").exists():
        targets = load_targets(ref / "targets.csv")
    else:
        targets = pl.DataFrame(schema={"source_row": pl.UInt32, **_TARGET_COLUMNS})
    targets = targets.with_columns(pl.col("source_row").cast(pl.Int64))
    thresholds = load_thresholds(ref / THRESHOLD_FILE) if (ref / THRESHOLD_FILE).exists() else load_thresholds()
    return Reference(unit=unit, units=units, targets=targets, scale_thresholds=thresholds)
