"""Tasks: derived status, history, evidence files, recurrence, permissions, XLSX."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.access import Access, PermissionDenied
from chiso.accounts.models import Role, User
from chiso.accounts.service import create_user
from chiso.audit.models import AuditEvent
from chiso.tasks import followup
from chiso.tasks.models import Task, TaskStatus, TaskUpdate
from chiso.tasks.service import (
    EvidenceFile,
    StaleTask,
    TaskFilter,
    create_task,
    history,
    list_tasks,
    roll_recurring_tasks,
    update_progress,
)
from chiso.tasks.status import status_of
from chiso.tasks.xlsx import TaskImportRejected, export_tasks, import_tasks
from tests.tasks_support import TODAY, build_world, system


def _row_of(ws, code: str) -> int:  # type: ignore[no-untyped-def]
    return next(c.row for c in ws["A"] if c.value == code)


def _status(session: Session, task: Task, day: dt.date = TODAY) -> TaskStatus:
    return status_of(session.get(Task, task.id), day)  # type: ignore[arg-type]


def test_status_follows_from_dates_not_typing(session: Session) -> None:
    w = build_world(session)
    t = w.tasks
    assert _status(session, t["done"]) == TaskStatus.DONE
    assert _status(session, t["late"]) == TaskStatus.DONE_LATE
    assert _status(session, t["overdue"]) == TaskStatus.OVERDUE
    assert _status(session, t["running"]) == TaskStatus.IN_PROGRESS
    # the same open task was simply in progress before its due date
    assert _status(session, t["overdue"], dt.date(2025, 9, 15)) == TaskStatus.IN_PROGRESS
    rows = list_tasks(session, TaskFilter(status="overdue"), TODAY)
    assert [r.task.code for r in rows] == [t["overdue"].code]


def test_every_change_keeps_history_and_writes_audit(session: Session) -> None:
    w = build_world(session)
    task = w.tasks["overdue"]
    update_progress(session, task_id=task.id, progress_pct=70, note="Đã số hóa 70%",
                    update_date=dt.date(2025, 10, 3), access=system(session))
    entries = history(session, task.id)
    assert [(h.version, h.change, h.progress_pct) for h in entries] == [
        (3, "progress", 70.0), (2, "progress", 40.0), (1, "create", 0.0)]
    assert entries[1].note == "Đã số hóa 40%"  # the earlier note is still there
    events = session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "task", AuditEvent.object_id == str(task.id))).all()
    assert events == ["task.create", "task.progress", "task.progress"]


def test_evidence_is_stored_under_the_data_dir_by_sha256(session: Session, db_url: str) -> None:
    w = build_world(session)
    content = "Biên bản nghiệm thu hệ thống LGSP".encode()
    update_progress(session, task_id=w.tasks["running"].id, progress_pct=50, note="nghiệm thu",
                    files=[EvidenceFile("biên bản.pdf", content, "application/pdf")],
                    access=system(session))
    entry = history(session, w.tasks["running"].id)[0]
    assert [e.file_name for e in entry.evidence] == ["biên bản.pdf"]
    digest = hashlib.sha256(content).hexdigest()
    assert entry.evidence[0].sha256 == digest
    assert storage.read_bytes(digest) == content


def test_stale_version_is_refused(session: Session) -> None:
    w = build_world(session)
    task = w.tasks["running"]
    version = task.version
    update_progress(session, task_id=task.id, progress_pct=30, expected_version=version,
                    access=system(session))
    with pytest.raises(StaleTask, match="người khác"):
        update_progress(session, task_id=task.id, progress_pct=35, expected_version=version,
                        access=system(session))


def test_focal_officer_updates_only_its_units_tasks(session: Session) -> None:
    w = build_world(session)
    officer = create_user(session, access=Access.system(session, "test"),
                          username="dm-nv", password="x" * 12,
                          role=Role.FOCAL_OFFICER, unit_id=w.noi_vu.id)
    access = Access(session=session, user=officer)
    update_progress(session, task_id=w.tasks["overdue"].id, progress_pct=80, access=access)
    with pytest.raises(PermissionDenied):
        update_progress(session, task_id=w.tasks["running"].id, progress_pct=80, access=access)
    with pytest.raises(PermissionDenied):  # creating tasks needs MANAGE
        create_task(session, title="x", lead_unit_id=w.noi_vu.id, due_date=TODAY,
                    access=access)


def test_recurring_task_gets_its_next_occurrence_once(session: Session) -> None:
    w = build_world(session, with_tasks=False)
    access = system(session)
    report = create_task(session, title="Báo cáo kết quả CĐS quý", lead_unit_id=w.khcn.id,
                         due_date=dt.date(2025, 9, 30), recurrence="Q", access=access)
    update_progress(session, task_id=report.id, progress_pct=100,
                    update_date=dt.date(2025, 9, 28), access=access)
    update_progress(session, task_id=report.id, progress_pct=100, done=True,
                    update_date=dt.date(2025, 9, 29), access=access)
    nxt = session.scalars(select(Task).where(Task.previous_id == report.id)).all()
    assert [(t.due_date, t.recurrence) for t in nxt] == [(dt.date(2025, 12, 31), "Q")]
    # an open occurrence past its date also rolls on (the next quarter is still due)
    followup.send_reminders(session, day=dt.date(2026, 1, 2))
    assert session.scalar(select(Task.due_date).where(Task.previous_id == nxt[0].id)) == \
        dt.date(2026, 3, 31)


def _due_dates_of_the_series(session: Session, first: Task) -> list[dt.date]:
    dues: list[dt.date] = []
    task: Task | None = first
    while task is not None:
        dues.append(task.due_date)
        task = session.scalar(select(Task).where(Task.previous_id == task.id))
    return dues


def test_a_monthly_task_due_on_the_28th_stays_on_the_28th(session: Session) -> None:
    # 28/02 is February's last day: the series must not take it for a month-end series.
    w = build_world(session, with_tasks=False)
    first = create_task(session, title="Báo cáo tháng", lead_unit_id=w.khcn.id,
                        due_date=dt.date(2026, 1, 28), recurrence="M", access=system(session))
    roll_recurring_tasks(session, dt.date(2026, 3, 1))
    roll_recurring_tasks(session, dt.date(2026, 4, 1))
    dues = _due_dates_of_the_series(session, first)
    assert dues[:3] == [dt.date(2026, 1, 28), dt.date(2026, 2, 28), dt.date(2026, 3, 28)], dues


@pytest.mark.parametrize(("recurrence", "first_due", "expected"), [
    # the 30th comes back after a short February; the 31st is a month-end series
    ("M", dt.date(2026, 1, 30), [dt.date(2026, 1, 30), dt.date(2026, 2, 28),
                                 dt.date(2026, 3, 30), dt.date(2026, 4, 30)]),
    ("M", dt.date(2026, 1, 31), [dt.date(2026, 1, 31), dt.date(2026, 2, 28),
                                 dt.date(2026, 3, 31), dt.date(2026, 4, 30)]),
    # quarterly through February: 29/11 → 28/02 → 29/05, not 31/05
    ("Q", dt.date(2025, 11, 29), [dt.date(2025, 11, 29), dt.date(2026, 2, 28),
                                  dt.date(2026, 5, 29), dt.date(2026, 8, 29)]),
    # yearly from a leap day: February's last day every year, 29/02 again in 2028
    ("Y", dt.date(2024, 2, 29), [dt.date(2024, 2, 29), dt.date(2025, 2, 28),
                                 dt.date(2026, 2, 28), dt.date(2027, 2, 28),
                                 dt.date(2028, 2, 29)]),
], ids=["monthly-30th", "monthly-31st", "quarterly-29th", "yearly-leap-day"])
def test_each_occurrence_falls_on_the_first_occurrences_day_of_the_month(
        session: Session, recurrence: str, first_due: dt.date,
        expected: list[dt.date]) -> None:
    w = build_world(session, with_tasks=False)
    first = create_task(session, title="Báo cáo định kỳ", lead_unit_id=w.khcn.id,
                        due_date=first_due, recurrence=recurrence, access=system(session))
    for occurrence in expected[1:]:  # once the previous one is past due, the next is made
        roll_recurring_tasks(session, occurrence)
    assert _due_dates_of_the_series(session, first) == expected


def test_ownerless_tasks_are_flagged_in_the_scorecard(session: Session) -> None:
    w = build_world(session)
    owner = session.scalar(select(User).limit(1)) or create_user(
        session, username="owner", password="x" * 12, role=Role.VIEWER,
        access=Access.system(session, "test"))
    w.tasks["running"].owner_id = owner.id
    scores = {s.unit_name: s for s in followup.scorecard(session, day=TODAY)}
    assert (scores["Sở Khoa học và Công nghệ"].done_on_time,
            scores["Sở Khoa học và Công nghệ"].ownerless) == (1, 1)
    assert scores["Sở Nội vụ"].overdue == 1
    assert scores["Sở Tài chính"].done_late == 1
    assert next(iter(scores)) == "Sở Nội vụ"  # worst first


# ------------------------------------------------------------------ XLSX

def test_export_then_import_is_idempotent(session: Session, tmp_path: Path) -> None:
    build_world(session)
    path = export_tasks(list_tasks(session, day=TODAY), tmp_path / "nv.xlsx", session=session)
    before = session.scalar(select(func.count()).select_from(TaskUpdate))
    summary = import_tasks(session, path, access=system(session))
    assert (len(summary.created), len(summary.updated), len(summary.unchanged)) == (0, 0, 4)
    assert session.scalar(select(func.count()).select_from(TaskUpdate)) == before


def test_import_creates_and_updates_with_a_dry_run(session: Session, tmp_path: Path) -> None:
    build_world(session)
    path = export_tasks(list_tasks(session, day=TODAY), tmp_path / "nv.xlsx", session=session)
    wb = load_workbook(path)
    ws = wb.active
    ws[f"H{_row_of(ws, 'NV-0002')}"] = "75%"  # NV-0002 progress, typed the Vietnamese way
    ws.append(["", "Kết nối camera an ninh các cửa khẩu", "", "S_KHCN", "S_NV; S_TC",
               "01/10/2025", "31/12/2025", "", "", "", "", "Q", ""])
    wb.save(path)
    dry = import_tasks(session, path, dry_run=True, access=system(session))
    assert (dry.dry_run, dry.updated, len(dry.created)) == (True, ["NV-0002"], 1)
    assert session.scalar(select(func.count()).select_from(Task)) == 4
    real = import_tasks(session, path, access=system(session))
    assert real.updated == ["NV-0002"]
    new = session.scalar(select(Task).where(Task.title.like("Kết nối camera%")))
    assert new is not None and new.due_date == dt.date(2025, 12, 31)
    assert len(new.partners) == 2 and new.recurrence == "Q"
    assert session.scalar(select(Task.progress_pct).where(Task.code == "NV-0002")) == 75.0


def test_a_bad_file_stores_nothing_and_names_sheet_row_column(session: Session,
                                                                tmp_path: Path) -> None:
    build_world(session)
    path = export_tasks(list_tasks(session, day=TODAY), tmp_path / "nv.xlsx", session=session)
    wb = load_workbook(path)
    ws = wb.active
    ws[f"H{_row_of(ws, 'NV-0004')}"] = "50"  # a valid change that must not be stored either
    ws["G4"] = "31/02/2025"
    ws["D5"] = "S_KHONG_CO"
    wb.save(path)
    with pytest.raises(TaskImportRejected) as caught:
        import_tasks(session, path, access=system(session))
    errors = caught.value.issues
    assert len(errors) == 2
    assert errors[0].startswith("Tệp nv.xlsx, sheet 'Nhiệm vụ', dòng 4, cột 'Hạn hoàn thành'")
    assert "/ column 'due_date'" in errors[0]
    assert "dòng 5, cột 'Đơn vị chủ trì': không có đơn vị mã 'S_KHONG_CO'" in errors[1]
    assert session.scalar(select(Task.progress_pct).where(Task.code == "NV-0004")) == 20.0
