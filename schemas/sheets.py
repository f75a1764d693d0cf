"""Pandera models of the submission sheets (HTX, THT, TongHop, HoTro).

Column order, Vietnamese headers, English meanings, parsing kinds and row rules of
`submission-format.md` are written here once. A row that fails a check of these
models is rejected; the check's name is the rule name reported to the commune.

Columns the law added later carry the periods they are in force and their legal basis
(see `schemas.law`) and come last in each sheet, after the standing form; they are typed
`X | None` because a frame of the standing form may lack them (the pipeline always adds
them, empty where not in force). The periods of the row rules are in the rule catalogue
(`schemas.rules`).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.model_config import BaseConfig

from schemas.fields import column
from schemas.law import DECREE_113_FROM, GROUP_REGISTRATION_FROM, LAW_2023_FROM, RATING_LAST
from schemas.vocab import LEVELS, RATINGS, SCALES, SECTORS, STATUSES, SUBSECTORS, THT_KINDS

_RATING_BASIS = ("circular_01_2020", "circular_78_2025")
_INFO_BASIS = ("law_2023", "circular_09_2024")
_MEMBER_KINDS = ("members_individuals", "members_households", "members_legal_entities")


def _ok_when_null(*cols: str) -> pl.Expr:
    return pl.any_horizontal([pl.col(c).is_null() for c in cols])


def _rating_required() -> pl.Expr:
    return (pl.col("status") != "active").fill_null(True) | pl.col("rating").is_not_null()


def _rating_unexpected() -> pl.Expr:
    return _ok_when_null("rating", "status") | (pl.col("status") == "active")


def _profit_not_above_revenue() -> pl.Expr:
    return _ok_when_null("profit_mvnd", "revenue_mvnd") | (pl.col("profit_mvnd") <= pl.col("revenue_mvnd"))


class SheetConfig(BaseConfig):
    """Shared configuration: validate values as typed, keep extra columns."""

    strict = False
    coerce = False


class HtxSheet(pa.DataFrameModel):
    """Sheet `HTX`: one row per cooperative (hợp tác xã), people's credit funds included."""

    coop_id: pl.String = column(
        "Mã HTX",
        "Cooperative id, unique within the submission",
        required=True,
        aliases=("Mã hợp tác xã", "Mã số HTX"),
    )
    name: pl.String = column("Tên HTX", "Cooperative name", required=True, aliases=("Tên hợp tác xã",))
    sector: pl.String = column(
        "Lĩnh vực", "Sector", kind="category", vocab=SECTORS, required=True, aliases=("Lĩnh vực hoạt động",)
    )
    subsector: pl.String = column(
        "Ngành",
        "Agricultural subsector; required for agriculture, empty otherwise",
        kind="category",
        vocab=SUBSECTORS,
        aliases=("Ngành nông nghiệp",),
    )
    founded_year: pl.Int64 = column(
        "Năm thành lập", "Year founded (1955 to the report year)", kind="int", required=True, ge=1955
    )
    status: pl.String = column(
        "Tình trạng", "Status", kind="category", vocab=STATUSES, required=True, aliases=("Tình trạng hoạt động",)
    )
    rating: pl.String = column(
        "Xếp loại",
        "Rating; required when active (until the rating was repealed, except credit funds), empty when new or "
        "suspended",
        kind="category",
        vocab=RATINGS,
        optional_column=False,
        required_to=RATING_LAST,
        basis=_RATING_BASIS,
        aliases=("Đánh giá", "Xếp loại hoạt động"),
    )
    members: pl.Int64 = column("Số thành viên", "Members (fewer than 5 is a warning)", kind="int", required=True)
    charter_capital_mvnd: pl.Float64 = column(
        "Vốn điều lệ", "Charter capital, million VND", kind="money", required=True
    )
    revenue_mvnd: pl.Float64 = column("Doanh thu", "Revenue year to date, million VND", kind="money")
    profit_mvnd: pl.Float64 = column(
        "Lợi nhuận",
        "Profit year to date, million VND; may be negative, not above revenue",
        kind="money",
        signed=True,
    )
    tax_code: pl.String = column(
        "Mã số thuế",
        "Tax code: 10 digits, or 10 digits + '-' + 3 digits",
        str_matches=r"^\d{10}(-\d{3})?$",
        aliases=("MST",),
    )
    tax_paid_mvnd: pl.Float64 = column("Nộp ngân sách", "Taxes paid year to date, million VND", kind="money")
    insured_workers: pl.Int64 = column(
        "Lao động đóng BHXH", "Workers with social insurance", kind="int", aliases=("Số lao động đóng BHXH",)
    )
    avg_income_mvnd_month: pl.Float64 = column(
        "Thu nhập bình quân",
        "Average income per worker per month, million VND",
        kind="money",
    )
    managers: pl.Int64 = column("Cán bộ quản lý", "Managers", kind="int", aliases=("Số cán bộ quản lý",))
    managers_college: pl.Int64 = column(
        "Trình độ ĐH, CĐ",
        "Managers with a university or college degree",
        kind="int",
        aliases=("Trình độ đại học, cao đẳng",),
    )
    managers_vocational: pl.Int64 = column(
        "Trình độ trung cấp",
        "Managers with vocational training; college + vocational ≤ managers",
        kind="int",
    )
    digital_training: pl.Boolean = column("Tập huấn chuyển đổi số", "Trained in digital transformation", kind="bool")
    ocop_stars: pl.Int64 = column(
        "Sản phẩm OCOP (sao)",
        "Stars of the best OCOP product (1-5)",
        kind="int",
        in_range={"min_value": 1, "max_value": 5},
        aliases=("OCOP",),
    )
    drones: pl.Int64 = column(
        "Máy bay không người lái",
        "Agricultural drones owned",
        kind="int",
        aliases=("Số máy bay không người lái", "Drone"),
    )
    loans_disbursed_mvnd: pl.Float64 = column(
        "Giải ngân cho vay",
        "Loans disbursed year to date, million VND (credit funds only)",
        kind="money",
    )
    loan_contracts: pl.Int64 = column(
        "Số hợp đồng tín dụng", "Credit contracts year to date (credit funds only)", kind="int"
    )
    total_assets_mvnd: pl.Float64 | None = column(
        "Tổng tài sản",
        "Total assets at the end of the period, million VND",
        kind="money",
        valid_from=LAW_2023_FROM,
        basis=_INFO_BASIS,
        aliases=("Tổng giá trị tài sản",),
    )
    total_capital_mvnd: pl.Float64 | None = column(
        "Tổng nguồn vốn",
        "Total capital (sources of funds) at the end of the period, million VND; a criterion of the scale class",
        kind="money",
        valid_from=LAW_2023_FROM,
        basis=(*_INFO_BASIS, "decree_113_2024"),
        aliases=("Nguồn vốn",),
    )
    total_workers: pl.Int64 | None = column(
        "Tổng số lao động",
        "Workers in total, insured or not",
        kind="int",
        valid_from=LAW_2023_FROM,
        basis=_INFO_BASIS,
        aliases=("Tổng lao động", "Số lao động"),
    )
    members_individuals: pl.Int64 | None = column(
        "Thành viên là cá nhân",
        "Members who are individuals",
        kind="int",
        valid_from=LAW_2023_FROM,
        basis=_INFO_BASIS,
        aliases=("Thành viên cá nhân", "Số thành viên cá nhân"),
    )
    members_households: pl.Int64 | None = column(
        "Thành viên là hộ gia đình",
        "Members who are households",
        kind="int",
        valid_from=LAW_2023_FROM,
        basis=_INFO_BASIS,
        aliases=("Thành viên hộ gia đình", "Số thành viên hộ gia đình"),
    )
    members_legal_entities: pl.Int64 | None = column(
        "Thành viên là pháp nhân",
        "Members who are legal entities; individuals + households + legal entities ≤ members",
        kind="int",
        valid_from=LAW_2023_FROM,
        basis=_INFO_BASIS,
        aliases=("Thành viên pháp nhân", "Số thành viên pháp nhân"),
    )
    member_services_revenue_mvnd: pl.Float64 | None = column(
        "Doanh thu cung ứng cho thành viên",
        "Revenue from products and services supplied to members (internal transactions), year to date, million VND",
        kind="money",
        valid_from=DECREE_113_FROM,
        basis=("decree_113_2024",),
        aliases=("Doanh thu dịch vụ cho thành viên", "Doanh thu giao dịch nội bộ"),
    )
    scale_reported: pl.String | None = column(
        "Quy mô",
        "Scale class as the commune reports it (kttt also computes it: scale_computed)",
        kind="category",
        vocab=SCALES,
        valid_from=DECREE_113_FROM,
        basis=("decree_113_2024",),
        aliases=("Quy mô HTX", "Phân loại quy mô"),
    )

    @pa.dataframe_check(name="subsector_required")
    def subsector_required(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Agricultural cooperatives name their subsector."""
        return data.lazyframe.select(
            (pl.col("sector") != "agriculture") | pl.col("subsector").is_not_null() | pl.col("sector").is_null()
        )

    @pa.dataframe_check(name="subsector_only_agriculture")
    def subsector_only_agriculture(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Only agricultural cooperatives have a subsector."""
        return data.lazyframe.select(_ok_when_null("subsector", "sector") | (pl.col("sector") == "agriculture"))

    @pa.dataframe_check(name="rating_required")
    def rating_required(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """An active cooperative has a rating."""
        return data.lazyframe.select(_rating_required())

    @pa.dataframe_check(name="rating_unexpected")
    def rating_unexpected(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A new or suspended cooperative is not rated."""
        return data.lazyframe.select(_rating_unexpected())

    @pa.dataframe_check(name="profit_above_revenue")
    def profit_above_revenue(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Profit does not exceed revenue."""
        return data.lazyframe.select(_profit_not_above_revenue())

    @pa.dataframe_check(name="qualified_above_managers")
    def qualified_above_managers(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Managers with a degree plus those with vocational training do not exceed managers."""
        qualified = pl.col("managers_college").fill_null(0) + pl.col("managers_vocational").fill_null(0)
        return data.lazyframe.select(pl.col("managers").is_null() | (qualified <= pl.col("managers")))

    @pa.dataframe_check(name="member_types_above_members")
    def member_types_above_members(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Members by type do not add up to more than the members."""
        kinds = [c for c in _MEMBER_KINDS if c in data.lazyframe.collect_schema().names()]
        typed = pl.sum_horizontal(pl.col(c) for c in kinds) if kinds else pl.lit(0)
        return data.lazyframe.select(pl.col("members").is_null() | (typed <= pl.col("members")))

    @pa.dataframe_check(name="credit_fields_not_credit_fund")
    def credit_fields_not_credit_fund(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Loans and credit contracts are reported by people's credit funds only."""
        return data.lazyframe.select(
            (pl.col("loans_disbursed_mvnd").is_null() & pl.col("loan_contracts").is_null())
            | (pl.col("sector") == "credit_fund").fill_null(True)
        )

    Config = SheetConfig


class ThtSheet(pa.DataFrameModel):
    """Sheet `THT`: one row per cooperative group (tổ hợp tác)."""

    group_id: pl.String = column(
        "Mã THT", "Cooperative group id, unique within the submission", required=True, aliases=("Mã tổ hợp tác",)
    )
    name: pl.String = column("Tên THT", "Cooperative group name", required=True, aliases=("Tên tổ hợp tác",))
    kind: pl.String = column(
        "Loại hình", "Kind of group", kind="category", vocab=THT_KINDS, required=True, aliases=("Lĩnh vực",)
    )
    status: pl.String = column("Tình trạng", "Status", kind="category", vocab=STATUSES, required=True)
    rating: pl.String = column(
        "Xếp loại",
        "Rating; required when active (until the rating was repealed), empty when new or suspended",
        kind="category",
        vocab=RATINGS,
        optional_column=False,
        required_to=RATING_LAST,
        basis=_RATING_BASIS,
        aliases=("Đánh giá",),
    )
    members: pl.Int64 = column("Số thành viên", "Members (fewer than 2 is a warning)", kind="int", required=True)
    revenue_mvnd: pl.Float64 = column("Doanh thu", "Revenue per year, million VND", kind="money")
    profit_mvnd: pl.Float64 = column(
        "Lợi nhuận", "Profit per year, million VND; not above revenue", kind="money", signed=True
    )
    ocop_stars: pl.Int64 = column(
        "Sản phẩm OCOP (sao)",
        "Stars of the best OCOP product (1-5)",
        kind="int",
        in_range={"min_value": 1, "max_value": 5},
        aliases=("OCOP",),
    )
    registration_no: pl.String | None = column(
        "Số đăng ký THT",
        "Registration number of the group (registered with the commune)",
        valid_from=GROUP_REGISTRATION_FROM,
        basis=("law_2023", "decree_92_2024"),
        aliases=("Số giấy chứng nhận đăng ký THT", "Số đăng ký tổ hợp tác", "Số đăng ký"),
    )
    registration_date: pl.Date | None = column(
        "Ngày đăng ký THT",
        "Registration date of the group",
        kind="date",
        valid_from=GROUP_REGISTRATION_FROM,
        basis=("law_2023", "decree_92_2024"),
        aliases=("Ngày đăng ký tổ hợp tác", "Ngày đăng ký"),
    )

    @pa.dataframe_check(name="rating_required")
    def rating_required(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """An active group has a rating."""
        return data.lazyframe.select(_rating_required())

    @pa.dataframe_check(name="rating_unexpected")
    def rating_unexpected(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A new or suspended group is not rated."""
        return data.lazyframe.select(_rating_unexpected())

    @pa.dataframe_check(name="profit_above_revenue")
    def profit_above_revenue(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Profit does not exceed revenue."""
        return data.lazyframe.select(_profit_not_above_revenue())

    Config = SheetConfig


HTX_RATING_COLUMNS = ("htx_good", "htx_fair", "htx_average", "htx_weak", "htx_suspended", "htx_new")
THT_RATING_COLUMNS = ("tht_good", "tht_fair", "tht_average", "tht_weak", "tht_new")


class TongHopSheet(pa.DataFrameModel):
    """Sheet `TongHop`: the commune's own totals, one row; it also identifies the submission."""

    commune: pl.String = column(
        "Xã",
        "Commune: name or code from communes.csv",
        required=True,
        aliases=("Tên xã", "Xã, thị trấn", "Đơn vị", "Mã xã"),
    )
    period_text: pl.String = column(
        "Kỳ báo cáo",
        "Report period as written (2024-Q3, Quý 3/2024, ...)",
        kind="period",
        required=True,
        aliases=("Kỳ",),
    )
    report_date: pl.Date = column("Ngày báo cáo", "Report date", kind="date", required=True)
    htx_total: pl.Int64 = column("Tổng số HTX", "Cooperatives in total", kind="int", required=True)
    htx_new: pl.Int64 = column("HTX mới thành lập", "New cooperatives", kind="int", required=True)
    htx_good: pl.Int64 = column(
        "HTX tốt", "Cooperatives rated good", kind="int", required=True, required_to=RATING_LAST, basis=_RATING_BASIS
    )
    htx_fair: pl.Int64 = column(
        "HTX khá", "Cooperatives rated fair", kind="int", required=True, required_to=RATING_LAST, basis=_RATING_BASIS
    )
    htx_average: pl.Int64 = column(
        "HTX trung bình",
        "Cooperatives rated average",
        kind="int",
        required=True,
        required_to=RATING_LAST,
        basis=_RATING_BASIS,
    )
    htx_weak: pl.Int64 = column(
        "HTX yếu", "Cooperatives rated weak", kind="int", required=True, required_to=RATING_LAST, basis=_RATING_BASIS
    )
    htx_suspended: pl.Int64 = column("HTX tạm dừng", "Cooperatives suspended", kind="int", required=True)
    htx_members: pl.Int64 = column("Tổng số thành viên HTX", "Members of all cooperatives", kind="int")
    htx_capital_mvnd: pl.Float64 = column(
        "Tổng vốn điều lệ", "Charter capital of all cooperatives, million VND", kind="money"
    )
    tht_total: pl.Int64 = column("Tổng số THT", "Cooperative groups in total", kind="int", required=True)
    tht_new: pl.Int64 = column("THT mới thành lập", "New cooperative groups", kind="int", required=True)
    tht_good: pl.Int64 = column(
        "THT tốt", "Groups rated good", kind="int", required=True, required_to=RATING_LAST, basis=_RATING_BASIS
    )
    tht_fair: pl.Int64 = column(
        "THT khá", "Groups rated fair", kind="int", required=True, required_to=RATING_LAST, basis=_RATING_BASIS
    )
    tht_average: pl.Int64 = column(
        "THT trung bình",
        "Groups rated average",
        kind="int",
        required=True,
        required_to=RATING_LAST,
        basis=_RATING_BASIS,
    )
    tht_weak: pl.Int64 = column(
        "THT yếu",
        "Groups rated weak (suspended groups count here)",
        kind="int",
        required=True,
        required_to=RATING_LAST,
        basis=_RATING_BASIS,
    )

    @pa.dataframe_check(name="htx_ratings_sum")
    def htx_ratings_sum(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Good + fair + average + weak + suspended + new cooperatives = total."""
        return data.lazyframe.select(pl.sum_horizontal([pl.col(c) for c in HTX_RATING_COLUMNS]) == pl.col("htx_total"))

    @pa.dataframe_check(name="tht_ratings_sum")
    def tht_ratings_sum(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Good + fair + average + weak + new groups = total."""
        return data.lazyframe.select(pl.sum_horizontal([pl.col(c) for c in THT_RATING_COLUMNS]) == pl.col("tht_total"))

    Config = SheetConfig


class HoTroSheet(pa.DataFrameModel):
    """Sheet `HoTro` of `_district.xlsx`: support disbursed to cooperatives."""

    program: pl.String = column(
        "Mã chương trình", "Programme code, e.g. NQ44-NQ51", required=True, aliases=("Chương trình",)
    )
    level: pl.String = column("Cấp", "Level of government or fund", kind="category", vocab=LEVELS, required=True)
    purpose: pl.String = column("Nội dung", "What the support pays for")
    coop_id: pl.String = column("Mã HTX", "Beneficiary cooperative, if any (must be reported this period)")
    plan_mvnd: pl.Float64 = column("Kế hoạch", "Planned amount, million VND", kind="money")
    disbursed_mvnd: pl.Float64 = column("Giải ngân", "Amount disbursed, million VND", kind="money", required=True)

    Config = SheetConfig


SHEETS: dict[str, type[pa.DataFrameModel]] = {
    "HTX": HtxSheet,
    "THT": ThtSheet,
    "TongHop": TongHopSheet,
    "HoTro": HoTroSheet,
}
"""Sheet name → model. HTX and TongHop are required in a commune submission; THT may be absent."""

REQUIRED_SHEETS = ("HTX", "TongHop")
