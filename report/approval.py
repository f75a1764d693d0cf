"""The report's note on approval: under review, the figures use approved submissions only, and the draft says
which units are not approved yet."""

from __future__ import annotations

import polars as pl

from report.text import Block

_STATE_VI = {None: "chưa nộp", "received": "chưa duyệt", "returned": "đã trả lại xã", "reopened": "đã mở lại"}


def approval_blocks(completeness: pl.DataFrame) -> list[Block]:
    """A paragraph listing the expected units not yet approved (with their state) and the approved units whose
    newer file awaits review, from the period's `completeness`."""
    pending = completeness.filter(pl.col("review_state").is_null() | (pl.col("review_state") != "approved"))
    waiting = completeness.filter((pl.col("review_state") == "approved") & pl.col("held_file").is_not_null())
    if pending.is_empty():
        text = "Số liệu tổng hợp từ các báo cáo đã được duyệt; tất cả các xã đã được duyệt."
    else:
        names = ", ".join(
            f"{r['commune_name']} ({_STATE_VI.get(r['review_state'], r['review_state'])})"
            for r in pending.sort("commune_code").iter_rows(named=True)
        )
        text = (
            "Số liệu chỉ gồm các báo cáo đã được duyệt. "
            f"Các xã chưa được duyệt ({len(pending)}/{len(completeness)}), chưa tính vào số liệu: {names}."
        )
    if not waiting.is_empty():
        names = ", ".join(waiting.sort("commune_code")["commune_name"].to_list())
        text += f" Các xã có báo cáo mới đang chờ duyệt (số liệu vẫn theo báo cáo đã duyệt): {names}."
    return [Block("paragraph", text)]
