"""Editable report texts: header fields, recipients, signer and the proposals (IV).

Each block is stored append-only in `report_text` per (unit, period); a period's own text
wins over the unit's default ("*"), which wins over the default built from unit data.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.reports.errors import ReportError
from chiso.reports.models import ReportText
from chiso.text import nfc, parse_date
from chiso.units.models import OrgUnit

DEFAULT_PROPOSALS = (
    "Đề nghị các sở, ban, ngành, UBND các xã, phường tập trung chỉ đạo hoàn thành các "
    "chỉ tiêu chậm tiến độ, chưa đạt nêu tại Mục III; cập nhật số liệu đầy đủ, đúng hạn "
    "hằng tháng.\n"
    "Đề nghị các đơn vị chủ trì khẩn trương hoàn thành các nhiệm vụ quá hạn, báo cáo kết "
    "quả và minh chứng về cơ quan thường trực Ban Chỉ đạo.\n"
    "Giao cơ quan thường trực Ban Chỉ đạo tiếp tục theo dõi, đôn đốc và tổng hợp, báo cáo "
    "Trưởng Ban Chỉ đạo tại phiên họp kỳ tới."
)

# key → (Vietnamese label, English label)
BLOCKS: dict[str, tuple[str, str]] = {
    "issuer_parent": ("Cơ quan chủ quản", "Parent body"),
    "issuer": ("Cơ quan ban hành", "Issuing body"),
    "symbol": ("Ký hiệu văn bản", "Document symbol"),
    "place": ("Địa danh", "Place"),
    "issue_date": ("Ngày ban hành (dd/mm/yyyy; để trống = để ngày, tháng cho văn thư ghi)",
                   "Issue date (empty: left blank for the clerk)"),
    "closing_date": ("Ngày chốt số liệu (dd/mm/yyyy; để trống = ngày cuối kỳ)",
                     "Closing date of the figures (empty: the last day of the period)"),
    "proposals": ("IV. Đề xuất, kiến nghị (mỗi dòng một ý)", "IV. Proposals (one per line)"),
    "recipients": ("Nơi nhận (mỗi dòng một nơi)", "Recipients (one per line)"),
    "signer_authority": ("Thẩm quyền ký", "Signing authority"),
    "signer_title": ("Chức vụ người ký", "Signer's title"),
    "signer_name": ("Họ tên người ký", "Signer's name"),
}


def _place(unit: OrgUnit) -> str:
    """'Tỉnh Lạng Sơn' → 'Lạng Sơn': the place name of the date line."""
    name = unit.short_name or unit.name
    for prefix in ("Tỉnh ", "Thành phố ", "tỉnh ", "thành phố "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _level(unit: OrgUnit) -> str:
    """'Tỉnh Lạng Sơn' → 'tỉnh'; 'Thành phố Hà Nội' → 'thành phố' (as in "UBND tỉnh")."""
    name = unit.name.lower()
    return "thành phố" if name.startswith("thành phố") else name.split(" ")[0]


def _party(unit: OrgUnit) -> str:
    return "Thành ủy" if _level(unit) == "thành phố" else "Tỉnh ủy"


def defaults(unit: OrgUnit) -> dict[str, str]:
    """Defaults from the unit's own data, so nothing province-specific is hard-coded."""
    return {
        "issuer_parent": f"UBND {unit.name}".upper(),
        "issuer": "BAN CHỈ ĐẠO CHUYỂN ĐỔI SỐ",
        "symbol": "BC-BCĐ",
        "place": _place(unit),
        "issue_date": "",
        "closing_date": "",
        "proposals": DEFAULT_PROPOSALS,
        "recipients": "\n".join([
            "Ban Chỉ đạo Trung ương về phát triển KHCN, ĐMST và CĐS (b/c)",
            f"Thường trực {_party(unit)}, Thường trực HĐND {_level(unit)} (b/c)",
            f"Chủ tịch, các Phó Chủ tịch UBND {_level(unit)}",
            "Các thành viên Ban Chỉ đạo",
            "Các sở, ban, ngành; UBND các xã, phường",
            "Lưu: VT, BCĐ",
        ]),
        "signer_authority": "TM. BAN CHỈ ĐẠO",
        "signer_title": "TRƯỞNG BAN",
        "signer_name": "",
    }


def current_texts(session: Session, unit: OrgUnit, period: str) -> dict[str, str]:
    texts = defaults(unit)
    for scope in ("*", period):
        texts.update(_latest(session, unit.id, scope))
    return texts


def _latest(session: Session, unit_id: int, period: str) -> dict[str, str]:
    newest = (select(ReportText.key, func.max(ReportText.version).label("v"))
              .where(ReportText.unit_id == unit_id, ReportText.period == period)
              .group_by(ReportText.key).subquery())
    rows = session.execute(select(ReportText.key, ReportText.text).join(
        newest, (ReportText.key == newest.c.key) & (ReportText.version == newest.c.v))
        .where(ReportText.unit_id == unit_id, ReportText.period == period))
    return dict(rows.all())


DATE_BLOCKS = ("issue_date", "closing_date")


def save_texts(session: Session, *, unit: OrgUnit, period: str, texts: dict[str, str],
               access: Access) -> int:
    """Store the blocks that changed as new versions (MANAGE on the unit); returns how
    many changed. Dates are checked here, so a report is never refused later for them."""
    access.require(Action.MANAGE, unit.id)
    current = current_texts(session, unit, period)
    changed = 0
    for key, text in texts.items():
        if key not in BLOCKS:
            raise ReportError(f"Không có mục '{key}'", f"no block '{key}'")
        text = "\n".join(line.rstrip() for line in nfc(text).strip().splitlines())
        if key in DATE_BLOCKS and text:
            text = parse_date(text).strftime("%d/%m/%Y")  # DateError: 422 naming the text
        if text == current.get(key, ""):
            continue
        version = (session.scalar(select(func.max(ReportText.version)).where(
            ReportText.unit_id == unit.id, ReportText.period == period,
            ReportText.key == key)) or 0) + 1
        session.add(ReportText(unit_id=unit.id, period=period, key=key, version=version,
                               text=text, changed_by_id=access.user.id if access.user else None))
        record_event(session, action="report_text.save", object_type="report_text",
                     object_id=f"{unit.code}/{period}/{key}", actor=access.actor,
                     unit_id=unit.id,
                     before={"text": current.get(key, "")}, after={"text": text})
        changed += 1
    session.flush()
    return changed
