"""Editable report texts: header fields, recipients, signer and the proposals (IV).

Each block is stored append-only in `report_text` per (unit, period); a period's own text
wins over the unit's default ("*"), which wins over the default built from unit data: the
committee of the period's date and level (chiso/reports/committee.py) — a commune's
committee for a commune's report — and the document style that goes with it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.periods import parse_period
from chiso.reports.committee import STYLES, committee_for
from chiso.reports.errors import ReportError
from chiso.reports.models import ReportText
from chiso.tasks.common import is_commune
from chiso.text import nfc, parse_date
from chiso.units.models import OrgUnit

DEFAULT_PROPOSALS = (
    "Đề nghị các sở, ban, ngành, UBND các xã, phường tập trung chỉ đạo hoàn thành các "
    "chỉ tiêu chậm tiến độ, chưa đạt nêu tại phần tồn tại, hạn chế; cập nhật số liệu đầy đủ, "
    "đúng hạn hằng tháng.\n"
    "Đề nghị các đơn vị chủ trì khẩn trương hoàn thành các nhiệm vụ quá hạn, báo cáo kết "
    "quả và minh chứng về cơ quan thường trực Ban Chỉ đạo.\n"
    "Giao cơ quan thường trực Ban Chỉ đạo tiếp tục theo dõi, đôn đốc và tổng hợp, báo cáo "
    "Trưởng Ban Chỉ đạo tại phiên họp kỳ tới."
)

COMMUNE_PROPOSALS = (
    "Đề nghị các cơ quan, đơn vị, thôn, tổ dân phố trên địa bàn tập trung hoàn thành các "
    "chỉ tiêu chậm tiến độ, chưa đạt; cập nhật số liệu đầy đủ, đúng hạn hằng tháng.\n"
    "Đề nghị các đơn vị chủ trì khẩn trương hoàn thành các nhiệm vụ quá hạn, báo cáo kết "
    "quả và minh chứng về Ban Chỉ đạo.\n"
    "Kính đề nghị Ban Chỉ đạo tỉnh quan tâm hướng dẫn, hỗ trợ xã thực hiện các nhiệm vụ "
    "được giao."
)

# key → (Vietnamese label, English label)
BLOCKS: dict[str, tuple[str, str]] = {
    "header_style": ("Thể thức văn bản (hành chính hoặc của Đảng)",
                     "Document style (state or party)"),
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
    """'Tỉnh Lạng Sơn' → 'Lạng Sơn', 'Xã Chi Lăng' → 'Chi Lăng': the place name of the
    date line."""
    name = unit.short_name or unit.name
    for prefix in ("Tỉnh ", "Thành phố ", "Xã ", "Phường ", "Đặc khu "):
        if name.lower().startswith(prefix.lower()):
            return name[len(prefix):]
    return name


def _level(unit: OrgUnit) -> str:
    """'Tỉnh Lạng Sơn' → 'tỉnh'; 'Thành phố Hà Nội' → 'thành phố' (as in "UBND tỉnh")."""
    name = unit.name.lower()
    return "thành phố" if name.startswith("thành phố") else name.split(" ")[0]


def _party(unit: OrgUnit) -> str:
    return "Thành ủy" if _level(unit) == "thành phố" else "Tỉnh ủy"


def defaults(session: Session, unit: OrgUnit, *, commune: bool = False,
             on: dt.date | None = None, style: str | None = None) -> dict[str, str]:
    """Defaults from the unit's own data and the committee of the day, so nothing
    province-specific is hard-coded."""
    committee = committee_for(session, unit, commune=commune, on=on, style=style)
    return {
        "header_style": committee.style,
        "issuer_parent": committee.parent,
        "issuer": committee.name,
        "symbol": committee.symbol,
        "place": _place(unit),
        "issue_date": "",
        "closing_date": "",
        "proposals": COMMUNE_PROPOSALS if commune else DEFAULT_PROPOSALS,
        "recipients": "\n".join(_commune_recipients(unit) if commune else [
            "Ban Chỉ đạo Trung ương về phát triển KHCN, ĐMST và CĐS (b/c)",
            f"Thường trực {_party(unit)}, Thường trực HĐND {_level(unit)} (b/c)",
            f"Chủ tịch, các Phó Chủ tịch UBND {_level(unit)}",
            "Các thành viên Ban Chỉ đạo",
            "Các sở, ban, ngành; UBND các xã, phường",
            "Lưu: VT, BCĐ",
        ]),
        "signer_authority": committee.on_behalf,
        "signer_title": "TRƯỞNG BAN",
        "signer_name": "",
    }


def _commune_recipients(unit: OrgUnit) -> list[str]:
    level = _level(unit)
    return [
        "Ban Chỉ đạo tỉnh về phát triển KHCN, ĐMST và CĐS (b/c)",
        f"Thường trực Đảng ủy, Thường trực HĐND {level} (b/c)",
        f"Chủ tịch, các Phó Chủ tịch UBND {level}",
        "Các thành viên Ban Chỉ đạo",
        f"Các cơ quan, đơn vị, thôn, tổ dân phố trên địa bàn {level}",
        "Lưu: VT, BCĐ",
    ]


def current_texts(session: Session, unit: OrgUnit, period: str) -> dict[str, str]:
    """The blocks of the unit's report for `period`: stored texts over the defaults of the
    committee on the period's last day (a style chosen in the texts sets the defaults)."""
    stored: dict[str, str] = {}
    for scope in ("*", period):
        stored.update(_latest(session, unit.id, scope))
    on = parse_period(period).end() if period != "*" else None
    texts = defaults(session, unit, commune=is_commune(session, unit.id), on=on,
                     style=stored.get("header_style") or None)
    texts.update(stored)
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
        if key == "header_style" and text and text not in STYLES:
            raise ReportError(f"Thể thức '{text}' không có (state, party)",
                              f"unknown document style '{text}' (state or party)")
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
