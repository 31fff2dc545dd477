"""The committee's and its standing agency's names, as configuration with dates.

Before 3/2025 a province's Ban Chỉ đạo về chuyển đổi số had the Sở Thông tin và Truyền thông
as standing agency; after NQ 57-NQ/TW it is the Ban Chỉ đạo về phát triển khoa học, công
nghệ, đổi mới sáng tạo và chuyển đổi số with the Sở Khoa học và Công nghệ. Whoever shows the
committee's name (reports, pages) asks `committee_names(session, on=day)`, so a report for
2024 names the old committee and one for 2026 the new one. The periods are data
(chiso/units/data/committee.yaml), loaded by `chiso init` and edited by the province.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.audit.service import assign_fields, changed_fields, record_event
from chiso.boot import require_booted
from chiso.errors import NotFound
from chiso.indicators.problems import InputRejected, Problem
from chiso.indicators.service import read_yaml_mapping
from chiso.settings import get_settings
from chiso.text import nfc, parse_date
from chiso.text.dates import DateError
from chiso.units.models import FAR_PAST, CommitteeName, OrgUnit
from chiso.units.service import require_manage_installation

SHIPPED_COMMITTEE = Path(__file__).parent / "data" / "committee.yaml"
NAME_FIELDS = ("valid_to", "committee_vi", "committee_en", "short_vi", "short_en",
               "agency_vi", "agency_en", "agency_unit_code", "basis")
KEYS = {"valid_from", "valid_to", "committee_vi", "committee_en", "short_vi", "short_en",
        "agency_vi", "agency_en", "agency_unit", "basis"}


@dataclass(frozen=True)
class CommitteeNames:
    """The names in force on a day, with `{unit}` filled in."""

    committee_vi: str
    committee_en: str
    short_vi: str
    short_en: str
    agency_vi: str
    agency_en: str
    agency_unit_code: str
    basis: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    def committee(self, locale: str = "vi") -> str:
        return self.committee_en if locale == "en" and self.committee_en else self.committee_vi

    def agency(self, locale: str = "vi") -> str:
        return self.agency_en if locale == "en" and self.agency_en else self.agency_vi


class NoCommitteeName(NotFound):
    def __init__(self, day: dt.date) -> None:
        super().__init__(f"Chưa cấu hình tên Ban Chỉ đạo cho ngày {day:%d/%m/%Y} (chiso units "
                         "committee --load …)", f"no committee name configured for "
                         f"{day.isoformat()} (chiso units committee --load …)")


def committee_names(session: Session, on: dt.date | None = None) -> CommitteeNames:
    """The committee's and its standing agency's names in force on `on` (default today),
    with the installation's unit in them ('… tỉnh Lạng Sơn'). Raises NoCommitteeName (404)
    when no period covers the day."""
    day = on or get_settings().current_date()
    row = session.scalar(select(CommitteeName).where(
        CommitteeName.valid_from <= day,
        or_(CommitteeName.valid_to.is_(None), CommitteeName.valid_to >= day))
        .order_by(CommitteeName.valid_from.desc()).limit(1))
    if row is None:
        raise NoCommitteeName(day)
    unit_vi, unit_en, code = _installation(session)

    def fill(text: str) -> str:
        return " ".join(text.replace("{unit}", unit_vi).replace("{unit_en}", unit_en)
                        .replace("{province}", code).split())

    return CommitteeNames(
        fill(row.committee_vi), fill(row.committee_en), fill(row.short_vi),
        fill(row.short_en), fill(row.agency_vi), fill(row.agency_en),
        fill(row.agency_unit_code), row.basis,
        None if row.valid_from == FAR_PAST else row.valid_from, row.valid_to)


def _installation(session: Session) -> tuple[str, str, str]:
    """('tỉnh Lạng Sơn', 'Lang Son Province', '20'): the names put in the committee's name."""
    code = get_settings().default_unit
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code)
                          .order_by(OrgUnit.valid_from.desc()).limit(1))
    if unit is None:
        return "", "", code
    name = unit.name[:1].lower() + unit.name[1:]  # 'Tỉnh Lạng Sơn' inside a sentence
    return name, unit.name_en or unit.name, code


# ---------------------------------------------------------------- loading


def load_committee_names(session: Session, path: str | Path | None = None, *,
                         access: Access) -> list[str]:
    """Load the dated names (the shipped file or the province's), as `access` (MANAGE on
    the installation's unit). Checked whole before writing; idempotent; audited. Returns
    the periods added or changed ('từ 01/03/2025')."""
    require_booted()
    require_manage_installation(session, access)
    source = Path(path) if path else SHIPPED_COMMITTEE
    periods = _read(source)
    stored = {row.valid_from: row for row in session.scalars(select(CommitteeName))}
    changed = []
    for data in periods:
        row = stored.get(data["valid_from"])
        fields = {name: data[name] for name in NAME_FIELDS}
        label = f"từ {data['valid_from']:%d/%m/%Y}" if data["valid_from"] != FAR_PAST \
            else "từ đầu"
        if row is None:
            session.add(CommitteeName(valid_from=data["valid_from"], **fields))
            before: dict[str, Any] = {}
            after = fields
        else:
            before, after = changed_fields(row, fields, NAME_FIELDS)
            if not after:
                continue
            assign_fields(row, after)
        record_event(session, action="committee_name.load", object_type="committee_name",
                     object_id=label, actor=access.actor, before=before or None,
                     after=after, note=source.name)
        changed.append(label)
    session.flush()
    return changed


def load_shipped_committee_names(session: Session) -> list[str]:
    """The reference loader `chiso init` runs: idempotent."""
    return load_committee_names(session, access=Access.system(session, "setup"))


def _read(source: Path) -> list[dict[str, Any]]:
    entries = read_yaml_mapping(source).get("periods")
    problems: list[Problem] = []
    if not isinstance(entries, list) or not entries:
        raise InputRejected([Problem(source.name, "thiếu danh sách 'periods'",
                                     "missing the 'periods' list")])
    periods = []
    for index, entry in enumerate(entries, start=1):
        period = _period(source.name, index, entry, problems)
        if period is not None:
            periods.append(period)
    periods.sort(key=lambda p: p["valid_from"])
    for earlier, later in pairwise(periods):
        if earlier["valid_to"] is None or earlier["valid_to"] >= later["valid_from"]:
            problems.append(Problem(source.name, "các giai đoạn chồng lên nhau: giai đoạn trước "
                                    "phải kết thúc trước ngày giai đoạn sau bắt đầu",
                                    "periods overlap: each must end before the next begins",
                                    sheet="periods", column="valid_to"))
    if problems:
        raise InputRejected(problems)
    return periods


def _period(file: str, index: int, entry: Any, problems: list[Problem]
            ) -> dict[str, Any] | None:
    def problem(column: str, vi: str, en: str) -> None:
        problems.append(Problem(file, vi, en, sheet="periods", row=index, column=column))

    if not isinstance(entry, dict):
        problem("", "mục phải là bảng khóa: giá trị", "entry must be a mapping")
        return None
    for key in sorted(set(entry) - KEYS):
        problem(key, "trường không được hỗ trợ", "unknown field")
    dates: dict[str, dt.date | None] = {}
    for name in ("valid_from", "valid_to"):
        raw = entry.get(name)
        try:
            dates[name] = parse_date(raw) if raw not in (None, "") else None
        except DateError as exc:
            problem(name, exc.message_vi, exc.message_en)
            dates[name] = None
    period = {name: " ".join(nfc(entry.get(name)).split()) for name in (
        "committee_vi", "committee_en", "short_vi", "short_en", "agency_vi", "agency_en",
        "basis")}
    for name in ("committee_vi", "agency_vi"):
        if not period[name]:
            problem(name, "thiếu tên", "missing name")
    return {**period, "valid_from": dates["valid_from"] or FAR_PAST,
            "valid_to": dates["valid_to"], "agency_unit_code": nfc(entry.get("agency_unit"))}
