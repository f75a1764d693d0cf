"""The data rows of a cut sheet, as Arrow: a slice of a frame that the sheets of one batch share.

A reader process cuts a batch of files at once (`ingest.columnar`); the rows it keeps are one polars
frame per kind of sheet, and each file's block points at its rows in it. Sent back to the main
process, the batch is pickled as one object graph, so the shared frame crosses once, as Arrow
buffers, not as a Python object per cell; stacking a quarter (`ingest.stacking`) gathers rows
from these frames instead of extending Python lists. A block cut in Python (`ingest.sheet.cut_sheet`)
gets a frame of its own.

Columns of the frame: ``source_row`` (the row a person sees), ``raw_values`` (the row's cells as
written, JSON keyed by header), and per column kept, its text ``<name>`` and ``<name>__num`` (the cell
was a number in the workbook). A frame may hold columns one block does not have; `names` says which
are the block's.

A columnar cut keys ``raw_values`` by column index (``{"0": "1", "3": "HTX Đồng Tiến"}``) and the block
holds the headings once (`keys`): the headings are most of a row's JSON, which every row carries while
only the few rows that reach `rejected_rows` need it whole. `expand_raw` writes a row's JSON with its
headings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

ROW_COLUMNS = {"source_row": pl.Int64, "raw_values": pl.String}
_NO_ROWS = pl.DataFrame(schema=ROW_COLUMNS)
"""The frame of a block without rows (one for all: a frame is never changed in place)."""


FLAG_SUFFIX = "__num"


def flag(name: str) -> str:
    """The column of number flags of text column `name`."""
    return f"{name}{FLAG_SUFFIX}"


def expand_raw(raw: str | None, keys: tuple[str, ...] | None) -> str | None:
    """A row's `raw_values` keyed by heading: as it is when `keys` is None, else from JSON keyed by column
    index (`keys[j]` the heading of column `j`), written as the cut in Python writes it."""
    if raw is None or keys is None:
        return raw
    return json.dumps({keys[int(j)]: text for j, text in json.loads(raw).items()}, ensure_ascii=False)


@dataclass(frozen=True)
class BlockRows:
    """Rows `start` to `start + length` of `frame`, with the text columns `names`; `keys`: the headings by column
    index when `raw_values` is keyed by index (None: keyed by heading)."""

    frame: pl.DataFrame = field(default_factory=lambda: _NO_ROWS)
    start: int = 0
    length: int = 0
    names: tuple[str, ...] = ()
    keys: tuple[str, ...] | None = None

    @classmethod
    def from_lists(
        cls,
        rows: list[int],
        raw: list[str],
        cells: dict[str, list[str | None]],
        numeric: dict[str, list[bool]],
    ) -> BlockRows:
        """A block's own frame, from the lists a cut in Python builds."""
        data: dict[str, pl.Series] = {
            "source_row": pl.Series(rows, dtype=pl.Int64),
            "raw_values": pl.Series(raw, dtype=pl.String),
        }
        for name, values in cells.items():
            data[name] = pl.Series(values, dtype=pl.String)
            data[flag(name)] = pl.Series(numeric[name], dtype=pl.Boolean)
        return cls(pl.DataFrame(data), 0, len(rows), tuple(cells))

    def column(self, name: str) -> list:
        """One column of the block as a list (a flag column holds no null)."""
        values = self.frame.get_column(name).slice(self.start, self.length)
        return (values.fill_null(False) if name.endswith(FLAG_SUFFIX) else values).to_list()

    def raw(self) -> list[str | None]:
        """Each row's cells as written, JSON keyed by heading."""
        return [expand_raw(raw, self.keys) for raw in self.column("raw_values")]

    def first(self, name: str) -> str | None:
        """The text of `name` in the first row (None when the block has no such column or no row)."""
        if name not in self.names or not self.length:
            return None
        return self.frame.get_column(name)[self.start]

    def cleared(self, name: str) -> BlockRows:
        """The same rows with column `name` emptied (a frame of their own: the shared one is left alone)."""
        own = self.frame.slice(self.start, self.length).with_columns(pl.lit(None, pl.String).alias(name))
        return BlockRows(own, 0, self.length, self.names, self.keys)
