"""Find the periods and the submission files of a raw directory.

Layout: ``<raw>/<YYYY>/Q<n>/`` holds one workbook (or one folder of CSV files) per
commune, and optionally ``_district.xlsx`` (or ``_unit.xlsx``). The files may be grouped in
one level of subfolders (a province files its former districts' workbooks by district:
``2025/Q2/thach-ha/thach-lien.xlsx``); a folder holding CSV files is a submission, any other
folder directly in the quarter folder is such a group. A subfolder's name plays no part in
identity. Hidden files, Office lock files (``~$…``), symbolic links and the marked copies
`kttt validate --format xlsx` writes (`<name>.kiem-tra.xlsx`) are not submissions: they are
listed as skipped, never followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.workbook import WORKBOOK_SUFFIXES
from schemas.periods import YEAR_FOLDER, folder_period, period_folders

MARKED_SUFFIX = ".kiem-tra.xlsx"
"""The end of a marked copy's name: kttt's own output, never a commune's submission."""


@dataclass(frozen=True)
class SubmissionFile:
    """A file (or CSV folder) found in a period folder."""

    path: Path
    rel: str
    kind: str  # workbook, csv_folder, district, other
    sha256: str
    received_at: datetime


def find_periods(raw_dir: Path) -> list[str]:
    """Period keys (``YYYY-Qn``) that have a folder under ``raw_dir``, sorted."""
    out = []
    if not raw_dir.is_dir():
        return out
    for year in raw_dir.iterdir():
        if not (year.is_dir() and not year.is_symlink() and YEAR_FOLDER.match(year.name)):
            continue
        for q in year.iterdir():
            period = folder_period(year.name, q.name)
            if period is not None and q.is_dir() and not q.is_symlink():
                out.append(period)
    return sorted(out)


def period_dir(raw_dir: Path, period: str) -> Path:
    """The folder of a period; ``q3`` is accepted as well as ``Q3``."""
    year, q = period_folders(period)
    folder = raw_dir / year / q
    if not folder.exists() and (raw_dir / year / q.lower()).exists():
        folder = raw_dir / year / q.lower()
    return folder


def display_name(rel: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A file's name as kttt reports it: NFC, as people type Vietnamese (macOS writes names in NFD), unless
    another file of the folder already has that NFC name (then the name is kept as it is on disk)."""
    nfc = unicodedata.normalize("NFC", rel)
    return rel if nfc in taken else nfc


def _sha256(path: Path, is_dir: bool | None = None) -> str:
    h = hashlib.sha256()
    if path.is_dir() if is_dir is None else is_dir:
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.is_symlink():
                h.update(child.relative_to(path).as_posix().encode())
                h.update(b"\0")
                h.update(_sha256(child).encode())
        return h.hexdigest()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _mtime(path: Path, st: os.stat_result | None = None) -> datetime:
    st = path.stat() if st is None else st
    stamps = [st.st_mtime]
    if stat.S_ISDIR(st.st_mode):
        stamps += [c.stat().st_mtime for c in path.rglob("*") if c.is_file() and not c.is_symlink()]
    return datetime.fromtimestamp(max(stamps), tz=UTC)


def _kind(path: Path, is_dir: bool | None = None) -> str:
    if path.is_dir() if is_dir is None else is_dir:
        return "csv_folder"
    if path.stem.lower().startswith(("_district", "_unit")) and path.suffix.lower() in WORKBOOK_SUFFIXES:
        return "district"
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return "workbook"
    return "other"


def is_marked_copy(path: Path) -> bool:
    """A workbook `kttt validate --format xlsx` wrote (`<name>.kiem-tra.xlsx`): the commune's file with kttt's marks,
    which would otherwise supersede the real submission."""
    return path.name.lower().endswith(MARKED_SUFFIX)


def is_skipped(path: Path) -> bool:
    """Hidden files, Office lock files, symbolic links and marked copies are not submissions."""
    return _skipped_name(path) or path.is_symlink()


def _skipped_name(path: Path) -> bool:
    """Hidden files, Office lock files and marked copies, told by their name."""
    return path.name.startswith((".", "~$")) or is_marked_copy(path)


def skip_reason(path: Path, raw_dir: Path) -> str:
    """Why a path of a quarter folder is not a submission, Vietnamese / English."""
    if path.is_symlink():
        try:
            outside = not path.resolve().is_relative_to(raw_dir.resolve())
        except (OSError, RuntimeError):  # a link to itself
            outside = False
        if outside:
            return "liên kết (symlink) trỏ ra ngoài thư mục raw, không đọc / symbolic link to outside raw, not read"
        return "liên kết (symlink), không đọc; hãy chép chính tệp vào / symbolic link, not read; copy the file itself"
    if path.name.startswith("~$"):
        return "tệp khoá của Office (tệp đang mở) / Office lock file (the workbook is open)"
    if path.name.startswith("."):
        return "tệp ẩn / hidden file"
    if is_marked_copy(path):
        return (
            "bản đánh dấu lỗi do kttt validate ghi, không phải báo cáo của xã / "
            "marked copy written by kttt validate, not a commune's submission"
        )
    return "nằm ngoài thư mục raw / resolves outside raw"


def _is_group(path: Path) -> bool:
    """A subfolder grouping submissions (not itself a CSV submission): it holds no CSV file but holds
    something."""
    try:
        children = list(path.iterdir())
    except OSError:
        return False
    return bool(children) and not any(c.is_file() and c.suffix.lower() == ".csv" for c in children)


def _entries(folder: Path, root: Path, skipped: list[Path]) -> list[Path]:
    """The submissions of a quarter folder and of its group subfolders (one level), sorted by path; what is
    not a submission goes to ``skipped``."""
    out = []
    # Links are skipped, so what is not a link lies inside the folder: when the folder itself is inside the raw
    # directory, so is each entry (resolving every path of a national quarter costs a second).
    inside = folder.resolve().is_relative_to(root)

    def outside(path: Path) -> bool:
        return not inside and not path.resolve().is_relative_to(root)

    with os.scandir(folder) as listing:  # the kind of each entry comes with the listing: no call per file
        entries = sorted((e.name, Path(e.path), e.is_symlink(), e.is_dir(follow_symlinks=False)) for e in listing)
    for _, path, link, folder_entry in entries:
        if link or _skipped_name(path) or outside(path):
            skipped.append(path)
        elif folder_entry and _is_group(path):
            for child in sorted(path.iterdir(), key=_parts):
                if is_skipped(child) or outside(child):
                    skipped.append(child)
                else:
                    out.append(child)
        else:
            out.append(path)
    return sorted(out, key=_parts)


def _parts(path: Path) -> tuple[str, ...]:
    """The sort key of a path: its parts, the order of `Path` itself (a tuple of strings compares without the
    Python-level `Path.__lt__`, a second on a national quarter)."""
    return path.parts


def skipped_paths(raw_dir: Path, period: str) -> list[Path]:
    """The paths of a period's folder that are not submissions (what :func:`period_files` skips), without reading
    the submissions."""
    folder = period_dir(raw_dir, period)
    skipped: list[Path] = []
    if folder.is_dir():
        _entries(folder, raw_dir.resolve(), skipped)
    return skipped


def period_files(raw_dir: Path, period: str) -> tuple[list[SubmissionFile], list[Path]]:
    """Submissions of a period, sorted by path, and the paths skipped."""
    folder = period_dir(raw_dir, period)
    files: list[SubmissionFile] = []
    skipped: list[Path] = []
    if not folder.is_dir():
        return files, skipped
    root = raw_dir.resolve()
    taken: set[str] = set()
    for path in _entries(folder, root, skipped):
        rel = display_name(path.relative_to(raw_dir).as_posix(), taken)
        taken.add(rel)
        st = path.stat()  # once: kind, hash and time of receipt all need it
        is_dir = stat.S_ISDIR(st.st_mode)
        files.append(
            SubmissionFile(
                path=path,
                rel=rel,
                kind=_kind(path, is_dir),
                sha256=_sha256(path, is_dir),
                received_at=_mtime(path, st),
            )
        )
    return files, skipped
