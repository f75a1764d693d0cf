"""The appendix workbook (phụ biểu): per-unit tables of cooperatives and groups, and the comparison with
earlier quarters restated on the quarter's units.

Totals are computed here and written as numbers; no cell is ever a formula, and
text is always written as text (a commune or cooperative name starting with ``=``,
``+``, ``-`` or ``@`` stays text).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import xlsxwriter

from report.comparison import Comparison
from schemas.vocab import RATINGS, SECTORS, THT_KINDS

TOTAL_LABEL = "Tổng cộng"


ROW_KIND = "_row"
"""Hidden column of an appendix table: `unit`, `group` (a former district's subtotal) or `total`."""


def _per_commune(
    frame: pl.DataFrame,
    columns: dict[str, pl.Expr],
    communes: pl.DataFrame,
    header: str = "Xã",
    districts: dict[str, str] | None = None,
) -> pl.DataFrame:
    agg = (
        frame.group_by("commune_code").agg(**columns)
        if frame.height
        else pl.DataFrame(schema={"commune_code": pl.String, **dict.fromkeys(columns, pl.UInt32)})
    )
    table = communes.select(pl.col("code").alias("commune_code"), pl.col("name").alias(header)).join(
        agg, on="commune_code", how="left"
    )
    table = table.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in columns).with_columns(
        pl.lit("unit").alias(ROW_KIND)
    )

    def total(part: pl.DataFrame, label: str, kind: str) -> pl.DataFrame:
        return part.select(
            pl.lit(None, pl.String).alias("commune_code"),
            pl.lit(label).alias(header),
            *[pl.col(c).sum() for c in columns],
            pl.lit(kind).alias(ROW_KIND),
        )

    parts = [table]
    if districts:  # grouped by former district, each group opened by its subtotal
        keyed = table.with_columns(pl.col("commune_code").replace_strict(districts, default="").alias("_d"))
        parts = []
        for district in dict.fromkeys(keyed["_d"].to_list()):
            rows = keyed.filter(pl.col("_d") == district).drop("_d")
            parts += [total(rows, district or "(không rõ huyện)", "group"), rows]
    return pl.concat([*parts, total(table, TOTAL_LABEL, "total")]).drop("commune_code")


def appendix_tables(
    coops: pl.DataFrame,
    groups: pl.DataFrame,
    communes: pl.DataFrame,
    header: str = "Xã",
    districts: dict[str, str] | None = None,
) -> dict[str, pl.DataFrame]:
    """The appendix tables by unit (units in `communes` order, or grouped by former district when `districts`
    maps their codes to district names), each ending with a total row."""
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
        "PB01 HTX theo xếp loại": _per_commune(coops, by_rating, communes, header, districts),
        "PB02 HTX theo lĩnh vực": _per_commune(coops, by_sector, communes, header, districts),
        "PB03 THT": _per_commune(groups, tht, communes, header, districts),
    }


def comparison_table(communes: pl.DataFrame, found: list[Comparison], header: str = "Xã") -> pl.DataFrame:
    """PB04: cooperatives per unit of the quarter, and in each earlier quarter compared, restated on the quarter's
    units (the earlier units each unit is made of listed)."""
    rows = []
    for code, name in communes.select("code", "name").iter_rows():
        row: dict[str, object] = {header: name, "HTX kỳ này": found[0].htx_now.get(code, 0) if found else 0}
        for c in found:
            label = f"HTX {c.how.from_period} (tính lại)"
            row[label] = c.htx_then.get(code, 0) if code in c.how.predecessors else None
        row["Gồm các đơn vị của kỳ trước"] = ", ".join(found[-1].how.predecessors.get(code, [])) if found else ""
        row[ROW_KIND] = "unit"
        rows.append(row)
    table = pl.DataFrame(rows, infer_schema_length=None)
    numbers = [c for c in table.columns if c.startswith("HTX")]
    total = {header: TOTAL_LABEL, **{c: table[c].fill_null(0).sum() for c in numbers}}
    total |= {"Gồm các đơn vị của kỳ trước": "", ROW_KIND: "total"}
    notes = [{header: f"Ghi chú ({c.label}): {c.note}", ROW_KIND: "note"} for c in found if c.note]
    return pl.concat([table, pl.DataFrame([total]), pl.DataFrame(notes)], how="diagonal_relaxed")


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
    for name, full in tables.items():
        kinds = full[ROW_KIND].to_list() if ROW_KIND in full.columns else None
        table = full.drop(ROW_KIND, strict=False)
        ws = book.add_worksheet(name[:31])
        ws.write_string(0, 0, f"{name} — {title}", bold)
        ws.write_string(2, 0, "STT", head)
        for c, col in enumerate(table.columns, 1):
            ws.write_string(2, c, col, head)
            ws.set_column(c, c, 22 if c == 1 else 12)
        n = 0
        for r, row in enumerate(table.iter_rows(), 3):
            kind = kinds[r - 3] if kinds else ("total" if row[0] == TOTAL_LABEL else "unit")
            fmt = total_fmt if kind in ("total", "group") else cell
            if kind == "note":
                ws.write_string(r, 1, str(row[0]))
                continue
            if kind == "unit":
                n += 1
                ws.write_number(r, 0, n, fmt)
            for c, value in enumerate(row, 1):
                if isinstance(value, str):
                    ws.write_string(r, c, value, fmt)
                elif value is None:
                    ws.write_blank(r, c, None, fmt)
                else:
                    ws.write_number(r, c, value, fmt)
        ws.freeze_panes(3, 2)
    book.close()
    return path
