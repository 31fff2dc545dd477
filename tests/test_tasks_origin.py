"""Tasks counted the way the centre counts them: by who assigned them (Trung ương / tỉnh /
xã giao), with done ahead of schedule, on time and late, running and overdue — on the
service, the CLI, the API and the XLSX; the assigning document and expected product kept
in the task's history; monthly task reports with "không phát sinh"."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.cli.main import app as cli_app
from chiso.errors import UserError
from chiso.settings import reset_settings_cache
from chiso.tasks.counts import count_by_origin
from chiso.tasks.history import tasks_as_of
from chiso.tasks.monthly import month_standing, submit_month_report
from chiso.tasks.service import edit_task, list_tasks
from tests.conftest import login
from tests.tasks_support import TODAY, add_origin_tasks, build_world, on_day

CENTRAL = {"total": 5, "done": 3, "done_ahead": 1, "done_on_time": 1, "done_late": 1,
           "running": 1, "overdue": 1}


@pytest.fixture
def pinned(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    monkeypatch.setenv("COLUMNS", "240")
    reset_settings_cache()


def csrf(client, path: str = "/tasks") -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _counts(session: Session) -> dict[str, dict[str, int]]:
    rows = list_tasks(session, day=TODAY)
    return {c.origin.value: {k: v for k, v in c.to_dict().items()
                             if k not in ("origin", "label")} for c in count_by_origin(rows)}


def test_counts_by_origin_with_ahead_of_schedule(session: Session, pinned: None) -> None:
    w = build_world(session, with_tasks=False)
    add_origin_tasks(session, w)
    counts = _counts(session)
    assert counts["central"] == CENTRAL
    assert counts["province"] == {"total": 2, "done": 1, "done_ahead": 1, "done_on_time": 0,
                                  "done_late": 0, "running": 0, "overdue": 1}
    # The commune's own committee assigned this one at its meeting.
    assert counts["commune"]["total"] == 1 and counts["commune"]["running"] == 1
    # A year's count leaves out what was finished before the year began.
    later = count_by_origin(list_tasks(session, day=TODAY), year=2026)
    assert later[0].total == 2 and later[0].done == 0


def test_cli_prints_counts_by_origin(session: Session, pinned: None) -> None:
    w = build_world(session, with_tasks=False)
    add_origin_tasks(session, w)
    session.commit()
    result = CliRunner().invoke(cli_app, ["tasks", "counts"])
    assert result.exit_code == 0, result.output
    central = next(line for line in result.output.splitlines() if "Trung ương giao" in line)
    assert re.findall(r"\d+", central) == ["5", "3", "1", "1", "1", "1", "1"], result.output
    assert "Trước hạn / ahead" in result.output
    assert "ít nhất 7 ngày" in result.output


def test_api_counts_and_filter_by_origin(session: Session, pinned: None, client,  # type: ignore[no-untyped-def]
                                         make_user) -> None:
    w = build_world(session, with_tasks=False)
    tasks = add_origin_tasks(session, w)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, office.username, password)
    body = client.get("/api/tasks/counts").json()
    central = next(o for o in body["origins"] if o["origin"] == "central")
    assert {k: central[k] for k in CENTRAL} == CENTRAL
    assert central["label"] == "Trung ương giao" and body["ahead_margin_days"] == 7
    listed = client.get("/api/tasks", params={"origin": "central"}).json()
    assert {t["code"] for t in listed} == {tasks[k].code for k in
                                           ("c_ahead", "c_on_time", "c_late", "c_overdue",
                                            "c_running", "c_cancelled")}
    ahead = next(t for t in listed if t["code"] == tasks["c_ahead"].code)
    assert ahead["ahead"] and ahead["assigned_doc_number"] == "145/KH-UBND"
    assert ahead["assigned_doc_date"] == "2025-05-28"
    assert ahead["expected_product"] == "Kế hoạch được ban hành"
    refused = client.get("/api/tasks", params={"origin": "bộ"})
    assert refused.status_code == 422 and "central, province" in refused.json()["message_en"]
    created = client.post("/api/tasks", json={
        "title": "Báo cáo kết quả thực hiện NQ 57", "lead_unit": "S_KHCN",
        "due_date": "2025-12-15", "origin": "central", "assigned_doc_number": "71/NQ-CP",
        "assigned_doc_date": "2025-04-01", "expected_product": "Báo cáo"},
        headers={"x-csrf-token": csrf(client, "/tasks/new")})
    assert created.status_code == 201, created.text
    assert created.json()["origin_label"] == "Trung ương giao"


def test_board_shows_counts_by_origin(session: Session, pinned: None, client,  # type: ignore[no-untyped-def]
                                      make_user) -> None:
    w = build_world(session, with_tasks=False)
    add_origin_tasks(session, w)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, office.username, password)
    page = client.get("/tasks", params={"lang": "vi"}).text
    row = page.split('data-origin="central"')[1].split("</tr>")[0]
    assert re.findall(r">(\d+)<", row) == ["5", "3", "1", "1", "1", "1", "1"]
    assert "trước hạn" in page and "Trung ương giao" in row
    english = client.get("/tasks", params={"lang": "en", "origin": "central"}).text
    assert "Assigned by the centre" in english and "ahead of schedule" in english
    assert "Ra mắt cổng dữ liệu mở" not in english  # a province task, filtered out


def test_xlsx_round_trip_keeps_origin_document_and_product(session: Session, pinned: None,  # type: ignore[no-untyped-def]
                                                           admin_client) -> None:
    w = build_world(session, with_tasks=False)
    tasks = add_origin_tasks(session, w)
    session.commit()
    content = admin_client.get("/tasks/export.xlsx").content
    ws = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in ws[1]]
    col = {h.split(" / ")[0]: i for i, h in enumerate(header)}
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True)
               if r[0] == tasks["c_ahead"].code)
    assert row[col["Cấp giao"]] == "Trung ương giao"
    assert row[col["Số hiệu văn bản giao"]] == "145/KH-UBND"
    assert row[col["Ngày văn bản giao"]].date() == dt.date(2025, 5, 28)
    assert row[col["Sản phẩm dự kiến"]] == "Kế hoạch được ban hành"
    # Changing the origin in the file changes it on import; the rest is unchanged.
    for r in ws.iter_rows(min_row=2):
        if r[0].value == tasks["p_overdue"].code:
            r[col["Cấp giao"]].value = "Trung ương"
    buffer = io.BytesIO()
    ws.parent.save(buffer)
    page = admin_client.post("/tasks/import", files={"file": ("nv.xlsx", buffer.getvalue())},
                             data={"csrf_token": csrf(admin_client, "/tasks/import")})
    assert page.status_code == 200, page.text
    session.expire_all()
    assert _counts(session)["central"]["total"] == 6


def test_history_keeps_the_origin_of_then(session: Session, pinned: None) -> None:
    w = build_world(session, with_tasks=False)
    tasks = add_origin_tasks(session, w)
    session.commit()
    edit_task(session, task_id=tasks["p_overdue"].id, access=Access.system(session, "t"),
              origin="central", assigned_doc_number="30-TB/TGV")
    session.commit()
    before = tasks_as_of(session, day=dt.date(2025, 9, 30), known_at=on_day(TODAY, 9))
    row = next(r for r in before if r.task.id == tasks["p_overdue"].id)
    assert row.task.origin == "province" and row.task.assigned_doc_number == ""
    now = tasks_as_of(session, day=TODAY, known_at=dt.datetime.now(dt.UTC))
    row = next(r for r in now if r.task.id == tasks["p_overdue"].id)
    assert row.task.origin == "central" and row.task.assigned_doc_number == "30-TB/TGV"


def test_monthly_reports_with_nothing_this_month(session: Session, pinned: None) -> None:
    w = build_world(session, with_tasks=False)
    add_origin_tasks(session, w)
    access = Access.system(session, "t")
    # Sở Nội vụ recorded progress in August: "không phát sinh" cannot be true.
    with pytest.raises(UserError) as refused:
        submit_month_report(session, unit_id=w.noi_vu.id, period="202508", nothing=True,
                            access=access, recorded_at=on_day(dt.date(2025, 9, 3)))
    assert "không phát sinh" in refused.value.message_vi and "NV-" in refused.value.message_vi
    submit_month_report(session, unit_id=w.noi_vu.id, period="Tháng 8/2025", access=access,
                        note="Hoàn thành rà soát", recorded_at=on_day(dt.date(2025, 9, 3)))
    submit_month_report(session, unit_id=w.commune_a.id, period="202508", nothing=True,
                        access=access, recorded_at=on_day(dt.date(2025, 9, 12)))
    standing = {u.unit_name: u for u in month_standing(session, period="202508",
                                                       known_at=on_day(TODAY))}
    assert set(standing) == {"Sở Khoa học và Công nghệ", "Sở Nội vụ", "Sở Tài chính",
                             "Phường Đông Kinh"}
    assert standing["Sở Nội vụ"].report.kind == "progress"
    assert standing["Sở Nội vụ"].late_days == 0
    assert standing["Phường Đông Kinh"].nothing and standing["Phường Đông Kinh"].late_days == 7
    assert standing["Sở Tài chính"].report is None
    # As known before the commune reported, it had not.
    earlier = {u.unit_name: u for u in month_standing(
        session, period="202508", known_at=on_day(dt.date(2025, 9, 10)))}
    assert earlier["Phường Đông Kinh"].report is None
    with pytest.raises(UserError):  # a month not yet begun
        submit_month_report(session, unit_id=w.khcn.id, period="202512", access=access)
