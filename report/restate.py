"""Restate commune indicators on today's communes, following ``merged_into`` in communes.csv.

Communes merge and move (in July 2025 districts were abolished and communes merged).
An earlier quarter's commune indicators are summed onto the commune each one became,
so series can be compared across the change. Only additive indicators (counts,
persons, amounts) are restated; means are not.
"""

from __future__ import annotations

import polars as pl

from schemas import warehouse as wh

ADDITIVE_UNITS = ("count", "persons", "mvnd")


def successors(communes: pl.DataFrame) -> dict[str, str]:
    """Commune code → the code it is today (following ``merged_into`` to its end; cycles stop)."""
    nxt = {c: m for c, m in communes.select("code", "merged_into").iter_rows() if m is not None and m != "" and m != c}
    out = {}
    for code in communes["code"].to_list():
        seen, cur = {code}, code
        while cur in nxt and nxt[cur] not in seen:
            cur = nxt[cur]
            seen.add(cur)
        out[code] = cur
    return out


def today_names(communes: pl.DataFrame) -> dict[str, str]:
    """Names of today's communes: the ``name_2025`` given for a successor code, else the commune's own name.

    A successor may reuse the code of one of the communes it replaced under a new name
    (18586 was Thạch Kênh and is Đông Kinh), so the successor's name wins.
    """
    names: dict[str, str] = {}
    if "name_2025" in communes.columns and "code_2025" in communes.columns:
        names.update(communes.select("code_2025", "name_2025").drop_nulls().iter_rows())
    for code, name in communes.select("code", "name").iter_rows():
        names.setdefault(code, name)
    return names


def restate(indicators: pl.DataFrame, communes: pl.DataFrame) -> pl.DataFrame:
    """Commune indicators summed onto today's communes, with the original communes listed."""
    schema = wh.polars_schema(wh.IndicatorsRestated)
    rows = indicators.filter((pl.col("geo_level") == "commune") & pl.col("unit").is_in(ADDITIVE_UNITS))
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    mapping = successors(communes)
    names = today_names(communes)
    mapped = rows.with_columns(
        pl.col("commune_code").replace_strict(mapping, default=pl.col("commune_code")).alias("today")
    )
    out = mapped.group_by("period", "year", "quarter", "today", "indicator", "breakdown", "unit").agg(
        pl.col("value").sum(),
        pl.col("commune_code").unique().sort().str.join(",").alias("from_communes"),
    )
    return (
        out.rename({"today": "commune_code"})
        .with_columns(pl.col("commune_code").replace_strict(names, default=None).alias("commune_name"))
        .select(list(schema))
        .cast(schema)
        .sort("commune_code", "indicator", "breakdown", nulls_last=False)
    )
