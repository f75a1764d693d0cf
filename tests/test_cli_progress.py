"""`kttt run` on a terminal and in a log: progress while files are read, then a compact summary."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _run(raw: Path, warehouse: Path, *extra: str, tty: bool = False) -> tuple[int, str, str]:
    """Run `kttt run` on 2024-Q3; stderr on a pseudo-terminal when `tty`."""
    argv = [sys.executable, "-m", "pipeline.cli", "run", "--raw", str(raw), "--warehouse", str(warehouse)]
    argv += ["--period", "2024-Q3", "--no-report", *extra]
    if not tty:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=follower, cwd=REPO, text=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.communicate()[0]
    os.close(leader)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_progress_lines_in_a_log_and_only_the_communes_with_a_problem(sample_raw: Path, tmp_path: Path) -> None:
    (sample_raw / "2024" / "Q3" / "nam-dien.xlsx").write_bytes(b"\x00garbage")
    code, out, err = _run(sample_raw, tmp_path / "wh")
    assert code == 0, err
    read = re.findall(r"^  \S.* / (\d+)/(\d+) files read$", err, flags=re.M)
    assert read[-1] == ("23", "23") and 2 <= len(read) <= 11
    assert [int(done) for done, _ in read] == sorted(int(done) for done, _ in read)
    assert "\r" not in err
    assert "files: 22 accepted, 0 with rejected rows, 1 rejected, 0 superseded" in out
    assert "nam-dien.xlsx" in out
    assert "thach-lien.xlsx" not in out and "tuong-son.xlsx" not in out  # nothing wrong with them
    assert "Only files with a problem are listed (1/23)" in out


def test_a_bar_on_a_terminal_and_every_file_with_all(sample_raw: Path, tmp_path: Path) -> None:
    code, out, err = _run(sample_raw, tmp_path / "wh", "--all", tty=True)
    assert code == 0, err
    assert "\r  [" + "#" * 30 + "] đã đọc 23/23 tệp / 23/23 files read" in err
    assert err.count("\r  [") >= 10  # redrawn in place as files are read
    assert "files: 23 accepted, 0 with rejected rows, 0 rejected, 0 superseded" in out
    assert "thach-lien.xlsx" in out and "tuong-son.xlsx" in out
    assert "Only files with a problem" not in out
