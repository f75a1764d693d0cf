"""Fingerprints of the raw directory, for the sensor: what changed, by content, since last time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ingest.discover import find_periods, is_skipped, period_dir, period_files
from pipeline.locks import LOCKS_DIR
from pipeline.storage import read_table, table_path, warehouse_path


def stat_digest(raw_dir: Path, period: str) -> str:
    """Cheap digest of a period folder (names, sizes, modification times): if it is unchanged, so is the content."""
    h = hashlib.sha256()
    folder = period_dir(raw_dir, period)
    for path in _reference_files(raw_dir):
        st = path.stat()
        h.update(f"reference/{path.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not is_skipped(path):
            st = path.stat()
            h.update(f"{path.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _reference_files(raw_dir: Path) -> list[Path]:
    folder = raw_dir / "reference"
    return sorted(p for p in folder.glob("*") if p.is_file() and not is_skipped(p)) if folder.is_dir() else []


def content_digest(raw_dir: Path, period: str) -> str:
    """Digest of the submissions' contents (names and SHA-256) and of `reference/`, independent of file times.

    A change to communes.csv or targets.csv changes every period's digest: all are refreshed.
    """
    files, _ = period_files(raw_dir, period)
    listing = [f"{f.rel}\0{f.sha256}" for f in files]
    listing += [
        f"{p.relative_to(raw_dir).as_posix()}\0{hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in _reference_files(raw_dir)
    ]
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()


def stored_unchanged(raw_dir: Path, warehouse: str, period: str) -> bool:
    """Whether the warehouse already holds `period` as its folder is now: `submission_log` lists the same files
    with the same SHA-256, and no file of `reference/` changed after that log was written.

    A quarter stored by `kttt run` is then not run again by the sensor's first look at the folder.
    """
    try:
        log = read_table(warehouse, "submission_log", [period])
        stored_at = table_path(warehouse, "submission_log", period).stat().st_mtime
        # An unchanged file is not rewritten: the lock file tells when the quarter was last run.
        lock = warehouse_path(warehouse) / LOCKS_DIR / f"{period}.lock"
        stored_at = max(stored_at, lock.stat().st_mtime) if lock.exists() else stored_at
    except (OSError, ValueError, AttributeError):  # nothing stored, or a store without modification times
        return False
    files, _ = period_files(raw_dir, period)
    if sorted(zip(log["source_file"], log["source_sha256"], strict=True)) != sorted((f.rel, f.sha256) for f in files):
        return False
    return all(p.stat().st_mtime <= stored_at for p in _reference_files(raw_dir))


def changed_periods(
    raw_dir: Path, cursor: str | None, unchanged: Callable[[str], bool] | None = None
) -> tuple[list[tuple[str, str]], str]:
    """Periods whose content changed since `cursor`, with their new content digest, and the new cursor.

    The cursor (JSON) keeps, per period, the stat digest and the content digest; the
    content is hashed again only when the stat digest moved, and a period is reported
    only when its content digest differs (the same file dropped again requests nothing).
    A period the cursor does not know yet (the first look, a new folder) is reported
    unless `unchanged(period)` says it is already stored as it is. A folder that
    disappeared is forgotten: when it comes back it is new again.
    """
    state: dict[str, dict[str, str]] = json.loads(cursor) if cursor else {}
    changed = []
    periods = find_periods(raw_dir)
    for period in periods:
        stats = stat_digest(raw_dir, period)
        seen = state.get(period)
        if seen is not None and seen.get("stat") == stats:
            continue
        content = content_digest(raw_dir, period)
        if seen is None:
            if unchanged is None or not unchanged(period):
                changed.append((period, content))
        elif seen.get("content") != content:
            changed.append((period, content))
        state[period] = {"stat": stats, "content": content}
    state = {p: s for p, s in state.items() if p in periods}
    return changed, json.dumps(state, sort_keys=True)
