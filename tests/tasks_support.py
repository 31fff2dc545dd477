"""A small province for the tasks, meetings and report tests, built directly with the
models: units, indicators with targets and monthly values, and tasks in every state.

Everything carries the instant it was recorded, as a real province's history would: a
month's figures on the 10th of the next month, a task on its start date, a progress report
on its own date. A report for 2025Q3 (closing date 30/09/2025) therefore sees September's
figures only when its closing date is 10/10 or later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.indicators.models import Indicator, Pillar
from chiso.meetings.service import TaskSpec, add_conclusion, conclusion_to_tasks, create_meeting
from chiso.periods import parse_period
from chiso.plans.models import Plan, Target
from chiso.tasks.models import Task
from chiso.tasks.service import cancel_task, create_task, update_progress
from chiso.text import vn_zone
from chiso.units.models import OrgUnit, UnitKind
from chiso.values.models import DataValue, DataValueVersion

TODAY = dt.date(2025, 10, 5)  # the report for 2025Q3 is written in early October
CLOSING = dt.date(2025, 10, 12)  # September's figures are in by the 10th


def on_day(day: dt.date, hour: int = 12) -> dt.datetime:
    """An instant on `day`, Vietnam time (what the world records its history at)."""
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=vn_zone())


def system(session: Session) -> Access:
    return Access.system(session, "test-world")


def entered(period: str) -> dt.datetime:
    """When a month's (or longer period's) figure was entered: the 10th after it ends."""
    end = parse_period(period).end()
    return on_day(end + dt.timedelta(days=10))


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


def _value(unit: OrgUnit, indicator: Indicator, period: str, num: float | None,
           den: float | None, *, value: float | None = None, comment: str = "",
           source: str = "form") -> DataValue:
    p = parse_period(period)
    if value is None and num is not None and den:
        value = 100.0 * num / den
    return DataValue(unit_id=unit.id, indicator_id=indicator.id, period=period,
                     period_type=p.type.value, period_start=p.start(), period_end=p.end(),
                     numerator=num, denominator=den, value=value, comment=comment,
                     source=source)


def add_values(session: Session, rows: list[DataValue],
               at: dt.datetime | None = None) -> None:
    """Store values with their first version, recorded when they were entered."""
    session.add_all(rows)
    session.flush()
    session.add_all([DataValueVersion(
        data_value_id=r.id, version=1, numerator=r.numerator, denominator=r.denominator,
        value=r.value, source=r.source, comment=r.comment, change="insert",
        changed_at=at or entered(r.period)) for r in rows])
    session.flush()


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
    add_values(session, rows)


def _tasks(session: Session, w: World) -> dict[str, Task]:
    access = system(session)

    def task(key: str, title: str, lead: OrgUnit, due: dt.date) -> Task:
        return create_task(session, title=title, lead_unit_id=lead.id, due_date=due,
                           start_date=dt.date(2025, 7, 1), plan_id=w.plan.id, access=access,
                           recorded_at=on_day(dt.date(2025, 7, 1)))

    def progress(key: str, percent: float, day: dt.date, note: str) -> None:
        update_progress(session, task_id=tasks[key].id, progress_pct=percent, update_date=day,
                        note=note, access=access, recorded_at=on_day(day))

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
    progress("done", 100, dt.date(2025, 8, 20), "Đã vận hành LGSP")
    progress("overdue", 40, dt.date(2025, 9, 1), "Đã số hóa 40%")
    progress("late", 100, dt.date(2025, 8, 10), "Hoàn thành")
    progress("running", 20, dt.date(2025, 9, 30), "Đã tập huấn 20% số xã")
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


# ------------------------------------------------------------------ a second year, a cycle

def extend_to_2026(session: Session, w: World) -> None:
    """Targets for 2026, figures to September 2026 (each entered on the 10th after its
    month) and two tasks of a meeting held on 12/10/2025, one done in 2026."""
    access = system(session)
    for indicator, target in ((w.online, 85.0), (w.smartphone, 92.0)):
        session.add(Target(plan_id=w.plan.id, indicator_id=indicator.id, unit_id=w.province.id,
                           year=2026, target_date=dt.date(2026, 12, 31), value=target,
                           comparator=">=", pillar_code=indicator.pillar_code))
    w.plan.year_to = 2026
    rows = []
    for month in range(1, 10):
        period = f"2026{month:02d}"
        rows += [_value(w.commune_a, w.online, period, 400, 500),
                 _value(w.commune_b, w.online, period, 410, 500)]
    for month in (3, 6, 9):
        rows += [_value(w.commune_a, w.smartphone, f"2026{month:02d}", 700, 1000,
                        comment="Hạ tầng mạng di động ở các thôn vùng cao chưa phủ sóng")]
    add_values(session, rows)
    meeting = create_meeting(session, unit_id=w.province.id, held_on=dt.date(2025, 10, 12),
                             title="Phiên họp quý III/2025", access=access,
                             recorded_at=on_day(dt.date(2025, 10, 12)))
    conclusion = add_conclusion(session, meeting_id=meeting.id, access=access,
                                text="Phổ cập điện thoại thông minh cho hộ nghèo",
                                recorded_at=on_day(dt.date(2025, 10, 12)))
    tasks = conclusion_to_tasks(session, conclusion_id=conclusion.id, access=access,
                                recorded_at=on_day(dt.date(2025, 10, 12)), specs=[
                                    TaskSpec("Hỗ trợ điện thoại thông minh cho hộ nghèo",
                                             w.khcn.id, dt.date(2026, 6, 30)),
                                    TaskSpec("Sóng di động cho 30 thôn vùng cao", w.tai_chinh.id,
                                             dt.date(2026, 8, 31))])
    update_progress(session, task_id=tasks[0].id, progress_pct=100, access=access,
                    update_date=dt.date(2026, 6, 20), recorded_at=on_day(dt.date(2026, 6, 20)))
    session.flush()


# ------------------------------------------------------------------ tasks by origin

CENTRAL_DOC = ("145/KH-UBND", dt.date(2025, 5, 28))


def add_origin_tasks(session: Session, w: World) -> dict[str, Task]:
    """Tasks as the centre counts them, judged on TODAY (05/10/2025): five assigned by the
    centre — done 21 days early (ahead), done 3 days early (on time, within the 7-day
    margin), done late, overdue, running — and a cancelled one (not counted); two the
    province assigned (one done ahead, one overdue); one a commune's committee assigned
    at its own meeting."""
    access = system(session)
    number, issued = CENTRAL_DOC

    def task(title: str, lead: OrgUnit, due: dt.date, origin: str) -> Task:
        return create_task(session, title=title, lead_unit_id=lead.id, due_date=due,
                           start_date=dt.date(2025, 6, 1), access=access, origin=origin,
                           assigned_doc_number=number if origin == "central" else "",
                           assigned_doc_date=issued if origin == "central" else None,
                           expected_product="Kế hoạch được ban hành" if origin == "central"
                           else "", recorded_at=on_day(dt.date(2025, 6, 1)))

    def done(t: Task, day: dt.date) -> None:
        update_progress(session, task_id=t.id, progress_pct=100, update_date=day,
                        note="Hoàn thành", access=access, recorded_at=on_day(day))

    tasks = {
        "c_ahead": task("Ban hành quy chế quản lý dữ liệu", w.khcn, dt.date(2025, 8, 31),
                        "central"),
        "c_on_time": task("Kết nối hệ thống báo cáo quốc gia", w.khcn, dt.date(2025, 8, 31),
                          "central"),
        "c_late": task("Rà soát thủ tục đủ điều kiện toàn trình", w.noi_vu,
                       dt.date(2025, 7, 31), "central"),
        "c_overdue": task("Số hóa sổ hộ tịch", w.noi_vu, dt.date(2025, 9, 30), "central"),
        "c_running": task("Triển khai chữ ký số cá nhân cho cán bộ xã", w.tai_chinh,
                          dt.date(2025, 12, 31), "central"),
        "c_cancelled": task("Nhiệm vụ đã bãi bỏ", w.tai_chinh, dt.date(2025, 12, 31),
                            "central"),
        "p_ahead": task("Ra mắt cổng dữ liệu mở của tỉnh", w.khcn, dt.date(2025, 12, 31),
                        "province"),
        "p_overdue": task("Tập huấn an toàn thông tin", w.tai_chinh, dt.date(2025, 9, 15),
                          "province"),
    }
    done(tasks["c_ahead"], dt.date(2025, 8, 10))
    done(tasks["c_on_time"], dt.date(2025, 8, 28))
    done(tasks["c_late"], dt.date(2025, 8, 10))
    done(tasks["p_ahead"], dt.date(2025, 9, 1))
    cancel_task(session, task_id=tasks["c_cancelled"].id, reason="Trung ương bãi bỏ",
                access=access, recorded_at=on_day(dt.date(2025, 7, 1)))
    meeting = create_meeting(session, unit_id=w.commune_a.id, held_on=dt.date(2025, 7, 15),
                             title="Phiên họp Ban Chỉ đạo phường quý III/2025", access=access,
                             recorded_at=on_day(dt.date(2025, 7, 15)))
    conclusion = add_conclusion(session, meeting_id=meeting.id, access=access,
                                text="Lập tổ công nghệ số ở mọi khu phố",
                                recorded_at=on_day(dt.date(2025, 7, 15)))
    tasks["x_running"] = conclusion_to_tasks(
        session, conclusion_id=conclusion.id, access=access,
        recorded_at=on_day(dt.date(2025, 7, 15)),
        specs=[TaskSpec("Thành lập tổ công nghệ số ở 100% khu phố", w.commune_a.id,
                        dt.date(2025, 12, 31))])[0]
    session.flush()
    return tasks
