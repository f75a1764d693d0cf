"""What the readers know of the sheet models: columns, required sheets and the format's words.

The models are pandera classes (`schemas.sheets`); importing pandera (and pandas with it)
takes a reader process longer than reading hundreds of files. So the readers take these
plain records from here: built from the models on first use in the main process, and
handed to reader processes as they start (`install`), which then never import pandera.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.columns import SheetColumn


@dataclass(frozen=True)
class SheetModels:
    """The sheet models as readers need them."""

    columns: dict[str, tuple[SheetColumn, ...]]
    """Sheet name → its columns, in order."""
    required: tuple[str, ...]
    """Sheets a commune submission must have."""


_MODELS: SheetModels | None = None


def sheet_models() -> SheetModels:
    """The sheet models (built from `schemas.sheets` unless a reader process was handed them)."""
    global _MODELS
    if _MODELS is None:
        from schemas.fields import sheet_columns
        from schemas.sheets import REQUIRED_SHEETS, SHEETS

        _MODELS = SheetModels(
            {name: tuple(sheet_columns(model, every=True)) for name, model in SHEETS.items()}, REQUIRED_SHEETS
        )
    return _MODELS


def install(models: SheetModels) -> None:
    """Use `models` in this process (a reader process, handed them by the main process)."""
    global _MODELS
    _MODELS = models
