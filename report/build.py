"""Write a period's report files: Markdown and DOCX draft, appendix workbook, charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.reference import Reference
from report import charts
from report.appendix import appendix_tables, write_appendix
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
    notes: list[Block] | None = None,
) -> ReportFiles:
    """Write every file of the period's report under ``out_dir``.

    ``figures`` are the period's report figures; ``history`` the report figures of
    every period so far (for the trend chart); ``tables`` the period's cooperatives,
    coop_groups and support_disbursements.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    values = {r["figure_id"]: r["value"] for r in figures.iter_rows(named=True) if r["value"] is not None}
    # Expected communes, and any other commune whose submission was accepted (outside its validity window).
    present = set(tables["cooperatives"]["commune_code"].to_list()) | set(
        tables["coop_groups"]["commune_code"].to_list()
    )
    communes = reference.communes.filter(
        pl.col("code").is_in(reference.expected(period)["code"].to_list()) | pl.col("code").is_in(list(present))
    )
    names = dict(reference.communes.select("code", "name").iter_rows())
    blocks = report_blocks(figures, tables, names, reference.district, reference.province, period)
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
        "trend": ("Biểu đồ 3. Số HTX qua các quý", charts.trend_chart(history, chart_dir / "trend.png")),
        "map": ("Biểu đồ 4. Số HTX theo xã", charts.commune_map(geo, counts, chart_dir / "map.png")),
    }
    rating_rows = [
        (label, vn_count(values.get(f"htx.rating.{key}.count", 0)), vn_pct(values.get(f"htx.rating.{key}.pct", 0)))
        for key, label in [*((t.code, t.label_vi) for t in RATINGS.terms), ("suspended", "Tạm dừng chờ giải thể")]
    ]
    docx = write_docx(out_dir / DOCX, blocks, list(made.values()), rating_rows)
    title = f"huyện {reference.district}, {period}"
    appendix = write_appendix(
        out_dir / APPENDIX, appendix_tables(tables["cooperatives"], tables["coop_groups"], communes), title
    )
    return ReportFiles(md, docx, appendix, {k: v[1] for k, v in made.items()})
