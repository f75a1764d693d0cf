"""Which feedback workbook each problem goes to after a refresh: one per commune, one for the district file."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from forms.annotate import write_feedback
from forms.paths import inside, safe_stem
from ingest.text import fold


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "tep"


def write_commune_feedback(
    out_dir: Path,
    problems: pl.DataFrame,
    names: dict[str, str],
    period: str,
    titles: dict[str, str] | None = None,
) -> list[Path]:
    """Write ``<commune code>-<name>.xlsx`` for every commune with a problem (files of an unknown commune and
    the district file get one named after the file); returns the files written. ``titles`` are the units' names
    as written in the workbook's title ("phường Hà Huy Tập"; default "Xã <name>").

    Names are slugs of the commune (or file) name, so nothing a submission says can
    place a workbook outside ``out_dir``."""
    written = []
    used: set[str] = set()
    keyed = problems.with_columns(
        pl.when(pl.col("commune_code").is_not_null())
        .then(pl.col("commune_code"))
        .otherwise(pl.lit("file:") + pl.col("source_file"))
        .alias("_key")
    )
    for (key,), rows in keyed.group_by("_key", maintain_order=True):
        if str(key).startswith("file:"):
            source = str(key).removeprefix("file:")
            stem, title = safe_stem(_slug(Path(source).stem)), f"Tệp {source}"
        else:
            name = names.get(str(key), str(key))
            title = (titles or {}).get(str(key)) or f"xã {name}"
            stem, title = f"{safe_stem(key)}-{_slug(name)}", title[:1].upper() + title[1:]
        unique, n = stem, 1
        while unique in used:  # two files whose names fold alike (``x.xlsx``, ``x.csv/``) keep a workbook each
            n += 1
            unique = f"{stem}-{n}"
        used.add(unique)
        target = inside(out_dir, out_dir / f"{unique}.xlsx")
        written.append(write_feedback(target, rows.drop("_key"), f"{title} — kết quả kiểm tra báo cáo {period}"))
    return written
