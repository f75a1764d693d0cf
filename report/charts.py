"""Charts of the report as PNG: rating distribution, sectors, quarter-on-quarter trend, map of communes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from schemas.vocab import RATINGS, SECTORS

DPI = 150
_RATING_LABELS = [*(t.label_vi for t in RATINGS.terms), "Tạm dừng"]
_RATING_KEYS = [*(t.code for t in RATINGS.terms), "suspended"]
COLORS = ["#2e7d32", "#7cb342", "#fbc02d", "#e64a19", "#757575"]
MAP_LABELS = 40
"""The map names every unit up to this many, else only this many with the most cooperatives."""


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def rating_chart(values: dict[str, float], path: Path) -> Path:
    """Bar chart: cooperatives by rating (count and share)."""
    counts = [values.get(f"htx.rating.{k}.count", 0) for k in _RATING_KEYS]
    pcts = [values.get(f"htx.rating.{k}.pct", 0) for k in _RATING_KEYS]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    bars = ax.bar(_RATING_LABELS, counts, color=COLORS)
    for bar, pct in zip(bars, pcts, strict=True):
        ax.annotate(
            f"{pct:.2f}%".replace(".", ","),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_title("HTX theo kết quả xếp loại")
    ax.set_ylabel("Số HTX")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def sector_chart(values: dict[str, float], path: Path) -> Path:
    """Horizontal bars: cooperatives by sector."""
    labels = [t.label_vi for t in SECTORS.terms]
    counts = [values.get(f"htx.sector.{t.code}.count", 0) for t in SECTORS.terms]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.barh(labels[::-1], counts[::-1], color="#1565c0")
    for i, c in enumerate(counts[::-1]):
        ax.annotate(f"{c:.0f}", (c, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_title("HTX theo lĩnh vực")
    ax.set_xlabel("Số HTX")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def trend_chart(history: pl.DataFrame, path: Path) -> Path:
    """Lines over quarters: cooperatives in total and by rating (from report_figures of past periods)."""
    ids = ["htx.total", *(f"htx.rating.{k}.count" for k in _RATING_KEYS)]
    names = ["Tổng số HTX", *_RATING_LABELS]
    wide = history.filter(pl.col("figure_id").is_in(ids)).pivot(on="figure_id", index="period", values="value")
    wide = wide.sort("period")
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for fid, name, color in zip(ids, names, ["#000000", *COLORS], strict=True):
        if fid in wide.columns:
            ax.plot(wide["period"].to_list(), wide[fid].to_list(), marker="o", label=name, color=color)
    ax.set_title("Số HTX qua các quý")
    ax.legend(fontsize=8, ncols=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


def commune_map(communes: pl.DataFrame, counts: dict[str, int], path: Path) -> Path:
    """Communes at their coordinates, sized by their number of cooperatives."""
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    located = communes.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    if located.height:
        sizes = [40 + 25 * counts.get(c, 0) for c in located["code"].to_list()]
        ax.scatter(
            located["longitude"].to_list(),
            located["latitude"].to_list(),
            s=sizes,
            alpha=0.6,
            color="#00897b",
            edgecolors="#004d40",
        )
        labelled = located.iter_rows(named=True)
        if located.height > MAP_LABELS:  # a province: name only the units with the most cooperatives
            labelled = sorted(labelled, key=lambda r: -counts.get(r["code"], 0))[:MAP_LABELS]
        for r in labelled:
            ax.annotate(
                f"{r['name']} ({counts.get(r['code'], 0)})",
                (r["longitude"], r["latitude"]),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
    else:
        ax.text(0.5, 0.5, "communes.csv không có toạ độ", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Số HTX theo xã (vị trí theo toạ độ)")
    ax.set_xlabel("Kinh độ")
    ax.set_ylabel("Vĩ độ")
    ax.set_aspect("equal", adjustable="datalim")
    return _save(fig, path)
