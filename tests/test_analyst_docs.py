"""The examples of docs/analysts.md run against the sample warehouse."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "analysts.md").read_text(encoding="utf-8"), re.S)


def test_the_doc_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS, ids=[f"example-{i}" for i in range(len(BLOCKS))])
def test_example_runs(code: str, sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(sample_warehouse, tmp_path / "warehouse")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "analysts.md", "exec"), {})


SHELL_COMMANDS = [
    line
    for block in re.findall(r"```bash\n(.*?)```", (REPO / "docs" / "analysts.md").read_text(encoding="utf-8"), re.S)
    for line in block.splitlines()
    if line.startswith("duckdb ")
]


def duckdb_cli() -> Path:
    """The command-line `duckdb` 1.x that an analyst installs (`duckdb-cli` from PyPI, in the dev group)."""
    path = Path(sys.executable).parent / "duckdb"
    assert path.exists(), "the dev group installs duckdb-cli"
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version
    return path


def test_the_doc_has_a_duckdb_command() -> None:
    assert SHELL_COMMANDS


@pytest.mark.parametrize("command", SHELL_COMMANDS)
def test_duckdb_command_line_opens_the_database(command: str, sample_warehouse: Path, tmp_path: Path) -> None:
    """The documented command, run by the DuckDB 1.x command line from the repository root (the folder holding
    `warehouse/`), then from another directory with the file's full path."""
    cli = duckdb_cli()
    args = shlex.split(command)
    root = sample_warehouse.parent
    done = subprocess.run([str(cli), *args[1:]], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "htx.total" in done.stdout or "│" in done.stdout
    args[1] = str(root / args[1])
    query = ["-csv", "-noheader", "-c", "SELECT count(*) FROM cooperatives WHERE period = '2024-Q3'"]
    done = subprocess.run([str(cli), args[1], *query], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "135"
