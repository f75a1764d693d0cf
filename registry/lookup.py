"""One cooperative's (or group's) quarters, found by tax code or name: what `kttt history` prints."""

from __future__ import annotations

import re

import polars as pl

from ingest.text import fold_expr
from registry.match import normalise_tax_code
from schemas.folding import fold

HISTORY_COLUMNS = (
    "period",
    "commune_code",
    "row_id",
    "name",
    "status",
    "rating",
    "members",
    "charter_capital_mvnd",
    "revenue_mvnd",
    "match_rule",
)


def find_identities(query: str, registry: pl.DataFrame, history: pl.DataFrame) -> list[str]:
    """Registry ids whose tax code (digits, with or without the branch suffix) or name matches `query`.

    A query with ten digits or more is a tax code; otherwise a folded name, equal to one of the names
    the identity was ever written under, else contained in one of them.
    """
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 10:
        taxed = history.with_columns(normalise_tax_code(pl.col("tax_code")).alias("tax"))
        hits = taxed.filter(pl.col("tax").str.starts_with(digits) | pl.lit(digits).str.starts_with(pl.col("tax")))
        return sorted(set(hits["registry_id"].to_list()))
    key = fold(query)
    if not key:
        return []
    named = history.with_columns(fold_expr(pl.col("name")).alias("key"))
    exact = named.filter(pl.col("key") == key)
    hits = exact if not exact.is_empty() else named.filter(pl.col("key").str.contains(key, literal=True))
    return sorted(set(hits["registry_id"].to_list()) & set(registry["registry_id"].to_list()))


def identity_history(registry_id: str, history: pl.DataFrame) -> pl.DataFrame:
    """The identity's rows, quarter by quarter."""
    return history.filter(pl.col("registry_id") == registry_id).sort("period").select(HISTORY_COLUMNS)


def render(registry_id: str, registry: pl.DataFrame, history: pl.DataFrame) -> str:
    """A plain-text page: the identity, then one line per quarter."""
    r = registry.filter(pl.col("registry_id") == registry_id).row(0, named=True)
    head = [
        f"{r['registry_id']}  {r['kind']}  {r['name']}",
        f"  mã số thuế / tax code: {r['tax_code'] or '-'}",
        f"  tên / names: {r['names_seen']}",
        f"  {r['first_period']} → {r['last_period']} ({r['quarters_seen']}), "
        f"xã hiện nay / current unit: {r['current_commune_code']}, vòng đời / lifecycle: {r['lifecycle']}",
    ]
    rows = identity_history(registry_id, history)
    cells = [
        [("" if v is None else f"{v:g}" if isinstance(v, float) else str(v)) for v in row] for row in rows.iter_rows()
    ]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(HISTORY_COLUMNS)]

    def line(values: tuple[str, ...] | list[str]) -> str:
        return "  " + "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))

    return "\n".join([*head, line(HISTORY_COLUMNS), *(line(c) for c in cells)])
