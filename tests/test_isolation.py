"""Reader processes run under limits: a file that blows one up is rejected, and only that file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from ingest.discover import period_files
from ingest.parallel import read_files
from ingest.submission import FileState
from tests.builders import htx_rows, make_raw_dir, q3, submission
from tests.test_hostile_files import HTX_SHEET_PART, far_cell, lying_part, rewrite_part

SHARED_STRINGS = "xl/sharedStrings.xml"


def shared_strings_bomb(path: Path, gib: float) -> Path:
    """A valid submission whose shared strings hold one string of `gib` GiB, while the zip's central directory
    says the part is 2 KiB: only inflating it shows what it is."""
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    return lying_part(path, SHARED_STRINGS, head, b"a", int(gib * 2**30), b"</t></si></sst>")


def good_files(raw: Path) -> None:
    """Four valid submissions of Thạch Liên, two cooperatives each."""
    for n in range(4):
        submission(q3(raw) / f"tot-{n}.xlsx", htx=htx_rows(2, start=10 * n + 1), commune="Thạch Liên")


def assert_good_read(by_file: dict[str, FileState]) -> None:
    """The files of `good_files` read, none rejected."""
    for n in range(4):
        good = by_file[f"2024/Q3/tot-{n}.xlsx"]
        assert not good.rejected, good.issues
        assert good.blocks["HTX"].rows_in == 2


def test_a_file_that_blows_up_its_reader_process_is_rejected_alone(tmp_path: Path) -> None:
    raw = make_raw_dir(tmp_path / "raw")
    good_files(raw)
    bomb = shared_strings_bomb(q3(raw) / "bom-chuoi.xlsx", gib=1.9)
    assert bomb.stat().st_size < 10 * 2**20
    with zipfile.ZipFile(bomb) as zf:
        assert zf.getinfo(SHARED_STRINGS).file_size == 2048  # what it claims

    files, _ = period_files(raw, "2024-Q3")
    states = read_files(files, workers=2)

    by_file = {s.file.rel: s for s in states}
    assert [s.file.rel for s in states] == [f.rel for f in files]  # in order, none lost
    stopped = by_file["2024/Q3/bom-chuoi.xlsx"]
    assert stopped.rejected
    assert [i.rule for i in stopped.issues] == ["file_too_large"]
    assert "memory or time limit" in str(stopped.issues[0].detail)
    assert_good_read(by_file)


def test_states_read_by_reader_processes_come_back_with_their_own_files(tmp_path: Path) -> None:
    """Readers send their states back without the files (the calling process has them): each gets its own again,
    in batches of two files across two readers."""
    raw = make_raw_dir(tmp_path / "raw")
    for n in range(6):
        submission(q3(raw) / f"tot-{n}.xlsx", htx=htx_rows(n + 1, start=10 * n + 1), commune="Thạch Liên")
    files, _ = period_files(raw, "2024-Q3")

    states = read_files(files, workers=2)

    assert all(state.file is f for state, f in zip(states, files, strict=True))
    assert [s.blocks["HTX"].rows_in for s in states] == [int(f.path.stem.split("-")[1]) + 1 for f in files]


def test_far_cells_read_by_reader_processes_are_rejected_alone_and_named(tmp_path: Path) -> None:
    """Readers do not scan a plain sheet's cells for a far one: a cell that makes calamine reserve a grid of
    billions of cells stops its reader, and the calling process's full guard names the cell; a grid calamine can
    hold but too large is refused on what calamine read. The other files are read as usual."""
    raw = make_raw_dir(tmp_path / "raw")
    good_files(raw)
    far_cell(q3(raw) / "o-xa.xlsx", "A1:W3")  # XFD1048576, behind a dimension that lies

    def near(xml: bytes) -> bytes:
        far = b'<row r="300000"><c r="Z300000"><v>1</v></c></row></sheetData>'
        return re.sub(rb"<dimension [^>]*/>", b"", xml.replace(b"</sheetData>", far))

    submission(q3(raw) / "o-xa-vua.xlsx", commune="Việt Tiến")
    rewrite_part(q3(raw) / "o-xa-vua.xlsx", HTX_SHEET_PART, near)  # 300,000 × 26 cells

    files, _ = period_files(raw, "2024-Q3")
    by_file = {s.file.rel: s for s in read_files(files, workers=2)}

    far = by_file["2024/Q3/o-xa.xlsx"]
    assert far.rejected and [(i.rule, i.sheet) for i in far.issues] == [("file_too_large", None)]
    assert "sheet HTX: a cell at XFD1048576" in str(far.issues[0].detail)
    wide = by_file["2024/Q3/o-xa-vua.xlsx"]
    assert wide.rejected and [i.rule for i in wide.issues] == ["file_too_large"]
    assert "sheet HTX: 300000 rows × 26 columns" in str(wide.issues[0].detail)
    assert_good_read(by_file)


def test_a_far_cell_in_a_sheet_kttt_does_not_read_is_judged_alike_in_process_and_by_readers(tmp_path: Path) -> None:
    """A note sheet a commune added, with a cell at XFD1048576: calamine never builds that sheet's grid, and the
    file is read the same way whether the quarter is read in the calling process or by reader processes."""
    raw = make_raw_dir(tmp_path / "raw")
    good_files(raw)
    noted = submission(q3(raw) / "ghi-chu.xlsx", commune="Việt Tiến", extra_sheets={"Ghi chú": [["Ghi chú"]]})

    def far(xml: bytes) -> bytes:
        xml = xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
        return re.sub(rb"<dimension [^>]*/>", b"", xml)

    rewrite_part(noted, "xl/worksheets/sheet4.xml", far)
    files, _ = period_files(raw, "2024-Q3")
    for workers in (1, 2):
        by_file = {s.file.rel: s for s in read_files(files, workers=workers)}
        state = by_file["2024/Q3/ghi-chu.xlsx"]
        assert not state.rejected, (workers, state.issues)
        assert state.blocks["HTX"].rows_in == 1


MAIN_SCRIPT = """
import sys
import dagster  # a heavy main module, as kttt's command line and Dagster's run worker are

from ingest.parallel import reader_pool

if __name__ == "__main__":
    pool = reader_pool(2)
    probe = "sorted(m for m in ('dagster', 'pandera', 'pandas') if m in __import__('sys').modules)"
    print(sorted({tuple(pool.submit(eval, probe).result()) for _ in range(4)}))
    pool.shutdown()
"""


def test_reader_processes_do_not_import_the_callers_main_module(tmp_path: Path) -> None:
    """A spawned process imports its parent's `__main__` first; readers must not pay for Dagster and pandera."""
    script = tmp_path / "heavy_main.py"
    script.write_text(MAIN_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[()]"
