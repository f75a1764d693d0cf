"""Fingerprints of the raw directory, for the sensor: what changed, by content, since last time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ingest.discover import find_periods, is_skipped, period_dir, period_files


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


def changed_periods(raw_dir: Path, cursor: str | None) -> tuple[list[tuple[str, str]], str]:
    """Periods whose content changed since `cursor`, with their new content digest, and the new cursor.

    The cursor (JSON) keeps, per period, the stat digest and the content digest; the
    content is hashed again only when the stat digest moved, and a period is reported
    only when its content digest differs (the same file dropped again requests nothing).
    """
    state: dict[str, dict[str, str]] = json.loads(cursor) if cursor else {}
    changed = []
    for period in find_periods(raw_dir):
        stats = stat_digest(raw_dir, period)
        seen = state.get(period)
        if seen is not None and seen.get("stat") == stats:
            continue
        content = content_digest(raw_dir, period)
        if seen is None or seen.get("content") != content:
            changed.append((period, content))
        state[period] = {"stat": stats, "content": content}
    return changed, json.dumps(state, sort_keys=True)
