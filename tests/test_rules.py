"""One case per rule of the catalogue (``schemas.rules.RULES``), each with a real file.

The cases are written into one period folder (each case its own file and commune) and
processed by a single ``process_period`` call; cases that need a patched limit run alone.
For every case the rejected-rows line is checked (rule, severity, sheet, row, column and
both messages naming file, sheet, row and column header), and then what the rule does
to the data: a row error leaves the row out and keeps the rest of the file, a file error
rejects the file (the commune counts as not submitted), a warning keeps the row.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import ingest.workbook
from ingest.completeness import completeness
from ingest.legacy_fonts import to_tcvn3
from ingest.reference import load_reference
from pipeline.review_store import append_decisions
from schemas import vocab
from schemas.rules import RULES
from schemas.warehouse import Reviews, polars_schema
from tests import builders as b
from tests.builders import (
    PERIOD,
    column_letter,
    columns,
    communes,
    data_row,
    district,
    header,
    header_row,
    htx_rows,
    issues,
    log_row,
    make_raw_dir,
    q3,
    run,
    set_formulas,
    submission,
    summary_row,
    valid_htx_row,
    valid_support_row,
    valid_tht_row,
    write_csv_folder,
)

TITLE = ["PHỤ BIỂU 01: BÁO CÁO KINH TẾ TẬP THỂ", None]  # two rows above every header
HEADER_ROW = header_row(len(TITLE))  # Excel row 3
FIRST = data_row(0, len(TITLE))  # Excel row 4
SECOND = data_row(1, len(TITLE))  # Excel row 5
FACTS = {"HTX": "cooperatives", "THT": "coop_groups", "TongHop": "commune_summaries", "HoTro": "support_disbursements"}
OUTSIDE_COMMUNE = ("99901", "Thạch Cũ")  # valid until 2024-Q2 only


@dataclass
class Case:
    """A file that breaks (or warns on) one rule, and where the problem must be reported."""

    id: str
    rule: str
    build: Callable[[Path, str, str], None]  # (folder, file name, commune name)
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    header: str | None = None  # header text the messages must quote (default: the model's)
    kind: str = "row_error"  # row_error, file_error, warning
    file: str = ""  # default: <id>.xlsx
    patch: dict[str, Any] = field(default_factory=dict)  # ingest.workbook limits: run alone
    alone: bool = False  # review settings or the officer's decisions: run alone

    @property
    def name(self) -> str:
        return self.file or f"{self.id}.xlsx"


# ---------------------------------------------------------------------------------------------
# File builders


def htx_case(**bad: Any) -> Callable[[Path, str, str], None]:
    """A workbook whose HTX sheet holds a valid row (row 4) then a row with ``bad`` cells (row 5)."""

    def build(folder: Path, name: str, commune: str) -> None:
        rows = [valid_htx_row(coop_id="HTX-001"), valid_htx_row(**{"coop_id": "HTX-002", "name": "HTX Thử", **bad})]
        submission(folder / name, htx=rows, title=TITLE, commune=commune)

    return build


def tht_case(**bad: Any) -> Callable[[Path, str, str], None]:
    """A workbook whose THT sheet holds a valid row (row 4) then a row with ``bad`` cells (row 5)."""

    def build(folder: Path, name: str, commune: str) -> None:
        rows = [valid_tht_row(group_id="THT-001"), valid_tht_row(**{"group_id": "THT-002", "name": "THT Thử", **bad})]
        submission(folder / name, tht=rows, title=TITLE, commune=commune)

    return build


def summary_case(**bad: Any) -> Callable[[Path, str, str], None]:
    """A workbook whose TongHop row (row 4) has ``bad`` cells."""

    def build(folder: Path, name: str, commune: str) -> None:
        htx, tht = htx_rows(2), [valid_tht_row()]
        fields = {"commune": commune, **bad}
        submission(folder / name, htx=htx, tht=tht, summary=summary_row(htx, tht, **fields), title=TITLE)

    return build


def later_columns_case(sheet: str, **cells: Any) -> Callable[[Path, str, str], None]:
    """A workbook whose `sheet` also has columns of a later form (`cells` on its second row, row 5)."""

    def build(folder: Path, name: str, commune: str) -> None:
        names = {"HTX": columns("HTX") + list(cells), "THT": columns("THT") + list(cells)}
        if sheet == "HTX":
            htx = [valid_htx_row(coop_id="HTX-001"), {**valid_htx_row(coop_id="HTX-002"), **cells}]
            submission(folder / name, htx=htx, title=TITLE, commune=commune, cols={"HTX": names["HTX"]})
        else:
            tht = [valid_tht_row(group_id="THT-001"), {**valid_tht_row(group_id="THT-002"), **cells}]
            submission(folder / name, tht=tht, title=TITLE, commune=commune, cols={"THT": names["THT"]})

    return build


def workbook(**kwargs: Any) -> Callable[[Path, str, str], None]:
    """A workbook written by :func:`submission` with these arguments."""

    def build(folder: Path, name: str, commune: str) -> None:
        submission(folder / name, **{"title": TITLE, "commune": commune, **kwargs})

    return build


def raw_bytes(data: bytes) -> Callable[[Path, str, str], None]:
    def build(folder: Path, name: str, commune: str) -> None:
        (folder / name).write_bytes(data)

    return build


def truncated_workbook(folder: Path, name: str, commune: str) -> None:
    full = submission(folder / name, htx=htx_rows(20), commune=commune)
    full.write_bytes(full.read_bytes()[:1500])


ENCRYPTED = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    + bytes(504)
    + "EncryptionInfo".encode("utf-16-le")
    + bytes(64)
    + "EncryptedPackage".encode("utf-16-le")
    + bytes(1024)
)


def two_summaries(**second: Any) -> Callable[[Path, str, str], None]:
    """TongHop with its row (row 4) and a second row (row 5) with ``second`` cells."""

    def build(folder: Path, name: str, commune: str) -> None:
        htx, tht = htx_rows(2), [valid_tht_row()]
        first = summary_row(htx, tht, commune=commune)
        submission(folder / name, htx=htx, tht=tht, summary=[first, {**first, **second}], title=TITLE)

    return build


def outlier_file(folder: Path, name: str, commune: str) -> None:
    rows = htx_rows(6)
    rows[3]["charter_capital_mvnd"] = 600_000  # 1000× the median of 500 and more
    submission(folder / name, htx=rows, title=TITLE, commune=commune)


def duplicate_ids(folder: Path, name: str, commune: str) -> None:
    rows = [valid_htx_row(coop_id="HTX-001"), valid_htx_row(coop_id="HTX-007"), valid_htx_row(coop_id="HTX-007")]
    submission(folder / name, htx=rows, title=TITLE, commune=commune)


def duplicate_group_ids(folder: Path, name: str, commune: str) -> None:
    rows = [valid_tht_row(group_id="THT-001"), valid_tht_row(group_id="T-9"), valid_tht_row(group_id="T-9")]
    submission(folder / name, tht=rows, title=TITLE, commune=commune)


def support_file(folder: Path, name: str, commune: str) -> None:
    # HTX-001 is reported by many communes of the batch; HTX-999 by none
    district(
        folder / name,
        [valid_support_row(coop_id="HTX-001"), valid_support_row(coop_id="HTX-999"), valid_support_row()],
        title=TITLE,
    )


def resubmitted(folder: Path, name: str, commune: str) -> None:
    submission(folder / name, title=TITLE, commune=commune, report_date=date(2024, 10, 2))
    submission(folder / f"{name[:-5]}-lan-2.xlsx", title=TITLE, commune=commune, report_date=date(2024, 10, 9))


def _review_setting(folder: Path, line: str) -> None:
    """A review setting in the raw directory's ``reference/district.yaml``."""
    (folder.parent.parent / "reference" / "district.yaml").write_text(f"name: Thạch Hà\n{line}\n", encoding="utf-8")


def held_for_review(folder: Path, name: str, commune: str) -> None:
    _review_setting(folder, "review: required")
    submission(folder / name, title=TITLE, commune=commune)


def arrived_after_lock(folder: Path, name: str, commune: str) -> None:
    """Deadline 15/10/2024, locked 10 days later; the file arrives on 1/12/2024."""
    _review_setting(folder, "lock_after_days: 10")
    submission(folder / name, title=TITLE, commune=commune, mtime=datetime(2024, 12, 1, tzinfo=UTC).timestamp())


def returned_by_officer(folder: Path, name: str, commune: str) -> None:
    """The officer returned this very file (a decision in the warehouse beside the raw directory)."""
    path = submission(folder / name, title=TITLE, commune=commune)
    decision = {
        "period": PERIOD,
        "year": 2024,
        "quarter": 3,
        "commune_code": COMMUNE_OF["returned"][0],
        "decision": "returned",
        "source_file": f"2024/Q3/{name}",
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "decided_by": "Cán bộ Thử",
        "decided_at": datetime(2024, 10, 20, tzinfo=UTC),
        "note": "Thiếu HTX Thạch Liên",
        "decision_id": "0" * 32,
    }
    frame = pl.DataFrame([decision], schema=polars_schema(Reviews))
    append_decisions(folder.parent.parent.parent / "warehouse", frame)


def uncached_formula(folder: Path, name: str, commune: str) -> None:
    """Members of the second cooperative (row 5) as a formula saved without its value (openpyxl)."""
    htx_case()(folder, name, commune)
    set_formulas(folder / name, "HTX", {f"{column_letter('HTX', 'members')}{SECOND}": "=20+5"})


def converted_file(folder: Path, name: str, commune: str) -> None:
    """Capital in thousand đồng (500 000 = 500 million) in HTX; TongHop in million."""
    row = valid_htx_row(charter_capital_mvnd=500_000)
    summary = summary_row([valid_htx_row()], [valid_tht_row()], commune=commune)
    headers = {"HTX": {"charter_capital_mvnd": "Vốn điều lệ (nghìn đồng)"}}
    submission(folder / name, htx=[row], summary=summary, headers=headers, title=TITLE)


def csv_case(**bad: Any) -> Callable[[Path, str, str], None]:
    def build(folder: Path, name: str, commune: str) -> None:
        rows = [valid_htx_row(coop_id="HTX-001"), valid_htx_row(coop_id="HTX-002", **bad)]
        write_csv_folder(folder / name, htx=rows, commune=commune)

    return build


WITHOUT_MEMBERS = [c for c in columns("HTX") if c != "members"]
UNKNOWN_COLUMN = [*columns("HTX"), "Số điện thoại"]
DUPLICATE_COLUMN = [*columns("HTX"), "members"]
ACTIVE, NEW = vocab.STATUSES.label_vi("active"), vocab.STATUSES.label_vi("new")
AGRICULTURE, TRANSPORT = vocab.SECTORS.label_vi("agriculture"), vocab.SECTORS.label_vi("transport")

# ---------------------------------------------------------------------------------------------
# The cases

CASES = [
    # File errors
    Case("random-bytes", "file_unreadable", raw_bytes(bytes(range(256)) * 40), kind="file_error"),
    Case("truncated-zip", "file_unreadable", truncated_workbook, kind="file_error"),
    Case("not-a-workbook", "file_unreadable", raw_bytes(b"%PDF-1.4 ..."), kind="file_error", file="bao-cao.pdf"),
    Case("encrypted", "file_encrypted", raw_bytes(ENCRYPTED), kind="file_error"),
    Case("too-large", "file_too_large", workbook(), kind="file_error", patch={"MAX_UNCOMPRESSED_BYTES": 1000}),
    Case("no-tonghop", "sheet_missing", workbook(omit_sheets=["TongHop"]), kind="file_error", header="TongHop"),
    Case("no-htx", "sheet_missing", workbook(omit_sheets=["HTX"]), kind="file_error", header="HTX"),
    Case(
        "no-members-column",
        "column_missing",
        workbook(cols={"HTX": WITHOUT_MEMBERS}),
        sheet="HTX",
        row=None,  # a missing column is a file-level problem: no row holds it
        column="members",
        kind="file_error",
    ),
    Case("empty-tonghop", "summary_missing", workbook(summary=[]), sheet="TongHop", kind="file_error"),
    Case(
        "rows-of-rejected-file",
        "file_rejected",
        summary_case(commune="Xã Không Có Nữa"),
        sheet="HTX",
        row=FIRST,
        kind="file_error",
    ),
    Case(
        "unknown-commune",
        "commune_unknown",
        summary_case(commune="Xã Không Có"),
        sheet="TongHop",
        row=FIRST,
        column="commune",
        kind="file_error",
    ),
    Case(
        "period-invalid",
        "period_invalid",
        summary_case(period="Quý 5/2024"),
        sheet="TongHop",
        row=FIRST,
        column="period_text",
        kind="file_error",
    ),
    Case(
        "period-mismatch",
        "period_mismatch",
        summary_case(period="Quý 2/2024"),
        sheet="TongHop",
        row=FIRST,
        column="period_text",
        kind="file_error",
    ),
    Case(
        "report-date-invalid",
        "report_date_invalid",
        summary_case(report_date="31/02/2024"),
        sheet="TongHop",
        row=FIRST,
        column="report_date",
        kind="file_error",
    ),
    # Sheet error: every row of the sheet
    Case(
        "unit-unknown",
        "unit_unknown",
        workbook(htx=htx_rows(2), headers={"HTX": {"charter_capital_mvnd": "Vốn điều lệ (USD)"}}),
        sheet="HTX",
        row=SECOND,
        column="charter_capital_mvnd",
        header="Vốn điều lệ (USD)",
    ),
    # Row errors, sheet HTX (bad row on Excel row 5)
    Case("name-missing", "required", htx_case(name=None), "HTX", SECOND, "name"),
    Case("sector-missing", "required", htx_case(sector=None, subsector=None), "HTX", SECOND, "sector"),
    Case("members-not-integer", "type_integer", htx_case(members="12,5"), "HTX", SECOND, "members"),
    Case("members-text", "type_integer", htx_case(members="mười hai"), "HTX", SECOND, "members"),
    Case(
        "capital-text", "type_number", htx_case(charter_capital_mvnd="năm trăm"), "HTX", SECOND, "charter_capital_mvnd"
    ),
    Case("training-maybe", "type_bool", htx_case(digital_training="có lẽ"), "HTX", SECOND, "digital_training"),
    Case("sector-unknown", "domain", htx_case(sector="Nông lâm kết hợp"), "HTX", SECOND, "sector"),
    Case("rating-unknown", "domain", htx_case(rating="Xuất sắc"), "HTX", SECOND, "rating"),
    Case("capital-negative", "min_value", htx_case(charter_capital_mvnd=-5), "HTX", SECOND, "charter_capital_mvnd"),
    Case("members-negative", "min_value", htx_case(members="-3"), "HTX", SECOND, "members"),
    Case("founded-1950", "min_value", htx_case(founded_year=1950), "HTX", SECOND, "founded_year"),
    Case("ocop-6", "range", htx_case(ocop_stars=6), "HTX", SECOND, "ocop_stars"),
    Case("ocop-0", "range", htx_case(ocop_stars=0), "HTX", SECOND, "ocop_stars"),
    Case("tax-code", "format", htx_case(tax_code="12345"), "HTX", SECOND, "tax_code"),
    Case("founded-2025", "founded_after_period", htx_case(founded_year=2025), "HTX", SECOND, "founded_year"),
    Case("duplicate-id", "duplicate_id", duplicate_ids, "HTX", SECOND, "coop_id"),
    Case("duplicate-group-id", "duplicate_id", duplicate_group_ids, "THT", SECOND, "group_id"),
    Case(
        "no-subsector",
        "subsector_required",
        htx_case(sector=AGRICULTURE, subsector=None),
        "HTX",
        SECOND,
        "subsector",
    ),
    Case(
        "subsector-transport",
        "subsector_only_agriculture",
        htx_case(sector=TRANSPORT, subsector=vocab.SUBSECTORS.label_vi("crops")),
        "HTX",
        SECOND,
        "subsector",
    ),
    Case("no-rating", "rating_required", htx_case(status=ACTIVE, rating=None), "HTX", SECOND, "rating"),
    Case(
        "new-rated",
        "rating_unexpected",
        htx_case(status=NEW, founded_year=2024, rating=vocab.RATINGS.label_vi("good")),
        "HTX",
        SECOND,
        "rating",
    ),
    Case(
        "profit-above-revenue",
        "profit_above_revenue",
        htx_case(revenue_mvnd=100, profit_mvnd=150),
        "HTX",
        SECOND,
        "profit_mvnd",
    ),
    Case(
        "qualified-above-managers",
        "qualified_above_managers",
        htx_case(managers=2, managers_college=2, managers_vocational=1),
        "HTX",
        SECOND,
        "managers",
    ),
    Case(
        "loans-not-credit-fund",
        "credit_fields_not_credit_fund",
        htx_case(loans_disbursed_mvnd=100, loan_contracts=3),
        "HTX",
        SECOND,
        "loans_disbursed_mvnd",
    ),
    Case("formula-uncached", "formula_uncached", uncached_formula, "HTX", SECOND, "members"),
    # Row errors, sheet THT
    Case("group-id-missing", "required", tht_case(group_id=None), "THT", SECOND, "group_id"),
    Case("group-kind-unknown", "domain", tht_case(kind="Nuôi ong"), "THT", SECOND, "kind"),
    Case("group-no-rating", "rating_required", tht_case(rating=None), "THT", SECOND, "rating"),
    Case(
        "group-profit-above-revenue",
        "profit_above_revenue",
        tht_case(revenue_mvnd="1.000", profit_mvnd="1.500"),
        "THT",
        SECOND,
        "profit_mvnd",
    ),
    # Row errors, CSV folder (bad row on line 3)
    Case(
        "csv-capital-text",
        "type_number",
        csv_case(charter_capital_mvnd="không rõ"),
        "HTX",
        3,
        "charter_capital_mvnd",
        file="csv-capital-text.csv",
    ),
    # Row errors, sheet TongHop (row 4; the detail rows are still used)
    Case("htx-sum", "htx_ratings_sum", summary_case(htx_good=3), "TongHop", FIRST, "htx_total"),
    Case("tht-sum", "tht_ratings_sum", summary_case(tht_fair=2), "TongHop", FIRST, "tht_total"),
    Case("extra-summary", "summary_extra_row", two_summaries(), "TongHop", SECOND),
    Case("extra-summary-date", "type_date", two_summaries(report_date="không rõ"), "TongHop", SECOND, "report_date"),
    # Row error, district file
    Case("support-unknown-coop", "coop_unknown", support_file, "HoTro", SECOND, "coop_id", file="_district.xlsx"),
    # Warnings
    Case(
        "htx-few-members",
        "members_below_minimum",
        htx_case(members=3),
        "HTX",
        SECOND,
        "members",
        kind="warning",
    ),
    Case(
        "tht-few-members",
        "members_below_minimum",
        tht_case(members=1),
        "THT",
        SECOND,
        "members",
        kind="warning",
    ),
    Case(
        "reconciliation",
        "reconciliation",
        summary_case(htx_members=999),
        "TongHop",
        FIRST,
        "htx_members",
        kind="warning",
    ),
    Case("outlier", "outlier", outlier_file, "HTX", data_row(3, len(TITLE)), "charter_capital_mvnd", kind="warning"),
    Case(
        "unknown-column",
        "unknown_column",
        workbook(cols={"HTX": UNKNOWN_COLUMN}),
        "HTX",
        HEADER_ROW,
        header="Số điện thoại",
        kind="warning",
    ),
    Case(
        "duplicate-column",
        "duplicate_column",
        workbook(cols={"HTX": DUPLICATE_COLUMN}),
        "HTX",
        HEADER_ROW,
        "members",
        kind="warning",
    ),
    Case(
        "unit-converted",
        "unit_converted",
        converted_file,
        "HTX",
        HEADER_ROW,
        "charter_capital_mvnd",
        header="Vốn điều lệ (nghìn đồng)",
        kind="warning",
    ),
    Case(
        "legacy-font-unsure",
        "text_legacy_font_unsure",
        htx_case(name="HTX Höng"),  # Hửng in TCVN3, Hưng in VNI
        "HTX",
        SECOND,
        "name",
    ),
    Case(
        "legacy-font-converted",
        "text_legacy_font_converted",
        htx_case(name=to_tcvn3("HTX Đồng Tiến")),
        "HTX",
        SECOND,
        "name",
        kind="warning",
    ),
    Case(
        "member-types",
        "member_types_above_members",
        later_columns_case("HTX", members_individuals=20, members_households=10),  # 30 > 25 members
        "HTX",
        SECOND,
        "members",
    ),
    Case(
        "column-not-in-force",
        "column_not_in_force",
        later_columns_case("THT", registration_no="THT-2024/07"),  # in the form from 2024-Q4
        "THT",
        HEADER_ROW,
        "registration_no",
        kind="warning",
    ),
    Case(
        "outside-window",
        "commune_outside_window",
        workbook(commune=OUTSIDE_COMMUNE[1]),
        sheet="TongHop",
        row=FIRST,
        column="commune",
        kind="file_error",
    ),
    Case("superseded", "superseded", resubmitted, kind="warning"),
    Case("held", "submission_held", held_for_review, kind="warning", alone=True),
    Case("held-late", "submission_held_late", arrived_after_lock, kind="warning", alone=True),
    Case("returned", "submission_returned", returned_by_officer, kind="file_error", alone=True),
]


def _assign_communes() -> dict[str, tuple[str, str]]:
    """A distinct commune per case (the 22 of Thạch Hà, then test communes 99001…)."""
    pool = communes() + [(f"99{i:03d}", f"Thử Nghiệm {i:03d}") for i in range(1, 100)]
    out = {}
    for case, commune in zip(CASES, pool, strict=False):
        out[case.id] = commune
    out["outside-window"] = OUTSIDE_COMMUNE
    return out


COMMUNE_OF = _assign_communes()


def _write_reference(raw: Path) -> None:
    """Add the test communes (and one whose window ended in 2024-Q2) to communes.csv."""
    path = raw / "reference" / "communes.csv"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    width = len(text.splitlines()[0].split(","))
    extra = [(code, name, "") for code, name in COMMUNE_OF.values() if code.startswith("990")]
    extra.append((*OUTSIDE_COMMUNE, "2024-Q2"))
    lines = []
    for code, name, valid_to in dict.fromkeys(extra):
        cells = [code, name, "xa", "", valid_to, ""] + [""] * (width - 6)
        lines.append(",".join(cells))
    path.write_text(text + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _build(raw: Path, cases: list[Case]) -> None:
    _write_reference(raw)
    for case in cases:
        case.build(q3(raw), case.name, COMMUNE_OF[case.id][1])


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pl.DataFrame]]:
    raw = make_raw_dir(tmp_path_factory.mktemp("rules"))
    _build(raw, [c for c in CASES if not c.patch and not c.alone])
    return raw, run(raw)


def _tables_for(case: Case, batch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if not case.patch and not case.alone:
        return batch
    raw = make_raw_dir(tmp_path)
    _build(raw, [case])
    for name, value in case.patch.items():
        monkeypatch.setattr(ingest.workbook, name, value)
    return raw, run(raw)


def _facts_of(tables: dict[str, pl.DataFrame], source_file: str) -> dict[str, pl.DataFrame]:
    return {sheet: tables[t].filter(pl.col("source_file") == source_file) for sheet, t in FACTS.items()}


# ---------------------------------------------------------------------------------------------
# Tests


def test_every_rule_of_the_catalogue_has_a_case() -> None:
    covered = {c.rule for c in CASES}
    assert not covered - set(RULES), "cases name rules that are not in the catalogue"
    # Rules the law of 2024-Q3 does not have are produced by tests/test_law.py, in their own periods.
    in_force = {name for name, rule in RULES.items() if rule.in_force(PERIOD)}
    assert covered == in_force, f"rules no input produces: {sorted(in_force - covered)}"


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case, batch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, tables = _tables_for(case, batch, tmp_path, monkeypatch)
    src = f"2024/Q3/{case.name}"
    rule = RULES[case.rule]

    # the line in rejected_rows
    found = issues(tables, source_file=src, rule=case.rule)
    got = issues(tables, source_file=src).select("rule", "sheet", "source_row", "column").rows()
    assert not found.is_empty(), f"no {case.rule} for {src}; got {got}"
    line = issues(tables, source_file=src, rule=case.rule, sheet=case.sheet, source_row=case.row, column=case.column)
    assert line.height >= 1, (
        f"expected {case.rule} at sheet={case.sheet} row={case.row} column={case.column}; "
        f"got {found.select('sheet', 'source_row', 'column').rows()}"
    )
    line_d = line.row(0, named=True)
    assert line_d["severity"] == rule.severity
    assert line_d["period"] == PERIOD

    # both messages say where the problem is
    expected_header = case.header or (header(case.sheet, case.column) if case.column and case.sheet else None)
    for msg, row_word in ((line_d["message_vi"], "dòng"), (line_d["message_en"], "row")):
        assert msg and src in msg, msg
        if case.sheet:
            assert f"sheet {case.sheet}" in msg, msg
        if case.row is not None:
            assert re.search(rf"\b{row_word} {case.row}\b", msg), msg
        if expected_header:
            assert expected_header in msg, msg
    assert line_d["message_vi"] != line_d["message_en"]

    # what the rule does to the data
    log = log_row(tables, src)
    facts = _facts_of(tables, src)
    n_facts = sum(df.height for df in facts.values())
    if case.kind == "file_error":
        assert log["status"] == "rejected"
        assert log["rows_accepted"] == 0
        assert n_facts == 0
        code = COMMUNE_OF[case.id][0]
        status = completeness(tables["submission_log"], load_reference(raw), PERIOD)
        mine = status.filter(pl.col("commune_code") == code)
        if case.rule == "commune_outside_window":  # not expected in the period: not in its completeness at all
            assert mine.is_empty()
        else:
            assert mine.row(0, named=True)["submitted"] is False
            assert mine.row(0, named=True)["status"] in ("rejected", "missing")
    elif case.kind == "row_error":
        assert log["status"] == "accepted_with_errors"
        assert facts[case.sheet].filter(pl.col("source_row") == case.row).is_empty()
        assert n_facts > 0, "the rest of the file is used"
        assert n_facts == log["rows_accepted"]
        assert log["rows_in"] == log["rows_accepted"] + log["rows_rejected"]
    else:
        if case.rule.startswith("submission_held"):
            assert log["status"] == "held"
            assert n_facts == 0 and log["rows_in"] == log["rows_accepted"] == 0
            assert log["rows_read"] > 0 and log["warnings"] >= 1
        elif case.rule == "superseded":
            assert log["status"] == "superseded"
            assert n_facts == 0
            assert log["superseded_by"] is not None
            assert log_row(tables, log["superseded_by"])["status"] == "accepted"
        else:
            assert log["status"] == "accepted"
            assert log["rows_rejected"] == 0
            assert n_facts == log["rows_in"] == log["rows_accepted"]
            assert log["warnings"] >= 1
        if case.sheet in FACTS and case.row is not None and case.row != HEADER_ROW:
            assert facts[case.sheet].filter(pl.col("source_row") == case.row).height == 1, "the row is kept"


def test_every_row_of_a_repeated_id_is_rejected(raw_dir: Path) -> None:
    rows = [
        valid_htx_row(coop_id="HTX-001"),
        valid_htx_row(coop_id="HTX-002", name="HTX A"),
        valid_htx_row(coop_id="HTX-003"),
        valid_htx_row(coop_id="HTX-002", name="HTX B"),
        valid_htx_row(coop_id="HTX-002", name="HTX C"),
    ]
    groups = [valid_tht_row(group_id="G1"), valid_tht_row(group_id="G1"), valid_tht_row(group_id="G2")]
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=rows, tht=groups)
    # another commune may use the same id: it is unique within a submission only
    submission(q3(raw_dir) / "dinh-ban.xlsx", htx=[valid_htx_row(coop_id="HTX-002")], commune="Đỉnh Bàn")
    t = run(raw_dir)
    dup = issues(t, rule="duplicate_id", source_file="2024/Q3/thach-lien.xlsx")
    assert sorted(dup.filter(pl.col("sheet") == "HTX")["source_row"].to_list()) == [3, 5, 6]
    assert sorted(dup.filter(pl.col("sheet") == "THT")["source_row"].to_list()) == [2, 3]
    assert set(dup["severity"]) == {"error"}
    mine = t["cooperatives"].filter(pl.col("source_file") == "2024/Q3/thach-lien.xlsx")
    assert sorted(mine["coop_id"].to_list()) == ["HTX-001", "HTX-003"]
    groups = t["coop_groups"].filter(pl.col("source_file") == "2024/Q3/thach-lien.xlsx")
    assert groups["group_id"].to_list() == ["G2"]
    other = t["cooperatives"].filter(pl.col("source_file") == "2024/Q3/dinh-ban.xlsx")
    assert other["coop_id"].to_list() == ["HTX-002"]
    log = log_row(t, "2024/Q3/thach-lien.xlsx")
    assert (log["status"], log["rows_in"], log["rows_rejected"], log["rows_accepted"]) == (
        "accepted_with_errors",
        9,
        5,
        4,
    )


def test_tonghop_ratings_not_summing_rejects_only_the_summary_row(raw_dir: Path) -> None:
    htx, tht = htx_rows(3), [valid_tht_row()]
    summary = summary_row(htx, tht, htx_good=1)  # 1 + 3 fair = 4 ≠ 3
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=htx, tht=tht, summary=summary)
    t = run(raw_dir)
    bad = issues(t, rule="htx_ratings_sum")
    assert bad.select("sheet", "source_row", "column", "severity").rows() == [("TongHop", 2, "htx_total", "error")]
    assert t["commune_summaries"].is_empty()
    assert t["cooperatives"].height == 3
    assert t["coop_groups"].height == 1
    log = log_row(t, "2024/Q3/thach-lien.xlsx")
    assert (log["status"], log["rows_in"], log["rows_accepted"], log["rows_rejected"]) == (
        "accepted_with_errors",
        5,
        4,
        1,
    )
    # the commune has still submitted: its detail rows are the truth
    status = completeness(t["submission_log"], load_reference(raw_dir), PERIOD)
    assert status.filter(pl.col("commune_code") == "18592")["submitted"].to_list() == [True]


def test_reconciliation_mismatch_is_a_warning_and_detail_rows_win(raw_dir: Path) -> None:
    htx, tht = htx_rows(3), [valid_tht_row()]
    summary = summary_row(htx, tht, htx_total=4, htx_fair=4, htx_members=80, htx_capital_mvnd=2000)
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=htx, tht=tht, summary=summary)
    t = run(raw_dir)
    rec = issues(t, rule="reconciliation")
    assert set(rec["severity"]) == {"warning"}
    assert {"htx_total", "htx_fair", "htx_members", "htx_capital_mvnd"} <= set(rec["column"])
    assert t["commune_summaries"].height == 1
    assert t["cooperatives"].height == 3
    assert log_row(t, "2024/Q3/thach-lien.xlsx")["status"] == "accepted"


def test_summary_that_matches_new_and_suspended_units_has_no_warning(raw_dir: Path) -> None:
    """New units count apart; suspended groups count under yếu (weak) in TongHop."""
    statuses = vocab.STATUSES
    htx = [
        valid_htx_row(coop_id="H1"),
        valid_htx_row(coop_id="H2", rating=vocab.RATINGS.label_vi("good")),
        valid_htx_row(coop_id="H3", status=statuses.label_vi("new"), rating=None, founded_year=2024),
        valid_htx_row(coop_id="H4", status=statuses.label_vi("suspended"), rating=None),
    ]
    tht = [
        valid_tht_row(group_id="T1"),
        valid_tht_row(group_id="T2", status=statuses.label_vi("new"), rating=None),
        valid_tht_row(group_id="T3", status=statuses.label_vi("suspended"), rating=None),
        valid_tht_row(group_id="T4", rating=vocab.RATINGS.label_vi("weak")),
    ]
    summary = summary_row(htx, tht)
    assert (summary["htx_suspended"], summary["htx_new"], summary["tht_weak"], summary["tht_new"]) == (1, 1, 2, 1)
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=htx, tht=tht, summary=summary)
    t = run(raw_dir)
    assert t["rejected_rows"].is_empty(), t["rejected_rows"].select("rule", "sheet", "column", "message_en").rows()
    assert t["commune_summaries"].height == 1
    assert log_row(t, "2024/Q3/thach-lien.xlsx")["status"] == "accepted"


def test_outlier_needs_five_cooperatives_in_the_period(raw_dir: Path) -> None:
    rows = htx_rows(4)
    rows[0]["charter_capital_mvnd"] = 600_000
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=rows)
    t = run(raw_dir)
    assert issues(t, rule="outlier").is_empty()
    assert t["cooperatives"].height == 4


def test_outlier_is_counted_over_the_whole_period(raw_dir: Path) -> None:
    """Five cooperatives in three communes: the median is the district's, not the commune's."""
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=[valid_htx_row(charter_capital_mvnd=900_000)])
    submission(q3(raw_dir) / "dinh-ban.xlsx", htx=htx_rows(2), commune="Đỉnh Bàn")
    submission(q3(raw_dir) / "thach-kenh.xlsx", htx=htx_rows(2), commune="Thạch Kênh")
    t = run(raw_dir)
    out = issues(t, rule="outlier")
    assert out.select("source_file", "sheet", "source_row", "column", "severity").rows() == [
        ("2024/Q3/thach-lien.xlsx", "HTX", 2, "charter_capital_mvnd", "warning")
    ]
    assert t["cooperatives"].height == 5


def test_members_minimum_is_five_for_htx_and_two_for_tht(raw_dir: Path) -> None:
    htx = [valid_htx_row(coop_id=f"H{m}", members=m) for m in (4, 5)]
    tht = [valid_tht_row(group_id=f"T{m}", members=m) for m in (1, 2)]
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=htx, tht=tht)
    t = run(raw_dir)
    low = issues(t, rule="members_below_minimum").sort("sheet")
    assert low.select("sheet", "source_row", "column", "severity").rows() == [
        ("HTX", 2, "members", "warning"),
        ("THT", 2, "members", "warning"),
    ]
    assert t["cooperatives"].height == 2
    assert t["coop_groups"].height == 2


def test_support_for_unknown_coop_is_rejected_but_the_district_file_is_used(raw_dir: Path) -> None:
    submission(q3(raw_dir) / "thach-lien.xlsx", htx=htx_rows(2))
    rows = [
        valid_support_row(coop_id="HTX-001", disbursed_mvnd=50),
        valid_support_row(coop_id="HTX-404", disbursed_mvnd=70),
        valid_support_row(coop_id=None, level=vocab.LEVELS.label_vi("district"), disbursed_mvnd=30),
    ]
    district(q3(raw_dir) / "_district.xlsx", rows)
    t = run(raw_dir)
    bad = issues(t, rule="coop_unknown")
    assert bad.select("source_file", "sheet", "source_row", "column", "severity").rows() == [
        ("2024/Q3/_district.xlsx", "HoTro", 3, "coop_id", "error")
    ]
    assert "HTX-404" in bad["message_vi"][0]
    assert "HTX-404" in bad["message_en"][0]
    support = t["support_disbursements"]
    assert sorted(support["disbursed_mvnd"].to_list()) == [30.0, 50.0]
    log = log_row(t, "2024/Q3/_district.xlsx")
    assert (log["file_kind"], log["status"], log["rows_in"], log["rows_accepted"], log["rows_rejected"]) == (
        "district",
        "accepted_with_errors",
        3,
        2,
        1,
    )


def test_file_errors_do_not_stop_other_files(raw_dir: Path) -> None:
    folder = q3(raw_dir)
    (folder / "hong.xlsx").write_bytes(b"\x00\x01garbage" * 100)
    (folder / "mat-khau.xlsx").write_bytes(ENCRYPTED)
    submission(folder / "thach-lien.xlsx", htx=htx_rows(2))
    t = run(raw_dir)
    statuses = dict(t["submission_log"].select("source_file", "status").iter_rows())
    assert statuses == {
        "2024/Q3/hong.xlsx": "rejected",
        "2024/Q3/mat-khau.xlsx": "rejected",
        "2024/Q3/thach-lien.xlsx": "accepted",
    }
    assert t["cooperatives"].height == 2
    rules = dict(issues(t, severity="error").select("source_file", "rule").iter_rows())
    assert rules == {"2024/Q3/hong.xlsx": "file_unreadable", "2024/Q3/mat-khau.xlsx": "file_encrypted"}


def test_every_row_check_of_a_table_blames_one_of_its_columns() -> None:
    """Each dataframe-level check of a warehouse model is a rule of the catalogue that names the column its
    message points at, and that column is one of the table's."""
    from schemas.warehouse import FACT_TABLES

    seen = set()
    for _, model in FACT_TABLES.values():
        schema = model.to_schema()
        for check in schema.checks:
            rule = RULES[check.name]
            assert rule.scope == "row", check.name
            assert any(c in schema.columns for c in rule.blames), (model.__name__, check.name, rule.blames)
            seen.add(check.name)
    assert {"duplicate_id", "founded_after_period", "htx_ratings_sum"} <= seen


def test_rows_of_a_file_rejected_for_a_missing_column_are_all_kept(raw_dir: Path) -> None:
    b.submission(
        b.q3(raw_dir) / "thach-lien.xlsx",
        htx=b.htx_rows(3),
        tht=[b.valid_tht_row(group_id=f"T{i}") for i in range(4)],
        cols={"THT": [c for c in b.columns("THT") if c != "kind"]},
    )
    tables = b.run(raw_dir)
    log = b.log_row(tables, "2024/Q3/thach-lien.xlsx")
    assert log["status"] == "rejected" and log["rows_in"] == 3 + 4 + 1
    lines = b.issues(tables, source_file="2024/Q3/thach-lien.xlsx").filter(pl.col("source_row").is_not_null())
    assert lines.select("sheet", "source_row").unique().height == log["rows_rejected"]
    assert lines.filter(pl.col("sheet") == "HTX")["column"].null_count() == 3  # the cause is in THT, not HTX
    assert lines["raw_values"].null_count() == 0
    # The commune is still known from TongHop: completeness says rejected, not missing.
    status = completeness(tables["submission_log"], load_reference(raw_dir), "2024-Q3")
    assert status.filter(pl.col("commune_code") == b.COMMUNE_CODE)["status"].item() == "rejected"


def test_support_for_a_cooperative_whose_own_row_has_an_error_is_kept(raw_dir: Path) -> None:
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", htx=[b.valid_htx_row(coop_id="HTX-001", tax_code="123")])
    b.district(b.q3(raw_dir) / "_district.xlsx", [b.valid_support_row(coop_id="HTX-001", disbursed_mvnd=450)])
    tables = b.run(raw_dir)
    assert tables["cooperatives"].is_empty()
    assert tables["support_disbursements"]["disbursed_mvnd"].to_list() == [450]


def test_a_second_district_file_supersedes_the_first(raw_dir: Path) -> None:
    b.submission(b.q3(raw_dir) / "thach-lien.xlsx", htx=b.htx_rows(1))
    old = b.district(b.q3(raw_dir) / "_district.xlsx", [b.valid_support_row(coop_id=None, disbursed_mvnd=100)])
    new = b.district(b.q3(raw_dir) / "_district_v2.xlsx", [b.valid_support_row(coop_id=None, disbursed_mvnd=150)])
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    tables = b.run(raw_dir)
    assert tables["support_disbursements"]["disbursed_mvnd"].to_list() == [150]
    superseded = b.log_row(tables, "2024/Q3/_district.xlsx")
    assert superseded["status"] == "superseded" and superseded["superseded_by"] == "2024/Q3/_district_v2.xlsx"
    assert superseded["rows_in"] == superseded["rows_accepted"] + superseded["rows_rejected"] == 0
    assert superseded["rows_read"] == 1
