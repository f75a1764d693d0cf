"""docs/architecture.md against the code: the modules it names exist, it names every module, and the imports
follow its layers."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGE = REPO / "docs" / "architecture.md"
PACKAGES = ("schemas", "ingest", "report", "forms", "registry", "sample", "pipeline", "assets")


def _modules() -> list[str]:
    """Every module of the packages, dotted (`ingest.period`)."""
    return sorted(
        f"{package}.{path.stem}"
        for package in PACKAGES
        for path in (REPO / package).glob("*.py")
        if path.name != "__init__.py"
    )


def _names(text: str) -> list[str]:
    """Dotted names in backticks that start with a package: modules, or a module and an attribute."""
    return [
        name
        for code in re.findall(r"`([^`]+)`", text)
        for name in re.findall(r"(?<![\w/.])(?:" + "|".join(PACKAGES) + r")(?:\.[A-Za-z_][A-Za-z0-9_]*)+", code)
    ]


def _module_of(name: str) -> tuple[str, list[str]]:
    """The longest prefix of `name` that is a module, and the attributes after it."""
    parts = name.split(".")
    for cut in range(len(parts), 1, -1):
        if (REPO / Path(*parts[:cut])).with_suffix(".py").is_file():
            return ".".join(parts[:cut]), parts[cut:]
    return "", parts


def _layers() -> dict[str, int]:
    """Package or module → layer, from the page's layer table."""
    section = PAGE.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers: dict[str, int] = {}
    for number, cells in re.findall(r"^\| (\d+) \| (.+?) \|", section, flags=re.M):
        for entry in re.findall(r"`([^`]+)`", cells):
            layers[entry.rstrip("/")] = int(number)
    return layers


def test_every_name_on_the_page_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    names = _names(text)
    assert len(names) > 50
    for name in names:
        module, attributes = _module_of(name)
        assert module, f"docs/architecture.md names {name}, which is no module"
        if not attributes:
            continue
        target: object = importlib.import_module(module)
        for attribute in attributes:
            assert hasattr(target, attribute), f"docs/architecture.md names {name}: {module} has no {attribute}"
            target = getattr(target, attribute)
    for path in re.findall(r"`((?:tests|docs|" + "|".join(PACKAGES) + r")/[\w./-]+\.(?:py|md))`", text):
        assert (REPO / path).is_file(), f"docs/architecture.md names {path}, which does not exist"


def test_the_page_names_every_module() -> None:
    named = {_module_of(name)[0] for name in _names(PAGE.read_text(encoding="utf-8"))}
    missing = [m for m in _modules() if m not in named]
    assert not missing, f"modules docs/architecture.md does not describe: {missing}"


def _layer(module: str, layers: dict[str, int]) -> int:
    return layers.get(module, layers.get(module.split(".")[0], -1))


@pytest.mark.parametrize("module", _modules())
def test_imports_follow_the_layers(module: str) -> None:
    layers = _layers()
    mine = _layer(module, layers)
    assert mine > 0, f"{module} is in no layer of docs/architecture.md"
    tree = ast.parse((REPO / Path(*module.split("."))).with_suffix(".py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            imported, _ = _module_of(target)
            if imported.split(".")[0] not in PACKAGES:
                continue
            assert _layer(imported, layers) <= mine, f"{module} (layer {mine}) imports {imported} (a higher layer)"


def test_the_definitions_load_without_the_libraries_of_single_steps() -> None:
    """DuckDB (the analysts' database, a run's last step), openpyxl (marked copies) and python-docx (the report)
    are imported by the steps that use them: a run holds them only then, not while it reads a quarter; pandas and
    hypothesis, which pandera would import, not at all (`pipeline.lean_imports`)."""
    libraries = ("duckdb", "openpyxl", "docx", "pandas", "hypothesis")
    probe = f"import sys, pipeline.definitions; print([m for m in {libraries} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ENGINE_PROBE = """
import multiprocessing, sys
import {module}
import polars as pl

def engine() -> str | None:
    return pl.Config.state().get("POLARS_ENGINE_AFFINITY")

if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # as kttt starts its readers
        print(engine(), pool.apply(engine))
"""


@pytest.mark.parametrize("module", ["pipeline.cli", "pipeline.definitions"])
@pytest.mark.parametrize(("chosen", "expected"), [(None, "in-memory in-memory"), ("streaming", "streaming streaming")])
def test_lazy_queries_run_in_memory_unless_the_environment_chooses(
    module: str, chosen: str | None, expected: str, tmp_path: Path
) -> None:
    """The command line and the code location make polars' in-memory engine the default (`pipeline.polars_engine`),
    for the processes they start as well; an engine chosen in the environment is kept."""
    script = tmp_path / "probe.py"
    script.write_text(ENGINE_PROBE.format(module=module), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "POLARS_ENGINE_AFFINITY"}
    if chosen:
        env["POLARS_ENGINE_AFFINITY"] = chosen
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == expected


LEAN_PROBE = """
import importlib.util, sys
sys.argv = ["kttt", "validate", *sys.argv[1:]]
from pipeline.cli import main
code = main()
unused = ("pandas", "hypothesis")
print(code, all(importlib.util.find_spec(m) for m in unused), any(m in sys.modules for m in unused))
import hypothesis, pandas, polars
print(polars.from_pandas(pandas.DataFrame({"n": [1, 2]})).shape)
"""


def test_a_command_validates_without_importing_pandas_and_pandas_imports_after() -> None:
    """pandas and hypothesis are installed here (the development group) but pandera runs for polars only, as in a
    production install; a later import of them in the same process works as usual, and polars still converts from
    pandas."""
    files = [str(f) for f in sorted((REPO / "raw" / "2024" / "Q3").glob("[!_]*.xlsx"))[:2]]
    argv = [sys.executable, "-c", LEAN_PROBE, *files, "--raw", str(REPO / "raw")]
    out = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-2:] == ["0 True False", "(2, 1)"]
