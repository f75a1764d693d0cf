"""The report as DOCX (python-docx): the text blocks, a ratings table and the charts."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from report.text import Block

FONT = "Times New Roman"


def write_docx(
    path: Path, blocks: list[Block], charts: list[tuple[str, Path]], rating_rows: list[tuple[str, str, str]]
) -> Path:
    """Write the DOCX: text, a table of ratings after section 1.2, then the charts with captions."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    for section in doc.sections:
        section.left_margin, section.right_margin = Cm(3), Cm(2)
    table_done = False
    for b in blocks:
        if b.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(b.text)
            run.bold = True
            run.font.size = Pt(15)
        elif b.kind == "heading":
            if not table_done and b.text.startswith("1.3"):
                _ratings_table(doc, rating_rows)
                table_done = True
            doc.add_heading(b.text, level=min(b.level, 3))
        elif b.kind == "bullet":
            doc.add_paragraph(b.text, style="List Bullet")
        else:
            doc.add_paragraph(b.text)
    doc.add_heading("Biểu đồ", level=1)
    for caption, image in charts:
        doc.add_picture(str(image), width=Cm(15))
        doc.paragraphs[-1].paragraph_format.keep_with_next = True  # the caption is printed on the chart's page
        cap = doc.add_paragraph(caption)
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.core_properties.author = "kttt"
    doc.save(str(path))
    return path


def _ratings_table(doc: Document, rows: list[tuple[str, str, str]]) -> None:
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Xếp loại", "Số HTX", "Tỷ lệ (%)"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
