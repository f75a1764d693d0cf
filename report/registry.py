"""The registry of report figures: id → definition, label, section, unit and how to compute it.

This is the one place a figure is defined. ``report_figures``, ``figure_sources``,
the figure list in the docs and the report text all draw from it. A figure is a
filter over the rows of one warehouse table (the rows behind it, which is its
provenance) and an aggregation of those rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.vocab import RATINGS, SCALES, SECTORS, SUBSECTORS, THT_KINDS

HTX = "cooperatives"
THT = "coop_groups"
SUPPORT = "support_disbursements"

SECTION_TITLES = {
    "1.2": "1.2. Đánh giá tình hình HTX, tổ hợp tác (THT)",
    "1.3": "1.3. Kết quả thực hiện công tác hỗ trợ về KTTT, HTX",
    "1.4": "1.4. Kết quả thực hiện các Nghị quyết và chính sách liên quan đến KTTT, HTX",
    "2.1": "2.1. Về Hợp tác xã",
    "2.2": "2.2. Tổ hợp tác",
    "2.3": "2.3. Quy mô, tài sản, nguồn vốn, lao động và thành viên của HTX (Luật Hợp tác xã 2023)",
    "II.3": "Phần thứ hai, 3. Một số mục tiêu cụ thể",
}


@dataclass(frozen=True)
class Figure:
    """One figure of the yearly report."""

    id: str
    section: str
    label_vi: str
    unit: str
    definition: str
    table: str
    where: pl.Expr
    value: pl.Expr
    pct_group: str | None = None
    """Figures of one group are percentages of the group's total, rounded together by largest remainder."""
    empty: float | None = 0.0
    """Value when no row qualifies: 0 for counts and sums, None (not reported) for means, extremes, ratios."""


ALL = pl.lit(True)
COUNT = pl.len().cast(pl.Float64)


def total(col: str) -> pl.Expr:
    """Sum of a column as a float (0 when every value is null)."""
    return pl.col(col).sum().cast(pl.Float64)


def _active(rating: str) -> pl.Expr:
    return (pl.col("status") == "active") & (pl.col("rating") == rating)


def _htx_figures() -> list[Figure]:
    f = [
        Figure("htx.total", "1.2", "Tổng số HTX", "count", "Cooperatives listed, every status.", HTX, ALL, COUNT),
        Figure(
            "htx.new",
            "1.2",
            "HTX mới thành lập",
            "count",
            "Cooperatives with status new.",
            HTX,
            pl.col("status") == "new",
            COUNT,
        ),
        Figure(
            "htx.evaluated",
            "1.2",
            "HTX thực hiện đánh giá",
            "count",
            "Cooperatives listed minus new ones.",
            HTX,
            pl.col("status") != "new",
            COUNT,
        ),
    ]
    ratings = [(t.code, t.label_vi, _active(t.code)) for t in RATINGS.terms]
    ratings.append(("suspended", "Tạm dừng chờ giải thể", pl.col("status") == "suspended"))
    for code, label, cond in ratings:
        what = "status suspended" if code == "suspended" else f"active and rated {code}"
        f.append(
            Figure(
                f"htx.rating.{code}.count",
                "1.2",
                f"HTX {label.lower()}",
                "count",
                f"Cooperatives {what}.",
                HTX,
                cond,
                COUNT,
            )
        )
        f.append(
            Figure(
                f"htx.rating.{code}.pct",
                "1.2",
                f"Tỷ lệ HTX {label.lower()}",
                "pct",
                f"Share of evaluated cooperatives {what}, % (two decimals, largest remainder).",
                HTX,
                cond,
                COUNT,
                pct_group="htx.rating",
            )
        )
    for t in SECTORS.terms:
        cond = pl.col("sector") == t.code
        f += [
            Figure(
                f"htx.sector.{t.code}.count",
                "1.2",
                f"HTX lĩnh vực {t.label_vi}",
                "count",
                f"Cooperatives of sector {t.code}, every status.",
                HTX,
                cond,
                COUNT,
            ),
            Figure(
                f"htx.sector.{t.code}.members",
                "1.2",
                f"Thành viên HTX lĩnh vực {t.label_vi}",
                "persons",
                f"Members of cooperatives of sector {t.code}.",
                HTX,
                cond,
                total("members"),
            ),
            Figure(
                f"htx.sector.{t.code}.capital_mvnd",
                "1.2",
                f"Vốn điều lệ HTX lĩnh vực {t.label_vi}",
                "mvnd",
                f"Charter capital of cooperatives of sector {t.code}, million VND.",
                HTX,
                cond,
                total("charter_capital_mvnd"),
            ),
            Figure(
                f"htx.new.{t.code}.count",
                "1.2",
                f"HTX mới thành lập lĩnh vực {t.label_vi}",
                "count",
                f"New cooperatives of sector {t.code}.",
                HTX,
                cond & (pl.col("status") == "new"),
                COUNT,
            ),
        ]
    for t in SUBSECTORS.terms:
        f.append(
            Figure(
                f"htx.agriculture.{t.code}.count",
                "1.2",
                f"HTX {t.label_vi.lower()}",
                "count",
                f"Agricultural cooperatives of subsector {t.code}.",
                HTX,
                (pl.col("sector") == "agriculture") & (pl.col("subsector") == t.code),
                COUNT,
            )
        )
    credit = pl.col("sector") == "credit_fund"
    f += [
        Figure(
            "credit_fund.loans_disbursed_mvnd",
            "1.2",
            "Quỹ tín dụng nhân dân giải ngân cho vay",
            "mvnd",
            "Loans disbursed by people's credit funds, year to date, million VND.",
            HTX,
            credit & pl.col("loans_disbursed_mvnd").is_not_null(),
            total("loans_disbursed_mvnd"),
        ),
        Figure(
            "credit_fund.loan_contracts",
            "1.2",
            "Số hợp đồng tín dụng",
            "count",
            "Credit contracts of people's credit funds, year to date.",
            HTX,
            credit & pl.col("loan_contracts").is_not_null(),
            total("loan_contracts"),
        ),
        Figure(
            "htx.tax_code.count",
            "2.1",
            "HTX có đăng ký mã số thuế",
            "count",
            "Cooperatives with a tax code.",
            HTX,
            pl.col("tax_code").is_not_null(),
            COUNT,
        ),
        Figure(
            "htx.tax_paid.count",
            "2.1",
            "HTX nộp ngân sách",
            "count",
            "Cooperatives with taxes paid > 0, year to date.",
            HTX,
            pl.col("tax_paid_mvnd") > 0,
            COUNT,
        ),
        Figure(
            "htx.tax_paid_mvnd",
            "2.1",
            "Số nộp ngân sách của HTX",
            "mvnd",
            "Taxes paid by cooperatives, year to date, million VND.",
            HTX,
            pl.col("tax_paid_mvnd") > 0,
            total("tax_paid_mvnd"),
        ),
        Figure(
            "htx.insured.count",
            "2.1",
            "HTX tham gia đóng BHXH",
            "count",
            "Cooperatives with insured workers > 0.",
            HTX,
            pl.col("insured_workers") > 0,
            COUNT,
        ),
        Figure(
            "htx.insured.workers",
            "2.1",
            "Số thành viên được đóng BHXH",
            "persons",
            "Insured workers of cooperatives.",
            HTX,
            pl.col("insured_workers") > 0,
            total("insured_workers"),
        ),
        Figure(
            "htx.insured.income_min",
            "2.1",
            "Thu nhập bình quân thấp nhất (HTX đóng BHXH)",
            "mvnd/month",
            "Lowest average monthly income among cooperatives with insured workers.",
            HTX,
            (pl.col("insured_workers") > 0) & pl.col("avg_income_mvnd_month").is_not_null(),
            pl.col("avg_income_mvnd_month").min(),
            empty=None,
        ),
        Figure(
            "htx.insured.income_max",
            "2.1",
            "Thu nhập bình quân cao nhất (HTX đóng BHXH)",
            "mvnd/month",
            "Highest average monthly income among cooperatives with insured workers.",
            HTX,
            (pl.col("insured_workers") > 0) & pl.col("avg_income_mvnd_month").is_not_null(),
            pl.col("avg_income_mvnd_month").max(),
            empty=None,
        ),
        Figure(
            "htx.ocop.count",
            "2.1",
            "HTX có sản phẩm OCOP",
            "count",
            "Cooperatives with an OCOP product.",
            HTX,
            pl.col("ocop_stars").is_not_null(),
            COUNT,
        ),
        Figure(
            "htx.drones.count",
            "2.1",
            "HTX có máy bay không người lái",
            "count",
            "Cooperatives owning agricultural drones.",
            HTX,
            pl.col("drones") > 0,
            COUNT,
        ),
        Figure(
            "htx.avg_revenue_mvnd",
            "2.1",
            "Doanh thu bình quân 01 HTX",
            "mvnd",
            "Mean revenue (year to date) over cooperatives that report it, million VND.",
            HTX,
            pl.col("revenue_mvnd").is_not_null(),
            pl.col("revenue_mvnd").mean().round(0),
            empty=None,
        ),
        Figure(
            "htx.avg_income_mvnd_year",
            "2.1",
            "Thu nhập bình quân 01 lao động trong HTX",
            "mvnd/year",
            "Mean of average monthly income × 12 over cooperatives that report it, million VND.",
            HTX,
            pl.col("avg_income_mvnd_month").is_not_null(),
            (pl.col("avg_income_mvnd_month").mean() * 12).round(1),
            empty=None,
        ),
        Figure(
            "htx.managers_college.pct",
            "2.1",
            "Tỷ lệ cán bộ quản lý trình độ ĐH, CĐ",
            "pct",
            "Managers with a university or college degree, % of the managers of cooperatives that report both.",
            HTX,
            (pl.col("managers") > 0) & pl.col("managers_college").is_not_null(),
            (100 * pl.col("managers_college").sum() / pl.col("managers").sum()).round(2),
            empty=None,
        ),
        Figure(
            "htx.managers_vocational.pct",
            "2.1",
            "Tỷ lệ cán bộ quản lý trình độ trung cấp",
            "pct",
            "Managers with vocational training, % of the managers of cooperatives that report both.",
            HTX,
            (pl.col("managers") > 0) & pl.col("managers_vocational").is_not_null(),
            (100 * pl.col("managers_vocational").sum() / pl.col("managers").sum()).round(2),
            empty=None,
        ),
        Figure(
            "htx.digital_training.pct",
            "2.1",
            "Tỷ lệ HTX được tập huấn chuyển đổi số",
            "pct",
            "Cooperatives trained in digital transformation, % of the cooperatives that answer (Có/Không).",
            HTX,
            pl.col("digital_training").is_not_null(),
            (100 * pl.col("digital_training").cast(pl.Float64).mean()).round(2),
            empty=None,
        ),
    ]
    return f


def _tht_figures() -> list[Figure]:
    f = [Figure("tht.total", "1.2", "Tổng số tổ hợp tác", "count", "Cooperative groups listed.", THT, ALL, COUNT)]
    for t in THT_KINDS.terms:
        f.append(
            Figure(
                f"tht.kind.{t.code}.count",
                "1.2",
                f"THT {t.label_vi.lower()}",
                "count",
                f"Groups of kind {t.code}.",
                THT,
                pl.col("kind") == t.code,
                COUNT,
            )
        )
    for t in RATINGS.terms[:3]:
        f.append(
            Figure(
                f"tht.rating.{t.code}.count",
                "1.2",
                f"THT hoạt động {t.label_vi.lower()}",
                "count",
                f"Groups active and rated {t.code}.",
                THT,
                _active(t.code),
                COUNT,
            )
        )
    f += [
        Figure(
            "tht.rating.weak_or_suspended.count",
            "1.2",
            "THT hoạt động yếu và tạm dừng chờ giải thể",
            "count",
            "Groups rated weak or suspended.",
            THT,
            (pl.col("rating") == "weak") | (pl.col("status") == "suspended"),
            COUNT,
        ),
        Figure(
            "tht.new",
            "1.2",
            "THT mới thành lập",
            "count",
            "Groups with status new.",
            THT,
            pl.col("status") == "new",
            COUNT,
        ),
        Figure(
            "tht.avg_revenue_mvnd",
            "2.2",
            "Doanh thu bình quân của THT",
            "mvnd/year",
            "Mean revenue over groups that report it, rounded to whole millions.",
            THT,
            pl.col("revenue_mvnd").is_not_null(),
            pl.col("revenue_mvnd").mean().round(0),
            empty=None,
        ),
        Figure(
            "tht.avg_profit_mvnd",
            "2.2",
            "Lợi nhuận bình quân của THT",
            "mvnd/year",
            "Mean profit over groups that report it, rounded to whole millions.",
            THT,
            pl.col("profit_mvnd").is_not_null(),
            pl.col("profit_mvnd").mean().round(0),
            empty=None,
        ),
        Figure(
            "tht.ocop.count",
            "2.2",
            "THT có sản phẩm OCOP",
            "count",
            "Groups with an OCOP product.",
            THT,
            pl.col("ocop_stars").is_not_null(),
            COUNT,
        ),
    ]
    return f


LAW_2023_SUMS: tuple[tuple[str, str, str], ...] = (
    ("total_assets_mvnd", "Tổng tài sản", "mvnd"),
    ("total_capital_mvnd", "Tổng nguồn vốn", "mvnd"),
    ("total_workers", "Tổng số lao động", "persons"),
    ("members_individuals", "Thành viên là cá nhân", "persons"),
    ("members_households", "Thành viên là hộ gia đình", "persons"),
    ("members_legal_entities", "Thành viên là pháp nhân", "persons"),
    ("member_services_revenue_mvnd", "Doanh thu cung ứng cho thành viên", "mvnd"),
)
"""Columns of sheet HTX the 2023 Law and its texts added (docs/law.md): their sums and shares are figures."""


def share(col: str, part: pl.Expr) -> pl.Expr:
    """Percentage (two decimals) of the column's sum that the rows matching `part` hold; null when the sum is 0."""
    whole = pl.col(col).sum()
    return pl.when(whole > 0).then((100 * pl.col(col).filter(part).sum() / whole).round(2)).otherwise(None)


def _law_figures() -> list[Figure]:
    """Sums of the new columns for the district and by sector, each sector's share, and the scale classes."""
    f: list[Figure] = []
    for col, label, unit in LAW_2023_SUMS:
        told = pl.col(col).is_not_null()
        f.append(
            Figure(
                f"htx.{col}",
                "2.3",
                f"{label} của các HTX",
                unit,
                f"Sum of {col} over the cooperatives that report it (null when none does).",
                HTX,
                told,
                total(col),
                empty=None,
            )
        )
        for t in SECTORS.terms:
            sector = pl.col("sector") == t.code
            f += [
                Figure(
                    f"htx.sector.{t.code}.{col}",
                    "2.3",
                    f"{label} HTX lĩnh vực {t.label_vi}",
                    unit,
                    f"Sum of {col} over cooperatives of sector {t.code} that report it.",
                    HTX,
                    told & sector,
                    total(col),
                    empty=None,
                ),
                Figure(
                    f"htx.sector.{t.code}.{col}.pct",
                    "2.3",
                    f"Tỷ trọng {label[0].lower() + label[1:]} của HTX lĩnh vực {t.label_vi}",
                    "pct",
                    f"Share of sector {t.code} in the district's {col}, % (over the cooperatives that report it).",
                    HTX,
                    told,
                    share(col, sector),
                    empty=None,
                ),
            ]
    for t in SCALES.terms:
        f += [
            Figure(
                f"htx.scale.{t.code}.count",
                "2.3",
                f"HTX quy mô {t.label_vi.lower()} (theo tiêu chí)",
                "count",
                f"Cooperatives whose scale computed from the thresholds of Decree 113/2024 is {t.code}.",
                HTX,
                pl.col("scale_computed") == t.code,
                COUNT,
            ),
            Figure(
                f"htx.scale_reported.{t.code}.count",
                "2.3",
                f"HTX quy mô {t.label_vi.lower()} (xã báo cáo)",
                "count",
                f"Cooperatives the commune reports as {t.code}.",
                HTX,
                pl.col("scale_reported") == t.code,
                COUNT,
            ),
        ]
    f.append(
        Figure(
            "htx.scale.mismatch.count",
            "2.3",
            "HTX có quy mô báo cáo khác quy mô theo tiêu chí",
            "count",
            "Cooperatives whose reported scale differs from the computed one (each has a scale_mismatch warning).",
            HTX,
            pl.col("scale_reported").is_not_null()
            & pl.col("scale_computed").is_not_null()
            & (pl.col("scale_reported") != pl.col("scale_computed")),
            COUNT,
        )
    )
    return f


STATIC_FIGURES: tuple[Figure, ...] = tuple(_htx_figures() + _tht_figures() + _law_figures())
"""Figures whose ids do not depend on the data."""


def support_figures(programs: list[str], levels: list[str]) -> list[Figure]:
    """Figures of the district file: per programme code (lower-cased) and per level."""
    out = []
    for key, col, values in (("support", "program", programs), ("support.level", "level", levels)):
        for v in values:
            cond = pl.col(col) == v
            name = v.lower()
            label = f"chương trình {v}" if col == "program" else f"cấp {v}"
            out += [
                Figure(
                    f"{key}.{name}.disbursed_mvnd",
                    "1.4",
                    f"Giải ngân hỗ trợ {label}",
                    "mvnd",
                    f"Support disbursed under {col} {v}, million VND.",
                    SUPPORT,
                    cond,
                    total("disbursed_mvnd"),
                ),
                Figure(
                    f"{key}.{name}.plan_mvnd",
                    "1.4",
                    f"Kế hoạch hỗ trợ {label}",
                    "mvnd",
                    f"Planned support under {col} {v}, million VND.",
                    SUPPORT,
                    cond & pl.col("plan_mvnd").is_not_null(),
                    total("plan_mvnd"),
                    empty=None,
                ),
                Figure(
                    f"{key}.{name}.beneficiaries",
                    "1.4",
                    f"Số HTX được hỗ trợ {label}",
                    "count",
                    f"Distinct cooperatives supported under {col} {v}.",
                    SUPPORT,
                    cond & pl.col("coop_id").is_not_null(),
                    pl.col("coop_id").n_unique().cast(pl.Float64),
                ),
            ]
    return out


def commune_figures(reporting: dict[str, list[str]]) -> list[Figure]:
    """Per reporting unit (commune), for each new column some of its cooperatives report: the sum and the
    commune's share of the district (ids `htx.commune.<code>.<column>` and `….pct`)."""
    labels = {col: (label, unit) for col, label, unit in LAW_2023_SUMS}
    out = []
    for col, codes in reporting.items():
        label, unit = labels[col]
        told = pl.col(col).is_not_null()
        for code in codes:
            mine = pl.col("commune_code") == code
            out += [
                Figure(
                    f"htx.commune.{code}.{col}",
                    "2.3",
                    f"{label} của các HTX xã {code}",
                    unit,
                    f"Sum of {col} over the cooperatives of commune {code} that report it.",
                    HTX,
                    told & mine,
                    total(col),
                    empty=None,
                ),
                Figure(
                    f"htx.commune.{code}.{col}.pct",
                    "2.3",
                    f"Tỷ trọng {label[0].lower() + label[1:]} của xã {code}",
                    "pct",
                    f"Share of commune {code} in the district's {col}, %.",
                    HTX,
                    told,
                    share(col, mine),
                    empty=None,
                ),
            ]
    return out


def figure_by_id(fid: str) -> Figure | None:
    """A static figure by id."""
    return next((f for f in STATIC_FIGURES if f.id == fid), None)
