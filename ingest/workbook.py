"""Read a submission (workbook or folder of CSV files) into raw cell grids.

Nothing here interprets values: a sheet becomes rows of cell text, each with a flag
saying whether the cell was a number in the workbook (so ``360.697`` typed as text
reads as 360697, Vietnamese style, while a numeric cell 360.697 stays 360.697).
Row ``i`` of a grid is Excel row ``i + 1`` (leading empty rows kept) or CSV line ``i + 1``.

Workbooks are opened with fastexcel (calamine) after guards on file size, on the
uncompressed size announced by the zip's central directory, on the sheet dimensions,
and on one streaming pass over each worksheet's XML (the cells really there, whatever
the declared dimension says), so a zip bomb or a far cell is refused before it costs
memory. The same pass finds formula cells saved without a computed value, which
calamine would read as empty. In a reader process with memory and time limits
(`ISOLATED`, see `ingest.parallel`) the pass looks only for formulas in a plain sheet,
and the extent is checked on the grid calamine read (`Guard`). A password-protected workbook is opened in memory with
the password the caller passes (the `workbook_password` of the `source` resource, set
by ``KTTT_WORKBOOK_PASSWORD``).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO
from xml.etree import ElementTree
from xml.parsers import expat

import fastexcel
import msoffcrypto
import pyarrow as pa

from ingest.legacy_fonts import file_fonts
from ingest.text import fold

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_CELLS_PER_SHEET = 5_000_000
QUICK_SCAN_BYTES = 4 * 1024 * 1024  # sheets up to this size are scanned in memory, by regular expressions
MAX_UNCACHED_FORMULAS = 100_000
MAX_PART_INDEX_BYTES = 10 * 1024 * 1024  # workbook.xml and its relationships, parsed whole
PASSWORD_ENV = "KTTT_WORKBOOK_PASSWORD"
ISOLATED = False
"""True in a reader process with memory and time limits (`ingest.parallel`): the zip guard is then `IN_READER`."""
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_SHEET_REL = "/worksheet"
_NO_PASSWORD = f"chưa cấu hình mật khẩu ({PASSWORD_ENV}) / no password is configured ({PASSWORD_ENV})"
_WRONG_PASSWORD = (
    f"mật khẩu đã cấu hình ({PASSWORD_ENV}) không mở được tệp"
    f" / the configured password ({PASSWORD_ENV}) does not open it"
)


@dataclass(frozen=True)
class Guard:
    """What the zip guard inflates and scans before calamine opens a workbook (the central directory's sizes,
    encryption and each worksheet's declared dimension are always checked, and each worksheet is inflated once)."""

    other_parts: bool
    """Every part besides the worksheets inflated once (bounded by its declared size, CRC checked), and
    `xl/workbook.xml` checked for entities: a part that lies is refused before calamine inflates it."""
    every_cell: bool
    """Every cell tag of a plain worksheet scanned for its real extent (a far cell, whatever the declared
    dimension says); without it, only a sheet with formulas is scanned (for formulas without a value), and the
    extent is checked on the grid calamine read."""


IN_PROCESS = Guard(other_parts=True, every_cell=True)
"""The guard where nothing else would stop a file that blows up: the calling process."""
IN_READER = Guard(other_parts=False, every_cell=False)
"""The guard in a reader process with memory and time limits: a file that blows it up stops that reader only."""
STOPPED_READER = Guard(other_parts=False, every_cell=True)
"""The guard run by the calling process on a file that stopped a reader, to name the far cell it may hold."""


class SubmissionReadError(Exception):
    """A file that cannot be read at all; ``rule`` names the file error."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class RawSheet:
    """The cells of one sheet: text per cell and whether it was a numeric cell.

    A workbook's sheet is kept as calamine's Arrow batch (`text`, whose arrays are `columns`; `numbers`:
    non-null where the cell held a number), which the columnar cut reads as it is; `rows` and
    `numeric` (Python lists, row by row) are made from them only when a sheet is cut in Python.
    A CSV sheet, and a sheet with formulas saved without a value, come as lists.

    `numbers` costs calamine a second read of the sheet, and the text alone says what the columnar cut needs
    to know in nearly every sheet (`ingest.columnar`): it is read when first asked for, by `read_numbers`.
    """

    def __init__(
        self,
        name: str,
        rows: list[list[str | None]] | None = None,
        numeric: list[list[bool]] | None = None,
        uncached: dict[tuple[int, int], str] | None = None,
        *,
        text: pa.RecordBatch | None = None,
        numbers: list[pa.Array] | None = None,
        read_numbers: Callable[[], list[pa.Array]] | None = None,
    ) -> None:
        self.name = name
        self._rows = rows
        self._numeric = numeric
        # (row, col), 0-based → formula text: formula cells saved without a computed value
        self.uncached: dict[tuple[int, int], str] = uncached or {}
        self.text = text
        self._columns: list[pa.Array] | None = None
        self._numbers = numbers
        self._read_numbers = read_numbers

    @property
    def columns(self) -> list[pa.Array] | None:
        """The text's arrays, one per column (None for a sheet read as lists); made when first asked for, since
        the columnar cut takes the batch whole."""
        if self._columns is None and self.text is not None:
            self._columns = list(self.text.columns)
        return self._columns

    @property
    def height(self) -> int:
        """Rows of the text (0 for a sheet read as lists)."""
        return self.text.num_rows if self.text is not None and self.text.num_columns else 0

    @property
    def numbers(self) -> list[pa.Array] | None:
        """Per column, non-null where the cell held a number (or a boolean); read when first asked for."""
        if self._numbers is None and self._read_numbers is not None:
            self._numbers, self._read_numbers = self._read_numbers(), None
        return self._numbers

    @property
    def columnar(self) -> bool:
        """True when the sheet is held as Arrow columns and has no formula without a value."""
        return self.text is not None and not self.uncached

    @property
    def rows(self) -> list[list[str | None]]:
        """The cells row by row (row `i` is Excel row `i + 1`)."""
        if self._rows is None:
            cols = [c.to_pylist() for c in self.columns or []]
            self._rows = [list(r) for r in zip(*cols, strict=True)]
        return self._rows

    @property
    def numeric(self) -> list[list[bool]] | None:
        """Per cell, whether it was stored as a number (None for CSV)."""
        if self._numeric is None and self.columns is not None:
            height = len(self.rows)
            valid = [[v is not None for v in c.to_pylist()] for c in self.numbers or []]
            flags = [list(r) for r in zip(*valid, strict=True)][:height]
            self._numeric = flags + [[] for _ in range(height - len(flags))]
        return self._numeric

    def holds_no_table(self) -> bool:
        """True when no row has two filled cells: the sheet is blank or holds only titles or a note."""
        return all(sum(1 for v in row if v is not None and v.strip()) < 2 for row in self.rows)

    def is_numeric(self, r: int, c: int) -> bool:
        """True when cell (r, c) was stored as a number in the workbook."""
        numeric = self.numeric
        if numeric is None or r >= len(numeric) or c >= len(numeric[r]):
            return False
        return numeric[r][c]


@dataclass
class RawSubmission:
    """All sheets of one submission, by their name as found in the file."""

    sheets: dict[str, RawSheet] = field(default_factory=dict)

    def find(self, wanted: str) -> RawSheet | None:
        """The sheet whose name matches ``wanted`` ignoring case, accents and spaces."""
        key = sheet_key(wanted)
        for name, sheet in self.sheets.items():
            if sheet_key(name) == key:
                return sheet
        return None


@lru_cache(maxsize=1024)
def sheet_key(name: str) -> str:
    """A sheet name as matched: folded, without spaces (the same few names recur in every file)."""
    return fold(name).replace(" ", "")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(n: int) -> str:
    """Excel letters of a 1-based column number (1 → A, 28 → AB)."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _is_encrypted(data: bytes) -> bool:
    """An OLE file holding an encrypted workbook (OOXML ``EncryptedPackage``, or an encrypted .xls)."""
    if _ENCRYPTED_MARK in data:
        return True
    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # not an Office file msoffcrypto knows: calamine will say what it is
        return False


def decrypt_workbook(data: bytes, password: str | None) -> bytes:
    """The plain workbook inside an encrypted OLE file; ``file_encrypted`` without the right password."""
    if not password:
        raise SubmissionReadError("file_encrypted", _NO_PASSWORD)
    out = io.BytesIO()
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password)
        office.decrypt(out)
    except Exception as exc:  # wrong password, or an encryption msoffcrypto cannot undo (IRM, rights management)
        raise SubmissionReadError("file_encrypted", _WRONG_PASSWORD) from exc
    return out.getvalue()


def open_workbook(
    path: Path, password: str | None = None, guard: Guard | None = None, wanted: tuple[str, ...] | None = None
) -> tuple[Path | bytes, dict[str, SheetScan]]:
    """Check a workbook before calamine opens it: refuse it when its size, uncompressed size or sheet extent is
    out of bounds, or when it is encrypted and ``password`` does not open it. `guard` says how much the zip guard
    inflates and scans (default: `IN_READER` in a reader process, else `IN_PROCESS`); a sheet whose name is not
    in `wanted` (the sheets that will be read) is never loaded by calamine, so its cells are not scanned for a
    far one (see `_check_zip`).

    Returns the source to open (decrypted bytes when it was encrypted) and, for an Office Open
    XML workbook, what the scan of each sheet found, by sheet name.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SubmissionReadError("file_too_large", f"{size} bytes > {MAX_FILE_BYTES}")
    if size == 0:
        raise SubmissionReadError("file_unreadable", "tệp rỗng (0 byte) / the file is empty (0 bytes)")
    # Read once (at most `MAX_FILE_BYTES`) for every check, rather than opened again by each. calamine still opens
    # the path: from bytes it tells the format by content alone, and names less of what is wrong with a damaged file.
    data = path.read_bytes()
    source = data
    if data[:8] == _OLE_MAGIC:
        if not _is_encrypted(data):
            return path, {}
        source = decrypt_workbook(data, password)
        if source[:8] == _OLE_MAGIC:  # a decrypted .xls
            return source, {}
    container = io.BytesIO(source)
    opened: Path | bytes = path if source is data else source  # what calamine opens: the path, or the decrypted bytes
    if not zipfile.is_zipfile(container):
        return opened, {}
    try:
        with zipfile.ZipFile(container) as zf:
            return opened, _check_zip(zf, guard or (IN_READER if ISOLATED else IN_PROCESS), wanted)
    except zipfile.BadZipFile as exc:
        raise SubmissionReadError("file_unreadable", f"damaged zip container: {exc}") from exc
    except (zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise SubmissionReadError("file_unreadable", f"damaged zip container: {type(exc).__name__}: {exc}") from exc


def _check_zip(zf: zipfile.ZipFile, guard: Guard, wanted: tuple[str, ...] | None = None) -> dict[str, SheetScan]:
    """Sizes from the central directory, then one streaming pass over every part.

    Every part is decompressed once through :mod:`zipfile`, which stops at the size the
    central directory declares and checks the CRC: a part that lies about its size is refused
    here instead of being inflated by calamine. A worksheet's declared dimension is checked
    from the first bytes of that same pass, before the rest of it is scanned. Without
    `Guard.other_parts` (an isolated reader process) only the worksheets are read: their scan
    is needed anyway (formulas without a value), and any other part that lies can only stop
    that process; `xl/workbook.xml` is then read only when a scan's result must be named.

    A sheet that will not be read (its name not in `wanted`) is scanned as a reader process scans any sheet
    (formulas only): whether a far cell in such a sheet refuses the file must not depend on whether the quarter is
    read in this process or by reader processes, and calamine never builds that sheet's grid.
    """
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SubmissionReadError("file_too_large", f"uncompressed size {total} bytes > {MAX_UNCOMPRESSED_BYTES}")
    unread = _unread_parts(zf, wanted) if guard.every_cell and wanted is not None else frozenset()
    by_part: dict[str, SheetScan] = {}
    for info in infos:
        if not _is_sheet_part(info.filename):
            continue
        every_cell = guard.every_cell and info.filename not in unread
        try:
            by_part[info.filename] = _scan_part(zf, info, info.filename, every_cell)
        except SubmissionReadError:  # rare: scanned again under the sheet's name, which the message shows
            sheet = _sheet_names_by_part(_workbook_parts(zf)).get(info.filename, info.filename)
            _scan_part(zf, info, sheet, every_cell)
            raise
    if guard.other_parts:
        _workbook_parts(zf)  # checked here (size, no DOCTYPE), not left to calamine
        for info in infos:
            if not _is_sheet_part(info.filename):
                with zf.open(info) as fh:
                    while fh.read(1 << 20):
                        pass
    if not any(scan.uncached for scan in by_part.values()):
        return {}  # only formulas without a value are placed later, by sheet name; extents are checked already
    names = _sheet_names_by_part(_workbook_parts(zf))
    scans: dict[str, SheetScan] = {}
    for part, scan in by_part.items():
        scan.sheet = names.get(part, part)
        scans[scan.sheet] = scan
    return scans


def _unread_parts(zf: zipfile.ZipFile, wanted: tuple[str, ...]) -> frozenset[str]:
    """The worksheet parts whose sheet is not one of `wanted` (matched as `sheet_key` matches them); none when the
    workbook's index cannot tell (every sheet then counts as read)."""
    keys = {sheet_key(w) for w in wanted}
    parts = _workbook_parts(zf)  # refused here as it would be after the scans: entities, an index too large
    try:
        names = _sheet_names_by_part(parts)
    except SubmissionReadError:  # a damaged index: calamine says what is wrong with it
        return frozenset()
    return frozenset(part for part, name in names.items() if sheet_key(name) not in keys)


def _declared_extent(head: bytes, part: str) -> None:
    """Refuse a worksheet whose declared ``<dimension>`` (in its first bytes) spans too many cells: calamine
    reserves memory for it before reading a cell."""
    m = _DIMENSION.search(head)
    if m and m.group(3):
        rows = int(m.group(4)) - int(m.group(2)) + 1
        cols = _col_number(m.group(3).decode()) - _col_number(m.group(1).decode()) + 1
        if rows * cols > MAX_CELLS_PER_SHEET:
            raise SubmissionReadError("file_too_large", f"sheet {part} spans {rows} × {cols} cells")


_NOT_PLAIN = (b"<f", b":f", b"<!DOCTYPE", b"<!ENTITY")
"""Marks of a worksheet that may hold a formula (plain or prefixed) or declare entities: a reader process scans
such a sheet in full; any other needs no scan there."""


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str, every_cell: bool) -> SheetScan:
    """The checks of one worksheet part (`sheet` names it in messages): its declared dimension, then its scan, by
    regular expressions when it is small and plain, else streamed.

    Without `every_cell` (a reader process) a small sheet with no formula is not scanned cell by cell: its real
    extent is checked on the grid calamine reads (`read_workbook`), and a far cell that would make calamine
    reserve more memory than the process may have stops that reader, whose file the calling process then scans
    (`STOPPED_READER`, in `ingest.parallel`)."""
    with zf.open(info) as fh:
        if info.file_size <= QUICK_SCAN_BYTES:
            xml = _read_declared(fh, info)
            _declared_extent(xml[:4096], info.filename)
            if not every_cell and not any(mark in xml for mark in _NOT_PLAIN):
                return SheetScan(sheet)  # no formula to place; the extent is checked on calamine's grid
            return quick_scan(xml, sheet) or scan_sheet_xml(io.BytesIO(xml), sheet)
        _declared_extent(fh.read(4096), info.filename)
    with zf.open(info) as fh:
        return scan_sheet_xml(fh, sheet)


def _is_sheet_part(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml") and name.count("/") == 2


def _local(tag: str) -> str:
    return tag.rpartition("}")[2].rpartition(":")[2]


def _workbook_parts(zf: zipfile.ZipFile) -> tuple[bytes, bytes] | None:
    """``xl/workbook.xml`` and its relationships, checked (size, no DOCTYPE); None when the workbook lacks them."""
    try:
        book_info = zf.getinfo("xl/workbook.xml")
        rels_info = zf.getinfo("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    if max(book_info.file_size, rels_info.file_size) > MAX_PART_INDEX_BYTES:
        raise SubmissionReadError("file_too_large", f"xl/workbook.xml or its relationships > {MAX_PART_INDEX_BYTES}")
    with zf.open(book_info) as book, zf.open(rels_info) as rels:
        return _no_doctype(_read_declared(book, book_info)), _no_doctype(_read_declared(rels, rels_info))


def _read_declared(fh: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    """A part's bytes, inflated no further than the size the central directory declares (then its CRC is
    checked): `zipfile`'s `read()` without a size inflates all the compressed data before it cuts it to that size,
    so a part that lies about its size would fill the memory first."""
    return fh.read(info.file_size)


def _sheet_names_by_part(parts: tuple[bytes, bytes] | None) -> dict[str, str]:
    """Zip part of each worksheet → the sheet's name (from ``xl/workbook.xml`` and its relationships, as
    `_workbook_parts` returns them)."""
    if parts is None:
        return {}
    try:
        book = ElementTree.fromstring(parts[0])
        rels = ElementTree.fromstring(parts[1])
    except ElementTree.ParseError as exc:
        raise SubmissionReadError("file_unreadable", f"damaged xl/workbook.xml: {exc}") from exc
    targets = {}
    for rel in rels.iter():
        if _local(rel.tag) == "Relationship" and rel.get("Type", "").endswith(_SHEET_REL):
            target = rel.get("Target", "")
            targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    out = {}
    for sheet in book.iter():
        if _local(sheet.tag) != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        if rid in targets and sheet.get("name") is not None:
            out[targets[rid]] = sheet.get("name", "")
    return out


def _no_doctype(xml: bytes) -> bytes:
    """The XML unchanged; a document type declaration (entities: billion laughs, external files) is refused."""
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise SubmissionReadError("file_unreadable", "XML with a DOCTYPE declaration")
    return xml


@dataclass
class SheetScan:
    """What one streaming pass over a worksheet's XML found: its extent and its formulas without a value."""

    sheet: str
    rows: int = 0  # last row holding a cell, 1-based
    cols: int = 0  # last column holding a cell, 1-based
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col), 0-based → formula text
    # First column (0-based) holding a value: calamine's grid starts there, not at column A.
    first_col: int | None = None


class _SheetScanner:
    """Expat handlers over ``<sheetData>``: positions of cells (with or without ``r``) and their formulas.

    Only the start of elements is followed for plain cells; the end of elements and the text
    are followed inside a formula cell only, which keeps the pass fast.
    """

    def __init__(self, scan: SheetScan, parser: expat.XMLParserType) -> None:
        self.scan = scan
        self.parser = parser
        self.row = -1
        self.col = -1
        self.in_formula_cell = False
        self.in_value = False
        self.saw_value = False
        self.has_value = False
        self.formula: list[str] = []
        self.cell_type: str | None = None
        self.letters: dict[str, int] = {}
        self.pending: int | None = None  # column of a plain value being read, until its text is seen

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            m = _CELL_REF.match(ref) if ref else None
            if m:
                letters = m.group(1)
                col = self.letters.get(letters)
                if col is None:
                    col = self.letters[letters] = _col_number(letters.upper()) - 1
                self.row, self.col = int(m.group(2)) - 1, col
            else:
                self.col += 1
            if self.row >= self.scan.rows or self.col >= self.scan.cols:
                self._extent()
            self.cell_type = attrs.get("t")
        elif tag == "row":
            r = attrs.get("r", "")
            self.row = int(r) - 1 if r.isdigit() else self.row + 1
            self.col = -1
        elif tag == "f":
            self.in_formula_cell, self.saw_value, self.has_value, self.formula = True, False, False, []
            self.parser.EndElementHandler = self.end
            self.parser.CharacterDataHandler = self.text
        elif tag in ("v", "is"):
            if self.in_formula_cell:
                self.in_value = self.saw_value = True
            elif self.scan.first_col is None or self.col < self.scan.first_col:
                if tag == "is" or self.cell_type in ("str", "inlineStr"):  # kept by calamine even when empty
                    self.scan.first_col = self.col
                else:  # calamine drops a value left empty (<v></v>): follow its text
                    self.pending = self.col
                    self.parser.EndElementHandler = self.end
                    self.parser.CharacterDataHandler = self.text

    def end(self, tag: str) -> None:
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag in ("v", "is"):
            self.in_value = False
            if self.pending is not None:
                self.pending = None
                self.parser.EndElementHandler = None
                self.parser.CharacterDataHandler = None
        elif tag == "c":
            self.in_formula_cell = False
            self.parser.EndElementHandler = None
            self.parser.CharacterDataHandler = None
            empty_text_result = self.saw_value and self.cell_type in ("str", "inlineStr")
            # calamine keeps a formula cell with a value, and one whose text result is empty.
            kept = self.has_value or empty_text_result
            if kept and (self.scan.first_col is None or self.col < self.scan.first_col):
                self.scan.first_col = self.col
            if not self.has_value and not empty_text_result:
                self.scan.uncached[(self.row, self.col)] = "=" + "".join(self.formula)[:200]
                if len(self.scan.uncached) > MAX_UNCACHED_FORMULAS:
                    raise SubmissionReadError(
                        "file_unreadable",
                        f"sheet {self.scan.sheet}: more than {MAX_UNCACHED_FORMULAS} formulas without a computed "
                        "value; open and save the file in Excel",
                    )

    def text(self, data: str) -> None:
        if self.pending is not None:
            if data and (self.scan.first_col is None or self.pending < self.scan.first_col):
                self.scan.first_col = self.pending
            return
        if self.in_value:
            self.has_value = self.has_value or bool(data.strip())
        elif len(self.formula) < 50:
            self.formula.append(data)

    def _extent(self) -> None:
        rows, cols = max(self.scan.rows, self.row + 1), max(self.scan.cols, self.col + 1)
        if rows * cols > MAX_CELLS_PER_SHEET:
            raise SubmissionReadError(
                "file_too_large",
                f"sheet {self.scan.sheet}: a cell at {column_letters(self.col + 1)}{self.row + 1} "
                f"makes it {rows} × {cols} cells > {MAX_CELLS_PER_SHEET}",
            )
        self.scan.rows, self.scan.cols = rows, cols


# Every cell tag (`<c` then white space, `>` or `/`); one as spreadsheet programs write it (``r`` first, then
# only style and type attributes) gives its column letters and row, any other gives empty groups.
_CELL_TAG = re.compile(rb'<c(?=[\s>/])(?: r="([A-Z]{1,3})([0-9]{1,7})"(?:\s+[st]="[A-Za-z0-9]*")*\s*/?>)?')
_PREFIXED = re.compile(rb"<[\w.-]+:(?:c|row|f|v|is|sheetData)[\s/>]")


def quick_scan(xml: bytes, sheet: str) -> SheetScan | None:
    """:func:`scan_sheet_xml` by regular expressions, for the usual sheet: no formula, comment or XML prefix,
    every cell tag in the plain form ``<c r="B7" s="1" t="s">``. None when the sheet is not that simple (the full
    scan then runs)."""
    if any(mark in xml for mark in (b"<f", b"<!DOCTYPE", b"<!ENTITY", b"<!--", b"<![CDATA[")):
        return None
    if _PREFIXED.search(xml):
        return None
    if not xml.rstrip().endswith(b"</worksheet>"):
        return None  # cut or odd: the full scan says what is wrong
    refs = _CELL_TAG.findall(xml)
    scan = SheetScan(sheet)
    if not refs:
        return scan
    letters_seen, rows_seen = zip(*refs, strict=True)  # C loops: a sheet has thousands of cells, few rows and columns
    if b"" in letters_seen:
        return None  # a cell tag in another form
    rows = max(map(int, set(rows_seen)))
    cols = _col_number(max(set(letters_seen), key=lambda letters: (len(letters), letters)).decode())  # AB after Z
    if rows * cols > MAX_CELLS_PER_SHEET:
        far = max(refs, key=lambda ref: (_col_number(ref[0].decode()), int(ref[1])))
        raise SubmissionReadError(
            "file_too_large",
            f"sheet {sheet}: a cell at {far[0].decode()}{int(far[1])} makes it {rows} × {cols} cells "
            f"> {MAX_CELLS_PER_SHEET}",
        )
    scan.rows, scan.cols = rows, cols
    return scan


def _refuse_doctype(*_: object) -> None:
    raise SubmissionReadError("file_unreadable", "XML with a DOCTYPE declaration")


def scan_sheet_xml(stream: IO[bytes], sheet: str) -> SheetScan:
    """Stream a worksheet's XML once, in constant memory: its real extent (a far cell is refused with
    ``file_too_large`` whatever ``<dimension>`` claims) and its formula cells saved without a value."""
    scan = SheetScan(sheet)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = _SheetScanner(scan, parser).start
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    try:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise SubmissionReadError("file_unreadable", f"sheet {sheet}: damaged XML ({exc})") from exc
    return scan


def read_workbook(path: Path, wanted: tuple[str, ...], password: str | None = None) -> RawSubmission:
    """Read the sheets named in ``wanted`` (matched loosely) from a workbook (``password`` opens an encrypted one)."""
    source, scans = open_workbook(path, password, wanted=wanted)
    try:
        reader = fastexcel.read_excel(source)
    except Exception as exc:  # calamine reports every kind of damage the same way
        raise SubmissionReadError("file_unreadable", str(exc).splitlines()[0][:300]) from exc
    keys = {sheet_key(w) for w in wanted}
    out = RawSubmission()
    for name in reader.sheet_names:
        if sheet_key(name) not in keys:
            continue
        try:
            # `eager` goes straight to Arrow (half the cost of a sheet object converted after).
            text = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string", eager=True)
            _checked_extent(text, name)
            # Kept as calamine made it: its arrays reserve more than they hold (about 13 MiB more per 200 files of
            # the generator, which a reader holds until it cuts them), but a compact copy cost 0.1 ms per file.
            scan = scans.get(name)
            placed = scan is not None and bool(scan.uncached)
            numbers = (_number_flags(reader, name) if text.num_columns else []) if placed else None
        except SubmissionReadError:
            raise
        except Exception as exc:
            raise SubmissionReadError("file_unreadable", f"sheet {name}: {str(exc).splitlines()[0][:300]}") from exc
        if scan is not None and numbers is not None:  # formulas without a value placed on the grid: cut in Python
            grid = RawSheet(name, text=text, numbers=numbers)
            rows, flags_ = grid.rows, grid.numeric or []
            uncached = _grid_cells(rows, flags_, scan)
            sheet = RawSheet(name, rows, flags_, uncached)
        elif text.num_columns:
            sheet = RawSheet(name, text=text, read_numbers=_numbers_again(path, password, name, wanted))
        else:
            sheet = RawSheet(name, text=text, numbers=[])
        out.sheets[name] = sheet
    return out


def _numbers_again(
    path: Path, password: str | None, sheet: str, wanted: tuple[str, ...]
) -> Callable[[], list[pa.Array]]:
    """Read a sheet's number flags later, from the workbook opened again through the zip guard (so that a file
    changed since is guarded as well); a workbook that no longer opens gives none (its cells read as text)."""

    def read() -> list[pa.Array]:
        try:
            source, _ = open_workbook(path, password, wanted=wanted)
            return _number_flags(fastexcel.read_excel(source), sheet)
        except Exception:  # changed or gone since it was read
            log.warning("%s: the number flags of sheet %s could not be read again", path.name, sheet)
            return []

    return read


def _checked_extent(text: pa.RecordBatch, sheet: str) -> None:
    """Refuse a sheet whose grid, as calamine read it, has more than `MAX_CELLS_PER_SHEET` cells (a far cell a
    reader process's zip guard does not look for: see `_scan_part`)."""
    rows, cols = text.num_rows, text.num_columns
    if rows * cols > MAX_CELLS_PER_SHEET:
        raise SubmissionReadError(
            "file_too_large",
            f"sheet {sheet}: {rows} rows × {cols} columns, {rows * cols} cells > {MAX_CELLS_PER_SHEET}",
        )


def _number_flags(reader: fastexcel.ExcelReader, name: str) -> list[pa.Array]:
    """Read as booleans, a cell is non-null exactly when it holds a number (or a boolean): this tells a number
    from the same digits typed as text, which the text read cannot."""
    try:
        flags = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="boolean", eager=True)
    except Exception:  # a cell calamine cannot take as a boolean: read it again, that cell left empty
        flags, _ = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="boolean").to_arrow_with_errors()
    return list(flags.columns)


def _grid_cells(rows: list[list], flags: list[list], scan: SheetScan | None) -> dict[tuple[int, int], str]:
    """The scan's formulas without a value, placed on calamine's grid (which starts at the first column
    holding a value); the grid grows to hold them, since calamine leaves such cells out."""
    if scan is None or not scan.uncached:
        return {}
    first = min(c for _, c in scan.uncached)
    offset = first if scan.first_col is None else min(scan.first_col, first)
    shift = 0 if scan.first_col is None else scan.first_col - offset
    cells = {(r, c - offset): f for (r, c), f in scan.uncached.items()}
    height = max(len(rows), max(r for r, _ in cells) + 1)
    width = max(max((len(r) for r in rows), default=0) + shift, max(c for _, c in cells) + 1)
    rows.extend([] for _ in range(height - len(rows)))
    flags.extend([] for _ in range(height - len(flags)))
    for row, flag in zip(rows, flags, strict=True):
        row[:0] = [None] * shift
        flag[:0] = [False] * shift
        row.extend([None] * (width - len(row)))
        flag.extend([False] * (width - len(flag)))
    return cells


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
        if path.suffix.lower() not in (".csv", ".txt") or fold(path.stem).replace(" ", "") not in keys:
            continue
        if path.is_symlink():  # never followed: it may point anywhere on the server
            raise SubmissionReadError(
                "file_unreadable",
                f"{path.name} là liên kết (symlink), không được đọc; hãy chép chính tệp vào thư mục"
                f" / {path.name} is a symbolic link, which is not read; copy the file itself into the folder",
            )
        if path.is_file():
            out.sheets[path.stem] = read_csv_sheet(path)
    return out


def read_submission(path: Path, wanted: tuple[str, ...], password: str | None = None) -> RawSubmission:
    """Read a workbook file or a CSV folder; ``password`` opens an encrypted workbook."""
    if path.is_dir():
        return read_csv_folder(path, wanted)
    return read_workbook(path, wanted, password)
