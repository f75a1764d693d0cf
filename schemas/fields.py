"""Helpers that attach the submission format's metadata to pandera fields.

Each column of a sheet model carries, in its pandera `Field`:

* `title`: the Vietnamese header of the contract (also the label in the docs);
* `description`: the English meaning;
* `metadata`: how the cell is parsed (`kind`), the vocabulary of a category
  column, extra header spellings, whether the column may be absent, and the periods
  the column is in force (`valid_from`, `valid_to`), the last period it is required
  (`required_to`) and its legal basis (a key of `schemas.law.TEXTS`).

Readers, validation, docs and templates all take these from the models. The form of a
period is the columns in force then; a column outside its window is read, ignored and
reported, so that nothing written is lost.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandera.polars as pa

from schemas.columns import KINDS, SheetColumn
from schemas.vocab import Vocab

__all__ = ["KINDS", "SheetColumn", "column", "display_value", "field", "sheet_columns"]


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
    valid_from: str | None = None,
    valid_to: str | None = None,
    required_to: str | None = None,
    basis: tuple[str, ...] = (),
    **checks: Any,
) -> Any:
    """A pandera field for a sheet column.

    `required` forbids empty cells (up to `required_to` when the law stops asking for
    the value; optional after it); `optional_column` (default: not required) says
    whether the whole column may be missing from a sheet. Amounts and counts must be ≥ 0
    unless `signed`. `valid_from` / `valid_to` bound the periods the column belongs
    to the form; `basis` names the legal texts behind it.
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
        "valid_from": valid_from,
        "valid_to": valid_to,
        "required_to": required_to,
        "basis": basis,
    }
    return pa.Field(nullable=not required, title=header_vi, description=description, metadata=metadata, **checks)


def field(description: str, title: str | None = None, *, nullable: bool = False, **checks: Any) -> Any:
    """A pandera field of a warehouse-only column (keys, lineage, log columns)."""
    return pa.Field(nullable=nullable, title=title, description=description, metadata={"sheet_column": False}, **checks)


def sheet_columns(
    model: type[pa.DataFrameModel], period: str | None = None, *, every: bool = False
) -> list[SheetColumn]:
    """The sheet columns of a model, in order: those of the form of `period`; without a period, the standing
    columns (in every period's form); with `every`, all columns of every period (what readers recognise)."""
    out = list(_all_sheet_columns(model))
    if every:
        return out
    if period is None:
        return [c for c in out if c.standing]
    return [c for c in out if c.in_force(period)]


@cache
def _all_sheet_columns(model: type[pa.DataFrameModel]) -> tuple[SheetColumn, ...]:
    """Every sheet column of a model, built once per model (`to_schema` builds the whole schema each time, and
    the columns are asked for per file and sheet)."""
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
                valid_from=meta.get("valid_from"),
                valid_to=meta.get("valid_to"),
                required_to=meta.get("required_to"),
                basis=tuple(meta.get("basis") or ()),
            )
        )
    return tuple(out)


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
