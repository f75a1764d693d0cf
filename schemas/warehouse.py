"""Pandera models of the warehouse tables (`warehouse.md`).

Fact tables extend the sheet models with their keys and lineage, so the row rules of
the submission format are checked once, in bulk, on a whole period. The other
tables (submission log, rejected rows, completeness) are described here too: their
docs and Parquet types come from these models.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.fields import field
from schemas.periods import PERIOD_PATTERN
from schemas.sheets import HoTroSheet, HtxSheet, SheetConfig, ThtSheet, TongHopSheet
from schemas.vocab import (
    COMMUNE_KINDS,
    COMPLETENESS_STATUSES,
    LIFECYCLES,
    MATCH_RULES,
    REVIEW_DECISIONS,
    REVIEW_STATES,
    SCALES,
    SEVERITIES,
    STATUSES,
    SUBMISSION_STATUSES,
)

PERIOD_KEYS = ("period", "year", "quarter")
LINEAGE = ("source_file", "source_sha256", "source_row")


class PeriodKeys(pa.DataFrameModel):
    """Columns every warehouse row carries."""

    period: pl.String = field("Quarter, YYYY-Qn", "Kỳ báo cáo", str_matches=PERIOD_PATTERN)
    year: pl.Int32 = field("Year of the period", "Năm")
    quarter: pl.Int8 = field("Quarter of the period (1-4)", "Quý", in_range={"min_value": 1, "max_value": 4})


class Lineage(pa.DataFrameModel):
    """Where a fact row comes from."""

    source_file: pl.String = field("Submission path relative to the raw directory", "Tệp nguồn")
    source_sha256: pl.String = field("SHA-256 of the submission's content", "Mã băm tệp nguồn")
    source_row: pl.Int64 = field("Row a person sees: Excel row number or CSV line", "Dòng trong tệp nguồn")


class _CommuneKey(pa.DataFrameModel):
    commune_code: pl.String = field("Official code of the commune", "Mã xã")


class _CommuneName(pa.DataFrameModel):
    commune_name: pl.String = field(
        "Name of the commune in the reference list (communes.csv) for the period, beside its code",
        "Tên xã",
        nullable=True,
    )


def _duplicated(id_col: str) -> pl.Expr:
    return pl.struct("source_file", id_col).is_duplicated()


class Cooperatives(HtxSheet, PeriodKeys, _CommuneKey, _CommuneName, Lineage):
    """Accepted cooperative rows (sheet HTX), one per cooperative per period."""

    scale_computed: pl.String | None = field(  # "| None": added after validation (ingest.scale)
        "Scale class computed from the thresholds of Decree 113/2024/NĐ-CP in force in the period "
        "(reference/scale_thresholds.csv); null where they do not tell",
        "Quy mô theo tiêu chí",
        nullable=True,
        isin=SCALES.codes,
    )

    @pa.dataframe_check(name="founded_after_period")
    def founded_after_period(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The founding year is not after the report year."""
        return data.lazyframe.select(pl.col("founded_year").is_null() | (pl.col("founded_year") <= pl.col("year")))

    @pa.dataframe_check(name="duplicate_id")
    def duplicate_id(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A cooperative id appears once in its submission."""
        return data.lazyframe.select(pl.col("coop_id").is_null() | ~_duplicated("coop_id"))

    Config = SheetConfig


class CoopGroups(ThtSheet, PeriodKeys, _CommuneKey, _CommuneName, Lineage):
    """Accepted cooperative-group rows (sheet THT), one per group per period."""

    @pa.dataframe_check(name="duplicate_id")
    def duplicate_id(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A group id appears once in its submission."""
        return data.lazyframe.select(pl.col("group_id").is_null() | ~_duplicated("group_id"))

    Config = SheetConfig


class CommuneSummaries(TongHopSheet, PeriodKeys, _CommuneKey, Lineage):
    """Accepted TongHop rows: each commune's own totals, one per commune per period."""

    Config = SheetConfig


class SupportDisbursements(HoTroSheet, PeriodKeys, Lineage):
    """Accepted HoTro rows of the district file: support disbursed per programme."""

    Config = SheetConfig


class SubmissionLog(PeriodKeys, _CommuneKey):
    """Every file seen in a period's folder, with what became of it."""

    commune_code: pl.String = field(
        "Commune of the submission (null when unknown or district file)", "Mã xã", nullable=True
    )
    source_file: pl.String = field("Submission path relative to the raw directory", "Tệp nguồn")
    source_sha256: pl.String = field("SHA-256 of the submission's content", "Mã băm tệp nguồn")
    file_kind: pl.String = field(
        "workbook, csv_folder, district or other", "Loại tệp", isin=["workbook", "csv_folder", "district", "other"]
    )
    received_at: pl.Datetime("us", "UTC") = field("File modification time (UTC)", "Thời điểm nhận")
    report_date: pl.Date = field("Report date stated in TongHop", "Ngày báo cáo", nullable=True)
    status: pl.String = field(
        "accepted, accepted_with_errors, rejected, superseded, or held (read and validated, kept out of the facts "
        "until approved: docs/review.md)",
        "Trạng thái",
        isin=SUBMISSION_STATUSES.codes,
    )
    rows_read: pl.Int64 = field(
        "Data rows read (title, header, blank and total rows excluded, and the rows in skipped_lines)",
        "Số dòng đọc",
        ge=0,
    )
    rows_in: pl.Int64 = field(
        "Data rows taken into the period: rows_read, or 0 for a superseded or held file", "Số dòng đưa vào kỳ", ge=0
    )
    rows_accepted: pl.Int64 = field("Data rows stored in the fact tables", "Số dòng nhận", ge=0)
    rows_rejected: pl.Int64 = field("Data rows rejected by an error", "Số dòng bị loại", ge=0)
    warnings: pl.Int64 = field("Warnings raised on the file", "Số cảnh báo", ge=0)
    superseded_by: pl.String = field("The file that replaced this one", "Thay thế bởi", nullable=True)
    unit_conversions: pl.String = field("JSON: column → unit converted to million VND", "Quy đổi đơn vị", nullable=True)
    skipped_lines: pl.String = field(
        "JSON: sheet → {row: reason} of the rows under a header that are not data and were skipped (a row with "
        "only a pre-filled STT number, a note such as 'Ghi chú: …', the signature block)",
        "Dòng bỏ qua",
        nullable=True,
    )

    Config = SheetConfig


class RejectedRows(PeriodKeys):
    """Rejected rows and files (severity error) and warnings on kept rows (severity warning)."""

    commune_code: pl.String = field("Commune of the submission, when known", "Mã xã", nullable=True)
    source_file: pl.String = field("Submission path relative to the raw directory", "Tệp nguồn")
    source_sha256: pl.String = field("SHA-256 of the submission's content", "Mã băm tệp nguồn", nullable=True)
    sheet: pl.String = field("Sheet name (null for a whole file)", "Sheet", nullable=True)
    source_row: pl.Int64 = field("Excel row or CSV line (null for a file or sheet)", "Dòng", nullable=True)
    column: pl.String = field("Warehouse column concerned (null for a file)", "Cột", nullable=True)
    rule: pl.String = field("Stable rule name (see docs/rules.md)", "Quy tắc")
    severity: pl.String = field("error (row or file left out) or warning (row kept)", "Mức độ", isin=SEVERITIES.codes)
    message_vi: pl.String = field("Message in Vietnamese, with file, sheet, row and column", "Thông báo")
    message_en: pl.String = field("Message in English, with file, sheet, row and column", "Message")
    raw_values: pl.String = field("JSON of the row's cells as written (header → text)", "Giá trị gốc", nullable=True)

    Config = SheetConfig


class Completeness(PeriodKeys, _CommuneKey):
    """Every commune expected to report in the period, and whether it did."""

    commune_name: pl.String = field("Commune name", "Tên xã")
    submitted: pl.Boolean = field("An accepted submission exists", "Đã nộp")
    on_time: pl.Boolean = field("Report date no later than the deadline", "Đúng hạn")
    status: pl.String = field("on_time, late, rejected or missing", "Tình trạng", isin=COMPLETENESS_STATUSES.codes)
    report_date: pl.Date = field("Report date of the accepted submission", "Ngày báo cáo", nullable=True)
    deadline: pl.Date = field("Deadline for the period", "Hạn nộp")
    source_file: pl.String = field("Accepted submission", "Tệp nguồn", nullable=True)
    review_state: pl.String = field(
        "received, approved, returned or reopened: the latest decision on the commune's submission (reviews), "
        "received when none; null when nothing was received",
        "Tình trạng duyệt",
        nullable=True,
        isin=REVIEW_STATES.codes,
    )
    reviewed_by: pl.String = field("Who made the latest decision", "Người duyệt", nullable=True)
    reviewed_at: pl.Datetime("us", "UTC") = field(
        "When the latest decision was made (UTC)", "Thời điểm duyệt", nullable=True
    )
    review_note: pl.String = field("The officer's comment on the latest decision", "Ý kiến cán bộ", nullable=True)
    held_file: pl.String = field("A newer submission held for review, if any", "Tệp chờ duyệt", nullable=True)

    Config = SheetConfig


class Indicators(PeriodKeys):
    """Indicators per period, for the district and each commune, with breakdowns and quarter-on-quarter changes."""

    geo_level: pl.String = field("district or commune", "Cấp", isin=["district", "commune"])
    commune_code: pl.String = field("Commune (null for the district)", "Mã xã", nullable=True)
    indicator: pl.String = field(
        "Indicator name, e.g. htx.count, htx.charter_capital_mvnd, htx.change.rating", "Chỉ tiêu"
    )
    breakdown: pl.String = field(
        "column=value of the breakdown (e.g. sector=agriculture), null for the total", "Phân tổ", nullable=True
    )
    value: pl.Float64 = field("Value", "Giá trị", nullable=True)
    unit: pl.String = field("count, persons, mvnd, mvnd/month", "Đơn vị")

    Config = SheetConfig


class IndicatorsYearly(Indicators):
    """Indicators per year, from each year's latest quarter with data, with the change on the previous year."""

    period: pl.String = field(
        "Quarter the yearly value is taken from (the year's latest)", "Kỳ nguồn", str_matches=PERIOD_PATTERN
    )
    previous_year_value: pl.Float64 = field("Value of the previous year, if any", "Giá trị năm trước", nullable=True)
    change: pl.Float64 = field("value − previous_year_value", "Thay đổi so với năm trước", nullable=True)

    Config = SheetConfig


class IndicatorsRestated(PeriodKeys):
    """Commune indicators of a period restated on the units of the latest period (following merged_into of
    communes.csv): recomputed from the period's rows, each counted for the unit its chain ends at; units that
    left the reporting unit are left out (see docs/reform.md)."""

    commune_code: pl.String = field("Unit of the latest period", "Mã đơn vị hiện nay")
    commune_name: pl.String = field("Name of that unit", "Tên đơn vị hiện nay", nullable=True)
    from_communes: pl.String = field(
        "Units of the period restated on it (codes, comma-separated)", "Gồm các đơn vị trong kỳ"
    )
    indicator: pl.String = field("Indicator name, as in indicators", "Chỉ tiêu")
    breakdown: pl.String = field("column=value of the breakdown, null for the total", "Phân tổ", nullable=True)
    value: pl.Float64 = field(
        "Value over the rows of those units: counts and amounts are their sums, means are recomputed",
        "Giá trị",
        nullable=True,
    )
    unit: pl.String = field("count, persons, mvnd, mvnd/month", "Đơn vị")

    Config = SheetConfig


class UnitsTable(pa.DataFrameModel):
    """Every row of communes.csv: a commune-level unit and its window, and the unit it has become in the latest
    period of the warehouse (the end of its merged_into chain)."""

    code: pl.String = field("Official code (codes are reused across the 2025 reform: a unit is code + window)", "Mã")
    name: pl.String = field("Name", "Tên")
    kind: pl.String = field("xa, phuong, thi_tran or dac_khu", "Loại", isin=COMMUNE_KINDS.codes)
    valid_from: pl.String = field("First quarter it reports (null: before the data starts)", "Từ kỳ", nullable=True)
    valid_to: pl.String = field("Last quarter it reports (null: still valid)", "Đến kỳ", nullable=True)
    district: pl.String = field("District it belonged to during its window (null from 2025-Q3)", "Huyện", nullable=True)
    merged_into: pl.String = field(
        "Code of the unit taking it over after valid_to (the row of that code starting the next quarter)",
        "Sáp nhập vào",
        nullable=True,
    )
    split_into: pl.String = field(
        "Other units that took over part of it (comma-separated; its figures go wholly to merged_into)",
        "Chia cho",
        nullable=True,
    )
    current_code: pl.String = field(
        "Unit it has become in the latest period (null: it left the reporting unit)", "Mã hiện nay", nullable=True
    )
    current_name: pl.String = field("Name of that unit", "Tên hiện nay", nullable=True)

    Config = SheetConfig


class ReportFigures(PeriodKeys):
    """Figures of the yearly report for a period (definitions in docs/figures.md), targets and progress."""

    figure_id: pl.String = field("Stable figure id, e.g. htx.rating.good.pct", "Mã chỉ tiêu")
    section: pl.String = field("Section of the report the figure belongs to", "Mục")
    label_vi: pl.String = field("Vietnamese label", "Tên chỉ tiêu")
    value: pl.Float64 = field("Value (null when no unit reports the underlying column)", "Giá trị", nullable=True)
    unit: pl.String = field("count, persons, mvnd (million VND), pct, mvnd/month, mvnd/year", "Đơn vị")

    Config = SheetConfig


class FigureSources(PeriodKeys):
    """Provenance: for each figure of a period, the warehouse rows it is computed from."""

    figure_id: pl.String = field("Figure id in report_figures", "Mã chỉ tiêu")
    source_table: pl.String = field(
        "Table of the row: cooperatives, coop_groups, support_disbursements, targets", "Bảng nguồn"
    )
    commune_code: pl.String = field("Commune of the row (null for district rows)", "Mã xã", nullable=True)
    unit_id: pl.String = field("coop_id, group_id, programme code or target indicator", "Mã đơn vị")
    source_file: pl.String = field("Submission (or reference file) the row comes from", "Tệp nguồn")
    source_row: pl.Int64 = field("Row in that file a person sees", "Dòng")

    Config = SheetConfig


class Registry(PeriodKeys):
    """The registry: one row per cooperative or group identity followed across every stored quarter.

    Rebuilt whole from the stored quarters (a corrected quarter changes it deterministically).
    `period` is the latest stored quarter, the one the registry describes the state at.
    """

    registry_id: pl.String = field(
        "Stable identity: kind, first quarter, unit and id of the first row seen", "Mã theo dõi"
    )
    kind: pl.String = field("HTX (cooperative) or THT (cooperative group)", "Loại", isin=["HTX", "THT"])
    name: pl.String = field("Latest name", "Tên")
    names_seen: pl.String = field("Every name written for it, in order of first appearance, ' | '-separated", "Các tên")
    tax_code: pl.String = field("Latest tax code, digits only (branch suffix kept)", "Mã số thuế", nullable=True)
    first_period: pl.String = field("First quarter it appears in", "Kỳ đầu tiên")
    last_period: pl.String = field("Latest quarter it appears in", "Kỳ gần nhất")
    quarters_seen: pl.Int64 = field("Quarters it appears in", "Số kỳ có mặt", ge=1)
    last_commune_code: pl.String = field("Unit of its latest row", "Mã xã (lần cuối)")
    current_commune_code: pl.String = field(
        "Unit it belongs to in the latest stored quarter (after merges)", "Mã xã hiện nay"
    )
    last_row_id: pl.String = field("coop_id or group_id of its latest row", "Mã HTX/THT (lần cuối)")
    last_status: pl.String = field("Status of its latest row", "Tình trạng (lần cuối)", isin=STATUSES.codes)
    last_rating: pl.String = field("Rating of its latest row", "Xếp loại (lần cuối)", nullable=True)
    lifecycle: pl.String = field(
        "reporting, suspended, dissolved, vanished or unit_not_reported", "Vòng đời", isin=LIFECYCLES.codes
    )

    Config = SheetConfig


class RegistryHistory(PeriodKeys):
    """One row per identity and quarter: every stored cooperative and group row, with the rule that matched it."""

    commune_code: pl.String = field("Unit of the row", "Mã xã")
    registry_id: pl.String = field("Identity in registry", "Mã theo dõi")
    kind: pl.String = field("HTX (cooperative) or THT (cooperative group)", "Loại", isin=["HTX", "THT"])
    row_id: pl.String = field("coop_id or group_id of the quarter's row", "Mã HTX/THT")
    name: pl.String = field("Name written this quarter", "Tên")
    tax_code: pl.String = field("Tax code, digits only (branch suffix kept)", "Mã số thuế", nullable=True)
    match_rule: pl.String = field(
        "What joined the row to the identity: tax_code, row_id, name, or new", "Quy tắc ghép", isin=MATCH_RULES.codes
    )
    previous_period: pl.String = field(
        "The identity's quarter before this one (null when new)", "Kỳ trước", nullable=True
    )
    previous_commune_code: pl.String = field("Unit of that earlier row", "Mã xã kỳ trước", nullable=True)
    status: pl.String = field("Status", "Tình trạng", isin=STATUSES.codes)
    rating: pl.String = field("Rating", "Xếp loại", nullable=True)
    members: pl.Int64 = field("Members", "Số thành viên", nullable=True)
    charter_capital_mvnd: pl.Float64 = field(
        "Charter capital, million VND (null for groups)", "Vốn điều lệ", nullable=True
    )
    revenue_mvnd: pl.Float64 = field("Revenue, million VND", "Doanh thu", nullable=True)

    Config = SheetConfig


class RegistryWarnings(RejectedRows):
    """Warnings across quarters (severity warning, rows kept), in the columns of rejected_rows.

    `period` is the later quarter, whose file the warning concerns. Written by the registry
    alone, never into a quarter's own rejected_rows; the analysts' view `rejected_rows_all`
    unions both.
    """

    Config = SheetConfig


class RegistryFigures(PeriodKeys):
    """Figures per quarter from the registry (first seen, disappeared, rating transitions), beside report_figures."""

    figure_id: pl.String = field("Figure id (docs/figures.md)", "Mã chỉ tiêu")
    section: pl.String = field("Section of the report the figure belongs to", "Mục")
    label_vi: pl.String = field("Vietnamese label", "Tên chỉ tiêu")
    value: pl.Float64 = field("Value (null when the warehouse cannot tell)", "Giá trị", nullable=True)
    unit: pl.String = field("count", "Đơn vị")

    Config = SheetConfig


class Reviews(PeriodKeys, _CommuneKey):
    """The officer's decisions on the communes' submissions, appended and never rewritten (one Parquet file per
    decision): approved, returned (with a comment for the commune) or reopened (an approval taken back). The
    latest decision per commune and period is its review state (docs/review.md)."""

    decision: pl.String = field("approved, returned or reopened", "Quyết định", isin=REVIEW_DECISIONS.codes)
    source_file: pl.String = field("The submission the decision applies to", "Tệp nguồn")
    source_sha256: pl.String = field("SHA-256 of that submission: the decision holds for this content", "Mã băm tệp")
    decided_by: pl.String = field("Who decided (name given on the command line or in the run's config)", "Người duyệt")
    decided_at: pl.Datetime("us", "UTC") = field("When the decision was recorded (UTC)", "Thời điểm duyệt")
    note: pl.String = field("Comment for the commune (required when returned)", "Ý kiến", nullable=True)
    decision_id: pl.String = field("Unique id of the decision (also its file name)", "Mã quyết định")

    Config = SheetConfig


TABLES: dict[str, type[pa.DataFrameModel]] = {
    "submission_log": SubmissionLog,
    "cooperatives": Cooperatives,
    "coop_groups": CoopGroups,
    "commune_summaries": CommuneSummaries,
    "support_disbursements": SupportDisbursements,
    "rejected_rows": RejectedRows,
    "completeness": Completeness,
    "indicators": Indicators,
    "indicators_yearly": IndicatorsYearly,
    "indicators_restated": IndicatorsRestated,
    "units": UnitsTable,
    "report_figures": ReportFigures,
    "figure_sources": FigureSources,
    "registry": Registry,
    "registry_history": RegistryHistory,
    "registry_warnings": RegistryWarnings,
    "registry_figures": RegistryFigures,
    "reviews": Reviews,
}

FACT_TABLES: dict[str, tuple[str, type[pa.DataFrameModel]]] = {
    "HTX": ("cooperatives", Cooperatives),
    "THT": ("coop_groups", CoopGroups),
    "TongHop": ("commune_summaries", CommuneSummaries),
    "HoTro": ("support_disbursements", SupportDisbursements),
}
"""The fact tables, by the sheet their rows come from: sheet → (table, model)."""

_FIRST = (*PERIOD_KEYS, "commune_code", "commune_name")


def column_order(model: type[pa.DataFrameModel]) -> list[str]:
    """Output column order: period keys and commune first, lineage last."""
    names = list(model.to_schema().columns)
    first = [c for c in _FIRST if c in names]
    last = [c for c in LINEAGE if c in names and not issubclass(model, (SubmissionLog, RejectedRows))]
    middle = [c for c in names if c not in first and c not in last]
    return first + middle + last


def polars_schema(model: type[pa.DataFrameModel]) -> dict[str, pl.DataType]:
    """Column name → polars dtype, in output order."""
    cols = model.to_schema().columns
    return {name: cols[name].dtype.type for name in column_order(model)}
