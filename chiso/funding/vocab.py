"""The words of public finance that budget tables use, as codes with their Vietnamese and
English names and the spellings a finance department writes them in.

Spellings are compared on `header_key` (accents, case, spaces and punctuation ignored), so
"Ngân sách địa phương", "NSĐP" and "ngan sach dia phuong" are the same source.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from chiso.values.reader import header_key


@dataclass(frozen=True)
class Term:
    code: str
    name_vi: str
    name_en: str
    spellings: tuple[str, ...] = ()

    def label(self, locale: str = "vi") -> str:
        return self.name_en if locale == "en" else self.name_vi


class Source(enum.StrEnum):
    """Nguồn vốn."""

    CENTRAL = "central"
    LOCAL = "local"
    SOCIAL = "social"
    ODA = "oda"


class SpendType(enum.StrEnum):
    """Loại chi: đầu tư phát triển (project-based, Public Investment Law) or thường xuyên."""

    INVESTMENT = "investment"
    RECURRENT = "recurrent"


class Area(enum.StrEnum):
    """Lĩnh vực: the three parts of Nghị quyết 57's budget."""

    SCIENCE = "science"
    INNOVATION = "innovation"
    DX = "dx"


class Stage(enum.StrEnum):
    """Where a figure stands in the yearly budget cycle."""

    PROPOSED = "proposed"  # đề xuất (July)
    ESTIMATE = "estimate"  # dự toán giao (the province's decision, December)
    ALLOCATED = "allocated"  # phân bổ (detailed to spending units)
    DISBURSED = "disbursed"  # giải ngân, cumulative to the end of a month
    SETTLED = "settled"  # quyết toán (after the year closes)


class FigureStatus(enum.StrEnum):
    """Approval of a figure, like a reporting-cycle submission: captured figures wait for
    the standing office; an approved figure that is edited waits again."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class LineKind(enum.StrEnum):
    LINE = "line"  # a budget line of science, innovation or DX
    TOTAL = "total"  # the province's total budget spending (tổng chi ngân sách địa phương)


class ProgrammeKind(enum.StrEnum):
    PROGRAMME = "programme"  # chương trình, đề án
    PROJECT = "project"  # dự án (đầu tư công)


SOURCES: dict[str, Term] = {
    Source.CENTRAL: Term("central", "Ngân sách trung ương", "Central budget",
                         ("ngân sách trung ương", "nstw", "ns trung ương", "trung ương",
                          "vốn trung ương", "ngân sách trung ương hỗ trợ")),
    Source.LOCAL: Term("local", "Ngân sách địa phương", "Local budget",
                       ("ngân sách địa phương", "nsđp", "ns địa phương", "địa phương",
                        "ngân sách tỉnh", "nst", "vốn địa phương", "ngân sách cấp tỉnh")),
    Source.SOCIAL: Term("social", "Xã hội hóa", "Private and other (xã hội hóa)",
                        ("xã hội hóa", "xhh", "vốn xã hội hóa", "huy động xã hội hóa",
                         "nguồn khác", "doanh nghiệp")),
    Source.ODA: Term("oda", "Vốn ODA", "ODA",
                     ("oda", "vốn oda", "vốn vay oda", "oda và vay ưu đãi",
                      "vốn nước ngoài")),
}

SPEND_TYPES: dict[str, Term] = {
    SpendType.INVESTMENT: Term("investment", "Chi đầu tư phát triển", "Development investment",
                               ("đầu tư phát triển", "đtpt", "chi đầu tư phát triển",
                                "chi đầu tư", "đầu tư", "vốn đầu tư", "xdcb",
                                "đầu tư công")),
    SpendType.RECURRENT: Term("recurrent", "Chi thường xuyên", "Recurrent spending",
                              ("thường xuyên", "tx", "chi thường xuyên", "sự nghiệp",
                               "chi sự nghiệp", "kinh phí sự nghiệp")),
}

AREAS: dict[str, Term] = {
    Area.SCIENCE: Term("science", "Khoa học, công nghệ", "Science and technology",
                       ("khoa học công nghệ", "khoa học và công nghệ", "khcn", "kh&cn",
                        "khoa học", "sự nghiệp khoa học")),
    Area.INNOVATION: Term("innovation", "Đổi mới sáng tạo", "Innovation",
                          ("đổi mới sáng tạo", "đmst", "khởi nghiệp đổi mới sáng tạo")),
    Area.DX: Term("dx", "Chuyển đổi số", "Digital transformation",
                  ("chuyển đổi số", "cđs", "công nghệ thông tin", "cntt", "ứng dụng cntt")),
}

STAGES: dict[str, Term] = {
    Stage.PROPOSED: Term("proposed", "Đề xuất", "Proposed",
                         ("đề xuất", "dự kiến", "nhu cầu", "đăng ký", "kinh phí đề xuất")),
    Stage.ESTIMATE: Term("estimate", "Dự toán giao", "Budget estimate",
                         ("dự toán giao", "dự toán", "kế hoạch vốn giao", "dự toán được giao",
                          "kế hoạch vốn", "kế hoạch năm")),
    Stage.ALLOCATED: Term("allocated", "Phân bổ", "Allocated",
                          ("phân bổ", "đã phân bổ", "kinh phí phân bổ", "phân bổ chi tiết",
                           "giao chi tiết")),
    Stage.DISBURSED: Term("disbursed", "Giải ngân", "Disbursed",
                          ("giải ngân", "lũy kế giải ngân", "giải ngân lũy kế",
                           "giá trị giải ngân", "đã giải ngân")),
    Stage.SETTLED: Term("settled", "Quyết toán", "Settled",
                        ("quyết toán", "số quyết toán", "kinh phí quyết toán")),
}

FIGURE_STATUSES: dict[str, Term] = {
    FigureStatus.SUBMITTED: Term("submitted", "Chờ phê duyệt", "Awaiting approval"),
    FigureStatus.APPROVED: Term("approved", "Đã phê duyệt", "Approved"),
    FigureStatus.RETURNED: Term("returned", "Trả lại", "Returned"),
}

# State budget (ngân sách nhà nước): what Nghị quyết 57's "3 % of budget spending" counts.
# Xã hội hóa is money the province mobilises, not budget spending.
STATE_BUDGET_SOURCES = (Source.CENTRAL, Source.LOCAL, Source.ODA)

# Stages with one figure per year; giải ngân has one per month.
YEARLY_STAGES = (Stage.PROPOSED, Stage.ESTIMATE, Stage.ALLOCATED, Stage.SETTLED)


def _spelling_index(terms: dict[str, Term]) -> dict[str, str]:
    index: dict[str, str] = {}
    for code, term in terms.items():
        for text in (term.code, term.name_vi, term.name_en, *term.spellings):
            index.setdefault(header_key(text), str(code))
    return index


SOURCE_SPELLINGS = _spelling_index(SOURCES)
TYPE_SPELLINGS = _spelling_index(SPEND_TYPES)
AREA_SPELLINGS = _spelling_index(AREAS)


def term_label(terms: dict[str, Term], code: str, locale: str = "vi") -> str:
    """The name of a code in the reader's language ('local' → 'Ngân sách địa phương')."""
    term = terms.get(code)
    return term.label(locale) if term is not None else code


def allowed_words(terms: dict[str, Term]) -> str:
    """'Ngân sách trung ương, Ngân sách địa phương, …' for error messages."""
    return ", ".join(t.name_vi for t in terms.values())
