"""Who issues a committee report, by date and level: the committee's name, the body above
it and the document style — the defaults of the report's header texts (chiso/reports/
texts.py), which a province overrides in its own text blocks.

- Until Nghị quyết 57-NQ/TW took effect in the provinces (default switch: 01/03/2025, when
  the Sở Thông tin và Truyền thông merged into the Sở Khoa học và Công nghệ), the committee
  is the Ban Chỉ đạo chuyển đổi số, under the People's Committee: an administrative
  document (Nghị định 30/2020/NĐ-CP: "UBND TỈNH …", Quốc hiệu and Tiêu ngữ, "TM.").
- From then on it is the Ban Chỉ đạo phát triển khoa học, công nghệ, đổi mới sáng tạo và
  chuyển đổi số, set up by the Party committee and headed by its secretary: a Party
  document (Hướng dẫn 36-HD/VPTW: "TỈNH ỦY …" over the committee's name and a "*", "ĐẢNG
  CỘNG SẢN VIỆT NAM" on the right, "Số 12-BC/BCĐ", "T/M"). A commune's committee is its
  Party committee's ("ĐẢNG ỦY XÃ …").

The committee's name comes from the installation's dated table (chiso.units.committee.
committee_names: `chiso units committee --load`), without the province's name (the body
above says it); the names below stand in where no table covers the day. The style follows
the name: a committee for science, technology and innovation is the Party's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chiso.units.committee import NoCommitteeName, committee_names
from chiso.units.models import OrgUnit

NQ57_FROM = dt.date(2025, 3, 1)
DX_COMMITTEE = "BAN CHỈ ĐẠO CHUYỂN ĐỔI SỐ"
NQ57_COMMITTEE = ("BAN CHỈ ĐẠO PHÁT TRIỂN KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ "
                  "CHUYỂN ĐỔI SỐ")
STATE, PARTY = "state", "party"
STYLES = (STATE, PARTY)


@dataclass(frozen=True)
class Committee:
    name: str  # upper case, as the header prints it
    parent: str  # the body above it, upper case
    style: str  # STATE (NĐ 30/2020) or PARTY (HD 36-HD/VPTW)

    @property
    def symbol(self) -> str:
        """The report's ký hiệu: 'BC-BCĐ' (…/BC-BCĐ) or 'BC/BCĐ' (…-BC/BCĐ)."""
        return "BC/BCĐ" if self.style == PARTY else "BC-BCĐ"

    @property
    def on_behalf(self) -> str:
        """'TM. BAN CHỈ ĐẠO' (administrative) or 'T/M BAN CHỈ ĐẠO' (Party)."""
        return "T/M BAN CHỈ ĐẠO" if self.style == PARTY else "TM. BAN CHỈ ĐẠO"


def committee_for(session: Session, unit: OrgUnit, *, commune: bool, on: dt.date | None,
                  style: str | None = None) -> Committee:
    """The committee of `unit` on day `on` (None: today's committee); `style` forces the
    document style (the body above follows it)."""
    name = committee_name(session, on)
    if style not in STYLES:
        style = PARTY if "KHOA HỌC" in name else STATE
    return Committee(name=name, parent=parent_body(unit, commune=commune, style=style),
                     style=style)


def committee_name(session: Session, on: dt.date | None) -> str:
    """'BAN CHỈ ĐẠO VỀ PHÁT TRIỂN KHOA HỌC, …' from the dated names (the province's name
    taken out), else the default of the day."""
    try:
        names = committee_names(session, on=on)
    except NoCommitteeName:
        return NQ57_COMMITTEE if on is None or on >= NQ57_FROM else DX_COMMITTEE
    name = names.committee_vi
    for word in (" tỉnh ", " thành phố "):
        name = name.split(word)[0]
    return name.upper()


def parent_body(unit: OrgUnit, *, commune: bool, style: str) -> str:
    """'UBND TỈNH LẠNG SƠN' / 'TỈNH ỦY LẠNG SƠN' / 'ĐẢNG ỦY XÃ CHI LĂNG'."""
    if style != PARTY:
        return f"UBND {unit.name}".upper()
    if commune:
        return f"ĐẢNG ỦY {unit.name}".upper()
    name = unit.name
    for prefix, party in (("Thành phố ", "THÀNH ỦY "), ("Tỉnh ", "TỈNH ỦY ")):
        if name.startswith(prefix):
            return party + name[len(prefix):].upper()
    return f"TỈNH ỦY {name}".upper()
