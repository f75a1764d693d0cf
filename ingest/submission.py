"""Phase 1 of a quarter: read one submission and cut its sheets into text blocks.

Nothing here knows about other files of the quarter: this is the work the reader
processes of `ingest.parallel` do, one file each. A file that cannot be read, or lacks a
required sheet, is rejected here with a file-level issue; its rows are still kept (as
text) for `rejected_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ingest.discover import SubmissionFile
from ingest.issues import Issue
from ingest.legacy_fonts import file_fonts
from ingest.sheet import SheetBlock, cut_sheet, format_words, sheet_texts
from ingest.workbook import SubmissionReadError, read_submission
from schemas.sheets import REQUIRED_SHEETS

COMMUNE_SHEETS = ("HTX", "THT", "TongHop")
DISTRICT_SHEETS = ("HoTro",)


@dataclass
class FileState:
    """What is known about one submission while its period is processed."""

    file: SubmissionFile
    blocks: dict[str, SheetBlock] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rejected: bool = False
    superseded_by: str | None = None
    held: bool = False
    """Read and validated, but kept out of the facts until the officer approves it (ingest/review.py)."""
    commune_code: str | None = None
    report_date: date | None = None

    @property
    def live(self) -> bool:
        """Neither rejected, superseded nor held: its rows go to the facts."""
        return not self.rejected and self.superseded_by is None and not self.held

    def reject(
        self,
        rule: str,
        *,
        sheet: str | None = None,
        column: str | None = None,
        value: object = None,
        detail: object = None,
        row: int | None = None,
    ) -> None:
        """Reject the whole file with a file-level issue."""
        self.issues.append(Issue(self.file.rel, sheet, row, column, rule, value=value, detail=detail))
        self.rejected = True


def read_file(f: SubmissionFile, password: str | None = None) -> FileState:
    """Read one submission and cut its sheets; file errors reject it. `password` opens an encrypted workbook."""
    state = FileState(f)
    if f.kind == "other":
        state.reject("file_unreadable", detail="không phải tệp Excel hoặc thư mục CSV / not a workbook or CSV folder")
        return state
    wanted = DISTRICT_SHEETS if f.kind == "district" else COMMUNE_SHEETS
    required = DISTRICT_SHEETS if f.kind == "district" else REQUIRED_SHEETS
    try:
        raw = read_submission(f.path, wanted, password)
    except SubmissionReadError as exc:
        state.reject(exc.rule, detail=exc.detail)
        return state
    except Exception as exc:  # any damage a reader reports must reject the file, never stop the quarter
        state.reject(
            "file_unreadable", detail=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        )
        return state
    present = {sheet: raw.find(sheet) for sheet in wanted}
    texts = [t for found in present.values() if found is not None for t in sheet_texts(found)]
    fonts = file_fonts(texts, format_words())
    for sheet, found in present.items():
        if found is None or (sheet not in required and found.holds_no_table()):
            if sheet in required:
                state.reject("sheet_missing", detail=sheet)
            continue
        block = cut_sheet(found, sheet, f.rel, fonts)
        state.blocks[sheet] = block
        state.issues.extend(block.issues)
        if block.file_error:
            state.rejected = True
    return state
