"""docs/bad-input.md names only tests that exist, so its table cannot drift from the suite."""

from __future__ import annotations

import re

from tests.conftest import REPO

REFERENCE = re.compile(r"`(test_[a-z0-9_]+\.py)::(test_[A-Za-z0-9_]+)(?:\[([^\]`]+)\])?`")


def test_every_test_named_in_bad_input_md_exists() -> None:
    text = (REPO / "docs" / "bad-input.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) > 40
    missing = []
    for file, name, case in references:
        path = REPO / "tests" / file
        source = path.read_text(encoding="utf-8") if path.exists() else ""
        if not re.search(rf"^def {name}\(", source, re.MULTILINE) or (case and f'"{case}"' not in source):
            missing.append(f"{file}::{name}" + (f"[{case}]" if case else ""))
    assert not missing, missing
