"""Join the rows of every stored quarter into identities, quarter after quarter, in order.

A row of a quarter joins an identity seen before by the first rule that holds:

1. `tax_code`: the same tax code, digits only (a code written with its branch suffix
   also joins one written without it, when nothing closer does);
2. `row_id`: the same `coop_id` (or `group_id`) in the same unit, or in the unit that
   took the identity's unit over (`merged_into`);
3. `name`: the same folded name (case, accents, spacing and punctuation ignored) in the
   same unit or its successor;

else it starts a new identity (`new`). An identity takes at most one row of a quarter
and a row joins at most one identity; when several pairs qualify under a rule, the pair
in the same unit wins, then the identity seen most recently, then the smaller ids. Rows
and identities are visited in sorted order, so the result never depends on the order of
files or rows. A row and an identity that both carry tax codes with different digits
are never joined by id or name: the tax code says they are different cooperatives. Nor
is a row joined by id to an identity of another name while an identity of the row's own
name waits in that unit: a clerk who renumbers every cooperative reuses the same ids for
different ones, and the name then says which is which.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.text import fold_expr
from registry.units import UnitIn

KIND_TABLES = {"HTX": ("cooperatives", "coop_id"), "THT": ("coop_groups", "group_id")}
"""Kind of identity → (fact table, id column)."""
RULES = ("tax_code", "row_id", "name")
_ROW_FIELDS = ("kind", "commune_code", "row_id", "name_key", "tax_code")
"""What matching reads of a row (the rows of a quarter become Python dicts: only these columns)."""
TAX_BASE = 10
"""Digits of a tax code before the branch suffix."""

STACKED = {
    "period": pl.String,
    "year": pl.Int32,
    "quarter": pl.Int8,
    "commune_code": pl.String,
    "kind": pl.String,
    "row_id": pl.String,
    "name": pl.String,
    "name_key": pl.String,
    "tax_code": pl.String,
    "status": pl.String,
    "rating": pl.String,
    "members": pl.Int64,
    "charter_capital_mvnd": pl.Float64,
    "revenue_mvnd": pl.Float64,
    "source_file": pl.String,
    "source_sha256": pl.String,
    "source_row": pl.Int64,
}


def normalise_tax_code(expr: pl.Expr) -> pl.Expr:
    """Digits only (`3001234567-001` → `3001234567001`); null when no digit is left."""
    digits = expr.cast(pl.String).str.replace_all(r"\D", "")
    return pl.when(digits.str.len_chars() > 0).then(digits).otherwise(None)


def stack(cooperatives: pl.DataFrame | None, coop_groups: pl.DataFrame | None) -> pl.DataFrame:
    """The rows of both fact tables in one frame with the columns the registry uses, in sorted order."""
    parts = []
    for kind, frame in (("HTX", cooperatives), ("THT", coop_groups)):
        if frame is None or frame.is_empty():
            continue
        id_col = KIND_TABLES[kind][1]
        tax = normalise_tax_code(pl.col("tax_code")) if "tax_code" in frame.columns else pl.lit(None, pl.String)
        capital = pl.col("charter_capital_mvnd") if "charter_capital_mvnd" in frame.columns else pl.lit(None)
        sha = pl.col("source_sha256") if "source_sha256" in frame.columns else pl.lit(None, pl.String)
        parts.append(
            frame.select(
                "period",
                "year",
                "quarter",
                "commune_code",
                pl.lit(kind).alias("kind"),
                pl.col(id_col).cast(pl.String).alias("row_id"),
                "name",
                fold_expr(pl.col("name")).alias("name_key"),
                tax.alias("tax_code"),
                "status",
                "rating",
                pl.col("members").cast(pl.Int64),
                capital.cast(pl.Float64).alias("charter_capital_mvnd"),
                pl.col("revenue_mvnd").cast(pl.Float64),
                "source_file",
                sha.alias("source_sha256"),
                "source_row",
            ).cast(STACKED)
        )
    if not parts:
        return pl.DataFrame(schema=STACKED)
    return pl.concat(parts).sort("kind", "period", "commune_code", "row_id", "name", "source_file")


@dataclass
class _Identity:
    registry_id: str
    last_period: str
    unit: str
    row_id: str
    name_key: str
    tax: str | None


def _tax_compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a[:TAX_BASE] == b[:TAX_BASE]


def _candidates(rule: str, row: dict, index: dict, taken: set[str]) -> list[tuple[int, _Identity]]:
    """Identities the row may join under `rule` (from the rule's index)."""
    if rule == "tax_code":
        tax = row["tax_code"]
        if tax is None:
            return []
        exact = index.get(("tax", tax), [])
        loose = [
            i
            for i in index.get(("base", tax[:TAX_BASE]), [])
            if i.tax != tax and (len(tax) == TAX_BASE or len(i.tax or "") == TAX_BASE)
        ]
        return [(0, i) for i in exact] + [(1, i) for i in loose]
    key = row["row_id"] if rule == "row_id" else row["name_key"]
    if not key:
        return []
    found = [i for i in index.get((rule, row["commune_code"], key), []) if _tax_compatible(i.tax, row["tax_code"])]
    if rule == "row_id":
        namesakes = {i.registry_id for i in index.get(("name", row["commune_code"], row["name_key"]), [])}
        found = [i for i in found if i.name_key == row["name_key"] or not (namesakes - taken)]
    return [(0, i) for i in found]


def _index(known: list[_Identity], unit_in: UnitIn, period: str) -> dict:
    index: dict[tuple, list[_Identity]] = {}
    for ident in known:
        if ident.tax:
            index.setdefault(("tax", ident.tax), []).append(ident)
            index.setdefault(("base", ident.tax[:TAX_BASE]), []).append(ident)
        unit = unit_in(ident.unit, period)
        index.setdefault(("row_id", unit, ident.row_id), []).append(ident)
        if ident.name_key:
            index.setdefault(("name", unit, ident.name_key), []).append(ident)
    return index


def _match_quarter(
    rows: list[dict], known: dict[str, _Identity], unit_in: UnitIn, period: str
) -> list[tuple[str, str, _Identity | None]]:
    """(registry_id, rule, earlier state of the identity or None) for each row of one quarter and kind."""
    pool = sorted(known.values(), key=lambda i: i.registry_id)
    index = _index(pool, unit_in, period)
    result: list[tuple[str, str, _Identity | None] | None] = [None] * len(rows)
    taken: set[str] = set()
    for rule in RULES if known else ():  # nothing to join in a kind's first quarter
        pairs = []
        for pos, row in enumerate(rows):
            if result[pos] is not None:
                continue
            for tier, ident in _candidates(rule, row, index, taken):
                if ident.registry_id in taken:
                    continue
                same_unit = unit_in(ident.unit, period) == row["commune_code"]
                # Sort key: closer tax match, same unit, seen most recently, then ids: deterministic.
                pairs.append(((tier, not same_unit, _neg(ident.last_period), ident.registry_id, pos), pos, ident))
        for _, pos, ident in sorted(pairs, key=lambda p: p[0]):
            if result[pos] is None and ident.registry_id not in taken:
                result[pos] = (ident.registry_id, rule, ident)
                taken.add(ident.registry_id)
    out = []
    used = set(known)
    for pos, row in enumerate(rows):
        if result[pos] is not None:
            out.append(result[pos])
            continue
        base = f"{row['kind']}-{period}-{row['commune_code']}-{row['row_id']}"
        rid, n = base, 1
        while rid in used:
            n += 1
            rid = f"{base}#{n}"
        used.add(rid)
        out.append((rid, "new", None))
    return out  # type: ignore[return-value]


def _first_ids(quarter: pl.DataFrame, period: str) -> list[str] | None:
    """The ids of the rows of a kind's first quarter, where every row starts an identity: `_match_quarter`'s
    `kind-period-unit-id`, as one expression. None when two rows would share one: `_match_quarter` then numbers
    them (`#2`, …) in row order."""
    base = quarter.select(
        pl.concat_str(pl.col("kind"), pl.lit(f"-{period}-"), pl.col("commune_code"), pl.lit("-"), pl.col("row_id"))
    ).to_series()
    return base.to_list() if base.null_count() == 0 and base.is_unique().all() else None


def _neg(period: str) -> tuple[int, int]:
    year, quarter = period.split("-Q")
    return (-int(year), -int(quarter))


def match(stacked: pl.DataFrame, unit_in: UnitIn) -> pl.DataFrame:
    """`stacked` (see `stack`) with `registry_id`, `match_rule`, `previous_period` and
    `previous_commune_code`: every row joined to exactly one identity."""
    ids: list[str] = []
    rules: list[str] = []
    earlier: list[_Identity | None] = []
    ordered = stacked.sort("kind", "period", "commune_code", "row_id", "name", "source_file")
    for _, by_kind in ordered.group_by("kind", maintain_order=True):
        known: dict[str, _Identity] = {}
        quarters = list(by_kind.group_by("period", maintain_order=True))
        for k, ((period,), quarter) in enumerate(quarters):
            firsts = None if known else _first_ids(quarter, str(period))
            if firsts is None:
                matched = _match_quarter(quarter.select(_ROW_FIELDS).to_dicts(), known, unit_in, str(period))
            else:
                matched = [(rid, "new", None) for rid in firsts]
            ids.extend(rid for rid, _, _ in matched)
            rules.extend(rule for _, rule, _ in matched)
            earlier.extend(before for _, _, before in matched)
            if k + 1 == len(quarters):
                continue  # the kind's latest quarter: no later one joins its identities
            columns = [quarter.get_column(name).to_list() for name in _ROW_FIELDS[1:]]
            for (rid, _, before), unit, row_id, name_key, tax in zip(matched, *columns, strict=True):
                old_tax = before.tax if before else None
                known[rid] = _Identity(rid, str(period), unit, row_id, name_key, tax or old_tax)
    return ordered.with_columns(
        pl.Series("registry_id", ids, pl.String),
        pl.Series("match_rule", rules, pl.String),
        pl.Series("previous_period", [b.last_period if b else None for b in earlier], pl.String),
        pl.Series("previous_commune_code", [b.unit if b else None for b in earlier], pl.String),
    )
