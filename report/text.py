"""The report's text, in Vietnamese, as a list of blocks filled with the period's figures.

The same blocks are rendered to Markdown and to DOCX, so both say the same thing.
Sentences follow the district's own report (sections 1.2 to 2.2 and part two's targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from report.numbers import vn_amount, vn_count, vn_number, vn_pct
from report.registry import SECTION_TITLES
from schemas.periods import ROMAN_QUARTERS, period_parts
from schemas.vocab import SECTORS, SUBSECTORS, THT_KINDS


@dataclass(frozen=True)
class Block:
    """A heading (level 1-3), a paragraph or a bullet."""

    kind: str  # title, heading, paragraph, bullet
    text: str
    level: int = 0


NAMES_LISTED = 15
"""At most this many cooperatives are named in a sentence (a province has hundreds); the rest are counted."""


def _names(rows: pl.DataFrame, communes: dict[str, str]) -> str:
    named = [
        f"{r['name']} ({communes.get(r['commune_code'], r['commune_code'])})"
        for r in rows.sort("commune_code", "name").iter_rows(named=True)
    ]
    more = len(named) - NAMES_LISTED
    return ", ".join(named[:NAMES_LISTED]) + (f" và {more} đơn vị khác" if more > 0 else "")


class Values:
    """A period's figures formatted for templates: ``{n[id]}`` number, ``{c[id]}`` count (03),
    ``{p[id]}`` percentage (19,70), ``{a[id]}`` amount, ``{d[id]}`` one decimal."""

    def __init__(self, values: dict[str, float]) -> None:
        self.raw = values
        self.fields = {
            "n": _Formatted(values, vn_number),
            "c": _Formatted(values, vn_count),
            "p": _Formatted(values, vn_pct),
            "a": _Formatted(values, vn_amount),
            "d": _Formatted(values, lambda x: vn_number(x, 1)),
        }

    def fill(self, template: str, **extra: object) -> str:
        """Fill a template with the figures and ``extra`` fields."""
        return template.format(**self.fields, **extra)


class _Formatted(dict):
    def __init__(self, values: dict[str, float], fmt: object) -> None:
        super().__init__()
        self.values, self.fmt = values, fmt

    def __missing__(self, key: str) -> str:
        # A figure with no value (nobody reports it) prints as "…", never as a made-up 0.
        return self.fmt(self.values.get(key))  # type: ignore[operator]


HTX_RATINGS = (
    "Tổng số HTX trên địa bàn hiện nay là {n[htx.total]} HTX (trong đó: có {c[htx.new]} HTX mới thành lập năm "
    "{year} không thực hiện đánh giá), {n[htx.evaluated]} HTX còn lại hoạt động cụ thể như sau: "
    "{c[htx.rating.good.count]} HTX hoạt động tốt, chiếm tỷ lệ {p[htx.rating.good.pct]}%; "
    "{c[htx.rating.fair.count]} HTX hoạt động khá, chiếm tỷ lệ {p[htx.rating.fair.pct]}%; "
    "{c[htx.rating.average.count]} HTX hoạt động trung bình, chiếm {p[htx.rating.average.pct]}%; "
    "{c[htx.rating.weak.count]} HTX hoạt động yếu, chiếm {p[htx.rating.weak.pct]}% và có "
    "{c[htx.rating.suspended.count]} HTX tạm dừng chờ giải thể, chiếm tỷ lệ {p[htx.rating.suspended.pct]}%."
)
SECTOR = (
    "+ Lĩnh vực {label}: {c[htx.sector.{code}.count]} HTX với {n[htx.sector.{code}.members]} thành viên, "
    "tổng số vốn điều lệ {a[htx.sector.{code}.capital_mvnd]} triệu đồng"
)
CREDIT_FUNDS = (
    "+ Quỹ tín dụng nhân dân: {c[htx.sector.credit_fund.count]} quỹ tín dụng nhân dân, có "
    "{n[htx.sector.credit_fund.members]} thành viên; từ đầu năm đến hết quý {roman}/{year} đã giải ngân cho vay "
    "{a[credit_fund.loans_disbursed_mvnd]} triệu đồng cho {n[credit_fund.loan_contracts]} hợp đồng tín dụng."
)
GROUPS = (
    "Tổng số tổ hợp tác hiện nay là {n[tht.total]} THT, cụ thể: {kinds}. Trong đó: {c[tht.rating.good.count]} THT "
    "hoạt động tốt, {c[tht.rating.fair.count]} THT hoạt động khá, {c[tht.rating.average.count]} THT hoạt động "
    "trung bình và {c[tht.rating.weak_or_suspended.count]} THT hoạt động yếu và tạm dừng chờ giải thể."
)
TAX = (
    "+ Hiện nay có {n[htx.tax_code.count]} HTX có đăng ký mã số thuế. Trong đó có {n[htx.tax_paid.count]} HTX "
    "nộp ngân sách từ đầu năm đạt {a[htx.tax_paid_mvnd]} triệu đồng."
)
INSURANCE = (
    "+ Có {n[htx.insured.count]} HTX tham gia đóng BHXH cho {n[htx.insured.workers]} thành viên, với mức thu nhập "
    "bình quân {d[htx.insured.income_min]} - {d[htx.insured.income_max]} triệu đồng/tháng."
)
OCOP = "{c[htx.ocop.count]} HTX có sản phẩm đạt tiêu chuẩn OCOP {stars} ({names})."
DRONES = (
    "Có {c[htx.drones.count]} HTX đã chủ động mua máy bay không người lái để bón phân, phun thuốc BVTV, gắn với "
    "chuyển đổi số ({names})."
)
THT_MONEY = (
    "Doanh thu bình quân của THT khoảng {n[tht.avg_revenue_mvnd]} triệu đồng/năm; lợi nhuận bình quân của THT "
    "khoảng {n[tht.avg_profit_mvnd]} triệu đồng/năm."
)
THT_OCOP = "Có {c[tht.ocop.count]} THT có sản phẩm đạt chuẩn OCOP ({names})."


def _sector_sentence(v: Values, code: str, label: str, year: int) -> str:
    text = v.fill(SECTOR.replace("{code}", code), label=label[0].lower() + label[1:])
    if code == "agriculture":
        parts = [
            f"{vn_count(v.raw.get(f'htx.agriculture.{t.code}.count', 0))} HTX {t.label_vi.lower()}"
            for t in SUBSECTORS.terms
            if v.raw.get(f"htx.agriculture.{t.code}.count")
        ]
        text += ", gồm: " + ", ".join(parts) if parts else ""
    new = v.raw.get(f"htx.new.{code}.count", 0)
    if new:
        text += f" (có {vn_count(new)} HTX mới thành lập năm {year})"
    return text + "."


def section_1_2(values: dict[str, float], period: str) -> list[Block]:
    """Cooperatives by rating and sector, credit funds, cooperative groups."""
    year, quarter = period_parts(period)
    v = Values(values)
    blocks = [
        Block("heading", SECTION_TITLES["1.2"] + f" (đến hết quý {ROMAN_QUARTERS[quarter]}/{year})", 2),
        Block("bullet", v.fill(HTX_RATINGS, year=year)),
        Block("bullet", "Tổng hợp HTX theo từng lĩnh vực chi tiết như sau:"),
    ]
    for t in SECTORS.terms:
        if t.code != "credit_fund" and values.get(f"htx.sector.{t.code}.count"):
            blocks.append(Block("paragraph", _sector_sentence(v, t.code, t.label_vi, year)))
    if values.get("htx.sector.credit_fund.count"):
        blocks.append(Block("paragraph", v.fill(CREDIT_FUNDS, roman=ROMAN_QUARTERS[quarter], year=year)))
    kinds = ", ".join(
        f"{vn_count(values.get(f'tht.kind.{t.code}.count'))} THT {t.label_vi.lower()}"
        for t in THT_KINDS.terms
        if values.get(f"tht.kind.{t.code}.count")
    )
    blocks.append(Block("bullet", v.fill(GROUPS, kinds=kinds)))
    blocks.append(Block("paragraph", "(Có phụ biểu chi tiết kèm theo)"))
    return blocks


DISTRICT_AID = (
    "Nguồn ngân sách huyện (chương trình {program}: {purpose}) đã hỗ trợ cho {n} HTX với kinh phí {amount} triệu đồng."
)
COOP_FUND = (
    "Lũy kế đến thời điểm hiện nay, Quỹ hỗ trợ phát triển HTX đã hỗ trợ cho {n} HTX vay vốn với số tiền {amount} "
    "triệu đồng"
)


def _programmes(support: pl.DataFrame, coops: pl.DataFrame) -> list[dict]:
    names = dict(coops.select("coop_id", "name").iter_rows())
    out = []
    for (program, level), rows in support.group_by(["program", "level"], maintain_order=True):
        out.append(
            {
                "program": program,
                "level": level,
                "purpose": next((p for p in rows["purpose"].to_list() if p), ""),
                "disbursed": rows["disbursed_mvnd"].sum(),
                "plan": rows["plan_mvnd"].sum() if rows["plan_mvnd"].null_count() < rows.height else None,
                # One entry per cooperative (several rows for one beneficiary are summed).
                "beneficiaries": [
                    (names.get(c, c), a)
                    for c, a in rows.drop_nulls("coop_id")
                    .group_by("coop_id", maintain_order=True)
                    .agg(pl.col("disbursed_mvnd").sum())
                    .iter_rows()
                ],
            }
        )
    return out


def sections_1_3_and_1_4(support: pl.DataFrame, coops: pl.DataFrame, has_districts: bool = True) -> list[Block]:
    """Support from the district budget (1.3) and resolutions and funds (1.4), from sheet HoTro; without
    districts (from 2025-Q3) section 1.3 speaks of the local budget."""
    programmes = _programmes(support, coops)
    blocks = [Block("heading", SECTION_TITLES["1.3"], 2)]
    district_aid = [p for p in programmes if p["level"] == "district" and p["beneficiaries"]]
    for p in district_aid:
        blocks.append(
            Block(
                "paragraph",
                DISTRICT_AID.format(
                    program=p["program"],
                    purpose=p["purpose"] or "hỗ trợ HTX",
                    n=vn_count(len(p["beneficiaries"])),
                    amount=vn_amount(p["disbursed"]),
                ),
            )
        )
    if not district_aid:
        source = "ngân sách huyện" if has_districts else "ngân sách địa phương"
        blocks.append(Block("paragraph", f"Chưa có số liệu hỗ trợ trực tiếp từ {source} trong kỳ."))
    blocks.append(Block("heading", SECTION_TITLES["1.4"], 2))
    for p in programmes:
        if p["level"] == "province":
            blocks.append(
                Block(
                    "paragraph",
                    (
                        f"Đối với cấp tỉnh: Đã thực hiện giải ngân số tiền {vn_amount(p['disbursed'])} triệu đồng theo "
                        f"{p['program']}" + (f" ({p['purpose']})." if p["purpose"] else ".")
                    ),
                )
            )
        elif p["level"] == "coop_fund":
            listed = "; ".join(
                f"({i}) {name}: {vn_amount(amount)} triệu đồng"
                for i, (name, amount) in enumerate(p["beneficiaries"], 1)
            )
            text = COOP_FUND.format(n=vn_count(len(p["beneficiaries"])), amount=vn_amount(p["disbursed"]))
            blocks.append(Block("paragraph", text + (f", bao gồm: {listed}." if listed else ".")))
        elif p["level"] == "district" and not p["beneficiaries"]:
            of_plan = f"/{vn_amount(p['plan'])}" if p["plan"] else ""
            blocks.append(
                Block(
                    "paragraph",
                    (
                        f"Đối với cấp huyện: {p['purpose'] or p['program']}; đến thời điểm này đã giải ngân "
                        f"{vn_amount(p['disbursed'])}{of_plan} triệu đồng nguồn vốn."
                    ),
                )
            )
        elif p["level"] == "central":
            blocks.append(
                Block(
                    "paragraph",
                    (f"Nguồn vốn Trung ương ({p['program']}): đã giải ngân {vn_amount(p['disbursed'])} triệu đồng."),
                )
            )
    return blocks


def section_2_1(values: dict[str, float], coops: pl.DataFrame, communes: dict[str, str]) -> list[Block]:
    """Cooperatives: OCOP, drones, tax, social insurance."""
    v = Values(values)
    blocks = [Block("heading", SECTION_TITLES["2.1"], 2)]
    ocop = coops.filter(pl.col("ocop_stars").is_not_null())
    if ocop.height:
        stars = ", ".join(f"{s} sao" for s in sorted(ocop["ocop_stars"].unique().to_list()))
        blocks.append(Block("bullet", v.fill(OCOP, stars=stars, names=_names(ocop, communes))))
    drones = coops.filter(pl.col("drones") > 0)
    if drones.height:
        blocks.append(Block("bullet", v.fill(DRONES, names=_names(drones, communes))))
    blocks.append(Block("bullet", "Đánh giá doanh thu, nộp ngân sách, BHXH của HTX:"))
    blocks.append(Block("paragraph", v.fill(TAX)))
    blocks.append(Block("paragraph", v.fill(INSURANCE)))
    return blocks


def section_2_2(values: dict[str, float], groups: pl.DataFrame, communes: dict[str, str]) -> list[Block]:
    """Cooperative groups: average revenue and profit, OCOP."""
    v = Values(values)
    blocks = [Block("heading", SECTION_TITLES["2.2"], 2), Block("paragraph", v.fill(THT_MONEY))]
    ocop = groups.filter(pl.col("ocop_stars").is_not_null())
    if ocop.height:
        blocks.append(Block("paragraph", v.fill(THT_OCOP, names=_names(ocop, communes))))
    return blocks


_TARGET_SENTENCES = {
    "htx.new": "Thành lập mới {v} hợp tác xã.",
    "htx.rating.good.count": "Phấn đấu đến hết năm {y} có {v} hợp tác xã hoạt động tốt.",
    "htx.rating.fair.count": "Phấn đấu đến hết năm {y} có {v} hợp tác xã hoạt động khá.",
    "htx.avg_revenue_mvnd": "Doanh thu bình quân 01 hợp tác xã đạt trên {v} triệu đồng/năm.",
    "htx.avg_income_mvnd_year": "Thu nhập bình quân 01 lao động trong hợp tác xã đạt {v} triệu đồng/năm.",
    "htx.managers_college.pct": "Tỷ lệ cán bộ quản lý hợp tác xã có trình độ đại học, cao đẳng đạt {v}%.",
    "htx.managers_vocational.pct": "Tỷ lệ cán bộ quản lý hợp tác xã có trình độ trung cấp đạt {v}%.",
    "htx.digital_training.pct": "Đạt {v}% hợp tác xã được tuyên truyền, tập huấn về chuyển đổi số.",
}


def part_two_targets(figures: pl.DataFrame, period: str) -> list[Block]:
    """Part two, 3: the next year's targets from targets.csv."""
    year, _ = period_parts(period)
    blocks = [Block("heading", f"Phần thứ hai — 3. Một số mục tiêu cụ thể năm {year + 1}", 2)]
    targets = figures.filter(pl.col("figure_id").str.starts_with("target."))
    if targets.is_empty():
        return [*blocks, Block("paragraph", f"Chưa có mục tiêu năm {year + 1} trong targets.csv.")]
    for r in targets.iter_rows(named=True):
        indicator = r["figure_id"].removeprefix("target.")
        shown = vn_count(r["value"]) if r["unit"] == "count" else vn_number(r["value"])
        template = _TARGET_SENTENCES.get(indicator)
        text = template.format(v=shown, y=year + 1) if template else f"{r['label_vi']}: {shown} ({r['unit']})."
        blocks.append(Block("bullet", text))
    progress = figures.filter(pl.col("figure_id").str.starts_with("progress."))
    for r in progress.iter_rows(named=True):
        blocks.append(Block("bullet", f"{r['label_vi']}: {vn_pct(r['value'])}%."))
    return blocks


def report_blocks(
    figures: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    communes: dict[str, str],
    opening: str,
    period: str,
    compared: list[Block] | None = None,
    has_districts: bool = True,
) -> list[Block]:
    """The whole draft: title, part one sections 1.2 to 2.2 (with the comparisons with earlier quarters,
    `compared`), part two targets. `opening` names the units reporting ("các xã, phường tỉnh Hà Tĩnh")."""
    year, quarter = period_parts(period)
    values = {r["figure_id"]: r["value"] for r in figures.iter_rows(named=True) if r["value"] is not None}
    title = f"BÁO CÁO Tình hình phát triển kinh tế tập thể, hợp tác xã năm {year}"
    blocks = [
        Block("title", title),
        Block(
            "paragraph",
            (
                f"Số liệu tổng hợp từ báo cáo của {opening}, đến hết quý "
                f"{ROMAN_QUARTERS[quarter]}/{year} (bản dự thảo do hệ thống tổng hợp)."
            ),
        ),
        Block("heading", f"Phần thứ nhất — Đánh giá tình hình phát triển kinh tế tập thể, hợp tác xã năm {year}", 1),
    ]
    blocks += section_1_2(values, period)
    blocks += compared or []
    blocks += sections_1_3_and_1_4(tables["support_disbursements"], tables["cooperatives"], has_districts)
    blocks.append(Block("heading", "II. Đánh giá kết quả đạt được", 1))
    blocks += section_2_1(values, tables["cooperatives"], communes)
    blocks += section_2_2(values, tables["coop_groups"], communes)
    blocks += part_two_targets(figures, period)
    return blocks


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as Markdown."""
    out = []
    for b in blocks:
        if b.kind == "title":
            out.append(f"# {b.text}\n")
        elif b.kind == "heading":
            out.append(f"{'#' * (b.level + 1)} {b.text}\n")
        elif b.kind == "bullet":
            out.append(f"- {b.text}\n")
        else:
            out.append(f"{b.text}\n")
    return "\n".join(out)
