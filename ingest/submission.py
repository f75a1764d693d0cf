"""Phase 1 of a quarter: read submissions and cut their sheets into text blocks.

Nothing here knows about other files of the quarter: this is the work the reader
processes of `ingest.parallel` do, a batch of files each. A file that cannot be read, or
lacks a required sheet, is rejected here with a file-level issue; its rows are still kept
(as text) for `rejected_rows`.

A batch is cut in one columnar pass (`ingest.columnar`): every plain sheet of every file
at once. A sheet that needs more (a two-row header, formulas saved without a value, text
typed in a legacy font, control characters) is cut in Python by `ingest.sheet.cut_sheet`,
with the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from ingest.columnar import Cut, cut_many
from ingest.discover import SubmissionFile
from ingest.issues import Issue
from ingest.legacy_fonts import file_fonts
from ingest.models import sheet_models
from ingest.sheet import SheetBlock, cut_sheet, format_words, sheet_texts
from ingest.workbook import RawSheet, SubmissionReadError, read_submission

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


def _open(f: SubmissionFile, password: str | None = None) -> tuple[FileState, dict[str, RawSheet | None]]:
    """Read one submission's sheets (by the format's sheet name; None when absent); a file that cannot be
    read is rejected, with no sheet."""
    state = FileState(f)
    if f.kind == "other":
        state.reject("file_unreadable", detail="không phải tệp Excel hoặc thư mục CSV / not a workbook or CSV folder")
        return state, {}
    wanted = DISTRICT_SHEETS if f.kind == "district" else COMMUNE_SHEETS
    try:
        raw = read_submission(f.path, wanted, password)
    except SubmissionReadError as exc:
        state.reject(exc.rule, detail=exc.detail)
        return state, {}
    except Exception as exc:  # any damage a reader reports must reject the file, never stop the quarter
        state.reject(
            "file_unreadable", detail=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        )
        return state, {}
    return state, {sheet: raw.find(sheet) for sheet in wanted}


def read_batch(
    files: list[SubmissionFile],
    on_file: Callable[[SubmissionFile], None] | None = None,
    password: str | None = None,
) -> list[FileState]:
    """Read and cut a batch of submissions; `on_file` is called as each file has been read (for progress);
    `password` opens encrypted workbooks (default: `KTTT_WORKBOOK_PASSWORD`)."""
    opened = []
    for f in files:
        opened.append(_open(f, password))
        if on_file is not None:
            on_file(f)
    plain = [all(s is None or s.columnar for s in present.values()) for _, present in opened]
    items = [
        (found, sheet, state.file.rel)
        for (state, present), fast in zip(opened, plain, strict=True)
        if fast
        for sheet, found in present.items()
        if found is not None
    ]
    cuts = iter(cut_many(items))
    out = []
    for (state, present), fast in zip(opened, plain, strict=True):
        done = {sheet: next(cuts) for sheet, found in present.items() if fast and found is not None}
        # A file with text that could be typed in a legacy font is cut in Python, with the file's fonts as context.
        if any(cut.suspect for cut in done.values()):
            done = {sheet: Cut(empty=cut.empty) for sheet, cut in done.items()}
        fonts = None
        required = DISTRICT_SHEETS if state.file.kind == "district" else sheet_models().required
        for sheet, found in present.items():
            cut = done.get(sheet)
            if found is None or (sheet not in required and (cut.empty if cut else found.holds_no_table())):
                if sheet in required:
                    state.reject("sheet_missing", detail=sheet)
                continue
            block = cut.block if cut else None
            if block is None:
                if fonts is None:
                    texts = [t for s in present.values() if s is not None for t in sheet_texts(s)]
                    fonts = file_fonts(texts, format_words())
                block = cut_sheet(found, sheet, state.file.rel, fonts)
            state.blocks[sheet] = block
            state.issues.extend(block.issues)
            if block.file_error:
                state.rejected = True
        out.append(state)
    return out


def read_file(f: SubmissionFile, password: str | None = None) -> FileState:
    """Read one submission and cut its sheets; file errors reject it. `password` opens an encrypted workbook."""
    return read_batch([f], None, password)[0]
