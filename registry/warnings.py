"""Warnings across quarters: what one identity's quarters say together that no single quarter can.

Each warning concerns the later quarter's file (its row, or the file itself for a
cooperative gone missing) and states both quarters' values, in Vietnamese and English.
They land in `registry_warnings` (the columns of `rejected_rows`), written by the
registry alone: a quarter's own tables keep one writer, and a corrected earlier quarter
changes these warnings when the registry is rebuilt.
"""

from __future__ import annotations

import polars as pl

from registry.units import UnitIn
from schemas import warehouse as wh
from schemas.fields import sheet_columns
from schemas.periods import period_parts, previous_period
from schemas.rules import REGISTRY_RULES, message
from schemas.sheets import SHEETS
from schemas.vocab import RATINGS, STATUSES

DROP_SHARE = 0.10
"""A value at or below this share of the previous quarter's (a fall of 90 % or more) is warned."""
RATING_JUMP = 2
"""Grades a rating may not move by in one step without a warning."""
GRADES = {code: i for i, code in enumerate(RATINGS.codes)}
ID_COLUMN = {"HTX": "coop_id", "THT": "group_id"}
DROP_COLUMNS = ("members", "charter_capital_mvnd")


def _header(sheet: str, column: str) -> str:
    return next(c.header_vi for c in sheet_columns(SHEETS[sheet]) if c.name == column)


def _labels(vocab_code: str | None, kind: str) -> tuple[str, str]:
    """(Vietnamese, English) label of a status or rating code."""
    if vocab_code is None:
        return ("(trống)", "(empty)")
    vocab = RATINGS if kind == "rating" else STATUSES
    term = next(t for t in vocab.terms if t.code == vocab_code)
    return (term.label_vi, term.label_en)


def _where(file: str, row: int | None) -> tuple[str, str]:
    return (
        f"tệp {file}" + (f", dòng {row}" if row is not None else ""),
        f"file {file}" + (f", row {row}" if row is not None else ""),
    )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _warning(
    rule: str,
    *,
    period: str,
    commune: str | None,
    file: str,
    sha: str | None,
    sheet: str,
    row: int | None,
    column: str,
    value: tuple[object, object],
    detail: tuple[object, object],
) -> dict:
    """One row of `registry_warnings`; `value` and `detail` are (Vietnamese, English)."""
    col = _header(sheet, column)
    vi, _ = message(rule, file=file, sheet=sheet, row=row, col=col, value=value[0], detail=detail[0])
    _, en = message(rule, file=file, sheet=sheet, row=row, col=col, value=value[1], detail=detail[1])
    year, quarter = period_parts(period)
    return {
        "period": period,
        "year": year,
        "quarter": quarter,
        "commune_code": commune,
        "source_file": file,
        "source_sha256": sha,
        "sheet": sheet,
        "source_row": row,
        "column": column,
        "rule": rule,
        "severity": REGISTRY_RULES[rule].severity,
        "message_vi": vi,
        "message_en": en,
        "raw_values": None,
    }


def _with_previous(matched: pl.DataFrame) -> pl.DataFrame:
    """Each row beside the identity's row of its previous quarter (`prev_*` columns)."""
    prev = matched.select(
        "registry_id",
        pl.col("period").alias("previous_period"),
        *[
            pl.col(c).alias(f"prev_{c}")
            for c in ("status", "rating", "members", "charter_capital_mvnd", "source_file", "source_row")
        ],
    )
    return matched.filter(pl.col("previous_period").is_not_null()).join(
        prev, on=["registry_id", "previous_period"], how="inner"
    )


def _row_place(r: dict) -> dict:
    return {
        "period": r["period"],
        "commune": r["commune_code"],
        "file": r["source_file"],
        "sha": r["source_sha256"],
        "sheet": r["kind"],
        "row": r["source_row"],
    }


def _quoted(labels: tuple[str, str]) -> tuple[str, str]:
    """A label as each language quotes it: «Vietnamese», 'English'."""
    return (f"«{labels[0]}»", f"'{labels[1]}'")


def _changed(
    rule: str, r: dict, column: str, now: tuple[str, str], before: tuple[str, str], earlier: str, where: tuple[str, str]
) -> dict:
    """A warning on row `r` whose value (`now`, in each language) changed from `before` in the quarter `earlier`,
    read at `where`."""
    return _warning(
        rule,
        **_row_place(r),
        column=column,
        value=(f"{now[0]} ({r['period']})", f"{now[1]} ({r['period']})"),
        detail=(f"{earlier}: {before[0]}, {where[0]}", f"{earlier}: {before[1]}, {where[1]}"),
    )


def rating_jumps(pairs: pl.DataFrame) -> list[dict]:
    """Ratings that moved two grades or more since the identity's previous quarter."""
    out = []
    for r in pairs.filter(pl.col("rating").is_not_null() & pl.col("prev_rating").is_not_null()).iter_rows(named=True):
        if abs(GRADES[r["rating"]] - GRADES[r["prev_rating"]]) < RATING_JUMP:
            continue
        now, before = _quoted(_labels(r["rating"], "rating")), _quoted(_labels(r["prev_rating"], "rating"))
        where = _where(r["prev_source_file"], r["prev_source_row"])
        out.append(_changed("registry_rating_jump", r, "rating", now, before, r["previous_period"], where))
    return out


def drops(pairs: pl.DataFrame) -> list[dict]:
    """Members or capital at 10 % or less of the previous quarter's."""
    out = []
    for col in DROP_COLUMNS:
        low = pairs.filter(
            (pl.col(f"prev_{col}") > 0)
            & pl.col(col).is_not_null()
            & (pl.col(col) <= DROP_SHARE * pl.col(f"prev_{col}"))
        )
        for r in low.iter_rows(named=True):
            if r["kind"] == "THT" and col != "members":
                continue
            where = _where(r["prev_source_file"], r["prev_source_row"])
            now, prev = _number(r[col]), _number(r[f"prev_{col}"])
            out.append(_changed("registry_drop", r, col, (now, now), (prev, prev), r["previous_period"], where))
    return out


def new_seen_before(matched: pl.DataFrame) -> list[dict]:
    """Status new on an identity already seen in an earlier year."""
    first = (
        matched.sort("period")
        .group_by("registry_id")
        .agg(
            pl.col("period").first().alias("first_period"),
            pl.col("status").first().alias("first_status"),
            pl.col("source_file").first().alias("first_file"),
            pl.col("source_row").first().alias("first_row"),
        )
    )
    rows = matched.filter(pl.col("status") == "new").join(first, on="registry_id")
    out = []
    for r in rows.iter_rows(named=True):
        if period_parts(r["first_period"])[0] >= r["year"]:
            continue
        status, before = _quoted(_labels("new", "status")), _quoted(_labels(r["first_status"], "status"))
        where = _where(r["first_file"], r["first_row"])
        out.append(_changed("registry_new_seen_before", r, "status", status, before, r["first_period"], where))
    return out


def tax_codes_in_two_units(matched: pl.DataFrame) -> list[dict]:
    """A tax code written by two units in one quarter: each row is warned, naming the others and the tax code
    its identity had in its previous quarter."""
    with_tax = matched.filter(pl.col("tax_code").is_not_null())
    shared = (
        with_tax.group_by("period", "tax_code")
        .agg(pl.col("commune_code").n_unique().alias("units"))
        .filter(pl.col("units") > 1)
    )
    earlier = matched.select(
        "registry_id", pl.col("period").alias("previous_period"), pl.col("tax_code").alias("_tax_before")
    )
    rows = (
        with_tax.join(shared.select("period", "tax_code"), on=["period", "tax_code"])
        .join(earlier, on=["registry_id", "previous_period"], how="left")
        .sort("period", "tax_code", "commune_code", "row_id")
    )
    out = []
    for r in rows.iter_rows(named=True):
        others = rows.filter(
            (pl.col("period") == r["period"])
            & (pl.col("tax_code") == r["tax_code"])
            & (pl.col("commune_code") != r["commune_code"])
        )
        places = [_where(o["source_file"], o["source_row"]) for o in others.iter_rows(named=True)]
        vi, en = "; ".join(p[0] for p in places), "; ".join(p[1] for p in places)
        if r["previous_period"] is not None:
            before = r["_tax_before"]
            vi += f"; {r['previous_period']}: {before or '(trống)'}"
            en += f"; {r['previous_period']}: {before or '(empty)'}"
        out.append(
            _warning(
                "registry_tax_code_two_units",
                **_row_place(r),
                column="tax_code",
                value=(f"{r['tax_code']} ({r['period']})", f"{r['tax_code']} ({r['period']})"),
                detail=(vi, en),
            )
        )
    return out


def missing(matched: pl.DataFrame, reported: pl.DataFrame, unit_in: UnitIn) -> list[dict]:
    """Identities in last quarter's report, missing from this quarter's report of their unit (or its
    successor), whose last status was not suspended. A unit without a report this quarter is not warned:
    completeness already says it did not report."""
    files = {(p, c): (f, s) for p, c, f, s in reported.iter_rows()}
    periods = sorted(set(reported["period"].to_list()), key=period_parts)
    out = []
    for period in periods:
        before = previous_period(period)
        rows = matched.filter((pl.col("period") == before) & (pl.col("status") != "suspended")).join(
            matched.filter(pl.col("period") == period).select("registry_id"),
            on="registry_id",
            how="anti",
            maintain_order="left",
        )
        for r in rows.iter_rows(named=True):
            unit = unit_in(r["commune_code"], period)
            if (period, unit) not in files:
                continue
            file, sha = files[(period, unit)]
            status = _labels(r["status"], "status")
            rating = _labels(r["rating"], "rating") if r["rating"] else ("", "")
            where = _where(r["source_file"], r["source_row"])
            state_vi = f"«{status[0]}»" + (f", «{rating[0]}»" if r["rating"] else "")
            state_en = f"'{status[1]}'" + (f", '{rating[1]}'" if r["rating"] else "")
            who = f"{r['name']} ({r['row_id']})"
            out.append(
                _warning(
                    "registry_missing",
                    period=period,
                    commune=unit,
                    file=file,
                    sha=sha,
                    sheet=r["kind"],
                    row=None,
                    column=ID_COLUMN[r["kind"]],
                    value=(who, who),
                    detail=(f"{before}: {state_vi}, {where[0]}", f"{before}: {state_en}, {where[1]}"),
                )
            )
    return out


def registry_warnings(matched: pl.DataFrame, reported: pl.DataFrame, unit_in: UnitIn) -> pl.DataFrame:
    """Every warning across quarters, sorted like `rejected_rows`."""
    schema = wh.polars_schema(wh.RegistryWarnings)
    pairs = _with_previous(matched)
    rows = (
        missing(matched, reported, unit_in)
        + tax_codes_in_two_units(matched)
        + new_seen_before(matched)
        + rating_jumps(pairs)
        + drops(pairs)
    )
    return pl.DataFrame(rows, schema=schema).sort(
        "period", "source_file", "sheet", "source_row", "column", "rule", "message_en", nulls_last=False
    )
