"""Helpers for the extraction tests: the province, its departments (the shipped register)
and the shipped catalogue, committed; and documents written as real files."""

from __future__ import annotations

from pathlib import Path

import docx
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.indicators.service import load_catalog
from chiso.units.models import OrgUnit
from chiso.units.service import ensure_unit_kinds, load_departments

DATA = Path(__file__).parent / "extract_data"
DEPARTMENTS = Path(__file__).parent.parent / "chiso/units/data/departments-20.yaml"

PLAN_PARAGRAPHS = [
    "BAN CHỈ ĐẠO VỀ CHUYỂN ĐỔI SỐ TỈNH LẠNG SƠN",
    "Số: 90-KH/BCĐ                 Lạng Sơn, ngày 15 tháng 1 năm 2026",
    "KẾ HOẠCH",
    "Chuyển đổi số tỉnh Lạng Sơn năm 2026",
    "I. MỤC TIÊU",
    "- Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến đạt tối thiểu 80%;",
    "- Tỷ lệ hộ gia đình có đường truyền Internet băng rộng cáp quang đạt 85%;",
    "- Tỷ lệ doanh nghiệp sử dụng hóa đơn điện tử đạt 100%;",
    "- Tỷ lệ người trưởng thành có điện thoại di động thông minh đạt 90%.",
    "II. NHIỆM VỤ",
    "1. Sở Khoa học và Công nghệ chủ trì, phối hợp với Sở Nội vụ triển khai Kế hoạch, "
    "hoàn thành trong Quý II/2026.",
]


def prepared(session: Session) -> OrgUnit:
    """Lạng Sơn, its sở, ban, ngành and the catalogue; returns the province."""
    access = Access.system(session, "test")
    ensure_unit_kinds(session, access.actor)
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", short_name="Lạng Sơn", kind="tinh")
    session.add(province)
    session.flush()
    load_departments(session, DEPARTMENTS, access=access)
    load_catalog(session, access=access)
    session.commit()
    return province


def write_docx(path: Path, paragraphs: list[str], page_breaks: int = 0) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    for _ in range(page_breaks):
        document.add_page_break()
        document.add_paragraph("Tỷ lệ hồ sơ giải quyết đúng hạn đạt 98,5%; Sở Tài chính chủ "
                               "trì, phối hợp với Sở Nội vụ rà soát, hoàn thành trước 30/6/2026.")
    document.save(str(path))
    return path
