"""Write a period's report files: Markdown and DOCX draft, appendix workbook, charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.reference import Reference
from ingest.units import KINDS, Unit
from report import charts
from report.appendix import appendix_tables, comparison_table, write_appendix
from report.comparison import Comparison, comparison_blocks
from report.document import write_docx
from report.numbers import vn_count, vn_pct
from report.text import Block, report_blocks, to_markdown
from schemas.vocab import RATINGS

MARKDOWN = "bao-cao.md"
DOCX = "bao-cao.docx"
APPENDIX = "phu-bieu.xlsx"


@dataclass
class ReportFiles:
    """Paths of what :func:`build_report` wrote."""

    markdown: Path
    docx: Path
    appendix: Path
    charts: dict[str, Path] = field(default_factory=dict)


def build_report(
    out_dir: Path,
    period: str,
    figures: pl.DataFrame,
    history: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    reference: Reference,
    found: list[Comparison] | None = None,
    notes: list[Block] | None = None,
) -> ReportFiles:
    """Write every file of the period's report under `out_dir`.

    `figures` are the period's report figures; `history` the trend figures of every period
    so far restated on the period's units (`report.comparison.trend`); `tables` the period's
    cooperatives, coop_groups and support_disbursements; `found` the comparisons with earlier
    quarters (`report.comparison.comparisons`); `notes` what the figures cover under review
    (`report.approval.approval_blocks`), printed after the opening paragraph.
    """
    found = found or []
    out_dir.mkdir(parents=True, exist_ok=True)
    values = {r["figure_id"]: r["value"] for r in figures.iter_rows(named=True) if r["value"] is not None}
    # Units valid in the period, and any other whose rows were accepted.
    present = set(tables["cooperatives"]["commune_code"].to_list()) | set(
        tables["coop_groups"]["commune_code"].to_list()
    )
    valid = reference.units.valid_in(period)
    communes = _period_rows(reference, period, present)
    names = reference.names_in(period)
    opening = reference.unit.members(valid)
    districts_then = reference.units.has_districts(period)
    blocks = report_blocks(figures, tables, names, opening, period, comparison_blocks(found, period), districts_then)
    if notes:  # after the opening paragraph: what the figures cover
        blocks = [*blocks[:2], *notes, *blocks[2:]]
    md = out_dir / MARKDOWN
    md.write_text(to_markdown(blocks), encoding="utf-8")

    counts = dict(tables["cooperatives"].group_by("commune_code").len().iter_rows())
    geo = communes
    for col in ("latitude", "longitude"):
        geo = (
            geo.with_columns(pl.col(col).cast(pl.Float64, strict=False))
            if col in geo.columns
            else geo.with_columns(pl.lit(None, pl.Float64).alias(col))
        )
    chart_dir = out_dir / "charts"
    made = {
        "ratings": ("Biểu đồ 1. HTX theo kết quả xếp loại", charts.rating_chart(values, chart_dir / "ratings.png")),
        "sectors": ("Biểu đồ 2. HTX theo lĩnh vực", charts.sector_chart(values, chart_dir / "sectors.png")),
        "trend": (
            "Biểu đồ 3. Số HTX qua các quý (các quý trước tính lại theo đơn vị hành chính của kỳ báo cáo)",
            charts.trend_chart(history, chart_dir / "trend.png"),
        ),
        "map": ("Biểu đồ 4. Số HTX theo xã", charts.commune_map(geo, counts, chart_dir / "map.png")),
    }
    rating_rows = [
        (label, vn_count(values.get(f"htx.rating.{key}.count", 0)), vn_pct(values.get(f"htx.rating.{key}.pct", 0)))
        for key, label in [*((t.code, t.label_vi) for t in RATINGS.terms), ("suspended", "Tạm dừng chờ giải thể")]
    ]
    docx = write_docx(out_dir / DOCX, blocks, list(made.values()), rating_rows)
    header = unit_header(valid)
    districts = (
        {u.code: u.district or "" for u in valid} if reference.unit.level == "province" and districts_then else None
    )
    sheets = appendix_tables(tables["cooperatives"], tables["coop_groups"], communes, header, districts)
    if found:
        sheets["PB04 So sánh các kỳ"] = comparison_table(communes, found, header)
    appendix = write_appendix(out_dir / APPENDIX, sheets, f"{reference.unit.title}, {period}")
    return ReportFiles(md, docx, appendix, {k: v[1] for k, v in made.items()})


def unit_header(units: list[Unit]) -> str:
    """The appendix's first column: "Xã", "Xã, phường", … after the kinds of the period's units."""
    kinds = {u.kind for u in units} or {"xa"}
    words = [KINDS[k] for k in KINDS if k in kinds]
    return ", ".join(words).capitalize()


def _period_rows(reference: Reference, period: str, present: set[str]) -> pl.DataFrame:
    """Rows of communes.csv for the units valid in `period` (and units outside their window whose rows were
    accepted), one per code, grouped by district then code."""
    rows = reference.expected(period)
    extra = reference.communes.filter(pl.col("code").is_in(list(present - set(rows["code"].to_list()))))
    both = pl.concat([rows, extra.unique("code", keep="last")], how="vertical_relaxed")
    return both.sort(pl.col("district").fill_null(""), "code")
