"""Names of the files written from what submissions say: never a path, always a plain name inside the folder.

A commune, a file or a sheet may be called anything (``../../etc/x``, ``..\\x``,
``/tmp/x``, a NUL character): before such text names an output file it becomes a safe
name (:func:`safe_stem`), and every file written is checked to stay inside its folder
(:func:`inside`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ingest.discover import MARKED_SUFFIX

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
MAX_STEM = 100


def safe_stem(text: object, fallback: str = "tep") -> str:
    """``text`` as a file name without folder parts: letters (Vietnamese included), digits, spaces and ``-_.()``.

    Separators (``/``, ``\\``, ``:``), control characters (NUL, tab, CR…) and other marks
    become ``-``; dots never come in pairs nor start or end the name; names Windows
    reserves (``CON``, ``NUL``…) and empty results fall back to ``fallback``.

    >>> safe_stem("../../etc/x"), safe_stem("x\\\\..\\\\y"), safe_stem("/tmp/x"), safe_stem("a\\x00b")
    ('etc-x', 'x-y', 'tmp-x', 'a-b')
    >>> safe_stem("Thạch Liên")
    'Thạch Liên'
    """
    s = unicodedata.normalize("NFC", str(text))
    s = "".join(ch if ch.isalnum() or ch in " -_.()" else "-" for ch in s)
    s = "-".join(part for part in s.split("-") if part.strip(". "))  # ``..`` and ``.`` between separators go
    s = re.sub(r"-{2,}", "-", s)
    s = re.sub(r"\.{2,}", ".", s)
    s = s.strip(" .-_")[:MAX_STEM].rstrip(" .-_")
    if not s:
        return fallback
    if s.split(".")[0].upper() in _WINDOWS_RESERVED:
        return f"{fallback}-{s}"
    return s


def marked_name(source: Path) -> str:
    """``<name>.kiem-tra.xlsx``: the name of the marked copy of a submission (``kttt validate --format xlsx``)."""
    return f"{safe_stem(source.name.removesuffix(source.suffix))}{MARKED_SUFFIX}"


def inside(folder: Path, path: Path) -> Path:
    """``path`` when it lies inside ``folder`` (after resolving ``..`` and links); a ValueError otherwise."""
    base = folder.resolve()
    target = path.resolve()
    if target == base or not target.is_relative_to(base):
        raise ValueError(f"{path} is outside {folder}")
    return path
