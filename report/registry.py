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


@dataclass(frozen=True, kw_only=True)
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
        Figure(
            id="htx.total",
            section="1.2",
            label_vi="Tổng số HTX",
            unit="count",
            definition="Cooperatives listed, every status.",
            table=HTX,
            where=ALL,
            value=COUNT,
        ),
        Figure(
            id="htx.new",
            section="1.2",
            label_vi="HTX mới thành lập",
            unit="count",
            definition="Cooperatives with status new.",
            table=HTX,
            where=pl.col("status") == "new",
            value=COUNT,
        ),
        Figure(
            id="htx.evaluated",
            section="1.2",
            label_vi="HTX thực hiện đánh giá",
            unit="count",
            definition="Cooperatives listed minus new ones.",
            table=HTX,
            where=pl.col("status") != "new",
            value=COUNT,
        ),
    ]
    ratings = [(t.code, t.label_vi, _active(t.code)) for t in RATINGS.terms]
    ratings.append(("suspended", "Tạm dừng chờ giải thể", pl.col("status") == "suspended"))
    for code, label, cond in ratings:
        what = "status suspended" if code == "suspended" else f"active and rated {code}"
        f.append(
            Figure(
                id=f"htx.rating.{code}.count",
                section="1.2",
                label_vi=f"HTX {label.lower()}",
                unit="count",
                definition=f"Cooperatives {what}.",
                table=HTX,
                where=cond,
                value=COUNT,
            )
        )
        f.append(
            Figure(
                id=f"htx.rating.{code}.pct",
                section="1.2",
                label_vi=f"Tỷ lệ HTX {label.lower()}",
                unit="pct",
                definition=f"Share of evaluated cooperatives {what}, % (two decimals, largest remainder).",
                table=HTX,
                where=cond,
                value=COUNT,
                pct_group="htx.rating",
            )
        )
    for t in SECTORS.terms:
        cond = pl.col("sector") == t.code
        f += [
            Figure(
                id=f"htx.sector.{t.code}.count",
                section="1.2",
                label_vi=f"HTX lĩnh vực {t.label_vi}",
                unit="count",
                definition=f"Cooperatives of sector {t.code}, every status.",
                table=HTX,
                where=cond,
                value=COUNT,
            ),
            Figure(
                id=f"htx.sector.{t.code}.members",
                section="1.2",
                label_vi=f"Thành viên HTX lĩnh vực {t.label_vi}",
                unit="persons",
                definition=f"Members of cooperatives of sector {t.code}.",
                table=HTX,
                where=cond,
                value=total("members"),
            ),
            Figure(
                id=f"htx.sector.{t.code}.capital_mvnd",
                section="1.2",
                label_vi=f"Vốn điều lệ HTX lĩnh vực {t.label_vi}",
                unit="mvnd",
                definition=f"Charter capital of cooperatives of sector {t.code}, million VND.",
                table=HTX,
                where=cond,
                value=total("charter_capital_mvnd"),
            ),
            Figure(
                id=f"htx.new.{t.code}.count",
                section="1.2",
                label_vi=f"HTX mới thành lập lĩnh vực {t.label_vi}",
                unit="count",
                definition=f"New cooperatives of sector {t.code}.",
                table=HTX,
                where=cond & (pl.col("status") == "new"),
                value=COUNT,
            ),
        ]
    for t in SUBSECTORS.terms:
        f.append(
            Figure(
                id=f"htx.agriculture.{t.code}.count",
                section="1.2",
                label_vi=f"HTX {t.label_vi.lower()}",
                unit="count",
                definition=f"Agricultural cooperatives of subsector {t.code}.",
                table=HTX,
                where=(pl.col("sector") == "agriculture") & (pl.col("subsector") == t.code),
                value=COUNT,
            )
        )
    credit = pl.col("sector") == "credit_fund"
    f += [
        Figure(
            id="credit_fund.loans_disbursed_mvnd",
            section="1.2",
            label_vi="Quỹ tín dụng nhân dân giải ngân cho vay",
            unit="mvnd",
            definition="Loans disbursed by people's credit funds, year to date, million VND.",
            table=HTX,
            where=credit & pl.col("loans_disbursed_mvnd").is_not_null(),
            value=total("loans_disbursed_mvnd"),
        ),
        Figure(
            id="credit_fund.loan_contracts",
            section="1.2",
            label_vi="Số hợp đồng tín dụng",
            unit="count",
            definition="Credit contracts of people's credit funds, year to date.",
            table=HTX,
            where=credit & pl.col("loan_contracts").is_not_null(),
            value=total("loan_contracts"),
        ),
        Figure(
            id="htx.tax_code.count",
            section="2.1",
            label_vi="HTX có đăng ký mã số thuế",
            unit="count",
            definition="Cooperatives with a tax code.",
            table=HTX,
            where=pl.col("tax_code").is_not_null(),
            value=COUNT,
        ),
        Figure(
            id="htx.tax_paid.count",
            section="2.1",
            label_vi="HTX nộp ngân sách",
            unit="count",
            definition="Cooperatives with taxes paid > 0, year to date.",
            table=HTX,
            where=pl.col("tax_paid_mvnd") > 0,
            value=COUNT,
        ),
        Figure(
            id="htx.tax_paid_mvnd",
            section="2.1",
            label_vi="Số nộp ngân sách của HTX",
            unit="mvnd",
            definition="Taxes paid by cooperatives, year to date, million VND.",
            table=HTX,
            where=pl.col("tax_paid_mvnd") > 0,
            value=total("tax_paid_mvnd"),
        ),
        Figure(
            id="htx.insured.count",
            section="2.1",
            label_vi="HTX tham gia đóng BHXH",
            unit="count",
            definition="Cooperatives with insured workers > 0.",
            table=HTX,
            where=pl.col("insured_workers") > 0,
            value=COUNT,
        ),
        Figure(
            id="htx.insured.workers",
            section="2.1",
            label_vi="Số thành viên được đóng BHXH",
            unit="persons",
            definition="Insured workers of cooperatives.",
            table=HTX,
            where=pl.col("insured_workers") > 0,
            value=total("insured_workers"),
        ),
        Figure(
            id="htx.insured.income_min",
            section="2.1",
            label_vi="Thu nhập bình quân thấp nhất (HTX đóng BHXH)",
            unit="mvnd/month",
            definition="Lowest average monthly income among cooperatives with insured workers.",
            table=HTX,
            where=(pl.col("insured_workers") > 0) & pl.col("avg_income_mvnd_month").is_not_null(),
            value=pl.col("avg_income_mvnd_month").min(),
            empty=None,
        ),
        Figure(
            id="htx.insured.income_max",
            section="2.1",
            label_vi="Thu nhập bình quân cao nhất (HTX đóng BHXH)",
            unit="mvnd/month",
            definition="Highest average monthly income among cooperatives with insured workers.",
            table=HTX,
            where=(pl.col("insured_workers") > 0) & pl.col("avg_income_mvnd_month").is_not_null(),
            value=pl.col("avg_income_mvnd_month").max(),
            empty=None,
        ),
        Figure(
            id="htx.ocop.count",
            section="2.1",
            label_vi="HTX có sản phẩm OCOP",
            unit="count",
            definition="Cooperatives with an OCOP product.",
            table=HTX,
            where=pl.col("ocop_stars").is_not_null(),
            value=COUNT,
        ),
        Figure(
            id="htx.drones.count",
            section="2.1",
            label_vi="HTX có máy bay không người lái",
            unit="count",
            definition="Cooperatives owning agricultural drones.",
            table=HTX,
            where=pl.col("drones") > 0,
            value=COUNT,
        ),
        Figure(
            id="htx.avg_revenue_mvnd",
            section="2.1",
            label_vi="Doanh thu bình quân 01 HTX",
            unit="mvnd",
            definition="Mean revenue (year to date) over cooperatives that report it, million VND.",
            table=HTX,
            where=pl.col("revenue_mvnd").is_not_null(),
            value=pl.col("revenue_mvnd").mean().round(0),
            empty=None,
        ),
        Figure(
            id="htx.avg_income_mvnd_year",
            section="2.1",
            label_vi="Thu nhập bình quân 01 lao động trong HTX",
            unit="mvnd/year",
            definition="Mean of average monthly income × 12 over cooperatives that report it, million VND.",
            table=HTX,
            where=pl.col("avg_income_mvnd_month").is_not_null(),
            value=(pl.col("avg_income_mvnd_month").mean() * 12).round(1),
            empty=None,
        ),
        Figure(
            id="htx.managers_college.pct",
            section="2.1",
            label_vi="Tỷ lệ cán bộ quản lý trình độ ĐH, CĐ",
            unit="pct",
            definition=(
                "Managers with a university or college degree, % of the managers of cooperatives that report both."
            ),
            table=HTX,
            where=(pl.col("managers") > 0) & pl.col("managers_college").is_not_null(),
            value=(100 * pl.col("managers_college").sum() / pl.col("managers").sum()).round(2),
            empty=None,
        ),
        Figure(
            id="htx.managers_vocational.pct",
            section="2.1",
            label_vi="Tỷ lệ cán bộ quản lý trình độ trung cấp",
            unit="pct",
            definition="Managers with vocational training, % of the managers of cooperatives that report both.",
            table=HTX,
            where=(pl.col("managers") > 0) & pl.col("managers_vocational").is_not_null(),
            value=(100 * pl.col("managers_vocational").sum() / pl.col("managers").sum()).round(2),
            empty=None,
        ),
        Figure(
            id="htx.digital_training.pct",
            section="2.1",
            label_vi="Tỷ lệ HTX được tập huấn chuyển đổi số",
            unit="pct",
            definition="Cooperatives trained in digital transformation, % of the cooperatives that answer (Có/Không).",
            table=HTX,
            where=pl.col("digital_training").is_not_null(),
            value=(100 * pl.col("digital_training").cast(pl.Float64).mean()).round(2),
            empty=None,
        ),
    ]
    return f


def _tht_figures() -> list[Figure]:
    f = [
        Figure(
            id="tht.total",
            section="1.2",
            label_vi="Tổng số tổ hợp tác",
            unit="count",
            definition="Cooperative groups listed.",
            table=THT,
            where=ALL,
            value=COUNT,
        )
    ]
    for t in THT_KINDS.terms:
        f.append(
            Figure(
                id=f"tht.kind.{t.code}.count",
                section="1.2",
                label_vi=f"THT {t.label_vi.lower()}",
                unit="count",
                definition=f"Groups of kind {t.code}.",
                table=THT,
                where=pl.col("kind") == t.code,
                value=COUNT,
            )
        )
    for t in RATINGS.terms[:3]:
        f.append(
            Figure(
                id=f"tht.rating.{t.code}.count",
                section="1.2",
                label_vi=f"THT hoạt động {t.label_vi.lower()}",
                unit="count",
                definition=f"Groups active and rated {t.code}.",
                table=THT,
                where=_active(t.code),
                value=COUNT,
            )
        )
    f += [
        Figure(
            id="tht.rating.weak_or_suspended.count",
            section="1.2",
            label_vi="THT hoạt động yếu và tạm dừng chờ giải thể",
            unit="count",
            definition="Groups rated weak or suspended.",
            table=THT,
            where=(pl.col("rating") == "weak") | (pl.col("status") == "suspended"),
            value=COUNT,
        ),
        Figure(
            id="tht.new",
            section="1.2",
            label_vi="THT mới thành lập",
            unit="count",
            definition="Groups with status new.",
            table=THT,
            where=pl.col("status") == "new",
            value=COUNT,
        ),
        Figure(
            id="tht.avg_revenue_mvnd",
            section="2.2",
            label_vi="Doanh thu bình quân của THT",
            unit="mvnd/year",
            definition="Mean revenue over groups that report it, rounded to whole millions.",
            table=THT,
            where=pl.col("revenue_mvnd").is_not_null(),
            value=pl.col("revenue_mvnd").mean().round(0),
            empty=None,
        ),
        Figure(
            id="tht.avg_profit_mvnd",
            section="2.2",
            label_vi="Lợi nhuận bình quân của THT",
            unit="mvnd/year",
            definition="Mean profit over groups that report it, rounded to whole millions.",
            table=THT,
            where=pl.col("profit_mvnd").is_not_null(),
            value=pl.col("profit_mvnd").mean().round(0),
            empty=None,
        ),
        Figure(
            id="tht.ocop.count",
            section="2.2",
            label_vi="THT có sản phẩm OCOP",
            unit="count",
            definition="Groups with an OCOP product.",
            table=THT,
            where=pl.col("ocop_stars").is_not_null(),
            value=COUNT,
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
                id=f"htx.{col}",
                section="2.3",
                label_vi=f"{label} của các HTX",
                unit=unit,
                definition=f"Sum of {col} over the cooperatives that report it (null when none does).",
                table=HTX,
                where=told,
                value=total(col),
                empty=None,
            )
        )
        for t in SECTORS.terms:
            sector = pl.col("sector") == t.code
            f += [
                Figure(
                    id=f"htx.sector.{t.code}.{col}",
                    section="2.3",
                    label_vi=f"{label} HTX lĩnh vực {t.label_vi}",
                    unit=unit,
                    definition=f"Sum of {col} over cooperatives of sector {t.code} that report it.",
                    table=HTX,
                    where=told & sector,
                    value=total(col),
                    empty=None,
                ),
                Figure(
                    id=f"htx.sector.{t.code}.{col}.pct",
                    section="2.3",
                    label_vi=f"Tỷ trọng {label[0].lower() + label[1:]} của HTX lĩnh vực {t.label_vi}",
                    unit="pct",
                    definition=(
                        f"Share of sector {t.code} in the district's {col}, % (over the cooperatives that report it)."
                    ),
                    table=HTX,
                    where=told,
                    value=share(col, sector),
                    empty=None,
                ),
            ]
    for t in SCALES.terms:
        f += [
            Figure(
                id=f"htx.scale.{t.code}.count",
                section="2.3",
                label_vi=f"HTX quy mô {t.label_vi.lower()} (theo tiêu chí)",
                unit="count",
                definition=f"Cooperatives whose scale computed from the thresholds of Decree 113/2024 is {t.code}.",
                table=HTX,
                where=pl.col("scale_computed") == t.code,
                value=COUNT,
            ),
            Figure(
                id=f"htx.scale_reported.{t.code}.count",
                section="2.3",
                label_vi=f"HTX quy mô {t.label_vi.lower()} (xã báo cáo)",
                unit="count",
                definition=f"Cooperatives the commune reports as {t.code}.",
                table=HTX,
                where=pl.col("scale_reported") == t.code,
                value=COUNT,
            ),
        ]
    f.append(
        Figure(
            id="htx.scale.mismatch.count",
            section="2.3",
            label_vi="HTX có quy mô báo cáo khác quy mô theo tiêu chí",
            unit="count",
            definition=(
                "Cooperatives whose reported scale differs from the computed one (each has a scale_mismatch warning)."
            ),
            table=HTX,
            where=pl.col("scale_reported").is_not_null()
            & pl.col("scale_computed").is_not_null()
            & (pl.col("scale_reported") != pl.col("scale_computed")),
            value=COUNT,
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
                    id=f"{key}.{name}.disbursed_mvnd",
                    section="1.4",
                    label_vi=f"Giải ngân hỗ trợ {label}",
                    unit="mvnd",
                    definition=f"Support disbursed under {col} {v}, million VND.",
                    table=SUPPORT,
                    where=cond,
                    value=total("disbursed_mvnd"),
                ),
                Figure(
                    id=f"{key}.{name}.plan_mvnd",
                    section="1.4",
                    label_vi=f"Kế hoạch hỗ trợ {label}",
                    unit="mvnd",
                    definition=f"Planned support under {col} {v}, million VND.",
                    table=SUPPORT,
                    where=cond & pl.col("plan_mvnd").is_not_null(),
                    value=total("plan_mvnd"),
                    empty=None,
                ),
                Figure(
                    id=f"{key}.{name}.beneficiaries",
                    section="1.4",
                    label_vi=f"Số HTX được hỗ trợ {label}",
                    unit="count",
                    definition=f"Distinct cooperatives supported under {col} {v}.",
                    table=SUPPORT,
                    where=cond & pl.col("coop_id").is_not_null(),
                    value=pl.col("coop_id").n_unique().cast(pl.Float64),
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
                    id=f"htx.commune.{code}.{col}",
                    section="2.3",
                    label_vi=f"{label} của các HTX xã {code}",
                    unit=unit,
                    definition=f"Sum of {col} over the cooperatives of commune {code} that report it.",
                    table=HTX,
                    where=told & mine,
                    value=total(col),
                    empty=None,
                ),
                Figure(
                    id=f"htx.commune.{code}.{col}.pct",
                    section="2.3",
                    label_vi=f"Tỷ trọng {label[0].lower() + label[1:]} của xã {code}",
                    unit="pct",
                    definition=f"Share of commune {code} in the district's {col}, %.",
                    table=HTX,
                    where=told,
                    value=share(col, mine),
                    empty=None,
                ),
            ]
    return out


def figure_by_id(fid: str) -> Figure | None:
    """A static figure by id."""
    return next((f for f in STATIC_FIGURES if f.id == fid), None)
