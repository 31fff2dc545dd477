"""What in the demo is real and what is invented, said where the demo is built.

Real facts stay unmarked and name their document; invented figures are stored with the
source "demo" (values) or "demo: …" (DTI results) so every page, the API, the CLI and the
reports mark them "Số liệu minh họa / illustrative". This module words the summary that
`chiso demo` prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from chiso.analytics.status import Status
from chiso.text import format_number

# Lạng Sơn's published DTI ranks, each with its document (the tables themselves ship in
# chiso/dti/data with a source per row).
LANG_SON_DTI = [
    ("16/63", "DTI 2020, Bộ TT&TT công bố ngày 19/10/2021 (Báo Lạng Sơn, baolangson.vn)"),
    ("5/63", "DTI 2021 (Sở TT&TT Lạng Sơn, stttt.langson.gov.vn)"),
    ("6/63", "DTI 2022 (Bộ TT&TT, dti.gov.vn/xep-hang-2022)"),
    ("4/63", "DTI 2023 (Báo Người Hà Nội, 07/02/2025)"),
]


@dataclass
class Provenance:
    """Counts behind the summary; filled by the demo builder."""

    communes: int = 0
    departments: int = 0
    real_targets: int = 0  # targets of 72-KH/BCĐ
    demo_targets: int = 0  # targets of the illustrative 2024–2026 plan
    values: int = 0
    first_month: str = ""
    last_month: str = ""
    records: int = 0
    tasks: int = 0
    dti_invented: int = 0  # province-years of invented DTI main indicators
    submissions: int = 0  # reports sent in the demo's reporting cycle
    month_reports: int = 0  # units' monthly task reports
    scored_units: int = 0  # departments scored on the example index
    statuses_2025: dict[str, int] = field(default_factory=dict)


def real_lines(p: Provenance) -> list[str]:
    """The real parts, each with its document (Vietnamese / English)."""
    ranks = "; ".join(f"{rank} — {where}" for rank, where in LANG_SON_DTI)
    return [
        f"Đơn vị: tỉnh Lạng Sơn, {p.communes} xã, phường từ 1/7/2025 và {p.departments} sở, "
        "ban, ngành — danh mục đơn vị hành chính (Nghị quyết 202/2025/QH15 và các nghị quyết "
        "sắp xếp cấp xã năm 2025), cơ cấu sở theo Nghị định 45/2025/NĐ-CP / units and "
        "departments, from the official lists",
        f"Mục tiêu: {p.real_targets} chỉ tiêu năm 2023 của Kế hoạch 72-KH/BCĐ ngày 23/5/2023 "
        "của Ban Chỉ đạo chuyển đổi số tỉnh Lạng Sơn / the targets of plan 72-KH/BCĐ",
        f"Xếp hạng DTI của Lạng Sơn đã công bố: {ranks}; các bảng DTI 2021–2024 đã công bố "
        "(DTI 2024 của 34 tỉnh: Hà Nội 0,8241, hạng 1) — mỗi dòng ghi nguồn / published DTI "
        "ranks and tables, each row with its source",
        "Chuỗi văn bản thực hiện Nghị quyết 57-NQ/TW của tỉnh (số hiệu, ngày, cơ quan ban "
        "hành, nguồn công khai ghi trong chiso/demo/data/chain): 57-NQ/TW, 71/NQ-CP, "
        "238-KH/TU, 145/KH-UBND, 234/KH-UBND, 333/KH-UBND; các văn bản Trung ương giao nhiệm "
        "vụ và văn bản tỉnh đã ban hành để hoàn thành (30-TB/TGV → 240/KH-UBND, 11112/BTC-KTN "
        "→ 234/KH-UBND, 5511/BKHCN-CĐSQG → 333/KH-UBND, 2629/QĐ-TTg → 334/KH-UBND) / the NQ 57 "
        "plan chain and the central documents behind the central tasks, with their sources",
    ]


def invented_lines(p: Provenance) -> list[str]:
    """The invented parts, marked 'minh họa' wherever they are shown."""
    return [
        f"{format_number(p.values, 0)} số liệu hằng tháng của các xã và của tỉnh "
        f"({p.first_month}–{p.last_month}) và {p.demo_targets} mục tiêu của kế hoạch minh họa "
        "DEMO-KH/BCĐ-2024-2026, cùng mọi tình trạng, báo cáo tính từ đó / monthly figures and "
        "the illustrative 2024–2026 plan, and every status and report computed from them",
        f"{format_number(p.records, 0)} hồ sơ một cửa năm nay (sinh ngẫu nhiên) / one-stop "
        "dossiers (generated)",
        f"{p.tasks} nhiệm vụ, các phiên họp và kết luận của Ban Chỉ đạo tỉnh và 3 Ban Chỉ đạo "
        "cấp xã, kế hoạch và chỉ tiêu của các xã; thời hạn, tiến độ các nhiệm vụ Trung ương "
        "giao (văn bản giao là thật) / tasks, meetings, conclusions, the communes' plans; the "
        "central tasks' deadlines and progress",
        f"{format_number(p.submissions, 0)} báo cáo định kỳ đã gửi (đúng hạn, muộn, trả lại) "
        f"và {format_number(p.month_reports, 0)} báo cáo tháng về nhiệm vụ / the reporting "
        "cycle's reports and the monthly task reports",
        "Điểm đánh giá chuyển đổi số năm 2025 của các sở, ngành theo bộ chỉ số ví dụ 1.000 "
        "điểm của chiso (tự chấm, thẩm định, minh chứng đều minh họa) / the departments' 2025 "
        "scores on chiso's example index, with invented evidence",
        f"DTI: chỉ số chính của {p.dti_invented} lượt tỉnh–năm (2022–2023) không có số liệu "
        "công bố, khớp thứ hạng đã công bố; phiên tự đánh giá 2023 của Lạng Sơn / invented DTI "
        "main indicators where none was published, and the 2023 self-assessment",
    ]


def status_line(statuses: dict[str, int]) -> str:
    """2025 (a closed year) in its year-end words, e.g. 'Đạt 4 · Không đạt 3'."""
    order = Status.of_moment(True) + [s for s in Status.of_moment(False)
                                      if s not in Status.of_moment(True)]
    parts = [f"{Status(key).label('vi')} / {Status(key).label('en')}: {count}"
             for key, count in sorted(statuses.items(), key=lambda kv: order.index(Status(kv[0])))]
    return " · ".join(parts) or "–"
