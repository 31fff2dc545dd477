"""Units for the scoring tests: a province, three departments and two communes, made directly
with the models (the official loaders belong to the units domain's own tests)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from chiso.scoring.frameworks import load_example
from chiso.units.models import OrgUnit, UnitKind

FRAMEWORK = "VD-CDS-1000"


@dataclass
class ScoringWorld:
    province: OrgUnit
    science: OrgUnit  # Sở Khoa học và Công nghệ
    home: OrgUnit  # Sở Nội vụ
    finance: OrgUnit  # Sở Tài chính
    dong_dang: OrgUnit
    huu_lung: OrgUnit


def build(session: Session) -> ScoringWorld:
    session.add_all([
        UnitKind(code="tinh", name_vi="tỉnh", name_en="province", level=1),
        UnitKind(code="so_ban_nganh", name_vi="sở, ban, ngành", name_en="department", level=2),
        UnitKind(code="xa", name_vi="xã", name_en="commune", level=3)])
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", name_en="Lang Son Province",
                       kind="tinh")
    session.add(province)
    session.flush()
    units = [OrgUnit(code=code, name=name, kind=kind, parent_id=province.id) for code, name, kind
             in (("20.SKHCN", "Sở Khoa học và Công nghệ", "so_ban_nganh"),
                 ("20.SNV", "Sở Nội vụ", "so_ban_nganh"),
                 ("20.STC", "Sở Tài chính", "so_ban_nganh"),
                 ("06001", "Xã Đồng Đăng", "xa"), ("06002", "Xã Hữu Lũng", "xa"))]
    session.add_all(units)
    session.flush()
    load_example(session)
    session.commit()
    return ScoringWorld(province, *units)
