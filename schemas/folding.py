"""Folding text for matching: the one spelling-insensitive form every reader and model compares.

It lives with the models because period labels (`schemas.periods`) and vocabularies
are matched on it, and the readers (`ingest.text`) fold headers and cells the same way.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: object) -> str:
    """Fold text for matching: NFC/NFD-insensitive, accent-free, lower case, punctuation as spaces.

    >>> fold("  Công nghiệp -  TTCN ")
    'cong nghiep ttcn'
    >>> fold("ĐẠT LỘC") == fold("Đạt Lộc")
    True
    """
    if text is None:
        return ""
    s = str(text)
    return _remembered(s) if len(s) <= REMEMBERED_LENGTH else _fold(s)


REMEMBERED_LENGTH = 120
"""Texts up to this long are folded once per process (at most 4,096 of them kept: a few MiB at worst)."""


@lru_cache(maxsize=4096)
def _remembered(text: str) -> str:
    """:func:`fold` of a short text, remembered: the same headings, period labels and unit names are folded
    again for every file of a quarter, and folding looks at each character in Python."""
    return _fold(text)


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFD", text)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("đ", "d").replace("Đ", "d").lower()
    return _NON_ALNUM.sub(" ", s).strip()
