"""Withdraw a quarter from the warehouse: every file of it goes, all together or not at all, and it is recorded.

Under the quarter's lock (`pipeline.locks`), every file the quarter owns
(`<table>/<period>.parquet`, `report/<period>/`, `feedback/<period>/`) is renamed into
one hidden folder; only when all of them are there and the withdrawal is recorded is that
folder deleted. When a rename or the record fails, the files already moved are put
back and nothing has changed. Readers see each table with or without the quarter, never
a half-written file; for the instant of the moves some tables may already be without it.

Withdrawals are recorded in `<warehouse>/withdrawals.csv` (period, time, files removed,
command), a log file rather than a table: it never becomes part of the tables it
describes.
"""

from __future__ import annotations

import csv
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.locks import period_lock
from pipeline.storage import WarehouseWriteError, check_partition, is_local, warehouse_path
from schemas.messages import say

WITHDRAWALS = "withdrawals.csv"
FOLDERS = ("report", "feedback")
"""Folders holding one sub-folder per quarter."""
FIELDS = ("period", "withdrawn_at", "files_removed", "command")


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal removed."""

    period: str
    removed: list[str]
    """Paths relative to the warehouse (a folder counts once)."""
    record: Path


def quarter_paths(root: Path, period: str) -> list[Path]:
    """Every file and folder of the warehouse that belongs to `period`."""
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        target = folder / period if folder.name in FOLDERS else folder / f"{period}.parquet"
        if target.exists():
            found.append(target)
    return found


def _record(root: Path, period: str, removed: int, command: str) -> Path:
    path = root / WITHDRAWALS
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(FIELDS)
        writer.writerow([period, datetime.now(UTC).isoformat(timespec="seconds"), removed, command])
        fh.flush()
        os.fsync(fh.fileno())
    return path


def withdraw_files(warehouse: str | os.PathLike[str], period: str, command: str) -> Withdrawal:
    """Remove every file of `period` from a local warehouse and record it (see the module's docstring).

    Raises `LookupError` when the warehouse holds nothing of the quarter, and
    `pipeline.storage.WarehouseWriteError` when the warehouse cannot be changed (nothing is then removed).
    """
    check_partition(period)
    root_path = warehouse_path(warehouse)
    if not is_local(root_path):
        raise ValueError(say("withdraw_local_only", warehouse=warehouse))
    root = Path(str(root_path))
    with period_lock(warehouse, period, command=command):
        paths = quarter_paths(root, period) if root.is_dir() else []
        if not paths:
            raise LookupError(say("withdraw_nothing", period=period, warehouse=warehouse))
        trash = root / f".withdrawn.{period}.{uuid.uuid4().hex}"
        moved: list[tuple[Path, Path]] = []
        try:
            for path in paths:
                target = trash / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
                moved.append((path, target))
            record = _record(root, period, len(paths), command)
        except OSError as exc:
            for original, target in reversed(moved):
                target.rename(original)
            shutil.rmtree(trash, ignore_errors=True)
            raise WarehouseWriteError(warehouse, getattr(exc, "filename", None) or root, exc) from exc
        shutil.rmtree(trash, ignore_errors=True)
    return Withdrawal(period, [p.relative_to(root).as_posix() for p in paths], record)
