"""Reference data of a raw directory: the district, its communes and yearly targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl
import yaml

from ingest.scale import THRESHOLD_FILE, load_thresholds
from ingest.text import fold, number_expr

DEFAULT_DEADLINE_DAYS = 15
_PREFIXES = ("xa ", "thi tran ", "phuong ")


def _bare(name: object) -> str:
    """A commune name folded, without its "Xã" / "Thị trấn" / "Phường" prefix."""
    key = fold(name)
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


@dataclass(frozen=True)
class Reference:
    """What ``raw/reference/`` says: district name, expected communes, targets."""

    district: str
    province: str
    communes: pl.DataFrame
    targets: pl.DataFrame
    """targets.csv with ``source_row`` (its line number) for provenance."""
    deadline_days: int = DEFAULT_DEADLINE_DAYS
    scale_thresholds: pl.DataFrame = field(default_factory=load_thresholds)
    """Thresholds of the scale classes: reference/scale_thresholds.csv, else kttt's defaults (ingest.scale)."""

    def expected(self, period: str) -> pl.DataFrame:
        """Communes expected to report in ``period`` (inside their validity window)."""
        c = self.communes
        return c.filter(
            (pl.col("valid_from").is_null() | (pl.col("valid_from") <= period))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= period))
        )

    @cached_property
    def _index(self) -> tuple[set[str], dict[str, list[tuple[str, str]]]]:
        """Codes, and (code, name) pairs by folded bare name: built once, so resolving is O(1) per file."""
        codes = self.communes["code"].to_list()
        by_name: dict[str, list[tuple[str, str]]] = {}
        for code, name in zip(codes, self.communes["name"].to_list(), strict=True):
            by_name.setdefault(_bare(name), []).append((code, name))
        return set(codes), by_name

    def resolve(self, text: object) -> str | None:
        """The code of the commune named or coded by ``text`` (accent- and case-insensitive), or None."""
        if text is None:
            return None
        raw = str(text).strip()
        codes, by_name = self._index
        if raw in codes:
            return raw
        if raw.isdigit() and raw.zfill(5) in codes:
            return raw.zfill(5)
        if raw.endswith(".0") and raw[:-2].isdigit() and raw[:-2].zfill(5) in codes:
            return raw[:-2].zfill(5)
        matches = by_name.get(_bare(raw), [])
        if len(matches) == 1:
            return matches[0][0]
        if len(matches) > 1:  # same folded name: prefer the exact spelling
            exact = [code for code, name in matches if name == raw]
            return exact[0] if len(exact) == 1 else None
        return None

    def name_of(self, code: str) -> str:
        """Commune name of a code."""
        return self.communes.filter(pl.col("code") == code)["name"].item()


_COMMUNE_COLUMNS = {
    "code": pl.String,
    "name": pl.String,
    "kind": pl.String,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "merged_into": pl.String,
}
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
    """Load ``reference/district.yaml``, ``communes.csv`` and the optional ``targets.csv`` and
    ``scale_thresholds.csv``."""
    ref = raw_dir / "reference"
    info = {}
    if (ref / "district.yaml").exists():
        info = yaml.safe_load((ref / "district.yaml").read_text(encoding="utf-8")) or {}
    communes = pl.read_csv(ref / "communes.csv", infer_schema=False)
    for name in _COMMUNE_COLUMNS:
        if name not in communes.columns:
            communes = communes.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    communes = communes.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in ("valid_from", "valid_to", "merged_into")
    )
    if (ref / "targets.csv").exists():
        targets = load_targets(ref / "targets.csv")
    else:
        targets = pl.DataFrame(schema={"source_row": pl.UInt32, **_TARGET_COLUMNS})
    targets = targets.with_columns(pl.col("source_row").cast(pl.Int64))
    thresholds = load_thresholds(ref / THRESHOLD_FILE) if (ref / THRESHOLD_FILE).exists() else load_thresholds()
    return Reference(
        scale_thresholds=thresholds,
        district=str(info.get("name", "")),
        province=str(info.get("province", "")),
        communes=communes,
        targets=targets,
        deadline_days=int(info.get("report_deadline_days", DEFAULT_DEADLINE_DAYS)),
    )
