"""Rows under a sheet's header that a clerk adds but that hold no data, and Có/Không columns ticked with "x".

Templates come with the STT column numbered in advance; clerks write a note under the
table ("Ghi chú: số liệu tạm tính") and end with the signature block ("Người lập biểu",
"(Ký, ghi rõ họ tên)", the signer's name). None of these is a cooperative: reading them
as data rows would reject them with a dozen "missing value" errors. The sheet cutter
asks :func:`non_data_reason` about each row below the header; a row it names is skipped
and listed with its reason (the file's skipped lines), never silently dropped.
"""

from __future__ import annotations

import re

from ingest.text import fold

IGNORED_HEADERS = frozenset({"stt", "so tt", "tt", "ghi chu", "so thu tu"})
"""Headings of columns communes add that carry nothing kttt stores (row numbers, notes)."""

_NOTE = re.compile(r"^(ghi chu|chu thich|chu y|luu y|note)( |$)")
_SIGNATURE = re.compile(
    r"^(nguoi lap( bieu)?|nguoi ky|ky ghi ro ho ten|ky ten|ky va ghi ro ho ten|ky dong dau|ky ten dong dau"
    r"|thu truong( don vi)?|chu tich|pho chu tich|tm ubnd|tm uy ban|kt chu tich|xac nhan|can bo (thong ke|phu trach)"
    r"|ke toan|lanh dao)( |$)"
)
_DATE_LINE = re.compile(r"(^| )ngay( \S+)? thang( \S+)? nam( |$)")
MAX_SIGNATURE_CELLS = 3
"""A row with more filled cells than this is data unless every one of them is in an ignored column (STT, notes)."""

NOTE = "ghi chú / note"
SIGNATURE = "phần ký tên / signature block"
NUMBER_ONLY = "chỉ có số thứ tự / row number only"


def is_signature(text: str) -> bool:
    """A cell of a signature block: a signer's title, "(Ký, ghi rõ họ tên)", or "…, ngày … tháng … năm …"."""
    folded = fold(text)
    return bool(_SIGNATURE.match(folded) or _DATE_LINE.search(folded))


def non_data_reason(filled: dict[int, str], ignored: set[int], after_signature: bool) -> str | None:
    """Why a filled row below the header is not data (Vietnamese / English), or None when it is a data row.

    `filled` maps column index to cell text; `ignored` are the columns whose heading is STT or a note
    (kttt reads nothing there). `after_signature` says a signature row came earlier in the sheet: the
    signers' names under it (a few text cells) belong to the block.
    """
    if len(filled) > MAX_SIGNATURE_CELLS:  # a data row, as nearly every row is: decided without folding text
        return NUMBER_ONLY if all(c in ignored for c in filled) else None
    texts = [v.strip() for _, v in sorted(filled.items())]
    if not texts:
        return None
    if len(texts) <= 2 and _NOTE.match(fold(texts[0])):
        return NOTE
    if len(texts) <= MAX_SIGNATURE_CELLS and any(is_signature(t) for t in texts):
        return SIGNATURE
    if after_signature and len(texts) <= MAX_SIGNATURE_CELLS and not any(_has_digit(t) for t in texts):
        return SIGNATURE
    if all(c in ignored for c in filled):
        return NUMBER_ONLY
    return None


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def blank_means_no(values: list[str | None]) -> list[str | None]:
    """A Có/Không column ticked with "x" for yes: its blank cells say no ("Không"); otherwise unchanged.

    A column that holds "x" and nothing but blanks besides (or the labels themselves) is a tick column;
    one with no "x" keeps its blanks blank (not answered).
    """
    if not any(v is not None and fold(v) == "x" for v in values):
        return values
    return ["Không" if v is None or not v.strip() else v for v in values]
