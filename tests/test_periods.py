"""Unit tests of `schemas.periods`: the period key, its neighbours, its folders and its written forms."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from schemas.periods import (
    folder_period,
    is_period_key,
    parse_period,
    period_folders,
    period_label,
    period_parts,
    previous_period,
    quarter_end,
    same_quarter_last_year,
)


@pytest.mark.parametrize(
    ("period", "end"),
    [
        ("2024-Q1", date(2024, 3, 31)),
        ("2024-Q2", date(2024, 6, 30)),
        ("2024-Q3", date(2024, 9, 30)),
        ("2024-Q4", date(2024, 12, 31)),
    ],
)
def test_quarter_end(period: str, end: date) -> None:
    assert quarter_end(period) == end


@pytest.mark.parametrize(
    ("period", "before", "year_ago"),
    [("2025-Q1", "2024-Q4", "2024-Q1"), ("2024-Q3", "2024-Q2", "2023-Q3"), ("2024-Q4", "2024-Q3", "2023-Q4")],
)
def test_neighbours(period: str, before: str, year_ago: str) -> None:
    assert previous_period(period) == before
    assert same_quarter_last_year(period) == year_ago


@pytest.mark.parametrize("text", ["2024-Q3", "1999-Q1"])
def test_keys(text: str) -> None:
    assert is_period_key(text)
    assert folder_period(*period_folders(text)) == text
    assert parse_period(text) == text


@pytest.mark.parametrize("text", ["2024-Q5", "2024-q3", "../2024-Q3", "2024-Q3\n", "24-Q3", ""])
def test_not_keys(text: str) -> None:
    assert not is_period_key(text)


@pytest.mark.parametrize(
    ("year", "quarter", "expected"), [("2024", "Q3", "2024-Q3"), ("2024", "q2", "2024-Q2"), ("2024", "Q5", None)]
)
def test_folder_names(year: str, quarter: str, expected: str | None) -> None:
    assert folder_period(year, quarter) == expected
    assert folder_period("24", quarter) is None


@pytest.mark.parametrize("style", ["quy", "roman", "iso", "q"])
@pytest.mark.parametrize("period", ["2024-Q1", "2024-Q3", "2025-Q4"])
def test_every_label_reads_back(style: str, period: str) -> None:
    assert parse_period(period_label(period, style)) == period


def test_labels() -> None:
    assert period_label("2024-Q3") == "Quý 3/2024"
    assert period_label("2024-Q3", "roman") == "Quý III/2024"
    assert period_parts("2024-Q3") == (2024, 3)
    with pytest.raises(ValueError, match="unknown period style"):
        period_label("2024-Q3", "month")


# ---------------------------------------------------------------------------------------------
# How clerks write a period


@pytest.mark.parametrize(
    "text",
    [
        "2024-Q3",
        "2024-q3",
        "Quý 3/2024",
        "quý 3/2024",
        "QUÝ 3/2024",
        "Quy 3/2024",
        "Q3 2024",
        "Q3/2024",
        "Quý III/2024",
        "quý III năm 2024",
        "quý 3 năm 2024",
        unicodedata.normalize("NFD", "Quý 3/2024"),
        " Quý  3 / 2024 ",
    ],
)
def test_period_forms(text: str) -> None:
    assert parse_period(text) == "2024-Q3"


@pytest.mark.parametrize(("text", "expected"), [("Quý I/2025", "2025-Q1"), ("Quý IV/2024", "2024-Q4")])
def test_roman_quarters(text: str, expected: str) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["Quý 5/2024", "2024", "Tháng 9/2024", "abc", "", None, "Quý 3", "2024-Q0"])
def test_invalid_periods(text: object) -> None:
    assert parse_period(text) is None


def test_zero_padded_quarters() -> None:
    assert parse_period("Quý 03/2024") == "2024-Q3"
