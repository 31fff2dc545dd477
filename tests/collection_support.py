"""A small province for the reporting-cycle tests: the values world plus two more ratio
indicators, a quarterly data set for its communes, and the shipped validation rules."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session
from values_support import World, build_world

from chiso.accounts.access import Access
from chiso.collection import service
from chiso.collection.models import DataSet
from chiso.collection.rules import load_rules
from chiso.indicators.models import Indicator
from chiso.periods import PeriodType, period_containing
from chiso.settings import reset_settings_cache
from chiso.units.models import OrgUnit, UnitKind
from tests.tasks_support import Inbox, free_port

CURRENT_QUARTER = period_containing(dt.date.today(), PeriodType.QUARTER).id


@dataclass
class Province:
    world: World
    full_online: Indicator
    on_time: Indicator
    data_set: DataSet


def build_province(session: Session, *, due_days: int = 10) -> Province:
    world = build_world(session)
    full_online = Indicator(code="CQS.HS_TOAN_TRINH", name_vi="Tỷ lệ hồ sơ trực tuyến toàn trình",
                            name_en="Full-online dossiers", kind="ratio", unit_vi="%",
                            unit_en="%", unit_aggregation="ratio_of_sums",
                            time_aggregation="sum", scale=100.0, decimals=1, pillar_code="CQS")
    on_time = Indicator(code="CQS.HS_DUNG_HAN", name_vi="Tỷ lệ hồ sơ giải quyết đúng hạn",
                        name_en="Dossiers finished on time", kind="ratio", unit_vi="%",
                        unit_en="%", unit_aggregation="ratio_of_sums", time_aggregation="sum",
                        scale=100.0, decimals=1, pillar_code="CQS")
    session.add_all([full_online, on_time])
    session.flush()
    load_rules(session, access=Access.system(session, "test"))
    data_set = service.define_data_set(session, {
        "code": "CCHC_QUY", "name_vi": "Báo cáo quý thủ tục hành chính",
        "name_en": "Quarterly administrative procedures report", "period_type": "Q",
        "due_days": due_days, "reminder_offsets": [-3, 0, 3, 7], "unit_kind": "xa",
        "parent_unit": "20",
        "indicators": ["CQS.HS_TRUC_TUYEN", "CQS.HS_TOAN_TRINH", "CQS.HS_DUNG_HAN",
                       "CQS.SO_DVCTT"]}, access=Access.system(session, "test"))
    return Province(world, full_online, on_time, data_set)


@dataclass
class Department:
    unit: OrgUnit
    data_set: DataSet


def add_department(session: Session, province: Province) -> Department:
    """A department (sở) under the province with its own quarterly form, as the shipped
    CCHC_SO_QUY: every department must report too, not only the communes."""
    session.add(UnitKind(code="so", name_vi="Sở, ban, ngành", name_en="Department", level=2))
    session.flush()
    unit = OrgUnit(code="20.SKHCN", name="Sở Khoa học và Công nghệ", kind="so",
                   parent_id=province.world.province.id)
    session.add(unit)
    session.flush()
    data_set = service.define_data_set(session, {
        "code": "CCHC_SO_QUY", "name_vi": "Báo cáo quý thủ tục hành chính (sở, ban, ngành)",
        "name_en": "Quarterly administrative procedures report (departments)",
        "period_type": "Q", "due_days": 10, "reminder_offsets": [-3, 0, 3, 7],
        "unit_kind": "so", "parent_unit": "20",
        "indicators": ["CQS.HS_TRUC_TUYEN", "CQS.HS_TOAN_TRINH", "CQS.HS_DUNG_HAN"]},
        access=Access.system(session, "test"))
    return Department(unit, data_set)


def fill_template(content: bytes, cells: dict[str, object], path: Path) -> Path:
    """Write `cells` ({"J6": "76,6"}) into a downloaded template and save it to `path`."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["Số liệu"]
    for ref, value in cells.items():
        sheet[ref] = value
    workbook.save(path)
    return path


def local_smtp(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A local SMTP server (aiosmtpd) that chiso's e-mails go to for the test; a test
    module makes it a fixture with `inbox = pytest.fixture(local_smtp, name="inbox")`."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("CHISO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHISO_SMTP_PORT", str(port))
    reset_settings_cache()
    yield handler
    controller.stop()
    reset_settings_cache()
