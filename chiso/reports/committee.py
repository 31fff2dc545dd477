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

The committee's names are to come from the catalogue's dated table
(`committee_names(session, on=…)`, being built in chiso/indicators by the 2026-committee
engineer); until it lands the names below are the defaults.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


def committee_for(unit: OrgUnit, *, commune: bool, on: dt.date | None,
                  style: str | None = None) -> Committee:
    """The committee of `unit` on day `on` (None: today's committee); `style` forces the
    document style (the body above follows it)."""
    nq57 = on is None or on >= NQ57_FROM
    style = style if style in STYLES else (PARTY if nq57 else STATE)
    name = NQ57_COMMITTEE if nq57 else DX_COMMITTEE
    return Committee(name=name, parent=parent_body(unit, commune=commune, style=style),
                     style=style)


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
