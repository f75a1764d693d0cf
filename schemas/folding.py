"""Folding text for matching: the one spelling-insensitive form every reader and model compares.

It lives with the models because period labels (`schemas.periods`) and vocabularies
are matched on it, and the readers (`ingest.text`) fold headers and cells the same way.
"""

from __future__ import annotations

import re
import unicodedata

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
    s = unicodedata.normalize("NFD", str(text))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("đ", "d").replace("Đ", "d").lower()
    return _NON_ALNUM.sub(" ", s).strip()
