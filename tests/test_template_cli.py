"""`kttt template` refuses, with a message in both languages and no traceback, a commune that does not report in the
period and a folder without `raw/reference`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from tests import builders as b
from tests.conftest import REPO


def test_a_commune_outside_its_validity_window_gets_no_template(
    raw_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hồng Lộc (18412) reports from 2025-Q1 to 2025-Q2 only (communes.csv)."""
    out = tmp_path / "form.xlsx"
    args = ["template", "--commune", "18412", "--raw", str(raw_dir), "--out", str(out)]
    assert main([*args, "--period", "2024-Q3"]) == 2
    err = capsys.readouterr().err
    assert not out.exists()
    assert "Hồng Lộc (18412) không phải báo cáo kỳ 2024-Q3" in err and "does not report in 2024-Q3" in err
    assert "2025-Q1" in err and "2025-Q2" in err
    assert main([*args, "--period", "2025-Q1"]) == 0
    assert out.exists()


def test_run_outside_the_project_it_says_where_it_looked(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "template", "--commune", b.COMMUNE_CODE, "--period", "2024-Q3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{tmp_path / 'raw'}/reference/communes.csv" in done.stderr
    assert "--raw" in done.stderr and "KTTT_RAW_DIR" in done.stderr
    assert list(tmp_path.iterdir()) == []
