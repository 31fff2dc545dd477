"""A small province for the tasks, meetings and report tests, built directly with the
models: units, indicators with targets and monthly values, and tasks in every state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator, Pillar
from chiso.periods import parse_period
from chiso.plans.models import Plan, Target
from chiso.tasks.models import Task
from chiso.tasks.service import create_task, update_progress
from chiso.units.models import OrgUnit, UnitKind
from chiso.values.models import DataValue

TODAY = dt.date(2025, 10, 5)  # the report for 2025Q3 is written in early October


@dataclass
class World:
    province: OrgUnit
    khcn: OrgUnit  # the standing office's department
    noi_vu: OrgUnit
    tai_chinh: OrgUnit
    commune_a: OrgUnit
    commune_b: OrgUnit
    commune_silent: OrgUnit  # reports nothing: "late in reporting"
    online: Indicator  # 76,6% year to date, on track
    smartphone: Indicator  # 60,0%, off track
    einvoice: Indicator  # no data
    results: Indicator  # no target; carries a data-quality problem
    plan: Plan
    tasks: dict[str, Task]


def _ratio(code: str, name: str, pillar: str, time: str) -> Indicator:
    return Indicator(code=code, name_vi=name, name_en=code, kind="ratio", unit_vi="%",
                     unit_en="%", unit_aggregation="ratio_of_sums", time_aggregation=time,
                     scale=100.0, decimals=1, pillar_code=pillar)


def _value(unit: OrgUnit, indicator: Indicator, period: str, num: float, den: float
           ) -> DataValue:
    p = parse_period(period)
    return DataValue(unit_id=unit.id, indicator_id=indicator.id, period=period,
                     period_type=p.type.value, period_start=p.start(), period_end=p.end(),
                     numerator=num, denominator=den, value=100.0 * num / den if den else None)


def build_world(session: Session, *, with_tasks: bool = True) -> World:
    session.add_all([
        UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1),
        UnitKind(code="so", name_vi="Sở", name_en="Department", level=2),
        UnitKind(code="xa", name_vi="Xã", name_en="Commune", level=3),
        Pillar(code="CQS", name_vi="Chính quyền số", name_en="Digital government",
               sort_order=1),
        Pillar(code="KTS", name_vi="Kinh tế số", name_en="Digital economy", sort_order=2),
        Pillar(code="XHS", name_vi="Xã hội số", name_en="Digital society", sort_order=3),
    ])
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="tinh")
    session.add(province)
    session.flush()

    def unit(code: str, name: str, kind: str) -> OrgUnit:
        row = OrgUnit(code=code, name=name, kind=kind, parent_id=province.id)
        session.add(row)
        return row

    khcn = unit("S_KHCN", "Sở Khoa học và Công nghệ", "so")
    noi_vu = unit("S_NV", "Sở Nội vụ", "so")
    tai_chinh = unit("S_TC", "Sở Tài chính", "so")
    a = unit("06001", "Phường Đông Kinh", "xa")
    b = unit("06002", "Xã Hữu Lũng", "xa")
    silent = unit("06003", "Xã Chi Lăng", "xa")
    online = _ratio("CQS.HS_TRUC_TUYEN", "Tỷ lệ hồ sơ trực tuyến", "CQS", "sum")
    smartphone = _ratio("XHS.SMARTPHONE", "Tỷ lệ người trưởng thành có điện thoại thông minh",
                        "XHS", "last")
    einvoice = _ratio("KTS.HOA_DON_DT", "Tỷ lệ doanh nghiệp sử dụng hóa đơn điện tử", "KTS",
                      "last")
    results = _ratio("CQS.KQ_DIEN_TU", "Tỷ lệ kết quả giải quyết TTHC điện tử", "CQS", "sum")
    plan = Plan(code="72-KH/BCĐ", title="Kế hoạch chuyển đổi số năm 2025", year_from=2025,
                year_to=2025, issuer="Ban Chỉ đạo CĐS tỉnh Lạng Sơn",
                issued_on=dt.date(2025, 1, 10))
    session.add_all([online, smartphone, einvoice, results, plan])
    session.flush()
    _targets(session, plan, province, online, smartphone, einvoice)
    _values(session, a, b, online, smartphone, results)
    world = World(province, khcn, noi_vu, tai_chinh, a, b, silent, online, smartphone,
                  einvoice, results, plan, {})
    if with_tasks:
        world.tasks = _tasks(session, world)
    session.flush()
    return world


def _targets(session: Session, plan: Plan, province: OrgUnit, *indicators: Indicator) -> None:
    end = dt.date(2025, 12, 31)
    base = dt.date(2024, 12, 31)
    for indicator, target, baseline in zip(indicators, (80.0, 90.0, 100.0), (50.0, 80.0, 60.0),
                                           strict=True):
        session.add(Target(plan_id=plan.id, indicator_id=indicator.id, unit_id=province.id,
                           year=2025, target_date=end, value=target, baseline_value=baseline,
                           baseline_date=base, comparator=">=",
                           pillar_code=indicator.pillar_code))


def _values(session: Session, a: OrgUnit, b: OrgUnit, online: Indicator,
            smartphone: Indicator, results: Indicator) -> None:
    rows = []
    for month in range(1, 10):  # rising every month; 6,894 of 9,000 online (76,6%) by Sep
        period, online_count = f"2025{month:02d}", 706 + 15 * (month - 1)
        rows += [_value(a, online, period, online_count // 2, 500),
                 _value(b, online, period, online_count - online_count // 2, 500)]
    for month in (3, 6, 9):  # a stock: the last value counts
        period = f"2025{month:02d}"
        rows += [_value(a, smartphone, period, 600, 1000), _value(b, smartphone, period,
                                                                  600, 1000)]
    rows.append(_value(b, results, "202508", 120, 100))  # more results than dossiers
    session.add_all(rows)


def _tasks(session: Session, w: World) -> dict[str, Task]:
    def task(key: str, title: str, lead: OrgUnit, due: dt.date, **kw: object) -> Task:
        return create_task(session, title=title, lead_unit_id=lead.id, due_date=due,
                           start_date=dt.date(2025, 7, 1), plan_id=w.plan.id, **kw)  # type: ignore[arg-type]

    tasks = {
        "done": task("done", "Triển khai nền tảng tích hợp, chia sẻ dữ liệu tỉnh", w.khcn,
                     dt.date(2025, 8, 31)),
        "overdue": task("overdue", "Số hóa hồ sơ, kết quả giải quyết TTHC còn hiệu lực",
                        w.noi_vu, dt.date(2025, 9, 15)),
        "late": task("late", "Thanh toán trực tuyến phí, lệ phí cho 100% dịch vụ", w.tai_chinh,
                     dt.date(2025, 7, 31)),
        "running": task("running", "Phổ cập kỹ năng số cho người dân (Bình dân học vụ số)",
                        w.khcn, dt.date(2025, 12, 31)),
    }
    update_progress(session, task_id=tasks["done"].id, progress_pct=100,
                    update_date=dt.date(2025, 8, 20), note="Đã vận hành LGSP")
    update_progress(session, task_id=tasks["overdue"].id, progress_pct=40,
                    update_date=dt.date(2025, 9, 1), note="Đã số hóa 40%")
    update_progress(session, task_id=tasks["late"].id, progress_pct=100,
                    update_date=dt.date(2025, 8, 10), note="Hoàn thành")
    update_progress(session, task_id=tasks["running"].id, progress_pct=20,
                    update_date=dt.date(2025, 9, 30), note="Đã tập huấn 20% số xã")
    return tasks


# ------------------------------------------------------------------ a local SMTP server

class Inbox:
    """Messages received by the local aiosmtpd server."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        return [body for rcpts, body in self.messages if address in rcpts]

    def subjects(self, address: str) -> list[str]:
        import email
        from email.header import decode_header, make_header

        out = []
        for body in self.to(address):
            message = email.message_from_string(body)
            out.append(str(make_header(decode_header(message["Subject"]))))
        return out


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
