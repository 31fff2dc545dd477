"""Units and indicators the values tests need, created directly with the models (the
official loaders belong to other domains)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator, Pillar
from chiso.units.models import OrgUnit, UnitKind

REFORM = dt.date(2025, 7, 1)


@dataclass
class World:
    province: OrgUnit
    commune_a: OrgUnit
    commune_b: OrgUnit
    old_commune: OrgUnit  # code 06003 until 30/6/2025
    new_commune: OrgUnit  # code 06003 re-used from 1/7/2025
    ratio: Indicator  # a percentage share
    count: Indicator
    flag: Indicator


def build_world(session: Session) -> World:
    session.add_all([
        UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1),
        UnitKind(code="xa", name_vi="Xã", name_en="Commune", level=3),
        Pillar(code="CQS", name_vi="Chính quyền số", name_en="Digital government"),
    ])
    session.flush()
    province = OrgUnit(code="20", name="Lạng Sơn", kind="tinh")
    session.add(province)
    session.flush()
    a = OrgUnit(code="06001", name="Xã Đồng Đăng", kind="xa", parent_id=province.id)
    b = OrgUnit(code="06002", name="Xã Hữu Lũng", kind="xa", parent_id=province.id)
    old = OrgUnit(code="06003", name="Xã Cũ", kind="xa", parent_id=province.id,
                  valid_to=REFORM - dt.timedelta(days=1))
    new = OrgUnit(code="06003", name="Xã Mới", kind="xa", parent_id=province.id,
                  valid_from=REFORM)
    ratio = Indicator(code="CQS.HS_TRUC_TUYEN", name_vi="Tỷ lệ hồ sơ trực tuyến",
                      name_en="Dossiers submitted online", kind="ratio", unit_vi="%",
                      unit_en="%", unit_aggregation="ratio_of_sums", time_aggregation="sum",
                      scale=100.0, decimals=1, pillar_code="CQS")
    count = Indicator(code="CQS.SO_DVCTT", name_vi="Số dịch vụ công trực tuyến",
                      name_en="Online public services", kind="count",
                      unit_aggregation="sum", time_aggregation="last", decimals=0)
    flag = Indicator(code="CQS.CO_IOC", name_vi="Có trung tâm điều hành thông minh",
                     name_en="Has an intelligent operations centre", kind="boolean",
                     unit_aggregation="sum", time_aggregation="last", decimals=0)
    session.add_all([a, b, old, new, ratio, count, flag])
    session.flush()
    return World(province, a, b, old, new, ratio, count, flag)


def committed_world(db_url: str) -> World:
    """`build_world` in a session of its own, committed (for tests whose own `session`
    must see it as already stored)."""
    from chiso.db import new_session

    session = new_session(db_url)
    built = build_world(session)
    session.commit()
    session.close()
    return built
