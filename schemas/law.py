"""The legal texts behind the format: what each says for kttt, when it applies, and what could be checked.

Columns of the sheet models and rules of the catalogue name their basis by a key of
`TEXTS`; their periods in force (`valid_from`, `valid_to`) are written beside them and
follow the dates here by the convention of `schemas.in_force`. A new text is a new entry
here and new or closed windows there: data, not code. `kttt docs` writes docs/law.md
from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schemas.in_force import first_quarter_from, last_quarter_before


@dataclass(frozen=True)
class LegalText:
    """One legal text, its dates and what was confirmed of it."""

    key: str
    number: str
    title_vi: str
    says: str
    """What the text means for the format, in English."""
    effective: date | None
    """Day it takes effect (None: not confirmed)."""
    repealed: date | None = None
    """Day it stops applying, when known."""
    confirmed: str = ""
    """What could be confirmed from published sources, and where."""
    not_confirmed: str = ""
    """What could not be confirmed, and what kttt assumes instead."""

    @property
    def first_period(self) -> str | None:
        """First quarter the text governs."""
        return first_quarter_from(self.effective) if self.effective else None

    @property
    def last_period(self) -> str | None:
        """Last quarter the text governs (None: still in force)."""
        return last_quarter_before(self.repealed) if self.repealed else None


_TEXTS = (
    LegalText(
        "law_2012",
        "23/2012/QH13",
        "Luật Hợp tác xã 2012",
        "The law under which the standing form was designed (members, charter capital, ratings by Circular 01/2020).",
        date(2013, 7, 1),
        repealed=date(2024, 7, 1),
        confirmed="Cited as the basis of Circular 01/2020/TT-BKHĐT in that Circular's preamble (text of the Circular "
        "on thongtinphapluat.bacgiang.gov.vn and dulieuphapluat.vn). Replaced by the 2023 Law from 1 July 2024.",
        not_confirmed="Its own effective date (1 July 2013) was not checked against the text.",
    ),
    LegalText(
        "law_2023",
        "17/2023/QH15",
        "Luật Hợp tác xã 2023",
        "Members of a cooperative may be individuals, households or legal entities; cooperative groups register; "
        "the information the national cooperative system keeps (Circular 09/2024) follows from it.",
        date(2024, 7, 1),
        confirmed="Passed by the National Assembly on 20 June 2023, in force from 1 July 2024 (Bình Phước, Đồng Phú "
        "district page introducing the 2023 Law, dongphu.binhphuoc.gov.vn).",
        not_confirmed="The number 17/2023/QH15 is assumed: the pages found name the law by its date. "
        "The articles on member types and on cooperative-group registration were not read.",
    ),
    LegalText(
        "circular_09_2024",
        "09/2024/TT-BKHĐT",
        "Thông tư ban hành biểu mẫu đăng ký tổ hợp tác, hợp tác xã, liên hiệp hợp tác xã và quy định về Hệ thống "
        "thông tin quốc gia về hợp tác xã",
        "Forms of registration of cooperative groups and cooperatives, and the content of the national cooperative "
        "information system: the basis of the new optional fields of 2024-Q3 (total assets, total capital, total "
        "workers, members by type) and of the group's registration number and date.",
        date(2024, 7, 1),
        confirmed="Issued by the Minister of Planning and Investment on 16 May 2024, in force from 1 July 2024; covers "
        "the registration forms of cooperative groups (tổ hợp tác), cooperatives and unions and the information "
        "content of the national cooperative information system (lawnet.vn summary).",
        not_confirmed="The annexes (the information fields themselves) were not read: that they ask for total "
        "assets, total capital, total workers and members by type is assumed, not checked.",
    ),
    LegalText(
        "decree_92_2024",
        "92/2024/NĐ-CP",
        "Nghị định về đăng ký tổ hợp tác, hợp tác xã, liên hiệp hợp tác xã",
        "Registration of cooperative groups (tổ hợp tác) with the commune: a group has a registration number and date.",
        None,
        confirmed="Issued on 18 July 2024 on the registration of cooperative groups (artels), cooperatives and "
        "unions (lawnet.vn summary of its Article 11).",
        not_confirmed="Its effective date was not found. kttt takes the group's registration number and date from "
        "2024-Q4, the first quarter beginning after the issue date (a text cannot apply before it is issued).",
    ),
    LegalText(
        "decree_113_2024",
        "113/2024/NĐ-CP",
        "Nghị định quy định chi tiết một số điều của Luật Hợp tác xã",
        "Scale classes of cooperatives (micro, small, medium, large) by official members and annual revenue or "
        "total capital, per sector group; internal transactions (services to members).",
        date(2024, 11, 1),
        confirmed="Issued 12 September 2024 (tuyenquang.dcs.vn; the text's heading on thuvienphapluat.vn), in force "
        "from 1 November 2024 (lawnet.vn). Its Article 1 lists 'phân loại quy mô hợp tác xã' first and Article 20 "
        "internal transactions. Thresholds of the agricultural sector: large ≥ 300 official members and revenue ≥ "
        "50 billion VND or total capital ≥ 10 billion; medium ≥ 200 and ≥ 10 billion or ≥ 5 billion; small ≥ 50 and "
        "≥ 2 billion or ≥ 1 billion; micro otherwise. Industry-construction, large: ≥ 100 official members and "
        "revenue ≥ 80 billion or total capital ≥ 20 billion (lawnet.vn English summaries; they cite the article "
        "as 4 in one place and 5 in another).",
        not_confirmed="The other thresholds (industry-construction medium and small; trade-services and other "
        "sectors) were cut off in every source found: they are left empty in the reference's "
        "scale_thresholds.csv, so those classes are not computed until a district fills them. The sector groups "
        "(which kttt sector belongs to which) follow the 2023 draft of the decree (lienminhhtxtpct.vn), not the "
        "final text. The decree counts official members, not workers: the thresholds file says which count is "
        "used (members by default; workers may be chosen).",
    ),
    LegalText(
        "circular_01_2020",
        "01/2020/TT-BKHĐT",
        "Thông tư hướng dẫn phân loại và đánh giá hợp tác xã",
        "The rating of cooperatives (tốt, khá, trung bình, yếu): required of every active unit while in force.",
        date(2020, 4, 1),
        repealed=date(2025, 9, 18),
        confirmed="Issued 19 February 2020, in force 1 April 2020 (thongtinphapluat.bacgiang.gov.vn, "
        "thuvienphapluat.vn). Article 1(2)(c): people's credit funds and the Cooperative Bank are assessed under "
        "the State Bank of Vietnam's regulations (English text on dulieuphapluat.vn).",
        not_confirmed="Its repeal from 18 September 2025 by Circular 78/2025/TT-BTC is assumed: no "
        "source found confirms it (see that entry).",
    ),
    LegalText(
        "circular_78_2025",
        "78/2025/TT-BTC",
        "Thông tư của Bộ Tài chính bãi bỏ Thông tư 01/2020/TT-BKHĐT",
        "Ends the rating of Circular 01/2020: from then on a rating is optional (kept when reported).",
        date(2025, 9, 18),
        confirmed="Nothing: no published source for this Circular was found.",
        not_confirmed="Number, date (18 September 2025) and content are assumed. If they prove wrong, "
        "change the dates here and the windows of the rating rules and columns.",
    ),
    LegalText(
        "sbv_credit_funds",
        "NHNN",
        "Quy định của Ngân hàng Nhà nước về quỹ tín dụng nhân dân",
        "People's credit funds are rated and supervised under the State Bank's own rules, not the cooperative rating.",
        None,
        confirmed="Circular 01/2020/TT-BKHĐT Article 1(2)(c) sends the assessment of people's credit funds to the "
        "State Bank's regulations; the State Bank regulates the funds (Circular 29/2024/TT-NHNN of 28 June 2024 on "
        "people's credit funds, thuviennhadat.vn).",
        not_confirmed="Which State Bank text rates the funds was not identified.",
    ),
)

TEXTS: dict[str, LegalText] = {t.key: t for t in _TEXTS}
"""Every legal text by key."""

# Dates kttt applies by the convention of schemas.in_force (checked against TEXTS by the tests).
RATING_LAST = TEXTS["circular_01_2020"].last_period  # 2025-Q3
LAW_2023_FROM = TEXTS["law_2023"].first_period  # 2024-Q3
DECREE_113_FROM = TEXTS["decree_113_2024"].first_period  # 2025-Q1
GROUP_REGISTRATION_FROM = "2024-Q4"
"""Decree 92/2024 has no confirmed effective date: the first quarter beginning after its issue (18 July 2024)."""
