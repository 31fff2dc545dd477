"""A tiny hand-made province for the analytics tests, built with the real models.

Province 20 has two communes valid since 1/7/2025 (A = 06001, B = 06002). Before the
reform it had district 178 with communes X (06101) and Y (06102), and district 179 with
commune Z (06201); X and Y were merged into A and Z into B on 1/7/2025, and both districts
were absorbed into the province.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.indicators.models import Indicator, Pillar
from chiso.plans.models import Plan, Target
from chiso.units.models import FAR_PAST, OrgUnit, UnitKind, UnitLineage
from chiso.values.models import DataValue
from chiso.values.service import delete_value, upsert_values

REFORM = dt.date(2025, 7, 1)
BEFORE = REFORM - dt.timedelta(days=1)

INDICATORS = {
    # code: kind, unit aggregation, time aggregation, scale, direction, pillar
    "CQS.HS_TRUC_TUYEN": ("ratio", "ratio_of_sums", "sum", 100.0, "higher", "CQS"),
    "XHS.HO_CAP_QUANG": ("ratio", "ratio_of_sums", "last", 100.0, "higher", "XHS"),
    "CQS.SO_HS": ("count", "sum", "sum", 1.0, "higher", "CQS"),
    "XHS.THUE_BAO": ("count", "sum", "last", 1.0, "higher", "XHS"),
    "CQS.SU_CO": ("count", "sum", "sum", 1.0, "lower", "CQS"),
    "CQS.DVCTT_PHAT_SINH_HS": ("ratio", "none", "sum", 100.0, "higher", "CQS"),
    "CQS.HS_TON": ("count", "sum", "last", 1.0, "lower", "CQS"),  # backlog: a stock
}


@dataclass
class World:
    session: Session
    units: dict[str, int] = field(default_factory=dict)
    indicators: dict[str, int] = field(default_factory=dict)
    plan_id: int = 0

    def save(self, rows: list[tuple[str, str, str, float | None, float | None, float | None]],
             *, source: str = "test") -> None:
        """(unit code, indicator code, period, numerator, denominator, value) rows; the
        demo's invented figures are saved with source "demo"."""
        upsert_values(self.session, [
            {"unit_id": self.units[u], "indicator_id": self.indicators[i], "period": p,
             "numerator": n, "denominator": d, "value": v}
            for u, i, p, n, d, v in rows], source=source,
                      access=Access.system(self.session, "test"))
        self.session.commit()

    def delete(self, unit: str, indicator: str, period: str) -> None:
        """Delete a stored value the way a person does (a version row records it)."""
        found = self.session.scalar(select(DataValue.id).where(
            DataValue.unit_id == self.units[unit],
            DataValue.indicator_id == self.indicators[indicator], DataValue.period == period))
        assert found is not None, f"no stored value {unit} {indicator} {period} to delete"
        delete_value(self.session, found, access=Access.system(self.session, "test"))
        self.session.commit()

    def target(self, indicator: str, value: float, *, unit: str = "20", year: int = 2025,
               **extra: Any) -> int:
        row = Target(plan_id=self.plan_id, indicator_id=self.indicators[indicator],
                     unit_id=self.units[unit], year=year,
                     target_date=extra.pop("target_date", dt.date(year, 12, 31)),
                     value=value, **extra)
        self.session.add(row)
        self.session.commit()
        return row.id


def build_world(session: Session) -> World:
    world = World(session)
    session.add_all([UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1),
                     UnitKind(code="huyen", name_vi="Huyện", name_en="District", level=2),
                     UnitKind(code="xa", name_vi="Xã", name_en="Commune", level=3)])
    session.add_all([Pillar(code="CQS", name_vi="Chính quyền số", name_en="Digital government",
                            sort_order=1),
                     Pillar(code="XHS", name_vi="Xã hội số", name_en="Digital society",
                            sort_order=3)])
    session.flush()
    province = _unit(session, "20", "Lạng Sơn", "tinh", None)
    district = _unit(session, "178", "Huyện Cao Lộc", "huyen", province, valid_to=BEFORE)
    a = _unit(session, "06001", "Xã Đồng Đăng", "xa", province, valid_from=REFORM)
    b = _unit(session, "06002", "Xã Cao Lộc", "xa", province, valid_from=REFORM)
    x = _unit(session, "06101", "Thị trấn Đồng Đăng (cũ)", "xa", district, valid_to=BEFORE)
    y = _unit(session, "06102", "Xã Hồng Phong (cũ)", "xa", district, valid_to=BEFORE)
    other = _unit(session, "179", "Huyện Lộc Bình", "huyen", province, valid_to=BEFORE)
    z = _unit(session, "06201", "Xã Tú Đoạn (cũ)", "xa", other, valid_to=BEFORE)
    session.add_all([
        UnitLineage(predecessor_id=x.id, successor_id=a.id, event_date=REFORM, kind="merge"),
        UnitLineage(predecessor_id=y.id, successor_id=a.id, event_date=REFORM, kind="merge"),
        UnitLineage(predecessor_id=z.id, successor_id=b.id, event_date=REFORM, kind="merge"),
        UnitLineage(predecessor_id=district.id, successor_id=province.id, event_date=REFORM,
                    kind="absorb"),
        UnitLineage(predecessor_id=other.id, successor_id=province.id, event_date=REFORM,
                    kind="absorb"),
    ])
    world.units = {u.code: u.id for u in (province, district, a, b, x, y, other, z)}
    for code, (kind, unit_agg, time_agg, scale, direction, pillar) in INDICATORS.items():
        row = Indicator(code=code, name_vi=f"Chỉ tiêu {code}", name_en=f"Indicator {code}",
                        kind=kind, unit_aggregation=unit_agg, time_aggregation=time_agg,
                        scale=scale, direction=direction, pillar_code=pillar, decimals=1,
                        unit_vi="%" if kind == "ratio" else "", unit_en="%" if kind == "ratio"
                        else "")
        session.add(row)
        session.flush()
        world.indicators[code] = row.id
    plan = Plan(code="72-KH/BCĐ", title="Kế hoạch chuyển đổi số năm 2025", year_from=2025,
                year_to=2025, scope_unit_id=province.id)
    session.add(plan)
    session.commit()
    world.plan_id = plan.id
    return world


def _unit(session: Session, code: str, name: str, kind: str, parent: OrgUnit | None, *,
          valid_from: dt.date = FAR_PAST, valid_to: dt.date | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None,
                   valid_from=valid_from, valid_to=valid_to)
    session.add(unit)
    session.flush()
    return unit
