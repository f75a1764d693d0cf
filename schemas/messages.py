"""What the command line says to people, Vietnamese first, English second: the one catalogue of these texts.

Problems found in submissions have their own catalogue (`schemas.rules`).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "no_reference": (
        "Không tìm thấy {raw}/reference/communes.csv; chạy lệnh ở thư mục gốc của dự án, "
        "hoặc chỉ thư mục raw bằng --raw hay biến KTTT_RAW_DIR",
        "{raw}/reference/communes.csv not found; run from the project's root folder, "
        "or name the raw folder with --raw or KTTT_RAW_DIR",
    ),
    "no_file": ("Không có tệp {path}", "{path} does not exist"),
    "bad_setting": (
        "Biến môi trường {name} có giá trị không dùng được: «{value}»; không có gì được ghi",
        "The environment variable {name} holds an unusable value: '{value}'; nothing was written",
    ),
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
    "marked_nothing": (
        "{file}: không có lỗi hay cảnh báo nào, không ghi bản đánh dấu",
        "{file}: no error or warning, no marked copy written",
    ),
    "marked_inside_raw": (
        "Không ghi bản đánh dấu vào {folder} vì thư mục này nằm trong {raw} (thư mục số liệu nộp); "
        "chạy lệnh ở thư mục khác hoặc dùng --out",
        "Marked copies are not written to {folder}, which lies inside {raw} (the submissions folder); "
        "run from another folder or use --out",
    ),
    "template_written": (
        "Đã ghi {path} ({name}, {period}; điền sẵn {htx} HTX và {tht} THT)",
        "Wrote {path} ({name}, {period}; {htx} HTX and {tht} THT prefilled)",
    ),
    "unknown_commune_or_period": (
        "Không rõ xã {commune} hoặc kỳ {period}",
        "Unknown commune {commune} or period {period}",
    ),
    "commune_not_in_period": (
        "Xã {name} ({code}) không phải báo cáo kỳ {period} (theo {csv}: từ {valid_from} đến {valid_to}); "
        "không ghi biểu mẫu",
        "Commune {name} ({code}) does not report in {period} (per {csv}: from {valid_from} to {valid_to}); "
        "no template written",
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
    "progress_storage": (
        "[{n}/{total}] {period}: LỖI, không ghi được vào kho dữ liệu",
        "[{n}/{total}] {period}: FAILED, the warehouse could not be written",
    ),
    "progress_refused": (
        "[{n}/{total}] {period}: không chạy (kỳ này đang được một lần chạy khác ghi)",
        "[{n}/{total}] {period}: not run (another run is writing this period)",
    ),
    "progress_yearly": (
        "Chỉ tiêu theo năm, sổ theo dõi HTX và cơ sở dữ liệu DuckDB …",
        "Yearly indicators, the cooperative registry and the DuckDB views …",
    ),
    "skipped": ("Bỏ qua {path}", "skipped {path}"),
    "sample_written": ("Đã ghi bộ số liệu mẫu vào {raw}", "Sample written under {raw}"),
    "warehouse_write_failed": (
        "Không ghi được vào kho dữ liệu {warehouse}: {reason_vi} ({path}); các bảng đã có vẫn giữ nguyên",
        "Cannot write to the warehouse {warehouse}: {reason_en} ({path}); the tables already there are unchanged",
    ),
    "run_stopped_storage": (
        "Dừng lại: kho dữ liệu {warehouse} không ghi được; sửa lỗi (dung lượng đĩa, quyền ghi) rồi chạy lại",
        "Stopped: the warehouse {warehouse} cannot be written; fix it (disk space, permissions) and run again",
    ),
    "bad_period": (
        "Kỳ «{period}» không hợp lệ (dạng YYYY-Qn, ví dụ 2024-Q3)",
        "Invalid period '{period}' (expected YYYY-Qn, e.g. 2024-Q3)",
    ),
    "lock_waiting": (
        "{period}: đang chờ lần chạy khác của kỳ này trên {warehouse} ({holder}), tối đa {wait} giây",
        "{period}: waiting for another run of this period on {warehouse} ({holder}), up to {wait} s",
    ),
    "lock_refused": (
        "{period}: không chạy vì một lần chạy khác của kỳ này đang ghi vào {warehouse} ({holder}); "
        "đã chờ {wait} giây. Chạy lại sau, hoặc dùng --wait",
        "{period}: not run because another run of this period is writing to {warehouse} ({holder}); "
        "waited {wait} s. Run again later, or use --wait",
    ),
    "previous_interrupted": (
        "{period}: lần chạy trước (tiến trình {pid}, từ {started}) đã bị ngắt giữa chừng; "
        "các bảng của kỳ được ghi lại toàn bộ (đã xoá {removed} tệp tạm)",
        "{period}: the previous run (process {pid}, since {started}) was interrupted; "
        "every table of the period is written again ({removed} temporary files removed)",
    ),
    "no_registry": (
        "Kho dữ liệu {warehouse} chưa có sổ theo dõi HTX (chạy kttt run trước)",
        "The warehouse {warehouse} has no registry yet (run kttt run first)",
    ),
    "history_not_found": (
        "Không tìm thấy HTX hoặc THT nào có mã số thuế hoặc tên «{query}»",
        "No cooperative or group has the tax code or name '{query}'",
    ),
    "files_read": ("đã đọc {done}/{total} tệp", "{done}/{total} files read"),
    "summary_files": (
        "tệp: {accepted} được nhận, {with_errors} có dòng bị loại, {rejected} bị từ chối, "
        "{superseded} đã được thay thế",
        "files: {accepted} accepted, {with_errors} with rejected rows, {rejected} rejected, {superseded} superseded",
    ),
    "summary_no_problem": ("Không xã nào có vấn đề", "No commune has a problem"),
    "summary_problems_only": (
        "Chỉ liệt kê các tệp có vấn đề ({shown}/{total}); toàn bộ: --all hoặc bảng submission_log",
        "Only files with a problem are listed ({shown}/{total}); all of them: --all, or the submission_log table",
    ),
    "run_log": ("Chi tiết: {path}", "Details: {path}"),
    "withdraw_local_only": (
        "Chỉ rút được một kỳ khỏi kho dữ liệu trên ổ đĩa cục bộ ({warehouse})",
        "A quarter can be withdrawn only from a warehouse on a local disk ({warehouse})",
    ),
    "withdraw_nothing": (
        "Kho dữ liệu {warehouse} không có số liệu nào của kỳ {period}",
        "The warehouse {warehouse} holds nothing of {period}",
    ),
    "withdrawn": (
        "Đã rút kỳ {period} khỏi kho dữ liệu: xoá {files} tệp/thư mục, ghi vào {record}",
        "{period} withdrawn from the warehouse: {files} files or folders removed, recorded in {record}",
    ),
    "withdraw_folder_left": (
        "Thư mục {folder} vẫn còn: chuyển nó ra khỏi raw/, nếu không kỳ này sẽ được nạp lại khi tệp thay đổi",
        "The folder {folder} is still there: move it out of raw/, or the quarter is stored again when its files change",
    ),
    "ui_starting": (
        "Giao diện Dagster: http://{host}:{port} (DAGSTER_HOME={home})",
        "Dagster UI: http://{host}:{port} (DAGSTER_HOME={home})",
    ),
    "review_config_invalid": (
        "{file}: giá trị «{value}» của «{setting}» không dùng được (review: required hoặc off; "
        "lock_after_days: số ngày ≥ 0); chưa ghi gì",
        "{file}: '{setting}' cannot be '{value}' (review: required or off; lock_after_days: a number of days ≥ 0); "
        "nothing was written",
    ),
    "review_bad_action": (
        "Không rõ quyết định «{action}» (approve, return hoặc reopen)",
        "Unknown decision '{action}' (approve, return or reopen)",
    ),
    "review_by_required": ("Hãy ghi tên người duyệt (--by)", "Say who decides (--by)"),
    "review_note_required": (
        "Trả lại báo cáo cần có ý kiến gửi xã (--note)",
        "Returning a submission needs a comment for the commune (--note)",
    ),
    "review_all_clean_approve_only": ("--all-clean chỉ dùng với approve", "--all-clean goes with approve only"),
    "review_unit_or_all": ("Hãy chọn một xã (--unit) hoặc --all-clean", "Give one unit (--unit) or --all-clean"),
    "review_not_run": (
        "Kỳ {period} chưa có trong kho dữ liệu; hãy chạy kttt run --period {period} trước",
        "{period} is not in the warehouse yet; run kttt run --period {period} first",
    ),
    "review_unit_unknown": ("Xã «{unit}» không có trong danh mục", "Unit '{unit}' is not in the reference"),
    "review_not_approved": (
        "Xã {unit} chưa được duyệt kỳ {period}: không có gì để mở lại",
        "Unit {unit} is not approved for {period}: nothing to reopen",
    ),
    "review_no_file": (
        "Xã {unit} không có báo cáo nào để duyệt kỳ {period}",
        "Unit {unit} has no submission to decide on for {period}",
    ),
    "review_already": ("Xã {unit}: {file} đã được duyệt", "Unit {unit}: {file} is already approved"),
    "review_not_clean": (
        "Xã {unit}: {file} còn lỗi, chưa duyệt",
        "Unit {unit}: {file} has errors, not approved",
    ),
    "review_recorded": (
        "Đã ghi: xã {unit}, {file} — {decision} ({by})",
        "Recorded: unit {unit}, {file} — {decision} ({by})",
    ),
    "review_nothing": ("Không có quyết định nào được ghi", "No decision recorded"),
    "review_refreshing": (
        "Cập nhật số liệu kỳ {period} theo các quyết định …",
        "Refreshing {period} with the decisions …",
    ),
}


def say(key: str, **fields: object) -> str:
    """A message on one line: `Vietnamese / English`."""
    vi, en = MESSAGES[key]
    return f"{vi.format(**fields)} / {en.format(**fields)}"
