"""Category vocabularies of the submission format: the one list of codes and labels.

Every category column of the contract (sector, subsector, status, rating, THT kind,
support level, yes/no) is defined here once. Parsers, pandera checks, the data
dictionary and templates all read these lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    """One category value: the code stored in the warehouse and its labels."""

    code: str
    label_vi: str
    label_en: str
    aliases: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Vocab:
    """A named list of terms."""

    name: str
    terms: tuple[Term, ...]

    @property
    def codes(self) -> list[str]:
        """The codes, in their documented order."""
        return [t.code for t in self.terms]

    def label_vi(self, code: str) -> str:
        """Vietnamese label of a code."""
        return next(t.label_vi for t in self.terms if t.code == code)

    def allowed_vi(self) -> str:
        """The Vietnamese labels a clerk may type, as a message lists them."""
        return ", ".join(t.label_vi for t in self.terms)

    def spellings(self) -> dict[str, str]:
        """Every accepted spelling (label, alias, code) mapped to its code, before folding."""
        out: dict[str, str] = {}
        for t in self.terms:
            for s in (t.code, t.label_vi, t.label_en, *t.aliases):
                out[s] = t.code
        return out


SECTORS = Vocab(
    "sector",
    (
        Term("agriculture", "Nông nghiệp", "Agriculture"),
        Term(
            "industry_handicraft",
            "Công nghiệp - TTCN",
            "Industry and handicraft",
            ("Công nghiệp - tiểu thủ công nghiệp", "CN-TTCN", "Công nghiệp"),
        ),
        Term("trade_services", "Thương mại - dịch vụ", "Trade and services", ("TM-DV", "Thương mại")),
        Term("environment", "Môi trường", "Environment"),
        Term("construction", "Xây dựng", "Construction"),
        Term("transport", "Vận tải", "Transport"),
        Term("credit_fund", "Quỹ tín dụng nhân dân", "People's credit fund", ("QTDND", "Quỹ tín dụng")),
    ),
)

SUBSECTORS = Vocab(
    "subsector",
    (
        Term("crops", "Trồng trọt", "Crops"),
        Term("livestock", "Chăn nuôi", "Livestock"),
        Term("aquaculture", "Thủy sản", "Aquaculture", ("Nuôi trồng thủy sản", "NTTS")),
        Term("forestry", "Lâm nghiệp", "Forestry"),
        Term("salt", "Diêm nghiệp", "Salt making"),
        Term("agri_services", "Dịch vụ nông nghiệp", "Agricultural services", ("DVNN",)),
    ),
)

STATUSES = Vocab(
    "status",
    (
        Term("active", "Đang hoạt động", "Active", ("Hoạt động",)),
        Term("new", "Mới thành lập", "Newly founded", ("Thành lập mới",)),
        Term(
            "suspended",
            "Tạm dừng chờ giải thể",
            "Suspended, awaiting dissolution",
            ("Tạm dừng", "Tạm ngừng hoạt động", "Chờ giải thể"),
        ),
    ),
)

RATINGS = Vocab(
    "rating",
    (
        Term("good", "Tốt", "Good"),
        Term("fair", "Khá", "Fair"),
        Term("average", "Trung bình", "Average"),
        Term("weak", "Yếu", "Weak", ("Yếu kém",)),
    ),
)

SCALES = Vocab(
    "scale",
    (
        Term("micro", "Siêu nhỏ", "Micro", ("Quy mô siêu nhỏ", "HTX siêu nhỏ")),
        Term("small", "Nhỏ", "Small", ("Quy mô nhỏ", "HTX nhỏ")),
        Term("medium", "Vừa", "Medium", ("Quy mô vừa", "HTX vừa")),
        Term("large", "Lớn", "Large", ("Quy mô lớn", "HTX lớn")),
    ),
)
"""Scale classes of a cooperative (Decree 113/2024/NĐ-CP), smallest first."""

THT_KINDS = Vocab(
    "kind",
    (
        Term("crops", "Trồng trọt", "Crops"),
        Term("livestock", "Chăn nuôi", "Livestock"),
        Term("aquaculture", "Thủy sản", "Aquaculture", ("Nuôi trồng thủy sản",)),
        Term("processing", "Chế biến nông lâm thủy sản", "Processing of farm, forest and fish products", ("Chế biến",)),
        Term("environment", "Môi trường", "Environment"),
        Term("general_services", "Dịch vụ tổng hợp", "General services", ("DVTH",)),
    ),
)

LEVELS = Vocab(
    "level",
    (
        Term("province", "Tỉnh", "Province", ("Cấp tỉnh",)),
        Term("district", "Huyện", "District", ("Cấp huyện",)),
        Term("coop_fund", "Quỹ hỗ trợ phát triển HTX", "Cooperative development fund", ("Quỹ HTX",)),
        Term("central", "Trung ương", "Central government", ("TW",)),
    ),
)

YES_NO = Vocab(
    "yes_no",
    (
        Term("true", "Có", "Yes", ("x", "yes", "1", "đã tập huấn", "rồi")),
        Term("false", "Không", "No", ("0", "no", "chưa")),
    ),
)

COMMUNE_KINDS = Vocab(
    "commune_kind",
    (
        Term("xa", "Xã", "Commune"),
        Term("phuong", "Phường", "Ward"),
        Term("thi_tran", "Thị trấn", "Township (none after 2025-Q2)"),
        Term("dac_khu", "Đặc khu", "Special zone (from 2025-Q3)"),
    ),
)

SUBMISSION_STATUSES = Vocab(
    "submission_status",
    (
        Term("accepted", "Đã nhận", "Accepted"),
        Term("accepted_with_errors", "Đã nhận, có dòng bị loại", "Accepted, some rows rejected"),
        Term("rejected", "Bị từ chối", "Rejected"),
        Term("superseded", "Đã được thay thế", "Superseded by a later submission"),
        Term("held", "Chờ duyệt", "Held: read and validated, kept out of the figures until approved"),
    ),
)

COMPLETENESS_STATUSES = Vocab(
    "completeness_status",
    (
        Term("on_time", "Nộp đúng hạn", "Submitted on time"),
        Term("late", "Nộp muộn", "Submitted late"),
        Term("rejected", "Tệp bị từ chối", "Only rejected files"),
        Term("missing", "Chưa nộp", "Not submitted"),
    ),
)

REVIEW_DECISIONS = Vocab(
    "review_decision",
    (
        Term("approved", "Đã duyệt", "Approved"),
        Term("returned", "Trả lại xã", "Returned to the commune, with a comment"),
        Term("reopened", "Mở lại", "Reopened: an approval taken back"),
    ),
)

REVIEW_STATES = Vocab(
    "review_state",
    (
        Term("received", "Đã nhận, chưa duyệt", "Received, not reviewed"),
        *REVIEW_DECISIONS.terms,
    ),
)

SEVERITIES = Vocab(
    "severity",
    (
        Term("error", "Lỗi", "Error"),
        Term("warning", "Cảnh báo", "Warning"),
    ),
)

MATCH_RULES = Vocab(
    "match_rule",
    (
        Term("tax_code", "Cùng mã số thuế", "Same tax code (digits, with or without the branch suffix)"),
        Term(
            "row_id",
            "Cùng mã HTX/THT, cùng xã hoặc xã kế thừa",
            "Same coop_id or group_id in the same unit or its successor",
        ),
        Term("name", "Cùng tên, cùng xã hoặc xã kế thừa", "Same folded name in the same unit or its successor"),
        Term("new", "Lần đầu xuất hiện", "First seen: a new identity"),
    ),
)

LIFECYCLES = Vocab(
    "lifecycle",
    (
        Term("reporting", "Đang có trong báo cáo", "In the latest quarter's report"),
        Term("suspended", "Tạm dừng chờ giải thể", "In the latest quarter's report, suspended"),
        Term("dissolved", "Đã giải thể", "Gone after a quarter with status suspended"),
        Term("vanished", "Không còn trong báo cáo", "Gone without a suspended status while its unit reported"),
        Term("unit_not_reported", "Xã chưa báo cáo", "Gone while its unit (or successor) sent no accepted report"),
    ),
)

BY_NAME: dict[str, Vocab] = {
    v.name: v
    for v in (
        SECTORS,
        SUBSECTORS,
        STATUSES,
        RATINGS,
        SCALES,
        THT_KINDS,
        LEVELS,
        YES_NO,
        COMMUNE_KINDS,
        SUBMISSION_STATUSES,
        COMPLETENESS_STATUSES,
        REVIEW_DECISIONS,
        REVIEW_STATES,
        SEVERITIES,
        MATCH_RULES,
        LIFECYCLES,
    )
}
"""Every vocabulary by name (the `vocab` of a sheet column names one of them)."""
