"""Read a submission (workbook or folder of CSV files) into raw cell grids.

Nothing here interprets values: a sheet becomes rows of cell text, each with a flag
saying whether the cell was a number in the workbook (so ``360.697`` typed as text
reads as 360697, Vietnamese style, while a numeric cell 360.697 stays 360.697).
Row ``i`` of a grid is Excel row ``i + 1`` (leading empty rows kept) or CSV line ``i + 1``.

Workbooks are opened with fastexcel (calamine) after guards on file size, on the
uncompressed size announced by the zip's central directory, and on the sheet
dimensions, so a zip bomb or a far cell is refused before it costs memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl
import pyarrow.compute as pc

from ingest.legacy_fonts import file_fonts
from ingest.text import fold

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_CELLS_PER_SHEET = 5_000_000
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


class SubmissionReadError(Exception):
    """A file that cannot be read at all; ``rule`` names the file error."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


@dataclass
class RawSheet:
    """The cells of one sheet: text per cell and whether it was a numeric cell."""

    name: str
    rows: list[list[str | None]]
    numeric: list[list[bool]] | None = None

    def holds_no_table(self) -> bool:
        """True when no row has two filled cells: the sheet is blank or holds only titles or a note."""
        return all(sum(1 for v in row if v is not None and v.strip()) < 2 for row in self.rows)

    def is_numeric(self, r: int, c: int) -> bool:
        """True when cell (r, c) was stored as a number in the workbook."""
        if self.numeric is None or r >= len(self.numeric) or c >= len(self.numeric[r]):
            return False
        return self.numeric[r][c]


@dataclass
class RawSubmission:
    """All sheets of one submission, by their name as found in the file."""

    sheets: dict[str, RawSheet] = field(default_factory=dict)

    def find(self, wanted: str) -> RawSheet | None:
        """The sheet whose name matches ``wanted`` ignoring case, accents and spaces."""
        key = fold(wanted).replace(" ", "")
        for name, sheet in self.sheets.items():
            if fold(name).replace(" ", "") == key:
                return sheet
        return None


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def check_workbook_size(path: Path) -> None:
    """Refuse files whose size, uncompressed size or sheet dimensions are out of bounds."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SubmissionReadError("file_too_large", f"{size} bytes > {MAX_FILE_BYTES}")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        data = path.read_bytes()
        if _ENCRYPTED_MARK in data:
            raise SubmissionReadError("file_encrypted", "password-protected workbook")
        return
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise SubmissionReadError(
                    "file_too_large", f"uncompressed size {total} bytes > {MAX_UNCOMPRESSED_BYTES}"
                )
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with zf.open(info) as sheet_xml:
                        m = _DIMENSION.search(sheet_xml.read(4096))
                    if m and m.group(3):
                        rows = int(m.group(4)) - int(m.group(2)) + 1
                        cols = _col_number(m.group(3).decode()) - _col_number(m.group(1).decode()) + 1
                        if rows * cols > MAX_CELLS_PER_SHEET:
                            raise SubmissionReadError(
                                "file_too_large", f"sheet {info.filename} spans {rows} × {cols} cells"
                            )
    except zipfile.BadZipFile as exc:
        raise SubmissionReadError("file_unreadable", f"damaged zip container: {exc}") from exc


def _to_lists(df: pl.DataFrame) -> list[list]:
    return [list(r) for r in df.rows()]


def read_workbook(path: Path, wanted: tuple[str, ...]) -> RawSubmission:
    """Read the sheets named in ``wanted`` (matched loosely) from a workbook."""
    check_workbook_size(path)
    try:
        reader = fastexcel.read_excel(path)
    except Exception as exc:  # calamine reports every kind of damage the same way
        raise SubmissionReadError("file_unreadable", str(exc).splitlines()[0][:300]) from exc
    keys = {fold(w).replace(" ", "") for w in wanted}
    out = RawSubmission()
    for name in reader.sheet_names:
        if fold(name).replace(" ", "") not in keys:
            continue
        try:
            text = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
            if text.width == 0:
                out.sheets[name] = RawSheet(name, [], [])
                continue
            # Read as booleans, a cell is non-null exactly when it holds a number (or a boolean).
            flags, _ = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="boolean").to_arrow_with_errors()
        except Exception as exc:
            raise SubmissionReadError("file_unreadable", f"sheet {name}: {str(exc).splitlines()[0][:300]}") from exc
        valid = [pc.is_valid(column).to_pylist() for column in flags.columns]
        out.sheets[name] = RawSheet(name, _to_lists(text), [list(r) for r in zip(*valid, strict=True)])
    return out


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else 8-bit (see :func:`decode_8bit`)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_8bit(data)


def decode_8bit(data: bytes) -> str:
    """Windows-1258, unless the bytes are text typed in a legacy Vietnamese font (TCVN3 or VNI).

    Those fonts are 8-bit too: their bytes are kept as the Latin-1 characters a workbook
    cell would hold, and the sheet reader converts them cell by cell (with a warning each).
    """
    latin = data.decode("latin-1")
    if file_fonts(latin.splitlines()).legacy:
        return latin
    return data.decode("cp1258", errors="replace")


def read_csv_sheet(path: Path) -> RawSheet:
    """Read one CSV file as a sheet; the delimiter (comma, semicolon, tab) is detected."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SubmissionReadError("file_too_large", f"{path.name}: {size} bytes > {MAX_FILE_BYTES}")
    text = unicodedata.normalize("NFC", decode_text(path.read_bytes()))
    rows: list[list[str | None]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    previous_line = 0
    for record in reader:
        # A record is numbered by the line it starts on; lines a quoted field spans stay empty.
        while len(rows) < previous_line:
            rows.append([])
        rows.append([v if v.strip() else None for v in record])
        previous_line = reader.line_num
    return RawSheet(path.stem, rows, None)


def detect_delimiter(text: str, candidates: str = ",;\t") -> str:
    """The delimiter that splits the first lines into the most fields (median over non-blank lines).

    Unlike a character-frequency sniffer this is not fooled by decimal commas in a
    semicolon file, or by a comma inside a header such as ``Trình độ ĐH, CĐ``.
    """
    head = text.splitlines()[:30]
    best, best_score = candidates[0], -1
    for d in candidates:
        try:
            counts = sorted(len(r) for r in csv.reader(head, delimiter=d) if any(f.strip() for f in r))
        except csv.Error:
            continue
        score = counts[len(counts) // 2] if counts else 0
        if score > best_score:
            best, best_score = d, score
    return best


def read_csv_folder(folder: Path, wanted: tuple[str, ...]) -> RawSubmission:
    """Read a folder of CSV files, one per sheet (``HTX.csv``, ``THT.csv``, ``TongHop.csv``)."""
    keys = {fold(w).replace(" ", "") for w in wanted}
    out = RawSubmission()
    for path in sorted(folder.iterdir()):
        is_csv = path.is_file() and path.suffix.lower() in (".csv", ".txt") and not path.is_symlink()
        if is_csv and fold(path.stem).replace(" ", "") in keys:
            out.sheets[path.stem] = read_csv_sheet(path)
    return out


def read_submission(path: Path, wanted: tuple[str, ...]) -> RawSubmission:
    """Read a workbook file or a CSV folder."""
    if path.is_dir():
        return read_csv_folder(path, wanted)
    return read_workbook(path, wanted)
