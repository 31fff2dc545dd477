"""Helpers for the catalogue and plan tests: the few units they need, made directly with the
models (the official units are another domain's loader), and the shipped catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.indicators.service import load_catalog
from chiso.units.models import OrgUnit, UnitKind

PLAN_YAML = Path(__file__).parent.parent / "chiso/plans/data/20-72-KH-BCD-2023.yaml"
PLAN_XLSX = PLAN_YAML.with_suffix(".xlsx")
PLAN_CODE = "72-KH/BCĐ"


@dataclass
class Units:
    lang_son: OrgUnit
    thai_nguyen: OrgUnit
    ky_lua: OrgUnit  # a commune created by the 2025 reform: valid from 1/7/2025
    old_commune: OrgUnit  # a pre-reform commune that ended on 30/6/2025


def make_units(session: Session) -> Units:
    session.add_all([UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1),
                     UnitKind(code="xa", name_vi="Xã", name_en="Commune", level=3)])
    session.flush()
    lang_son = OrgUnit(code="20", name="Tỉnh Lạng Sơn", name_en="Lạng Sơn Province", kind="tinh")
    thai_nguyen = OrgUnit(code="19", name="Tỉnh Thái Nguyên", kind="tinh")
    session.add_all([lang_son, thai_nguyen])
    session.flush()
    ky_lua = OrgUnit(code="06187", name="Phường Kỳ Lừa", kind="xa", parent_id=lang_son.id,
                     valid_from=dt.date(2025, 7, 1))
    old = OrgUnit(code="06130", name="Phường Hoàng Văn Thụ", kind="xa", parent_id=lang_son.id,
                  valid_to=dt.date(2025, 6, 30))
    session.add_all([ky_lua, old])
    session.flush()
    return Units(lang_son, thai_nguyen, ky_lua, old)


def prepared(session: Session) -> Units:
    """Units and the shipped catalogue, committed."""
    units = make_units(session)
    load_catalog(session, access=Access.system(session, "test"))
    session.commit()
    return units


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def grdp_plan(value: float = 3) -> str:
    """The province's 2025 digital-transformation plan with one target: the digital
    economy's share of GRDP ≥ `value` %."""
    return f"""\
format: chiso-plan/1
plan:
  code: 15/KH-UBND
  document_kind: KH
  title: Kế hoạch chuyển đổi số năm 2025
  issued_on: 10/01/2025
  year_from: 2025
  scope_unit: "20"
targets:
  - indicator: KTS.TY_TRONG_GRDP
    value: {value:g}
"""
