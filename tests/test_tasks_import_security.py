"""H1 (issue 12): the task import checks the importer's rights on every unit a row touches —
the task's current lead unit and any new one — and honours an API token's scope. A read-only
token scoped to one commune, or a commune's own standing office, renamed another
department's task and marked it done."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.models import Role
from chiso.accounts.service import create_api_token
from chiso.audit.models import AuditEvent
from chiso.tasks.models import Task
from chiso.tasks.service import list_tasks
from chiso.tasks.xlsx import export_tasks
from tests.conftest import login
from tests.tasks_support import TODAY, build_world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tampered_export(session: Session, tmp_path: Path, code: str) -> bytes:
    """The board's export with one row renamed and marked done 100 %."""
    path = export_tasks(list_tasks(session, day=TODAY), tmp_path / "nv.xlsx", session=session)
    wb = load_workbook(path)
    ws = wb.active
    row = next(c.row for c in ws["A"] if c.value == code)
    ws[f"B{row}"] = "Đã bị đổi tên"
    ws[f"H{row}"] = 100
    ws[f"I{row}"] = "x"
    wb.save(path)
    return path.read_bytes()


def _post(client, content: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/tasks/import", files={"file": ("nv.xlsx", content, XLSX)},
                       headers=headers)


def _unchanged(session: Session, task: Task) -> None:
    session.expire_all()
    row = session.get(Task, task.id)
    assert row is not None and row.title == task.title and row.state == "open"
    assert row.progress_pct == 40.0


@pytest.fixture
def world(session: Session):  # type: ignore[no-untyped-def]
    w = build_world(session)
    session.commit()
    return w


def test_a_read_only_token_scoped_to_a_commune_cannot_rename_a_departments_task(
        session: Session, client, make_user, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    office, _ = make_user(Role.STANDING_OFFICE, world.province.id)
    secret, _ = create_api_token(session, access=Access.system(session, "test"),
                                 user=session.merge(office), name="feed",
                                 actions=[Action.READ], unit_ids=[world.commune_a.id])
    session.commit()
    task = world.tasks["overdue"]  # Sở Nội vụ's task
    content = _tampered_export(session, tmp_path, task.code)
    response = _post(client, content, {"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403, response.text
    _unchanged(session, task)


def _office_imports(session: Session, client, make_user, unit_id: int, task: Task,  # type: ignore[no-untyped-def]
                    tmp_path: Path):
    """A standing office of `unit_id` signs in and imports the tampered export."""
    office, password = make_user(Role.STANDING_OFFICE, unit_id)
    login(client, office.username, password)
    token = client.get("/tasks/import").text.split('name="csrf_token" value="')[1].split('"')[0]
    content = _tampered_export(session, tmp_path, task.code)
    response = client.post("/tasks/import", data={"csrf_token": token},
                           files={"file": ("nv.xlsx", content, XLSX)})
    return office, response


def test_a_communes_standing_office_cannot_rename_a_departments_task(
        session: Session, client, make_user, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = world.tasks["overdue"]
    _office, response = _office_imports(session, client, make_user, world.commune_a.id, task,
                                        tmp_path)
    assert response.status_code == 403, response.text
    assert "Sở Nội vụ (S_NV)" in response.text  # the refusal names the unit and the row
    assert "dòng" in response.text
    _unchanged(session, task)


def test_the_province_office_imports_and_each_change_is_audited(
        session: Session, client, make_user, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    task = world.tasks["overdue"]
    office, response = _office_imports(session, client, make_user, world.province.id, task,
                                       tmp_path)
    assert response.status_code == 200, response.text
    session.expire_all()
    assert session.scalar(select(Task.title).where(Task.id == task.id)) == "Đã bị đổi tên"
    by_office = session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "task", AuditEvent.object_id == str(task.id),
        AuditEvent.actor_label == office.username)).all()
    assert sorted(by_office) == ["task.edit", "task.progress"]
