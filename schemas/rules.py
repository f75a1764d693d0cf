"""The catalogue of validation rules: stable names, severities and bilingual messages.

Every problem the pipeline reports comes from one entry here. Messages are
templates filled with the column's Vietnamese header (`{col}`), the offending value
(`{value}`) and details (`{detail}`); `message` prefixes the location
(file, sheet, row, column) in both languages.

A rule carries the periods it is in force (`valid_from`, `valid_to`, quarter keys,
inclusive) and its legal basis (keys of `schemas.law.TEXTS`); `exempt` names rows the
law takes out of it (column → values) with the basis of the exemption. Validating a
period applies the rules in force then: a change of the law is a change of these
entries, not of the checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from schemas.in_force import in_window
from schemas.law import DECREE_113_FROM, LAW_2023_FROM, RATING_LAST

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """A validation rule with its stable name and messages."""

    name: str
    severity: str
    scope: str  # file, sheet, row
    vi: str
    en: str
    valid_from: str | None = None
    valid_to: str | None = None
    basis: tuple[str, ...] = ()
    exempt: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Rows the rule does not apply to: (column, values) pairs."""
    exempt_basis: tuple[str, ...] = ()
    blames: tuple[str, ...] = ()
    """For a rule checked on whole rows (a pandera dataframe check), the column its message points at: the first
    of these the table has."""

    def in_force(self, period: str) -> bool:
        """Whether the rule applies to `period`."""
        return in_window(period, self.valid_from, self.valid_to)


_RULES = [
    # File errors: the whole file is rejected.
    Rule("file_unreadable", ERROR, "file", "Không đọc được tệp: {detail}", "The file cannot be read: {detail}"),
    Rule(
        "file_too_large",
        ERROR,
        "file",
        "Tệp quá lớn để xử lý an toàn: {detail}",
        "The file is too large to open safely: {detail}",
    ),
    Rule(
        "file_encrypted",
        ERROR,
        "file",
        "Tệp được đặt mật khẩu ({detail}); hãy gửi bản không đặt mật khẩu",
        "The file is password-protected ({detail}); send it without a password",
    ),
    Rule("sheet_missing", ERROR, "file", "Thiếu sheet «{detail}»", "Sheet '{detail}' is missing"),
    Rule(
        "column_missing",
        ERROR,
        "file",
        "Thiếu cột bắt buộc «{col}» (không tìm thấy dòng tiêu đề có cột này)",
        "Required column '{col}' is missing (no header row has it)",
    ),
    Rule("summary_missing", ERROR, "file", "Sheet TongHop không có dòng số liệu", "Sheet TongHop has no data row"),
    Rule(
        "commune_unknown",
        ERROR,
        "file",
        "Xã «{value}» không có trong danh mục xã (communes.csv)",
        "Commune '{value}' is not in the commune list (communes.csv)",
    ),
    Rule(
        "commune_outside_window",
        ERROR,
        "file",
        "Đơn vị «{value}» không thuộc danh sách phải báo cáo kỳ này (đơn vị chỉ có trong các kỳ {detail}); tệp không "
        "được nhận",
        "Unit '{value}' is not expected to report in this period (it exists in {detail} only); the file is not "
        "taken in",
    ),
    Rule(
        "period_invalid",
        ERROR,
        "file",
        "Không đọc được kỳ báo cáo «{value}» (ví dụ đúng: Quý 3/2024)",
        "The report period '{value}' cannot be read (e.g. Quý 3/2024 or 2024-Q3)",
    ),
    Rule(
        "period_mismatch",
        ERROR,
        "file",
        "Kỳ báo cáo {value} không khớp với thư mục {detail}",
        "Report period {value} does not match the folder {detail}",
    ),
    Rule(
        "report_date_invalid",
        ERROR,
        "file",
        "Ngày báo cáo «{value}» không hợp lệ (dd/mm/yyyy)",
        "The report date '{value}' is not a valid date (dd/mm/yyyy)",
    ),
    Rule(
        "file_rejected",
        ERROR,
        "row",
        "Tệp bị từ chối ({detail}) nên dòng này chưa được nhận; sửa lỗi của tệp rồi gửi lại",
        "The file is rejected ({detail}), so this row is not taken in; fix the file and send it again",
    ),
    # Sheet errors: every row of the sheet is rejected.
    Rule(
        "unit_unknown",
        ERROR,
        "sheet",
        "Đơn vị «{value}» ở cột «{col}» không được hỗ trợ; cả sheet bị loại",
        "Unit '{value}' in column '{col}' is not supported; the whole sheet is rejected",
    ),
    # Row errors: the row is rejected.
    Rule("required", ERROR, "row", "Thiếu giá trị bắt buộc ở cột «{col}»", "Required value missing in column '{col}'"),
    Rule("type_integer", ERROR, "row", "«{value}» không phải số nguyên", "'{value}' is not a whole number"),
    Rule(
        "type_number",
        ERROR,
        "row",
        "«{value}» không phải số (ví dụ đúng: 1.250,5)",
        "'{value}' is not a number (e.g. 1.250,5)",
    ),
    Rule(
        "type_date",
        ERROR,
        "row",
        "«{value}» không phải ngày hợp lệ (dd/mm/yyyy)",
        "'{value}' is not a valid date (dd/mm/yyyy)",
    ),
    Rule("type_bool", ERROR, "row", "«{value}» phải là Có hoặc Không", "'{value}' must be Có (yes) or Không (no)"),
    Rule(
        "domain",
        ERROR,
        "row",
        "«{value}» không thuộc danh mục; giá trị hợp lệ: {detail}",
        "'{value}' is not an allowed value; allowed: {detail}",
    ),
    Rule(
        "min_value",
        ERROR,
        "row",
        "Giá trị {value} nhỏ hơn mức tối thiểu {detail}",
        "Value {value} is below the minimum {detail}",
    ),
    Rule("range", ERROR, "row", "Giá trị {value} nằm ngoài khoảng {detail}", "Value {value} is outside {detail}"),
    Rule("format", ERROR, "row", "«{value}» sai định dạng ({detail})", "'{value}' has the wrong format ({detail})"),
    Rule(
        "founded_after_period",
        ERROR,
        "row",
        "Năm thành lập {value} sau năm của kỳ báo cáo",
        "Founding year {value} is after the report year",
        blames=("founded_year",),
    ),
    Rule(
        "duplicate_id",
        ERROR,
        "row",
        "Mã «{value}» bị trùng trong cùng tệp; mọi dòng trùng mã đều bị loại",
        "Id '{value}' appears more than once in the file; every row with it is rejected",
        blames=("coop_id", "group_id"),
    ),
    Rule(
        "subsector_required",
        ERROR,
        "row",
        "HTX nông nghiệp phải ghi Ngành (Trồng trọt, Chăn nuôi, ...)",
        "An agricultural cooperative needs a subsector (crops, livestock, ...)",
        blames=("subsector",),
    ),
    Rule(
        "subsector_only_agriculture",
        ERROR,
        "row",
        "Chỉ HTX nông nghiệp mới ghi Ngành; để trống với lĩnh vực khác",
        "Only agricultural cooperatives have a subsector; leave it empty for other sectors",
        blames=("subsector",),
    ),
    Rule(
        "rating_required",
        ERROR,
        "row",
        "Đơn vị đang hoạt động phải có Xếp loại",
        "An active unit needs a rating",
        valid_to=RATING_LAST,
        basis=("circular_01_2020", "circular_78_2025"),
        exempt=(("sector", ("credit_fund",)),),
        exempt_basis=("circular_01_2020", "sbv_credit_funds"),
        blames=("rating",),
    ),
    Rule(
        "rating_unexpected",
        ERROR,
        "row",
        "Đơn vị mới thành lập hoặc tạm dừng không xếp loại; để trống Xếp loại",
        "A new or suspended unit is not rated; leave the rating empty",
        blames=("rating",),
    ),
    Rule(
        "profit_above_revenue",
        ERROR,
        "row",
        "Lợi nhuận {value} lớn hơn doanh thu",
        "Profit {value} is larger than revenue",
        blames=("profit_mvnd",),
    ),
    Rule(
        "qualified_above_managers",
        ERROR,
        "row",
        "Số cán bộ trình độ ĐH, CĐ cộng trung cấp lớn hơn số cán bộ quản lý",
        "Managers with a degree plus vocational training exceed the number of managers",
        blames=("managers",),
    ),
    Rule(
        "member_types_above_members",
        ERROR,
        "row",
        "Thành viên là cá nhân + hộ gia đình + pháp nhân lớn hơn Số thành viên",
        "Members who are individuals + households + legal entities exceed the members",
        valid_from=LAW_2023_FROM,
        basis=("law_2023", "circular_09_2024"),
        blames=("members",),
    ),
    Rule(
        "credit_fields_not_credit_fund",
        ERROR,
        "row",
        "Chỉ Quỹ tín dụng nhân dân mới ghi Giải ngân cho vay và Số hợp đồng tín dụng",
        "Only people's credit funds report loans disbursed and credit contracts",
        blames=("loans_disbursed_mvnd",),
    ),
    Rule(
        "htx_ratings_sum",
        ERROR,
        "row",
        "HTX tốt + khá + trung bình + yếu + tạm dừng + mới thành lập ({detail}) khác Tổng số HTX ({value})",
        "Cooperatives good + fair + average + weak + suspended + new ({detail}) differ from the total ({value})",
        valid_to=RATING_LAST,
        basis=("circular_01_2020", "circular_78_2025"),
        blames=("htx_total",),
    ),
    Rule(
        "tht_ratings_sum",
        ERROR,
        "row",
        "THT tốt + khá + trung bình + yếu + mới thành lập ({detail}) khác Tổng số THT ({value})",
        "Groups good + fair + average + weak + new ({detail}) differ from the total ({value})",
        valid_to=RATING_LAST,
        basis=("circular_01_2020", "circular_78_2025"),
        blames=("tht_total",),
    ),
    Rule(
        "summary_extra_row",
        ERROR,
        "row",
        "Sheet TongHop chỉ có một dòng số liệu; dòng này bị bỏ qua",
        "Sheet TongHop has one data row only; this extra row is ignored",
    ),
    Rule(
        "coop_unknown",
        ERROR,
        "row",
        "Mã HTX «{value}» không có trong báo cáo nào của các xã kỳ này",
        "Cooperative '{value}' is not in any commune submission of this period",
    ),
    Rule(
        "text_legacy_font_unsure",
        ERROR,
        "row",
        "Không chắc «{value}» là chữ Unicode hay chữ gõ bằng phông cũ TCVN3 (ABC) / VNI "
        "(có thể đọc là: {detail}); hãy gõ lại ô này bằng Unicode",
        "Cannot tell whether '{value}' is Unicode text or text typed in a legacy TCVN3 (ABC) / VNI font "
        "(it may read: {detail}); retype this cell in Unicode",
    ),
    Rule(
        "formula_uncached",
        ERROR,
        "row",
        "Ô có công thức {value} nhưng chưa có giá trị tính sẵn; hãy mở tệp bằng Excel rồi lưu lại",
        "The cell holds the formula {value} without a computed value; open the file in Excel and save it again",
    ),
    # Warnings: the row is kept.
    Rule(
        "members_below_minimum",
        WARNING,
        "row",
        "Số thành viên {value} thấp hơn mức tối thiểu theo Luật ({detail})",
        "Members {value} below the legal minimum ({detail})",
    ),
    Rule(
        "reconciliation",
        WARNING,
        "row",
        "Số tổng hợp {value} khác số tính từ chi tiết {detail}; lấy theo chi tiết",
        "Summary figure {value} differs from the detail rows' {detail}; the detail rows are used",
    ),
    Rule(
        "outlier",
        WARNING,
        "row",
        "Giá trị {value} lớn bất thường (gấp {detail} lần trung vị của huyện); kiểm tra đơn vị (triệu đồng)",
        "Value {value} is unusually large ({detail} times the district median); check the unit (million VND)",
    ),
    Rule(
        "unknown_column",
        WARNING,
        "sheet",
        "Cột «{value}» không thuộc mẫu báo cáo; số liệu cột này không được nhận, chỉ lưu kèm cảnh báo này",
        "Column '{value}' is not part of the format; its values are not taken in, only kept with this warning",
    ),
    Rule(
        "duplicate_column",
        WARNING,
        "sheet",
        "Cột «{col}» xuất hiện nhiều lần (cột {detail}); dùng cột đầu tiên, số liệu cột sau chỉ lưu kèm cảnh báo này",
        "Column '{col}' appears more than once (columns {detail}); the first is used, the other's values are only "
        "kept with this warning",
    ),
    Rule(
        "column_not_in_force",
        WARNING,
        "sheet",
        "Cột «{col}» không thuộc mẫu báo cáo kỳ {value} (áp dụng {detail}); số liệu cột này không được nhận, "
        "chỉ lưu kèm cảnh báo này",
        "Column '{col}' is not part of the form of {value} (in force {detail}); its values are not taken in, only "
        "kept with this warning",
    ),
    Rule(
        "scale_mismatch",
        WARNING,
        "row",
        "Quy mô ghi «{value}» khác quy mô tính theo tiêu chí của Nghị định 113/2024/NĐ-CP ({detail})",
        "Reported scale '{value}' differs from the scale computed by the criteria of Decree 113/2024/ND-CP ({detail})",
        valid_from=DECREE_113_FROM,
        basis=("decree_113_2024",),
    ),
    Rule(
        "unit_converted",
        WARNING,
        "sheet",
        "Cột «{col}» ghi theo {value}; đã quy đổi sang triệu đồng",
        "Column '{col}' is in {value}; converted to million VND",
    ),
    Rule(
        "text_legacy_font_converted",
        WARNING,
        "row",
        "«{value}» được gõ bằng phông chữ cũ (TCVN3/ABC hoặc VNI); đã chuyển sang Unicode: «{detail}»",
        "'{value}' was typed in a legacy Vietnamese font encoding (TCVN3/ABC or VNI); converted to Unicode: '{detail}'",
    ),
    Rule(
        "submission_returned",
        ERROR,
        "file",
        "Cán bộ {detail} đã trả lại báo cáo, đề nghị xã sửa và gửi lại: {value}",
        "Returned by the officer {detail}; the commune is asked to correct and resend it: {value}",
    ),
    Rule(
        "submission_held",
        WARNING,
        "file",
        "Tệp được giữ lại chờ cán bộ duyệt; số liệu của tệp chưa được đưa vào tổng hợp",
        "The file is held until the officer approves it; its figures are not used yet",
    ),
    Rule(
        "submission_held_late",
        WARNING,
        "file",
        "Tệp đến sau khi kỳ báo cáo đã khoá (hết ngày {value}); được giữ lại chờ cán bộ duyệt",
        "The file arrived after the period locked (end of {value}); it is held until the officer approves it",
    ),
    Rule(
        "superseded",
        WARNING,
        "file",
        "Tệp đã được thay thế bởi báo cáo mới hơn «{value}»",
        "The file is superseded by the later submission '{value}'",
    ),
]

RULES: dict[str, Rule] = {r.name: r for r in _RULES}

_DECIMAL_POINT = re.compile(r"(?<![\d.,])(-?\d+)\.(\d+)(?![\d.,])")


def one_line(text: str) -> str:
    """A heading as one line: a header typed on several lines (Alt+Enter) is quoted with spaces."""
    return " ".join(text.split())


def vi_number(text: object) -> object:
    """A number written with a decimal point (`1500.5`) as Vietnamese writes it (`1500,5`); other text unchanged.

    >>> vi_number("1500.5"), vi_number("1.250,5"), vi_number("10.10.2024"), vi_number(12.5)
    ('1500,5', '1.250,5', '10.10.2024', '12,5')
    """
    if isinstance(text, float):
        text = f"{text:g}"
    return _DECIMAL_POINT.sub(r"\1,\2", text) if isinstance(text, str) else text


def cause_rank(rule: str) -> int:
    """Sort key of a problem within its file, so a reader meets the cause before its consequences: 0 for a
    file-level error, 2 for the rows a rejected file carries along (`file_rejected`), 1 for the rest."""
    if rule == "file_rejected":
        return 2
    r = RULES.get(rule)
    return 0 if r is not None and r.severity == ERROR and r.scope == "file" else 1


def cause_first(problems: pl.DataFrame) -> pl.DataFrame:
    """Problems (rows of `rejected_rows`) by file, each file's cause first, then by sheet, row and column."""
    if problems.is_empty():
        return problems
    rank = pl.col("rule").replace_strict({name: cause_rank(name) for name in RULES}, default=1, return_dtype=pl.Int8)
    by = [
        c
        for c in ("source_file", "_rank", "sheet", "source_row", "column", "rule")
        if c in {*problems.columns, "_rank"}
    ]
    return problems.with_columns(rank.alias("_rank")).sort(by, nulls_last=False).drop("_rank")


_REGISTRY_RULES = [
    # Warnings across quarters (table registry_warnings): the later quarter's row or file is kept.
    Rule(
        "registry_missing",
        WARNING,
        "row",
        "«{value}» có trong báo cáo kỳ trước ({detail}) nhưng không có trong báo cáo kỳ này, "
        "cũng không ghi tạm dừng chờ giải thể",
        "'{value}' was in last quarter's report ({detail}) but is missing from this one, without a suspended status",
    ),
    Rule(
        "registry_tax_code_two_units",
        WARNING,
        "row",
        "Mã số thuế {value} cũng có ở {detail} trong cùng kỳ",
        "Tax code {value} also appears in {detail} in the same quarter",
    ),
    Rule(
        "registry_new_seen_before",
        WARNING,
        "row",
        "Tình trạng {value} nhưng đơn vị đã có trong báo cáo của năm trước ({detail})",
        "Status {value} but the unit was already in an earlier year's report ({detail})",
    ),
    Rule(
        "registry_rating_jump",
        WARNING,
        "row",
        "Xếp loại {value} thay đổi từ hai bậc trở lên so với kỳ trước ({detail})",
        "Rating {value} moved two grades or more since the previous quarter ({detail})",
    ),
    Rule(
        "registry_drop",
        WARNING,
        "row",
        "Giá trị {value} giảm từ 90% trở lên so với kỳ trước ({detail}); kiểm tra đơn vị và số liệu",
        "Value {value} fell by 90% or more since the previous quarter ({detail}); check the unit and the figure",
    ),
]

REGISTRY_RULES: dict[str, Rule] = {r.name: r for r in _REGISTRY_RULES}
"""Warnings the registry raises by comparing quarters (table `registry_warnings`, not `rejected_rows`)."""


def rules_in_force(period: str) -> dict[str, Rule]:
    """The rules that apply to `period`."""
    return {name: r for name, r in RULES.items() if r.in_force(period)}


def message(
    rule: str,
    *,
    file: str,
    sheet: str | None,
    row: int | None,
    col: str | None,
    value: object = None,
    detail: object = None,
) -> tuple[str, str]:
    """Both messages of a rule, each starting with where the problem is."""
    r = RULES[rule] if rule in RULES else REGISTRY_RULES[rule]
    col = one_line(col) if col else col
    value = "" if value is None else value
    detail = "" if detail is None else detail
    fields = {"col": col or "", "value": value, "detail": detail}
    fields_vi = {"col": col or "", "value": vi_number(value), "detail": vi_number(detail)}
    where_vi = [f"Tệp {file}"]
    where_en = [f"File {file}"]
    if sheet:
        where_vi.append(f"sheet {sheet}")
        where_en.append(f"sheet {sheet}")
    if row is not None:
        where_vi.append(f"dòng {row}")
        where_en.append(f"row {row}")
    if col:
        where_vi.append(f"cột «{col}»")
        where_en.append(f"column '{col}'")
    return (", ".join(where_vi) + ": " + r.vi.format(**fields_vi), ", ".join(where_en) + ": " + r.en.format(**fields))
