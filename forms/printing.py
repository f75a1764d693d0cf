"""Page setup of every workbook kttt writes, so that it prints as people read it on paper.

A commune's table is wide (up to 23 columns) and long: on A4 landscape, scaled to
the page's width, with the header rows printed on every page and the columns that name
each row (id and name, or the commune) repeated on every page that a table still too
wide would spill onto. One function per writer library (xlsxwriter for the forms kttt
creates, openpyxl for the submission it marks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import xl_col_to_name

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

A4 = 9
"""Paper size code of A4 in both libraries (the Excel code)."""
MARGIN_IN = 0.4
Span = tuple[int, int]
"""First and last row (or column), inclusive."""


def set_print_layout(ws: Any, header_rows: Span, name_columns: Span | None) -> None:
    """An xlsxwriter worksheet: landscape A4, fit to one page wide, rows `header_rows` (0-based, inclusive)
    repeated at the top of each page and `name_columns` (0-based, inclusive) at the left."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(*header_rows)
    if name_columns is not None:
        ws.repeat_columns(*name_columns)


def set_print_layout_openpyxl(ws: Worksheet, header_rows: Span, name_columns: Span | None) -> None:
    """The same layout on an openpyxl worksheet (rows and columns 1-based, inclusive)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_IN
    ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    if name_columns is not None:
        ws.print_title_cols = f"{xl_col_to_name(name_columns[0] - 1)}:{xl_col_to_name(name_columns[1] - 1)}"
