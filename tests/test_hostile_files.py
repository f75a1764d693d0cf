"""Broken and hostile submissions, each a real file in a quarter folder beside a good one.

Every test goes through ``process_period`` (or ``kttt validate`` / ``run_periods``) and checks
what a person sees: the file's line in ``submission_log``, the rule and both messages in
``rejected_rows`` (naming the file), and that the good file of the quarter is still taken in.
The memory test reads the hostile files in a child process and compares its peak memory
with the same child reading only the good file.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date
from itertools import takewhile
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import xlsxwriter
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl.utils import column_index_from_string

from ingest import workbook
from ingest.workbook import (
    MAX_UNCOMPRESSED_BYTES,
    PASSWORD_ENV,
    SubmissionReadError,
    column_letters,
    quick_scan,
    read_workbook,
    scan_sheet_xml,
)
from schemas.rules import RULES
from tests.builders import (
    Formula,
    column_letter,
    columns,
    header,
    htx_rows,
    issues,
    log_row,
    make_raw_dir,
    q3,
    run,
    set_formulas,
    submission,
    summary_row,
    valid_htx_row,
    valid_tht_row,
    write_xlsx,
)
from tests.conftest import REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = "2024/Q3/thach-lien.xlsx"
LINEAGE = ("source_file", "source_sha256")
HTX_SHEET_PART = "xl/worksheets/sheet1.xml"  # builders write HTX, THT, TongHop in this order


def good_file(raw: Path) -> None:
    """The quarter's valid submission (Thạch Liên, two cooperatives)."""
    submission(q3(raw) / "thach-lien.xlsx", htx=htx_rows(2))


def assert_good_accepted(t: dict[str, pl.DataFrame]) -> None:
    assert log_row(t, GOOD)["status"] == "accepted"
    assert t["cooperatives"].filter(pl.col("source_file") == GOOD).height == 2


def assert_rejected(t: dict[str, pl.DataFrame], src: str, rule: str) -> dict[str, Any]:
    """The file is rejected, its cause is ``rule`` and both messages name the file; returns the cause's line."""
    log = log_row(t, src)
    assert log["status"] == "rejected", log
    assert log["rows_accepted"] == 0
    lines = issues(t, source_file=src, severity="error", source_row=None)
    assert set(lines["rule"]) == {rule}, issues(t, source_file=src).select("rule", "message_en").rows()
    line = lines.row(0, named=True)
    assert line["message_vi"].startswith(f"Tệp {src}"), line["message_vi"]
    assert line["message_en"].startswith(f"File {src}"), line["message_en"]
    assert RULES[rule].scope == "file"
    return line


def rewrite_part(path: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    """Rewrite one part of a zip container (the others are copied as they are)."""
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info.filename, change(body) if info.filename == part else body)
    return path


def drop_sheets(path: Path) -> Path:
    """A workbook whose workbook.xml lists no sheet and that holds no worksheet part."""
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                continue
            if info.filename == "xl/workbook.xml":
                body = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", body)
            out.writestr(info.filename, body)
    return path


def corrupt_member(path: Path, part: str) -> Path:
    """Overwrite bytes in the middle of one part's compressed data; the central directory stays intact."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    data = bytearray(path.read_bytes())
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        (int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")),
    )
    start = info.header_offset + 30 + name_len + extra_len
    middle = start + info.compress_size // 2
    data[middle : middle + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    return path


# ---------------------------------------------------------------------------------------------
# 1. Damaged and empty workbooks


def _zero_bytes(folder: Path) -> str:
    (folder / "rong.xlsx").write_bytes(b"")
    return "rong.xlsx"


def _cut_in_half(folder: Path) -> str:
    path = submission(folder / "cat-doi.xlsx", htx=htx_rows(30), commune="Việt Tiến")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return "cat-doi.xlsx"


def _sheet_xml_cut(folder: Path) -> str:
    path = submission(folder / "sheet-cut.xlsx", htx=htx_rows(30), commune="Việt Tiến")
    rewrite_part(path, HTX_SHEET_PART, lambda xml: xml[: len(xml) // 2])
    return "sheet-cut.xlsx"


def _bad_deflate(folder: Path) -> str:
    path = submission(folder / "hong-nen.xlsx", htx=htx_rows(30), commune="Việt Tiến")
    corrupt_member(path, HTX_SHEET_PART)
    return "hong-nen.xlsx"


def _ole_garbage(folder: Path) -> str:
    noise = random.Random(7).randbytes(20_000)
    (folder / "cu.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + noise)
    return "cu.xls"


def _no_sheets(folder: Path) -> str:
    return drop_sheets(submission(folder / "khong-sheet.xlsx", commune="Việt Tiến")).name


def _empty_sheets(folder: Path) -> str:
    write_xlsx(folder / "sheet-trong.xlsx", {"HTX": [], "THT": [], "TongHop": []})
    return "sheet-trong.xlsx"


DAMAGED = {
    # name: (builder, rule, words both messages hold)
    "zero-bytes": (_zero_bytes, "file_unreadable", ["0 byte"]),
    "cut-in-half": (_cut_in_half, "file_unreadable", []),
    "sheet-xml-cut": (_sheet_xml_cut, "file_unreadable", ["sheet HTX", "damaged XML"]),
    "bad-deflate-data": (_bad_deflate, "file_unreadable", ["damaged zip container"]),
    "ole-garbage": (_ole_garbage, "file_unreadable", []),
    "no-sheets": (_no_sheets, "sheet_missing", ["HTX"]),
    "empty-sheets": (_empty_sheets, "column_missing", [header("HTX", "coop_id")]),
}


@pytest.mark.parametrize("case", DAMAGED, ids=list(DAMAGED))
def test_damaged_or_empty_workbook_is_rejected_and_the_quarter_goes_on(case: str, raw_dir: Path) -> None:
    build, rule, words = DAMAGED[case]
    name = build(q3(raw_dir))
    good_file(raw_dir)
    t = run(raw_dir)
    line = assert_rejected(t, f"2024/Q3/{name}", rule)
    for word in words:
        assert word in line["message_vi"] and word in line["message_en"], line
    assert_good_accepted(t)


def test_rows_of_a_workbook_with_an_empty_required_sheet_are_kept(raw_dir: Path) -> None:
    """HTX present but blank: the file is rejected (no header), and the TongHop row it did hold is kept."""
    write_xlsx(
        q3(raw_dir) / "htx-trong.xlsx",
        {"HTX": [], "TongHop": [[header("TongHop", c) for c in columns("TongHop")], list(summary_row().values())]},
    )
    good_file(raw_dir)
    t = run(raw_dir)
    src = "2024/Q3/htx-trong.xlsx"
    assert_rejected(t, src, "column_missing")
    kept = issues(t, source_file=src, rule="file_rejected")
    assert kept.select("sheet", "source_row").rows() == [("TongHop", 2)]
    assert json.loads(kept["raw_values"][0])["Xã"] == "Thạch Liên"
    assert log_row(t, src)["rows_rejected"] == 1
    assert_good_accepted(t)


# ---------------------------------------------------------------------------------------------
# 2. Password-protected workbooks


def encrypt(plain: Path, target: Path, password: str) -> Path:
    """Encrypt a workbook as Excel does with a password to open (agile encryption, msoffcrypto-tool)."""
    with plain.open("rb") as src, target.open("wb") as out:
        OOXMLFile(src).encrypt(password, out)
    plain.unlink()
    return target


FIXTURE_PASSWORD = "Thạch-Hà 2024"  # the public password of the test workbooks, not a secret


def _encrypted_submission(raw: Path) -> str:
    rows = htx_rows(3)
    for row in rows:
        row["name"] = "HTX Mật khẩu"
    rows[2]["charter_capital_mvnd"] = 1250.75
    plain = submission(raw.parent / "plain.xlsx", htx=rows, commune="Việt Tiến")
    encrypt(plain, q3(raw) / "mat-khau.xlsx", FIXTURE_PASSWORD)
    return "2024/Q3/mat-khau.xlsx"


def test_encrypted_workbook_without_a_configured_password_names_the_setting(
    raw_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    src = _encrypted_submission(raw_dir)
    assert (q3(raw_dir) / "mat-khau.xlsx").read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # an OLE container, not a zip
    good_file(raw_dir)
    t = run(raw_dir)
    line = assert_rejected(t, src, "file_encrypted")
    assert "mật khẩu" in line["message_vi"] and PASSWORD_ENV in line["message_vi"]
    assert "password-protected" in line["message_en"] and PASSWORD_ENV in line["message_en"]
    assert_good_accepted(t)


def test_encrypted_workbook_with_a_wrong_password_is_rejected(raw_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "sai mật khẩu")
    src = _encrypted_submission(raw_dir)
    good_file(raw_dir)
    t = run(raw_dir)
    line = assert_rejected(t, src, "file_encrypted")
    assert "không mở được" in line["message_vi"]
    assert "does not open it" in line["message_en"]
    assert_good_accepted(t)


def test_encrypted_workbook_opens_with_the_configured_password(
    raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, FIXTURE_PASSWORD)
    src = _encrypted_submission(raw_dir)
    good_file(raw_dir)
    t = run(raw_dir)
    assert log_row(t, src)["status"] == "accepted"
    assert issues(t, source_file=src, severity="error").is_empty()
    coops = t["cooperatives"].filter(pl.col("source_file") == src).sort("coop_id")
    assert coops["name"].to_list() == ["HTX Mật khẩu"] * 3
    assert coops["charter_capital_mvnd"].to_list() == [500.0, 500.0, 1250.75]
    assert_good_accepted(t)


def _validate(files: list[Path], raw: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "validate", *map(str, files), "--raw", str(raw), "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    return out.returncode, json.loads(out.stdout)


def test_kttt_validate_reads_the_password_from_the_environment(raw_dir: Path) -> None:
    _encrypted_submission(raw_dir)
    path = q3(raw_dir) / "mat-khau.xlsx"
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}

    code, out = _validate([path], raw_dir, env)
    assert code == 1
    assert [f["status"] for f in out["files"]] == ["rejected"]
    assert [p["rule"] for p in out["problems"]] == ["file_encrypted"]
    assert PASSWORD_ENV in out["problems"][0]["message_en"]

    code, out = _validate([path], raw_dir, {**env, PASSWORD_ENV: FIXTURE_PASSWORD})
    assert code == 0, out["problems"]
    assert [(f["source_file"], f["status"], f["rows_accepted"]) for f in out["files"]] == [
        ("2024/Q3/mat-khau.xlsx", "accepted", 5)  # 3 HTX, 1 THT, 1 TongHop
    ]


# ---------------------------------------------------------------------------------------------
# 3. Legacy .xls (BIFF8)


def test_legacy_xls_is_read_like_its_xlsx_twin(tmp_path: Path) -> None:
    """tests/fixtures/thach-dai-2024-q3.xls was written cell by cell from the .xlsx beside it (see README)."""
    tables = {}
    for suffix in ("xls", "xlsx"):
        raw = make_raw_dir(tmp_path / suffix)
        shutil.copy(FIXTURES / f"thach-dai-2024-q3.{suffix}", q3(raw) / f"thach-dai.{suffix}")
        good_file(raw)
        tables[suffix] = run(raw)
    xls = tables["xls"]
    src = "2024/Q3/thach-dai.xls"
    log = log_row(xls, src)
    assert (log["file_kind"], log["status"], log["commune_code"]) == ("workbook", "accepted", "18643")
    assert log["rows_in"] == log_row(tables["xlsx"], "2024/Q3/thach-dai.xlsx")["rows_in"] == 10
    assert issues(xls, source_file=src, severity="error").is_empty()
    for table in ("cooperatives", "coop_groups", "commune_summaries"):
        mine = xls[table].filter(pl.col("source_file") == src).drop(LINEAGE)
        twin = tables["xlsx"][table].filter(pl.col("source_file") == "2024/Q3/thach-dai.xlsx").drop(LINEAGE)
        assert mine.height > 0
        assert mine.equals(twin), table
    first = xls["cooperatives"].filter(pl.col("coop_id") == "18643-HTX-01").row(0, named=True)
    assert (first["name"], first["sector"], first["founded_year"], first["members"], first["source_row"]) == (
        "HTX Xây dựng Trung Thành",
        "construction",
        2000,
        8,
        5,
    )
    assert first["charter_capital_mvnd"] == 1130.0
    summary = xls["commune_summaries"].filter(pl.col("source_file") == src).row(0, named=True)
    assert (summary["report_date"], summary["htx_total"]) == (date(2024, 10, 11), 5)
    assert_good_accepted(xls)


# ---------------------------------------------------------------------------------------------
# 4. Zip bombs and far cells


def zip_bomb(path: Path, uncompressed: int, lie_about_size: bool = False) -> Path:
    """A valid submission whose HTX sheet is replaced by ``uncompressed`` bytes of rows without ``<dimension>``.

    With ``lie_about_size`` the central directory says the sheet is 2 KiB.
    """
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    row = b"<row><c><v>1</v></c></row>"
    replaced_part(path, HTX_SHEET_PART, head, row, uncompressed, b"</sheetData></worksheet>")
    if lie_about_size:
        claim_size(path, HTX_SHEET_PART)
    return path


def replaced_part(path: Path, part: str, head: bytes, filler: bytes, size: int, tail: bytes) -> Path:
    """A valid submission whose `part` is replaced by `head`, about `size` bytes of `filler` and `tail`, written
    a MiB at a time (compressed as tight as zip goes)."""
    submission(path, commune="Việt Tiến")
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for name, body in parts.items():
            if name != part:
                out.writestr(name, body)
                continue
            with out.open(name, "w") as stream:
                stream.write(head)
                block = filler * max(1, (1 << 20) // len(filler))
                for _ in range(size // len(block)):
                    stream.write(block)
                stream.write(tail)
    return path


def claim_size(path: Path, part: str, size: int = 2048) -> Path:
    """Make the zip's central directory say that `part` holds `size` bytes once inflated, whatever it holds."""
    data = bytearray(path.read_bytes())
    at = 0
    while (at := data.find(b"PK\x01\x02", at + 1)) != -1:
        name_len = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_len] == part.encode():
            data[at + 24 : at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def far_cell(path: Path, dimension: str | None) -> Path:
    """A valid submission with one more HTX cell at XFD1048576; ``dimension`` replaces the declared one
    (``None`` removes it)."""
    submission(path, commune="Việt Tiến")

    def change(xml: bytes) -> bytes:
        xml = xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
        new = b"" if dimension is None else f'<dimension ref="{dimension}"/>'.encode()
        return re.sub(rb"<dimension [^>]*/>", new, xml)

    return rewrite_part(path, HTX_SHEET_PART, change)


BOMBS: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # file name: (builder, rule, text both messages hold)
    "bom.xlsx": (lambda p: zip_bomb(p, 300 * 1024 * 1024), "file_too_large", "uncompressed size"),
    "bom-noi-doi.xlsx": (lambda p: zip_bomb(p, 64 * 1024 * 1024, lie_about_size=True), "file_unreadable", "CRC"),
    "o-xa-dung.xlsx": (lambda p: far_cell(p, "A1:XFD1048576"), "file_too_large", "1048576 × 16384"),
    "o-xa-noi-doi.xlsx": (lambda p: far_cell(p, "A1:W3"), "file_too_large", "XFD1048576"),
    "o-xa-khong-kich-thuoc.xlsx": (lambda p: far_cell(p, None), "file_too_large", "XFD1048576"),
}

_CHILD = """
import json, resource, sys
from pathlib import Path
import polars as pl
from tests.builders import run
t = run(Path(sys.argv[1]))
causes = t["rejected_rows"].filter(pl.col("source_row").is_null() & (pl.col("severity") == "error"))
print(json.dumps({
    "status": dict(t["submission_log"].select("source_file", "status").iter_rows()),
    "causes": {r["source_file"]: [r["rule"], r["message_vi"], r["message_en"]] for r in causes.iter_rows(named=True)},
    "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def _limit_memory() -> None:
    # A guard that stops working must fail the test, not exhaust the machine shared with other jobs.
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _process_in_child(raw: Path, script: str = _CHILD) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", script, str(raw)],
        cwd=REPO,
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_zip_bombs_and_far_cells_are_refused_before_they_cost_memory(tmp_path: Path) -> None:
    baseline_raw = make_raw_dir(tmp_path / "baseline")
    good_file(baseline_raw)
    raw = make_raw_dir(tmp_path / "hostile")
    good_file(raw)
    for name, (build, _, _) in BOMBS.items():
        path = build(q3(raw) / name)
        assert path.stat().st_size < 1024 * 1024, (name, path.stat().st_size)  # small files
    with zipfile.ZipFile(q3(raw) / "bom.xlsx") as zf:
        assert zf.getinfo(HTX_SHEET_PART).file_size > MAX_UNCOMPRESSED_BYTES
    with zipfile.ZipFile(q3(raw) / "bom-noi-doi.xlsx") as zf:
        assert zf.getinfo(HTX_SHEET_PART).file_size == 2048  # what it claims

    baseline = _process_in_child(baseline_raw)
    hostile = _process_in_child(raw)

    assert baseline["status"] == {GOOD: "accepted"}
    assert hostile["status"] == {GOOD: "accepted", **{f"2024/Q3/{n}": "rejected" for n in BOMBS}}
    for name, (_, rule, text) in BOMBS.items():
        got_rule, vi, en = hostile["causes"][f"2024/Q3/{name}"]
        assert got_rule == rule, (name, vi)
        assert vi.startswith(f"Tệp 2024/Q3/{name}:") and en.startswith(f"File 2024/Q3/{name}:")
        assert text in vi and text in en, (name, en)
    extra_mib = (hostile["maxrss_kib"] - baseline["maxrss_kib"]) / 1024
    assert extra_mib < 150, f"reading the hostile files took {extra_mib:.0f} MiB more than the good file alone"


def lying_part(path: Path, part: str, head: bytes, filler: bytes, size: int, tail: bytes) -> Path:
    """`replaced_part`, while the zip's central directory says the part is 2 KiB."""
    return claim_size(replaced_part(path, part, head, filler, size, tail), part)


_READ_ONE = """
import json, resource, sys
from pathlib import Path
from ingest.workbook import SubmissionReadError, read_workbook
try:
    read_workbook(Path(sys.argv[1]), ("HTX", "THT", "TongHop"))
    outcome = None
except SubmissionReadError as exc:
    outcome = [exc.rule, exc.detail]
print(json.dumps({"outcome": outcome, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def test_a_part_that_lies_about_its_size_is_inflated_no_further_than_it_claims(tmp_path: Path) -> None:
    """A worksheet or `xl/workbook.xml` that says 2 KiB and holds 512 MiB is refused (its CRC) after 2 KiB are
    inflated, in the calling process too (without a reader process's limits): `zipfile`'s `read()` without a size
    would inflate all of it first."""
    sheet_head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    book_head = b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    built = {
        "good.xlsx": submission(tmp_path / "good.xlsx", commune="Việt Tiến"),
        "sheet.xlsx": lying_part(
            tmp_path / "sheet.xlsx", HTX_SHEET_PART, sheet_head, b" ", 512 << 20, b"</sheetData></worksheet>"
        ),
        "book.xlsx": lying_part(tmp_path / "book.xlsx", "xl/workbook.xml", book_head, b" ", 512 << 20, b"</workbook>"),
    }

    baseline = _process_in_child(built["good.xlsx"], _READ_ONE)
    assert baseline["outcome"] is None
    for name in ("sheet.xlsx", "book.xlsx"):
        assert built[name].stat().st_size < 2 * 2**20
        got = _process_in_child(built[name], _READ_ONE)
        assert got["outcome"] is not None and got["outcome"][0] == "file_unreadable", (name, got)
        assert "CRC" in got["outcome"][1], (name, got)
        extra_mib = (got["maxrss_kib"] - baseline["maxrss_kib"]) / 1024
        assert extra_mib < 100, f"{name}: {extra_mib:.0f} MiB more than a good file"


def _entity(k: int) -> str:
    """`lol<k>`: ten of the entity before it (`lol1` is "lol")."""
    inner = "&lol;" if k == 2 else f"&lol{k - 1};"
    return f'<!ENTITY lol{k} "{inner * 10}">'


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(map(_entity, range(2, 10))) + "]>"
).encode()


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "reader-process"])
def test_entity_expansion_in_the_workbook_index_is_refused(
    tmp_path: Path, isolated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A billion-laughs `xl/workbook.xml` is refused, not expanded: by kttt's guard in the calling process, by
    calamine (which expands no entity) in a reader process, where kttt reads that part only to name a sheet."""
    path = submission(tmp_path / "lol.xlsx", commune="Việt Tiến")

    def laughs(xml: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>", b"", xml)
        return _LAUGHS + re.sub(rb'name="HTX"', b'name="&lol9;"', body)

    rewrite_part(path, "xl/workbook.xml", laughs)
    monkeypatch.setattr(workbook, "ISOLATED", isolated)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SubmissionReadError) as err:
        read_workbook(path, ("HTX", "THT", "TongHop"))
    assert err.value.rule == "file_unreadable"
    assert ("DOCTYPE" if not isolated else "lol9") in err.value.detail
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: nothing was expanded


# ---------------------------------------------------------------------------------------------
# 5. Formulas


def test_formula_cells_are_read_from_their_cached_values(raw_dir: Path) -> None:
    rows = htx_rows(2)
    rows[1]["charter_capital_mvnd"] = 512.5
    summary = summary_row(rows, [valid_tht_row()], commune="Việt Tiến")
    rows[0]["members"] = Formula("=20+5", 25)
    rows[1]["charter_capital_mvnd"] = Formula("=400+112.5", 512.5)
    summary["htx_total"] = Formula("=COUNTA(HTX!A2:A3)", 2)
    summary["htx_capital_mvnd"] = Formula("=SUM(HTX!I2:I3)", 1012.5)
    submission(q3(raw_dir) / "cong-thuc.xlsx", htx=rows, summary=summary)
    good_file(raw_dir)
    t = run(raw_dir)
    src = "2024/Q3/cong-thuc.xlsx"
    assert log_row(t, src)["status"] == "accepted"
    assert issues(t, source_file=src).is_empty()
    coops = t["cooperatives"].filter(pl.col("source_file") == src).sort("coop_id")
    assert coops["members"].to_list() == [25, 25]
    assert coops["charter_capital_mvnd"].to_list() == [500.0, 512.5]
    tonghop = t["commune_summaries"].filter(pl.col("source_file") == src).row(0, named=True)
    assert (tonghop["htx_total"], tonghop["htx_capital_mvnd"]) == (2, 1012.5)
    assert_good_accepted(t)


def test_formula_without_a_cached_value_is_a_row_error_not_an_empty_cell(raw_dir: Path) -> None:
    """openpyxl saves formulas without their value; calamine would read those cells as empty."""
    path = submission(
        q3(raw_dir) / "openpyxl.xlsx",
        htx=htx_rows(3),
        tht=[valid_tht_row(), valid_tht_row(group_id="THT-002", name="THT Hai")],
        commune="Việt Tiến",
    )
    capital, tht_id, tht_name = column_letter("HTX", "charter_capital_mvnd"), "A", "B"
    set_formulas(path, "HTX", {f"{capital}3": "=400+100"})
    # a THT row whose only filled cells are formulas: calamine leaves the whole row out
    set_formulas(path, "THT", {f"{tht_id}4": '="THT-"&"009"', f"{tht_name}4": '="THT "&"Chín"'})
    good_file(raw_dir)
    t = run(raw_dir)
    src = "2024/Q3/openpyxl.xlsx"

    found = issues(t, source_file=src, rule="formula_uncached").sort("sheet", "source_row", "column")
    assert found.select("sheet", "source_row", "column", "severity").rows() == [
        ("HTX", 3, "charter_capital_mvnd", "error"),
        ("THT", 4, "group_id", "error"),
        ("THT", 4, "name", "error"),
    ]
    first = found.row(0, named=True)
    assert first["message_vi"].startswith(
        f"Tệp {src}, sheet HTX, dòng 3, cột «{header('HTX', 'charter_capital_mvnd')}»"
    )
    assert "=400+100" in first["message_vi"] and "Excel" in first["message_vi"]
    assert "=400+100" in first["message_en"] and "open the file in Excel and save it again" in first["message_en"]
    assert json.loads(first["raw_values"])[header("HTX", "charter_capital_mvnd")] == "=400+100"
    # the formula cells are not reported a second time as missing values; the really empty ones are
    required = issues(t, source_file=src, rule="required")
    assert required.select("sheet", "source_row", "column").rows() == [
        ("THT", 4, "kind"),
        ("THT", 4, "members"),
        ("THT", 4, "status"),
    ]

    log = log_row(t, src)
    assert (log["status"], log["rows_in"], log["rows_accepted"], log["rows_rejected"]) == (
        "accepted_with_errors",
        7,  # 3 HTX + 3 THT + 1 TongHop
        5,
        2,
    )
    coops = t["cooperatives"].filter(pl.col("source_file") == src)
    assert sorted(coops["coop_id"].to_list()) == ["HTX-001", "HTX-003"]
    assert coops["charter_capital_mvnd"].to_list() == [500.0, 500.0]
    assert_good_accepted(t)


def test_commune_written_as_a_formula_without_value_rejects_the_file_saying_why(raw_dir: Path) -> None:
    """Without its commune the file cannot be identified: the cause is the formula, not an unknown commune ''."""
    path = submission(q3(raw_dir) / "xa-cong-thuc.xlsx", commune="Việt Tiến")
    set_formulas(path, "TongHop", {"A2": '="Việt "&"Tiến"'})
    good_file(raw_dir)
    t = run(raw_dir)
    src = "2024/Q3/xa-cong-thuc.xlsx"
    assert log_row(t, src)["status"] == "rejected"
    cause = issues(t, source_file=src, rule="formula_uncached")
    assert cause.select("sheet", "source_row", "column").rows() == [("TongHop", 2, "commune")]
    assert '="Việt "&"Tiến"' in cause["message_vi"][0] and '="Việt "&"Tiến"' in cause["message_en"][0]
    assert issues(t, source_file=src, rule="commune_unknown").is_empty()
    assert set(issues(t, source_file=src, rule="file_rejected")["sheet"]) == {"HTX", "THT"}
    assert_good_accepted(t)


# ---------------------------------------------------------------------------------------------
# 6. Merged header cells


HTX_GROUPS = {  # group title merged over its sub-headers (as the lower header row writes them)
    "Kết quả sản xuất kinh doanh": {"revenue_mvnd": "Doanh thu", "profit_mvnd": "Lợi nhuận"},
    "Cán bộ quản lý": {"managers": "Tổng số"},
    "Trình độ": {"managers_college": "ĐH, CĐ", "managers_vocational": "Trung cấp"},
    "Quỹ tín dụng nhân dân": {"loans_disbursed_mvnd": "Giải ngân cho vay", "loan_contracts": "Số hợp đồng tín dụng"},
}
SUMMARY_GROUPS = {
    "HTX": {
        "htx_total": "Tổng số",
        "htx_new": "Mới thành lập",
        "htx_good": "Tốt",
        "htx_fair": "Khá",
        "htx_average": "Trung bình",
        "htx_weak": "Yếu",
        "htx_suspended": "Tạm dừng",
        "htx_members": "Tổng số thành viên",
    },
    "THT": {
        "tht_total": "Tổng số",
        "tht_new": "Mới thành lập",
        "tht_good": "Tốt",
        "tht_fair": "Khá",
        "tht_average": "Trung bình",
        "tht_weak": "Yếu",
    },
}


def write_two_row_headers(
    path: Path, sheets: dict[str, tuple[dict[str, dict[str, str]], list[dict[str, Any]]]]
) -> None:
    """A title merged across the sheet, then a header over rows 3 and 4: group titles merged across their
    sub-headers, every other header merged down both rows; data from row 5."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, (groups, rows) in sheets.items():
        ws = book.add_worksheet(name)
        names = columns(name)
        ws.merge_range(0, 0, 0, len(names) - 1, f"PHỤ BIỂU - {name}")
        sub_of = {col: (title, sub) for title, subs in groups.items() for col, sub in subs.items()}
        c = 0
        while c < len(names):
            col = names[c]
            if col in sub_of:
                title = sub_of[col][0]
                span = list(takewhile(lambda n, t=title, s=sub_of: s.get(n, ("",))[0] == t, names[c:]))
                if len(span) > 1:
                    ws.merge_range(2, c, 2, c + len(span) - 1, title)
                else:
                    ws.write_string(2, c, title)
                for i, n in enumerate(span):
                    ws.write_string(3, c + i, sub_of[n][1])
                c += len(span)
            else:
                ws.merge_range(2, c, 3, c, header(name, col))
                c += 1
        for r, row in enumerate(rows, 4):
            for c, col in enumerate(names):
                value = row.get(col)
                if isinstance(value, date):
                    ws.write_datetime(r, c, value, date_fmt)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value)
                elif value is not None:
                    ws.write_string(r, c, str(value))
    book.close()


def test_merged_two_row_headers_are_read_with_the_right_columns(tmp_path: Path) -> None:
    htx = htx_rows(3)
    htx[1].update(revenue_mvnd=900, profit_mvnd=-20, managers=5, managers_college=2, managers_vocational=3)
    htx[2].update(sector="Quỹ tín dụng nhân dân", subsector=None, loans_disbursed_mvnd=3000, loan_contracts=41)
    tht = [valid_tht_row()]
    summary = summary_row(htx, tht, commune="Việt Tiến")
    tables = {}
    for style in ("merged", "plain"):
        raw = make_raw_dir(tmp_path / style)
        path = q3(raw) / "viet-tien.xlsx"
        if style == "merged":
            sheets = {
                "HTX": (HTX_GROUPS, htx),
                "THT": ({}, tht),
                "TongHop": (SUMMARY_GROUPS, [summary]),
            }
            write_two_row_headers(path, sheets)
        else:
            submission(path, htx=htx, tht=tht, summary=summary, title=["PHỤ BIỂU", None, None])
        good_file(raw)
        tables[style] = run(raw)
    merged, plain = tables["merged"], tables["plain"]
    src = "2024/Q3/viet-tien.xlsx"
    assert issues(merged, source_file=src).select("rule", "message_en").rows() == []
    assert log_row(merged, src)["status"] == "accepted"
    for table in ("cooperatives", "coop_groups", "commune_summaries"):
        got = merged[table].filter(pl.col("source_file") == src).drop(LINEAGE)
        want = plain[table].filter(pl.col("source_file") == src).drop(LINEAGE)
        assert got.height > 0 and got.equals(want), table
    mine = merged["cooperatives"].filter(pl.col("source_file") == src)
    fund = mine.filter(pl.col("coop_id") == "HTX-003").row(0, named=True)
    assert (fund["source_row"], fund["loans_disbursed_mvnd"], fund["loan_contracts"]) == (7, 3000.0, 41)
    second = mine.filter(pl.col("coop_id") == "HTX-002").row(0, named=True)
    assert (second["managers"], second["managers_college"], second["managers_vocational"]) == (5, 2, 3)
    assert_good_accepted(merged)


# ---------------------------------------------------------------------------------------------
# 7. Duplicated and unknown columns


def test_duplicated_and_unknown_columns_keep_their_values_in_the_warnings(raw_dir: Path) -> None:
    names = [*columns("HTX"), "Số điện thoại", "members"]  # "Số thành viên" a second time, in column Y
    htx = [*htx_rows(2), valid_htx_row(coop_id="HTX-003", founded_year=1900)]
    grid_rows: list[list[Any]] = [[header("HTX", n) for n in names]]
    for i, row in enumerate(htx):
        grid_rows.append([row.get(n) for n in columns("HTX")] + [f"09120000{i}", 30 + i])
    write_xlsx(
        q3(raw_dir) / "cot-trung.xlsx",
        {
            "HTX": grid_rows,
            "THT": [[header("THT", n) for n in columns("THT")], list(valid_tht_row().values())],
            "TongHop": [
                [header("TongHop", n) for n in columns("TongHop")],
                list(summary_row(htx, [valid_tht_row()], commune="Việt Tiến").values()),  # every row, as written
            ],
        },
    )
    good_file(raw_dir)
    t = run(raw_dir)
    src = "2024/Q3/cot-trung.xlsx"

    dup = issues(t, source_file=src, rule="duplicate_column").row(0, named=True)
    assert (dup["sheet"], dup["source_row"], dup["column"], dup["severity"]) == ("HTX", 1, "members", "warning")
    assert "H, Y" in dup["message_vi"] and "H, Y" in dup["message_en"]
    assert json.loads(dup["raw_values"]) == {"2": "30", "3": "31", "4": "32"}
    unknown = issues(t, source_file=src, rule="unknown_column").row(0, named=True)
    assert "Số điện thoại" in unknown["message_vi"] and "Số điện thoại" in unknown["message_en"]
    assert json.loads(unknown["raw_values"]) == {"2": "091200000", "3": "091200001", "4": "091200002"}

    # the first column is used
    coops = t["cooperatives"].filter(pl.col("source_file") == src).sort("coop_id")
    assert coops["members"].to_list() == [25, 25]
    # a rejected row keeps both columns' values under distinct keys
    bad = issues(t, source_file=src, rule="min_value").row(0, named=True)
    values = json.loads(bad["raw_values"])
    assert (values["Số thành viên"], values["Số thành viên (Y)"], values["Số điện thoại"]) == ("25", "32", "091200002")
    log = log_row(t, src)
    assert (log["status"], log["rows_rejected"], log["warnings"]) == ("accepted_with_errors", 1, 2)
    assert_good_accepted(t)


# ---------------------------------------------------------------------------------------------
# 8. Links, hidden and lock files


def test_links_are_never_followed_and_the_run_names_what_it_skipped(tmp_path: Path) -> None:
    from pipeline.runner import run_periods
    from pipeline.storage import read_table

    raw = make_raw_dir(tmp_path)
    good_file(raw)
    folder = q3(raw)
    outside = tmp_path / "ngoai"
    outside.mkdir()
    # valid submissions outside raw/ and in another quarter: followed, they would be accepted
    submission(outside / "viet-tien.xlsx", commune="Việt Tiến")
    (outside / "HTX.csv").write_text("Mã HTX,Tên HTX\nHTX-1,Bí mật\n", encoding="utf-8")
    submission(raw / "2024" / "Q2" / "thach-dai.xlsx", commune="Thạch Đài", period="Quý 2/2024")
    (folder / "ngoai.xlsx").symlink_to(outside / "viet-tien.xlsx")
    (folder / "quy-truoc.xlsx").symlink_to(raw / "2024" / "Q2" / "thach-dai.xlsx")
    (folder / "thu-muc-ngoai").symlink_to(outside, target_is_directory=True)
    (folder / "~$thach-lien.xlsx").write_bytes(b"\x00lock")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    # a CSV folder whose HTX.csv is a link to a file outside raw/
    csv_folder = folder / "thach-dai.csv"
    csv_folder.mkdir()
    (csv_folder / "HTX.csv").symlink_to(outside / "HTX.csv")

    instance = dg.DagsterInstance.ephemeral()
    warehouse = tmp_path / "warehouse"
    outcomes = run_periods(raw, warehouse, ["2024-Q3"], instance=instance)
    assert all(o.success for o in outcomes), [o.error for o in outcomes]

    log = read_table(warehouse, "submission_log", ["2024-Q3"])
    assert dict(log.select("source_file", "status").iter_rows()) == {
        GOOD: "accepted",
        "2024/Q3/thach-dai.csv": "rejected",
    }
    assert not any(
        "Bí mật" in v for v in read_table(warehouse, "rejected_rows", ["2024-Q3"])["raw_values"].drop_nulls()
    )
    csv_line = read_table(warehouse, "rejected_rows", ["2024-Q3"]).filter(
        (pl.col("source_file") == "2024/Q3/thach-dai.csv") & pl.col("source_row").is_null()
    )
    assert csv_line["rule"].to_list() == ["file_unreadable"]
    assert "HTX.csv là liên kết (symlink)" in csv_line["message_vi"][0]
    assert "HTX.csv is a symbolic link" in csv_line["message_en"][0]
    assert read_table(warehouse, "cooperatives", ["2024-Q3"])["source_file"].unique().to_list() == [GOOD]

    event = instance.get_latest_materialization_event(dg.AssetKey("submission_log"))
    assert event is not None and event.asset_materialization is not None
    skipped = event.asset_materialization.metadata["skipped"].value
    expected = {
        "2024/Q3/ngoai.xlsx": "symbolic link to outside raw",
        "2024/Q3/thu-muc-ngoai": "symbolic link to outside raw",
        "2024/Q3/quy-truoc.xlsx": "symbolic link, not read",
        "2024/Q3/~$thach-lien.xlsx": "Office lock file",
        "2024/Q3/.DS_Store": "hidden file",
    }
    for name, reason in expected.items():
        line = next((x for x in skipped.splitlines() if f"Bỏ qua {name} " in x), None)
        assert line is not None and reason in line, (name, skipped)
    run_id = next(r.run_id for r in instance.get_runs() if r.tags.get("dagster/partition") == "2024-Q3")
    warnings = [e.user_message for e in instance.all_logs(run_id) if e.level == 30]  # logging.WARNING
    for name, reason in expected.items():
        assert any(name in w and reason in w for w in warnings), (name, warnings)


# ---------------------------------------------------------------------------------------------
# 9. Vietnamese file names


def test_vietnamese_file_names_in_nfc_and_nfd_show_as_people_type_them(raw_dir: Path) -> None:
    folder = q3(raw_dir)
    nfc = "Xã Thạch Đài quý 3.xlsx"
    nfd = "Xã Thạch Liên quý 3 (bản macOS).xlsx"
    bad = "Báo cáo Việt Tiến – bản lỗi.xlsx"
    submission(folder / nfc, commune="Thạch Đài")
    submission(folder / unicodedata.normalize("NFD", nfd), commune="Thạch Liên")
    submission(folder / unicodedata.normalize("NFD", bad), htx=[valid_htx_row(members="mười")], commune="Việt Tiến")
    assert {p.name for p in folder.iterdir()} >= {nfc, unicodedata.normalize("NFD", nfd)}
    t = run(raw_dir)

    log = dict(t["submission_log"].select("source_file", "status").iter_rows())
    assert log == {
        f"2024/Q3/{nfc}": "accepted",
        f"2024/Q3/{nfd}": "accepted",
        f"2024/Q3/{bad}": "accepted_with_errors",
    }
    assert all(unicodedata.is_normalized("NFC", f) for f in t["rejected_rows"]["source_file"])
    assert log_row(t, f"2024/Q3/{nfd}")["commune_code"] == "18592"
    assert t["cooperatives"].filter(pl.col("source_file") == f"2024/Q3/{nfc}").height == 1
    line = issues(t, source_file=f"2024/Q3/{bad}", rule="type_integer").row(0, named=True)
    assert line["message_vi"].startswith(f"Tệp 2024/Q3/{bad}, sheet HTX, dòng 2")
    assert line["message_en"].startswith(f"File 2024/Q3/{bad}, sheet HTX, row 2")

    code, out = _validate([folder / unicodedata.normalize("NFD", bad)], raw_dir, dict(os.environ))
    assert code == 1
    assert [f["source_file"] for f in out["files"]] == [f"2024/Q3/{bad}"]
    assert {p["rule"] for p in out["problems"]} >= {"type_integer"}
    assert all(p["message_vi"].startswith(f"Tệp 2024/Q3/{bad}") for p in out["problems"])


def test_quick_scan_agrees_with_the_full_scan(tmp_path: Path) -> None:
    """The regular-expression scan of plain sheets finds what the streaming XML scan finds, and refuses the
    same far cells; sheets it cannot judge (formulas, cut XML) are left to the full scan."""
    book = next((REPO / "raw" / "2024" / "Q3").glob("*.xlsx"))
    with zipfile.ZipFile(book) as zf:
        parts = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert parts
    for xml in parts:
        quick, full = quick_scan(xml, "S"), scan_sheet_xml(io.BytesIO(xml), "S")
        assert quick is not None
        assert (quick.rows, quick.cols, quick.uncached) == (full.rows, full.cols, full.uncached)
        assert quick.rows > 3 and quick.cols > 3
    far = parts[0].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    for scan in (lambda: quick_scan(far, "S"), lambda: scan_sheet_xml(io.BytesIO(far), "S")):
        with pytest.raises(SubmissionReadError) as err:
            scan()
        assert err.value.rule == "file_too_large" and "XFD1048576" in err.value.detail
    assert quick_scan(parts[0][: len(parts[0]) // 2], "S") is None
    assert quick_scan(parts[0].replace(b"<v>", b"<f>1+1</f><v>", 1), "S") is None


def test_quick_scan_leaves_decoys_prefixes_and_comments_to_the_full_scan() -> None:
    """A tag whose ``r`` hides in another attribute, prefixed elements, or comments are not judged by regular
    expressions: the full scan sees the far cell the decoy hides."""
    plain = b'<worksheet><sheetData><row r="1"><c r="A1" s="1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    assert quick_scan(plain, "S") is not None
    decoy = plain.replace(b'<c r="A1" s="1"', b'<c foo=\'r="A1"\' r="AD400000"')
    prefixed = (
        b'<worksheet xmlns:m="urn:x"><sheetData><m:row><m:c r="AD400000"><m:v>1</m:v></m:c></m:row>'
        b"</sheetData></worksheet>"
    )
    comment = plain.replace(b"<sheetData>", b'<sheetData><!-- <c r="ZZ99999"/> -->')
    for xml in (decoy, prefixed, comment):
        assert quick_scan(xml, "S") is None
    for xml in (decoy, prefixed):
        with pytest.raises(SubmissionReadError) as err:
            scan_sheet_xml(io.BytesIO(xml), "S")
        assert err.value.rule == "file_too_large" and "AD400000" in err.value.detail


def test_numbering_formulas_filled_down_an_ignored_column_make_no_rows(tmp_path: Path) -> None:
    """ "=ROW()-1" filled down the STT column of an empty template is not data: only the real rows are read."""
    raw = make_raw_dir(tmp_path)
    path = q3(raw) / "stt.xlsx"
    submission(path, htx=htx_rows(2), cols={"HTX": ["STT", *columns("HTX")]})
    set_formulas(path, "HTX", {f"A{r}": "=ROW()-1" for r in range(2, 21)})
    tables = run(raw)
    row = log_row(tables, "2024/Q3/stt.xlsx")
    assert (row["rows_in"], row["rows_rejected"]) == (2 + 1 + 1, 0)  # two cooperatives, no group, one TongHop row


def test_uncached_formula_stays_in_its_column_when_column_a_holds_empty_text_results(tmp_path: Path) -> None:
    """Excel saves a formula showing "" as ``t="str"`` with an empty value; calamine keeps that cell, so the
    column of a formula saved without a value is counted from it."""
    raw = make_raw_dir(tmp_path)
    rows = htx_rows(3)
    rows[1]["members"] = Formula("=10+5", 15)
    path = submission(q3(raw) / "f.xlsx", htx=rows)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    xml = parts[HTX_SHEET_PART].decode()
    xml, n = re.subn(r'(<c r="[A-Z]+3"[^>]*><f>10\+5</f>)<v>15</v>', r"\1", xml)
    assert n == 1
    # Shift every cell one column right and put an empty-text formula in column A of each row.
    xml = re.sub(
        r'<c r="([A-Z]+)(\d+)"',
        lambda m: f'<c r="{column_letters(column_index_from_string(m.group(1)) + 1)}{m.group(2)}"',
        xml,
    )
    xml = re.sub(r'<row r="(\d+)"([^>]*)>', r'<row r="\1"\2><c r="A\1" t="str"><f>""</f><v></v></c>', xml)
    xml = re.sub(r'<dimension ref="[^"]*"/>', "", xml)
    parts[HTX_SHEET_PART] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    tables = run(raw)
    errors = issues(tables, source_file="2024/Q3/f.xlsx").filter(pl.col("severity") == "error")
    assert errors.select("source_row", "column", "rule").rows() == [(3, "members", "formula_uncached")]
