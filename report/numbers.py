"""Vietnamese number formatting for the report: 136.941 triệu đồng, 19,70%, 03 HTX."""

from __future__ import annotations


def vn_number(value: float | None, decimals: int = 0) -> str:
    """``1234567.5`` → ``1.234.567,5`` (thousands with dots, decimal comma)."""
    if value is None:
        return "…"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def vn_count(value: float | None) -> str:
    """A count as the report writes it: two digits below ten (``03``)."""
    if value is None:
        return "…"
    n = round(value)
    return f"{n:02d}" if 0 <= n < 10 else vn_number(n)


def vn_pct(value: float | None) -> str:
    """A percentage with two decimals and a decimal comma: ``19,70``."""
    return vn_number(value, 2)


def vn_amount(value: float | None) -> str:
    """An amount in million VND: whole when whole, else one decimal."""
    if value is None:
        return "…"
    return vn_number(value, 0 if float(value).is_integer() else 1)
