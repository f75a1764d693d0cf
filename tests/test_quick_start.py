"""The README's quick start works through Debian's own Python, which refuses `pip install` (externally managed):
`scripts/uv` brings uv into a virtual environment of its own, then uv runs the project."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import REPO

SYSTEM_PYTHON = Path("/usr/bin/python3")


def _env(tmp_path: Path) -> dict[str, str]:
    """Only the system's own tools on PATH (so `python3` is Debian's), and uv's environments in `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_", "PYTHON", "KTTT_"))}
    return env | {
        "PATH": "/usr/bin:/bin",
        "KTTT_TOOLS_DIR": str(tmp_path / "tools"),
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"),
    }


def test_the_readme_gives_the_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(sh scripts/uv run \S+(?: \S+)?)", quick, re.M)
    assert commands == ["sh scripts/uv run kttt run", "sh scripts/uv run pytest"], commands


def test_scripts_uv_works_where_pip_install_is_refused(tmp_path: Path) -> None:
    assert SYSTEM_PYTHON.exists(), "Debian's python3 and python3-venv (apt), as CI installs them"
    refused = subprocess.run(
        [str(SYSTEM_PYTHON), "-m", "pip", "install", "--dry-run", "uv"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        check=False,
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr
    done = subprocess.run(
        ["sh", str(REPO / "scripts" / "uv"), "run", "--locked", "kttt", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_env(tmp_path),
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "validate" in done.stdout and "template" in done.stdout
    assert (tmp_path / "tools" / "bin" / "uv").exists(), "uv came into the script's own environment"
    assert (tmp_path / "venv" / "bin" / "kttt").exists(), "the project's locked environment"
