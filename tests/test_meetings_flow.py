"""A meeting's conclusion becomes two tasks: they show on the board, in the next meeting's
agenda and in the next quarterly report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.meetings.models import MeetingConclusion
from chiso.reports.service import generate_report
from chiso.settings import reset_settings_cache
from chiso.tasks.models import Task
from chiso.tasks.service import update_progress
from tests.conftest import login
from tests.tasks_support import build_world, system

CONCLUSION = ("Giao Sở Nội vụ, Sở Tài chính hoàn thành số hóa hồ sơ, kết quả giải quyết "
              "TTHC còn hiệu lực trước ngày 30/11/2025")


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch, db_url: str):  # type: ignore[no-untyped-def]
    def set_today(day: dt.date) -> None:
        monkeypatch.setenv("CHISO_TODAY", day.isoformat())
        reset_settings_cache()

    set_today(dt.date(2025, 10, 5))
    return set_today


def test_conclusion_to_two_tasks_on_board_agenda_and_report(
        session: Session, client, make_user, today, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = build_world(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id, username="thuongtruc")
    login(client, office.username, password)
    token = _csrf(client, "/meetings")
    response = client.post("/meetings", data={
        "csrf_token": token, "title": "Phiên họp Ban Chỉ đạo quý III/2025", "unit": w.province.id,
        "held_on": "10/10/2025", "kind": "quarterly", "chair": "Chủ tịch UBND tỉnh",
        "agenda": "Đánh giá kết quả quý III"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    meeting_url = response.headers["location"]
    response = client.post(f"{meeting_url}/conclusions",
                           data={"csrf_token": token, "text": CONCLUSION})
    assert response.status_code == 200 and CONCLUSION in response.text
    conclusion_id = session.scalar(select(MeetingConclusion.id))
    response = client.post(f"{meeting_url}/conclusions/{conclusion_id}/tasks", data={
        "csrf_token": token, "title": "Số hóa hồ sơ TTHC còn hiệu lực",
        "lead_units": [w.noi_vu.id, w.tai_chinh.id], "due_date": "2025-11-30"})
    assert response.status_code == 200
    assert response.text.count("Số hóa hồ sơ TTHC còn hiệu lực") >= 1
    made = session.scalars(select(Task).where(Task.conclusion_id == conclusion_id)
                           .order_by(Task.id)).all()
    assert [(t.code, t.lead_unit_id) for t in made] == [("NV-0005", w.noi_vu.id),
                                                       ("NV-0006", w.tai_chinh.id)]

    board = client.get("/tasks?unit=S_NV")
    assert 'data-code="NV-0005"' in board.text and 'data-code="NV-0006"' not in board.text
    board = client.get("/tasks")
    assert 'data-code="NV-0005"' in board.text and 'data-code="NV-0006"' in board.text
    api = client.get("/api/tasks", params={"status": "not_started"}).json()
    assert {t["code"] for t in api} == {"NV-0005", "NV-0006"}

    # Sở Nội vụ finishes on time; Sở Tài chính does not
    update_progress(session, task_id=made[0].id, progress_pct=100,
                    update_date=dt.date(2025, 11, 25), note="Đã số hóa 100%",
                    access=system(session))
    session.commit()
    today(dt.date(2025, 12, 20))
    next_meeting = client.post("/api/meetings", json={
        "unit": "20", "held_on": "2025-12-22", "title": "Phiên họp quý IV/2025"},
        headers={"x-csrf-token": token})
    assert next_meeting.status_code == 201, next_meeting.text
    agenda = next_meeting.json()["agenda"]
    assert any("NV-0006" in item and "quá hạn" in item for item in agenda)
    assert not any("NV-0005" in item for item in agenda)

    files = generate_report(session, unit_code="20", kind="quarterly", period="2025Q4",
                            out_dir=tmp_path, today=dt.date(2025, 12, 20), pdf=False,
                            access=system(session))
    text = "\n".join(cell.text for table in Document(str(files.docx)).tables
                     for row in table.rows for cell in row.cells)
    overdue_part, done_part = text.split("Số hóa hồ sơ TTHC còn hiệu lực (NV-0006)", 1)[1], text
    assert "Sở Tài chính" in overdue_part[:200] and "30/11/2025" in overdue_part[:200]
    assert "Số hóa hồ sơ TTHC còn hiệu lực (NV-0005)" in done_part
    assert "25/11/2025" in done_part


def test_pages_check_permissions(session: Session, client, make_user, today) -> None:  # type: ignore[no-untyped-def]
    w = build_world(session)
    session.commit()
    assert client.get("/tasks", follow_redirects=False).status_code == 303
    assert client.get("/api/tasks").status_code == 401
    officer, password = make_user(Role.FOCAL_OFFICER, w.noi_vu.id, username="dmnv")
    login(client, officer.username, password)
    own = client.get(f"/tasks/{w.tasks['overdue'].id}")
    assert own.status_code == 200 and "Báo cáo tiến độ" in own.text
    assert client.get(f"/tasks/{w.tasks['running'].id}").status_code == 403
    assert client.get("/api/tasks", params={"unit": "S_KHCN"}).status_code == 403
    token = _csrf(client, f"/tasks/{w.tasks['overdue'].id}")
    denied = client.post("/meetings", data={"csrf_token": token, "title": "x",
                                            "unit": w.province.id, "held_on": "10/10/2025"})
    assert denied.status_code == 403
    board = client.get("/tasks")
    assert 'data-code="NV-0002"' in board.text and 'data-code="NV-0001"' not in board.text
    progress = client.post(f"/api/tasks/{w.tasks['overdue'].id}/progress",
                           json={"progress_pct": 90, "note": "gần xong", "version": 99},
                           headers={"x-csrf-token": token})
    assert progress.status_code == 409


def test_standing_office_assigns_an_owner_and_the_history_keeps_the_old_state(
        session: Session, client, make_user, today) -> None:  # type: ignore[no-untyped-def]
    w = build_world(session)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id, username="vpbcd")
    login(client, office.username, password)
    task = w.tasks["overdue"]
    token = _csrf(client, f"/tasks/{task.id}")
    board = client.get("/tasks?unit=S_NV").text
    assert "Chưa có người phụ trách" in board
    response = client.post(f"/tasks/{task.id}/edit", data={
        "csrf_token": token, "title": task.title, "lead_unit": w.noi_vu.id,
        "due_date": "2025-10-31", "owner": office.id, "version": 2,
        "note": "Gia hạn theo kết luận phiên họp"})
    assert response.status_code == 200, response.text
    assert "Gia hạn theo kết luận phiên họp" in response.text
    row = client.get("/api/tasks/" + str(task.id)).json()
    assert (row["due_date"], row["status"], row["ownerless"]) == ("2025-10-31", "in_progress",
                                                                  False)
    assert [h["due_date"] for h in row["history"]][:2] == ["2025-10-31", "2025-09-15"]
    stale = client.post(f"/tasks/{task.id}/edit", data={
        "csrf_token": token, "title": "x", "lead_unit": w.noi_vu.id, "due_date": "2025-11-30",
        "version": 2})
    assert stale.status_code == 409


def test_meeting_list_says_when_other_units_meetings_are_not_listed(  # type: ignore[no-untyped-def]
        session: Session, client, make_user, today) -> None:
    from chiso.meetings.service import create_meeting

    w = build_world(session)
    create_meeting(session, unit_id=w.province.id, held_on=dt.date(2025, 7, 15),
                   title="Phiên họp quý II", access=system(session))
    session.commit()
    officer, password = make_user(Role.FOCAL_OFFICER, w.noi_vu.id, username="dmnv2")
    login(client, officer.username, password)
    page = client.get("/meetings", params={"lang": "vi"}).text
    assert "Phiên họp quý II" not in page
    assert "Chưa có cuộc họp nào của đơn vị bạn; 1 cuộc họp" in page
