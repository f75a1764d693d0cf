"""Metadata shown in the Dagster UI: column schemas from the pandera models, row counts, previews."""

from __future__ import annotations

import inspect

import dagster as dg
import pandera.polars as pa
import polars as pl

from schemas.warehouse import TABLES, column_order

PREVIEW_ROWS = 10


def describe(model: type[pa.DataFrameModel]) -> str:
    """The model's docstring, which is the table's description."""
    return inspect.cleandoc(model.__doc__ or "")


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """Dagster column schema (names, types, meanings) of a warehouse table."""
    cols = model.to_schema().columns
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(cols[name].dtype),
                description=" — ".join(x for x in (cols[name].title, cols[name].description) if x),
            )
            for name in column_order(model)
        ]
    )


def definition_metadata(model: type[pa.DataFrameModel]) -> dict[str, object]:
    """Metadata attached to an asset's definition."""
    return {"dagster/column_schema": column_schema(model)}


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def markdown_preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """The first rows of a frame as a Markdown table."""
    head = frame.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * head.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in head.iter_rows()]
    return "\n".join(lines)


def output_metadata(frame: pl.DataFrame, period: str | None = None) -> dict[str, object]:
    """Row count and preview of a materialization, and the quarter it is about (for a partition)."""
    quarter = {"period": period} if period else {}
    return {**quarter, "dagster/row_count": frame.height, "preview": dg.MetadataValue.md(markdown_preview(frame))}


TABLE_KINDS = {"polars", "parquet"}
"""Kinds of every asset that is a warehouse table."""


def table_outs(
    names: tuple[str, ...] | list[str], group: str, automation_condition: dg.AutomationCondition | None = None
) -> dict[str, dg.AssetOut]:
    """Outputs of a multi-asset writing warehouse tables: description and column schema from the models."""
    return {
        name: dg.AssetOut(
            description=describe(TABLES[name]),
            group_name=group,
            kinds=TABLE_KINDS,
            metadata=definition_metadata(TABLES[name]),
            automation_condition=automation_condition,
        )
        for name in names
    }
