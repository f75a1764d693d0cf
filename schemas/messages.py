"""What the command line says to people, Vietnamese first, English second: the one catalogue of these texts.

Problems found in submissions have their own catalogue (:mod:`schemas.rules`).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "no_reference": (
        "{raw} không có reference/communes.csv (dùng --raw)",
        "{raw} has no reference/communes.csv (use --raw)",
    ),
    "no_file": ("Không có tệp {path}", "{path} does not exist"),
    "no_periods": ("Không có thư mục quý (<YYYY>/Q<n>) trong {raw}", "No quarter folders (<YYYY>/Q<n>) under {raw}"),
    "period_summary": (
        "{period}: {submitted}/{expected} xã đã nộp, {on_time} đúng hạn",
        "{period}: {submitted}/{expected} communes submitted, {on_time} on time",
    ),
    "summary_header": (
        "xã | tệp | trạng thái | nhận | loại | cảnh báo",
        "commune | file | status | accepted | rejected | warnings",
    ),
    "not_submitted": ("Chưa nộp: {names}", "not submitted: {names}"),
    "tables_written": ("Các bảng đã ghi vào {warehouse}", "Tables written under {warehouse}"),
    "report_written": ("Báo cáo {period}: {path}", "Report for {period}: {path}"),
    "file_result": (
        "{file}: {status} — {rows} dòng, {rejected} dòng bị loại, {errors} lỗi, {warnings} cảnh báo",
        "{file}: {status} — {rows} rows, {rejected} rejected, {errors} errors, {warnings} warnings",
    ),
    "tag_error": ("LỖI", "ERROR"),
    "tag_warning": ("CẢNH BÁO", "WARNING"),
    "marked": ("Đã đánh dấu lỗi trong {path}", "Problems marked in {path}"),
    "template_written": (
        "Đã ghi {path} ({name}, {period}; điền sẵn {htx} HTX và {tht} THT)",
        "Wrote {path} ({name}, {period}; {htx} HTX and {tht} THT prefilled)",
    ),
    "unknown_commune_or_period": (
        "Không rõ xã {commune} hoặc kỳ {period}",
        "Unknown commune {commune} or period {period}",
    ),
    "nothing_stored": (
        "Chưa có số liệu kỳ {period}; biểu mẫu để trống",
        "Nothing stored for {period}; the template is empty",
    ),
    "progress_done": (
        "[{n}/{total}] {period}: xong trong {seconds} giây",
        "[{n}/{total}] {period}: done in {seconds} s",
    ),
    "progress_failed": ("[{n}/{total}] {period}: LỖI HỆ THỐNG {error}", "[{n}/{total}] {period}: FAILED {error}"),
    "progress_yearly": ("Chỉ tiêu theo năm và cơ sở dữ liệu DuckDB …", "Yearly indicators and the DuckDB views …"),
    "skipped": ("Bỏ qua {path}", "skipped {path}"),
    "sample_written": ("Đã ghi bộ số liệu mẫu vào {raw}", "Sample district written under {raw}"),
}


def say(key: str, **fields: object) -> str:
    """A message on one line: ``Vietnamese / English``."""
    vi, en = MESSAGES[key]
    return f"{vi.format(**fields)} / {en.format(**fields)}"
