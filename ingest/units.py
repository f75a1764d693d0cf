"""Reporting units over time: every row of `communes.csv` is a unit, a code **and** a validity window.

Since the 2025 reform a code may be reused (18562 was the town of Thạch Hà until 2025-Q2 and is the
merged commune of Thạch Hà from 2025-Q3) and a name may recur (the ward Hà Huy Tập of Hà Tĩnh city
until 2025-Q2, the ward Hà Huy Tập from 2025-Q3 under another code). `Units` answers the questions
the pipeline asks about them, always for a given period:

- `valid_in(period)`: the units expected to report in a quarter;
- `resolve(text, period)`: the unit a file names (by code, or by name among that quarter's units only);
- `successor_in(code, from_period, to_period)`: the unit a unit of one quarter has become in a later
  quarter, following `merged_into` (None when it left the reporting unit);
- `restate_map(from_period, to_period)`: the same for every unit of a quarter, for restating figures.

A list that breaks the rules (overlapping windows for one code, a `merged_into` with no successor row
starting the quarter after `valid_to`, an unknown kind, a window that is not a quarter) raises
`ReferenceConfigError`: a configuration error that stops the run before any submission is read.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl

from schemas.folding import fold
from schemas.periods import PERIOD_KEY, next_period
from schemas.vocab import COMMUNE_KINDS

KINDS = {t.code: t.label_vi.lower() for t in COMMUNE_KINDS.terms}
"""Kinds of commune-level units (`xa`, `phuong`, `thi_tran`, `dac_khu`), with the word printed before their
names, in the order the report lists them ("các xã, phường, thị trấn")."""
_OFFICE = ("uy ban nhan dan ", "ubnd ")
_KIND_WORDS = ("xa ", "phuong ", "thi tran ", "dac khu ")
COLUMNS = ("code", "name", "kind", "valid_from", "valid_to", "district", "merged_into", "split_into")
"""The columns kttt reads (other columns, e.g. coordinates, are kept as they are)."""


class ReferenceConfigError(Exception):
    """The reference files of a raw directory break their contract: a configuration error, not bad data.

    The message names the file and the problem, in Vietnamese then English.
    """

    def __init__(self, file: Path | str, vi: str, en: str) -> None:
        self.file, self.vi, self.en = str(file), vi, en
        super().__init__(str(self))

    def __str__(self) -> str:
        return (
            f"Lỗi cấu hình, tệp {self.file}: {self.vi}. Chưa đọc tệp báo cáo nào, chưa ghi gì.\n"
            f"Configuration error, file {self.file}: {self.en}. No submission was read, nothing was written."
        )

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (ReferenceConfigError, (self.file, self.vi, self.en))


def bare_name(text: object) -> str:
    """A unit's name folded for matching, without "UBND", "Ủy ban nhân dân" and the kind ("Xã", "Phường",
    "Thị trấn", "Đặc khu"), so "UBND xã Thạch Liên", "Xã Thạch Liên" and "thach lien" match."""
    key = fold(text)
    for prefix in _OFFICE:
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    for prefix in _KIND_WORDS:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


@dataclass(frozen=True)
class Unit:
    """One row of `communes.csv`: a commune-level unit during its window (bounds inclusive, None = open)."""

    code: str
    name: str
    kind: str
    valid_from: str | None
    valid_to: str | None
    district: str | None = None
    merged_into: str | None = None
    split_into: tuple[str, ...] = ()
    """Other units that took over part of this one (the figures go wholly to `merged_into`)."""

    def valid_in(self, period: str) -> bool:
        """Whether the unit reports in `period`."""
        return (self.valid_from is None or self.valid_from <= period) and (
            self.valid_to is None or period <= self.valid_to
        )

    @property
    def title(self) -> str:
        """The name as people write it: "xã Thạch Liên", "phường Hà Huy Tập"."""
        return f"{KINDS.get(self.kind, '')} {self.name}".strip()

    @property
    def window(self) -> str:
        """The window as text: `…–2024-Q4`, `2025-Q3–…`."""
        return f"{self.valid_from or '…'}–{self.valid_to or '…'}"


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class Units:
    """The units of a raw directory over time (see the module text), built from `communes.csv`."""

    def __init__(self, frame: pl.DataFrame, source: Path | str = "reference/communes.csv") -> None:
        self.source = str(source)
        self.frame = frame
        self.units: tuple[Unit, ...] = tuple(self._parse(frame))
        self._check()

    @classmethod
    def from_csv(cls, path: Path) -> Units:
        """Read and check `communes.csv`; a file that cannot be read or breaks the rules raises
        `ReferenceConfigError`."""
        try:
            frame = pl.read_csv(path, infer_schema=False)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise ReferenceConfigError(path, f"không đọc được ({exc})", f"cannot be read ({exc})") from exc
        return cls(normalise(frame, path), path)

    def _error(self, vi: str, en: str) -> ReferenceConfigError:
        return ReferenceConfigError(self.source, vi, en)

    def _parse(self, frame: pl.DataFrame) -> list[Unit]:
        out = []
        for line, row in enumerate(frame.iter_rows(named=True), 2):
            code, name, kind = _text(row.get("code")), _text(row.get("name")), _text(row.get("kind"))
            if code is None or name is None:
                raise self._error(f"dòng {line} thiếu mã hoặc tên", f"line {line} lacks a code or a name")
            if kind not in KINDS:
                raise self._error(
                    f"dòng {line} ({name}): loại «{kind or ''}» không hợp lệ (xa, phuong, thi_tran, dac_khu)",
                    f"line {line} ({name}): unknown kind '{kind or ''}' (xa, phuong, thi_tran, dac_khu)",
                )
            bounds = []
            for column in ("valid_from", "valid_to"):
                value = _text(row.get(column))
                if value is not None:
                    value = value.upper()
                    if not PERIOD_KEY.match(value):
                        raise self._error(
                            f"dòng {line} ({name}): {column} «{value}» không phải một quý (ví dụ 2025-Q3)",
                            f"line {line} ({name}): {column} '{value}' is not a quarter (e.g. 2025-Q3)",
                        )
                bounds.append(value)
            if bounds[0] and bounds[1] and bounds[0] > bounds[1]:
                raise self._error(
                    f"dòng {line} ({name}): valid_from {bounds[0]} sau valid_to {bounds[1]}",
                    f"line {line} ({name}): valid_from {bounds[0]} is after valid_to {bounds[1]}",
                )
            split = tuple(s for s in re.split(r"[;,\s]+", _text(row.get("split_into")) or "") if s)
            district, merged = _text(row.get("district")), _text(row.get("merged_into"))
            out.append(Unit(code, name, kind, bounds[0], bounds[1], district, merged, split))
        return out

    def _check(self) -> None:
        """Windows of one code do not overlap; every `merged_into` has its successor row."""
        for code, rows in self._by_code.items():
            for a, b in itertools.pairwise(rows):
                if a.valid_to is None or b.valid_from is None or b.valid_from <= a.valid_to:
                    raise self._error(
                        f"mã {code} có hai dòng trùng thời gian hiệu lực ({a.name} {a.window}, {b.name} {b.window})",
                        f"code {code} has two rows with overlapping windows ({a.name} {a.window}, {b.name} {b.window})",
                    )
        for u in self.units:
            if u.merged_into is None:
                continue
            if u.valid_to is None:
                raise self._error(
                    f"{u.name} ({u.code}) có merged_into {u.merged_into} nhưng không có valid_to",
                    f"{u.name} ({u.code}) has merged_into {u.merged_into} but no valid_to",
                )
            if self._successor(u) is None:
                after = next_period(u.valid_to)
                raise self._error(
                    f"{u.name} ({u.code}, đến {u.valid_to}) sáp nhập vào mã {u.merged_into}, nhưng không có dòng mã "
                    f"{u.merged_into} có hiệu lực từ {after}",
                    f"{u.name} ({u.code}, until {u.valid_to}) is merged into code {u.merged_into}, but no row with "
                    f"that code is valid in {after}",
                )

    @cached_property
    def _by_code(self) -> dict[str, list[Unit]]:
        out: dict[str, list[Unit]] = {}
        for u in self.units:
            out.setdefault(u.code, []).append(u)
        for rows in out.values():
            rows.sort(key=lambda u: u.valid_from or "")
        return out

    @cached_property
    def _by_name(self) -> dict[str, list[Unit]]:
        out: dict[str, list[Unit]] = {}
        for u in self.units:
            out.setdefault(bare_name(u.name), []).append(u)
        return out

    def _successor(self, unit: Unit) -> Unit | None:
        """The row of `merged_into` starting the quarter after `valid_to`; failing that, the row of that code
        valid then (a unit that absorbed this one and went on under its own window)."""
        if unit.merged_into is None or unit.valid_to is None:
            return None
        start = next_period(unit.valid_to)
        rows = self._by_code.get(unit.merged_into, [])
        return next((u for u in rows if u.valid_from == start), None) or next(
            (u for u in rows if u.valid_in(start)), None
        )

    # --- questions asked for a period ---

    def valid_in(self, period: str) -> list[Unit]:
        """The units expected to report in `period`, by code."""
        return sorted((u for u in self.units if u.valid_in(period)), key=lambda u: u.code)

    def unit(self, code: str, period: str) -> Unit | None:
        """The unit of `code` in `period`, if the code is in use then."""
        return next((u for u in self._by_code.get(code, []) if u.valid_in(period)), None)

    def _codes_of(self, text: str) -> list[str]:
        raw = text.strip()
        if raw.endswith(".0") and raw[:-2].isdigit():
            raw = raw[:-2]
        if raw in self._by_code:
            return [raw]
        if raw.isdigit() and raw.zfill(5) in self._by_code:
            return [raw.zfill(5)]
        return []

    def _named(self, text: str, units: list[Unit]) -> Unit | None:
        if len(units) == 1:
            return units[0]
        exact = [u for u in units if u.name == text.strip() or u.title.casefold() == text.strip().casefold()]
        return exact[0] if len(exact) == 1 else None

    def resolve(self, text: object, period: str | None = None) -> Unit | None:
        """The unit `text` names in `period`: its code, or its name (prefixes ignored) among the units valid
        in `period` only. Without a period, among every unit (the latest when a code was reused)."""
        if text is None or not str(text).strip():
            return None
        candidates = [u for c in self._codes_of(str(text)) for u in self._by_code[c]]
        if not candidates:
            candidates = self._by_name.get(bare_name(text), [])
        if period is not None:
            return self._named(str(text), [u for u in candidates if u.valid_in(period)])
        if candidates and all(u.code == candidates[0].code for u in candidates):
            return max(candidates, key=lambda u: u.valid_from or "")
        return self._named(str(text), candidates)

    def elsewhere(self, text: object, period: str) -> Unit | None:
        """A unit `text` names outside `period` (when it names none inside): the file is for a unit not
        expected in its period. The closest window wins."""
        if text is None or not str(text).strip():
            return None
        candidates = [u for c in self._codes_of(str(text)) for u in self._by_code[c]]
        if not candidates:
            candidates = self._by_name.get(bare_name(text), [])
        if not candidates:
            return None
        return min(candidates, key=lambda u: _distance(u, period))

    def successor_in(self, code: str, from_period: str, to_period: str) -> Unit | None:
        """The unit that the unit of `code` in `from_period` has become in `to_period` (following
        `merged_into`), or None when it left the reporting unit on the way."""
        unit = self.unit(code, from_period)
        while unit is not None and not unit.valid_in(to_period):
            if unit.valid_to is None or unit.valid_to >= to_period:
                return None
            unit = self._successor(unit)
        return unit

    def restate_map(self, from_period: str, to_period: str) -> dict[str, str | None]:
        """Every unit of `from_period` → the code of its unit in `to_period` (None: it left)."""
        return {
            u.code: (s.code if (s := self.successor_in(u.code, from_period, to_period)) else None)
            for u in self.valid_in(from_period)
        }

    def current(self, unit: Unit, latest: str) -> Unit | None:
        """The unit `unit` has become by `latest` (the end of its chain), None when it left; a unit valid in
        `latest`, or starting after it, is its own current unit."""
        if unit.valid_in(latest) or (unit.valid_from is not None and unit.valid_from > latest):
            return unit
        return self.successor_in(unit.code, unit.valid_to, latest) if unit.valid_to else None

    def has_districts(self, period: str) -> bool:
        """Whether the units of `period` are filed by district (before the 2025 reform)."""
        return any(u.district for u in self.valid_in(period))


def _distance(unit: Unit, period: str) -> tuple[int, str]:
    if unit.valid_to is not None and unit.valid_to < period:
        return (0, "~" if unit.valid_to is None else _flip(unit.valid_to))
    return (1, unit.valid_from or "")


def _flip(period: str) -> str:
    """Sort key putting later periods first."""
    return "".join(chr(ord("9") - int(c) + ord("0")) if c.isdigit() else c for c in period)


def normalise(frame: pl.DataFrame, source: Path | str = "communes.csv") -> pl.DataFrame:
    """`communes.csv` as text columns, every column kttt reads present, blanks as null."""
    if "code" not in frame.columns or "name" not in frame.columns:
        raise ReferenceConfigError(source, "thiếu cột code hoặc name", "the code or name column is missing")
    for name in COLUMNS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    return frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in COLUMNS
    ).with_columns(pl.col("valid_from", "valid_to").str.to_uppercase())
