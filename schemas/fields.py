"""Helpers that attach the submission format's metadata to pandera fields.

Each column of a sheet model carries, in its pandera ``Field``:

* ``title``: the Vietnamese header of the contract (also the label in the docs);
* ``description``: the English meaning;
* ``metadata``: how the cell is parsed (``kind``), the vocabulary of a category
  column, extra header spellings, and whether the column may be absent.

Readers, validation, docs and templates all take these from the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandera.polars as pa

from schemas.vocab import Vocab

# Kinds of cell: how raw text becomes a typed value.
KINDS = ("text", "category", "int", "money", "number", "bool", "date", "period")


def column(
    header_vi: str,
    description: str,
    *,
    kind: str = "text",
    vocab: Vocab | None = None,
    aliases: tuple[str, ...] = (),
    required: bool = False,
    optional_column: bool | None = None,
    signed: bool = False,
    **checks: Any,
) -> Any:
    """A pandera field for a sheet column.

    ``required`` forbids empty cells; ``optional_column`` (default: not required)
    says whether the whole column may be missing from a sheet. Amounts and counts
    must be ≥ 0 unless ``signed``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if vocab is not None:
        checks.setdefault("isin", vocab.codes)
    if kind in ("int", "money") and not signed and "ge" not in checks and "in_range" not in checks:
        checks.setdefault("ge", 0)
    metadata = {
        "kind": kind,
        "vocab": vocab.name if vocab else None,
        "aliases": aliases,
        "optional_column": (not required) if optional_column is None else optional_column,
        "sheet_column": True,
    }
    return pa.Field(nullable=not required, title=header_vi, description=description, metadata=metadata, **checks)


def field(description: str, title: str | None = None, *, nullable: bool = False, **checks: Any) -> Any:
    """A pandera field of a warehouse-only column (keys, lineage, log columns)."""
    return pa.Field(nullable=nullable, title=title, description=description, metadata={"sheet_column": False}, **checks)


@dataclass(frozen=True)
class SheetColumn:
    """What a reader needs to know about one sheet column."""

    name: str
    header_vi: str
    description: str
    kind: str
    vocab: str | None
    aliases: tuple[str, ...]
    required: bool
    optional_column: bool


def sheet_columns(model: type[pa.DataFrameModel]) -> list[SheetColumn]:
    """The sheet columns of a model, in order."""
    out = []
    for name, col in model.to_schema().columns.items():
        meta = col.metadata or {}
        if not meta.get("sheet_column"):
            continue
        out.append(
            SheetColumn(
                name=name,
                header_vi=col.title or name,
                description=col.description or "",
                kind=meta["kind"],
                vocab=meta["vocab"],
                aliases=tuple(meta["aliases"]),
                required=not col.nullable,
                optional_column=meta["optional_column"],
            )
        )
    return out


def display_value(col: SheetColumn, value: Any) -> Any:
    """A stored value as a person writes it in a submission: category code → Vietnamese label, bool → Có/Không."""
    from schemas.vocab import BY_NAME, YES_NO

    if value is None:
        return None
    if col.kind == "category" and col.vocab:
        return BY_NAME[col.vocab].label_vi(value)
    if col.kind == "bool":
        return YES_NO.label_vi("true" if value else "false")
    return value
