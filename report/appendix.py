"""The appendix workbook (phụ biểu): per-commune tables of cooperatives and groups.

Totals are computed here and written as numbers; no cell is ever a formula, and
text is always written as text (a commune or cooperative name starting with ``=``,
``+``, ``-`` or ``@`` stays text).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import xlsxwriter

from forms.printing import set_print_layout
from schemas.vocab import RATINGS, SECTORS, THT_KINDS

TOTAL_LABEL = "Tổng cộng"


def _per_commune(frame: pl.DataFrame, columns: dict[str, pl.Expr], communes: pl.DataFrame) -> pl.DataFrame:
    agg = (
        frame.group_by("commune_code").agg(**columns)
        if frame.height
        else pl.DataFrame(schema={"commune_code": pl.String, **dict.fromkeys(columns, pl.UInt32)})
    )
    table = communes.select(pl.col("code").alias("commune_code"), pl.col("name").alias("Xã")).join(
        agg, on="commune_code", how="left"
    )
    table = table.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in columns)
    total = table.select(
        pl.lit(None, pl.String).alias("commune_code"),
        pl.lit(TOTAL_LABEL).alias("Xã"),
        *[pl.col(c).sum() for c in columns],
    )
    return pl.concat([table, total]).drop("commune_code")


def appendix_tables(coops: pl.DataFrame, groups: pl.DataFrame, communes: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The appendix tables by commune (communes in ``communes`` order), each ending with a total row."""
    active = pl.col("status") == "active"
    by_rating = {
        "Tổng số HTX": pl.len(),
        "Mới thành lập": (pl.col("status") == "new").sum(),
        **{t.label_vi: (active & (pl.col("rating") == t.code)).sum() for t in RATINGS.terms},
        "Tạm dừng chờ giải thể": (pl.col("status") == "suspended").sum(),
    }
    by_sector = {"Tổng số HTX": pl.len(), **{t.label_vi: (pl.col("sector") == t.code).sum() for t in SECTORS.terms}}
    tht = {
        "Tổng số THT": pl.len(),
        **{t.label_vi: (pl.col("kind") == t.code).sum() for t in THT_KINDS.terms},
        **{f"Xếp loại {t.label_vi.lower()}": (active & (pl.col("rating") == t.code)).sum() for t in RATINGS.terms[:3]},
        "Yếu, tạm dừng": ((pl.col("rating") == "weak") | (pl.col("status") == "suspended")).sum(),
    }
    return {
        "PB01 HTX theo xếp loại": _per_commune(coops, by_rating, communes),
        "PB02 HTX theo lĩnh vực": _per_commune(coops, by_sector, communes),
        "PB03 THT": _per_commune(groups, tht, communes),
    }


def write_appendix(path: Path, tables: dict[str, pl.DataFrame], title: str) -> Path:
    """Write the appendix workbook: one sheet per table, a title row, bold header and total row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "text_wrap": True, "border": 1, "align": "center", "valign": "vcenter"})
    cell = book.add_format({"border": 1})
    total_fmt = book.add_format({"border": 1, "bold": True})
    for name, table in tables.items():
        ws = book.add_worksheet(name[:31])
        ws.write_string(0, 0, f"{name} — {title}", bold)
        ws.write_string(2, 0, "STT", head)
        for c, col in enumerate(table.columns, 1):
            ws.write_string(2, c, col, head)
            ws.set_column(c, c, 22 if c == 1 else 12)
        for r, row in enumerate(table.iter_rows(), 3):
            is_total = row[0] == TOTAL_LABEL
            fmt = total_fmt if is_total else cell
            if not is_total:
                ws.write_number(r, 0, r - 2, fmt)
            for c, value in enumerate(row, 1):
                if isinstance(value, str):
                    ws.write_string(r, c, value, fmt)
                else:
                    ws.write_number(r, c, value or 0, fmt)
        ws.freeze_panes(3, 2)
        set_print_layout(ws, (2, 2), (0, 1))
    book.close()
    return path
