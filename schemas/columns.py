"""What a reader needs to know about one sheet column, as a plain record (no pandera), so that reader
processes can be told the models without importing them (see `ingest.models`)."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.in_force import in_window

KINDS = ("text", "category", "int", "money", "number", "bool", "date", "period")
"""Kinds of cell: how raw text becomes a typed value."""
NUMBER_KINDS = frozenset({"int", "money", "number"})
"""The kinds read as numbers."""


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
    valid_from: str | None = None
    valid_to: str | None = None
    required_to: str | None = None
    basis: tuple[str, ...] = ()

    @property
    def standing(self) -> bool:
        """In the form of every period (no window)."""
        return self.valid_from is None and self.valid_to is None

    @property
    def mandatory_always(self) -> bool:
        """Must be present in a sheet of any period: a file without it can be rejected before its period is known."""
        return (self.required or not self.optional_column) and self.standing and self.required_to is None

    def in_force(self, period: str) -> bool:
        """Whether the column belongs to the form of `period`."""
        return in_window(period, self.valid_from, self.valid_to)

    def required_in(self, period: str) -> bool:
        """Whether an empty cell is an error in `period`."""
        return self.required and self.in_force(period) and in_window(period, None, self.required_to)

    def mandatory_in(self, period: str) -> bool:
        """Whether a sheet of `period` must have the column."""
        return self.in_force(period) and (
            self.required_in(period) or (not self.optional_column and in_window(period, None, self.required_to))
        )
