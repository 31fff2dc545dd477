"""The feed for the systems above, read back by a reader written from docs/exchange.md alone
(it imports nothing from chiso.exchange), in JSON, CSV and XLSX; and centrally assigned
tasks imported from a spreadsheet through the tasks service."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.cli.main import app
from chiso.db import new_session
from chiso.plans.models import Plan, Target
from chiso.plans.revisions import revise_target
from chiso.settings import reset_settings_cache
from chiso.tasks.models import Task
from chiso.tasks.service import create_task
from chiso.values.service import save_value
from tests.conftest import login
from tests.values_support import build_world

# ---------------------------------------------------------------- the documented reader
# Field lists and conventions copied from docs/exchange.md (a consumer's view).
DOC = (Path(__file__).parent.parent / "docs" / "exchange.md").read_text(encoding="utf-8")
DATE_FIELDS = {"target_date", "target_revised_on", "judged_at", "assigned_doc_date",
               "start_date", "due_date", "completed_on"}
NUMBER_FIELDS = {"target_value", "target_value_high", "actual", "expected", "progress_pct"}
INTEGER_FIELDS = {"target_id", "year", "target_version"}
BOOLEAN_FIELDS = {"actual_estimate", "actual_illustrative", "closed", "ahead"}


def documented_fields(section: str) -> list[str]:
    """The field names of a section, in order, from the tables of docs/exchange.md."""
    table = DOC.split(f"### `{section}`")[1].split("###")[0]
    names: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            names += [part.strip("` ") for part in line.split("|")[1].split(",")]
    return names


def _unguarded(text: Any) -> Any:
    """One leading quote before = + - @ is not part of the text (docs: CSV and XLSX)."""
    if isinstance(text, str) and text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


def _typed(name: str, text: str) -> Any:
    """A CSV cell by the documented conventions."""
    if text == "":
        return None
    text = _unguarded(text)
    if name in DATE_FIELDS:
        return dt.date.fromisoformat(text)
    if name in NUMBER_FIELDS:
        return float(text)
    if name in INTEGER_FIELDS:
        return int(text)
    if name in BOOLEAN_FIELDS:
        return {"true": True, "false": False}[text]
    return text


def read_json(data: bytes) -> dict[str, Any]:
    feed = json.loads(data.decode("utf-8"))
    assert (feed["format"], feed["version"].split(".")[0]) == ("chiso-exchange", "1")
    for section in ("kpis", "tasks"):
        feed[section] = [{k: (dt.date.fromisoformat(v) if k in DATE_FIELDS and v else v)
                          for k, v in row.items()} for row in feed[section]]
    return feed


def read_csv(data: bytes, section: str) -> list[dict[str, Any]]:
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    assert rows[0] == ["format_version", "as_of", *documented_fields(section)]
    return [{name: _typed(name, cell) for name, cell in zip(rows[0], row, strict=True)}
            for row in rows[1:]]


def read_xlsx(path: Path) -> dict[str, Any]:
    book = load_workbook(path, data_only=True)
    info = {row[0]: row[1] for row in book["Thông tin"].iter_rows(min_row=2, values_only=True)}
    feed: dict[str, Any] = {"info": info}
    for section, sheet in (("kpis", "Chỉ tiêu"), ("tasks", "Nhiệm vụ")):
        rows = list(book[sheet].iter_rows(values_only=True))
        assert list(rows[0]) == documented_fields(section)
        feed[section] = [{k: (v.date() if isinstance(v, dt.datetime) else _unguarded(v))
                          for k, v in zip(rows[0], row, strict=True)} for row in rows[1:]]
    return feed


# ---------------------------------------------------------------- a province with data
ASSIGNED = dt.datetime(2025, 1, 20, 3, 0, tzinfo=dt.UTC)  # the tasks were assigned in January


@pytest.fixture
def province(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    """Lạng Sơn in 2025: a ratio target revised in June, a count target whose figure is an
    estimate, a central task done ahead of time and a provincial one overdue."""
    monkeypatch.setenv("CHISO_TODAY", "2025-12-20")
    monkeypatch.setenv("CHISO_DEFAULT_UNIT", "20")
    reset_settings_cache()
    session = new_session(db_url)
    world = build_world(session)
    access = Access.system(session, "test")
    plan = Plan(code="15/KH-UBND", title="Kế hoạch chuyển đổi số năm 2025", year_from=2025,
                year_to=2025, scope_unit_id=world.province.id)
    session.add(plan)
    session.flush()
    ratio = Target(plan_id=plan.id, indicator_id=world.ratio.id, unit_id=world.province.id,
                   year=2025, target_date=dt.date(2025, 12, 31), comparator=">=", value=80.0)
    count = Target(plan_id=plan.id, indicator_id=world.count.id, unit_id=world.province.id,
                   year=2025, target_date=dt.date(2025, 12, 31), comparator=">=",
                   value=1200.0)
    session.add_all([ratio, count])
    session.flush()
    revise_target(session, ratio.id, value="60", effective_from=dt.date(2025, 6, 15),
                  basis_code="123/BCĐTW-VP", access=access)
    save_value(session, unit_id=world.province.id, indicator_id=world.ratio.id,
               period="2025Q3", numerator=700, denominator=1000, access=access)
    save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
               period="2025", value=1250, estimate=True, access=access)
    create_task(session, title="=Xây dựng nền tảng dữ liệu", lead_unit_id=world.commune_a.id,
                due_date=dt.date(2025, 11, 30), origin="central",
                assigned_doc_number="03/NQ-CP", assigned_doc_date=dt.date(2025, 1, 9),
                expected_product="Nền tảng dữ liệu", code="TW-01", access=access,
                recorded_at=ASSIGNED)
    create_task(session, title="Số hóa hồ sơ", lead_unit_id=world.province.id,
                due_date=dt.date(2025, 10, 31), code="T-02", access=access,
                recorded_at=ASSIGNED)
    session.commit()
    session.close()
    yield world
    reset_settings_cache()


def test_the_feed_round_trips_through_the_documented_reader(client, make_user, province,
                                                            tmp_path) -> None:
    viewer, password = make_user(Role.VIEWER, unit_id=province.province.id)
    login(client, viewer.username, password)
    params = {"unit": "20", "as_of": "30/09/2025"}
    answer = client.get("/api/exchange/feed", params={**params, "format": "json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Chiso-Exchange-Version"] == "1.0"
    feed = read_json(answer.content)
    assert (feed["as_of"], feed["year"], feed["unit"]["code"]) == ("2025-09-30", 2025, "20")
    assert set(feed["kpis"][0]) == set(documented_fields("kpis"))
    assert set(feed["tasks"][0]) == set(documented_fields("tasks"))
    kpis = {k["indicator_code"]: k for k in feed["kpis"]}
    ratio = kpis["CQS.HS_TRUC_TUYEN"]
    assert (ratio["target_value"], ratio["target_version"], ratio["target_revised_on"],
            ratio["target_basis"], ratio["actual"]) == (
        60.0, 2, dt.date(2025, 6, 15), "123/BCĐTW-VP", 70.0)
    count = kpis["CQS.SO_DVCTT"]
    assert (count["actual"], count["actual_estimate"]) == (1250.0, True)
    assert ratio["status"] in {"achieved", "on_track", "at_risk", "off_track"}
    tasks = {t["task_code"]: t for t in feed["tasks"]}
    assert (tasks["TW-01"]["origin"], tasks["TW-01"]["assigned_doc_number"],
            tasks["TW-01"]["due_date"]) == ("central", "03/NQ-CP", dt.date(2025, 11, 30))
    assert feed["summary"]["tasks"]["by_origin"] == {"central": 1, "province": 1}

    for section in ("kpis", "tasks"):
        csv_answer = client.get("/api/exchange/feed", params={
            **params, "format": "csv", "section": section})
        rows = read_csv(csv_answer.content, section)
        assert [{k: r[k] for k in documented_fields(section)} for r in rows] == feed[section]
        assert {r["as_of"] for r in rows} == {"2025-09-30"}

    xlsx = client.get("/api/exchange/feed", params={**params, "format": "xlsx"})
    path = tmp_path / "feed.xlsx"
    path.write_bytes(xlsx.content)
    book = read_xlsx(path)
    assert book["info"]["format"] == "chiso-exchange" and book["info"]["as_of"] == "2025-09-30"
    assert book["kpis"] == feed["kpis"] and book["tasks"] == feed["tasks"]
    raw = load_workbook(path)["Nhiệm vụ"]
    titles = [c.value for c in raw["B"]]
    assert "'=Xây dựng nền tảng dữ liệu" in titles  # text, never a formula


def test_q1_feed_has_the_old_target_value_and_q3_the_new(client, make_user, province) -> None:
    viewer, password = make_user(Role.VIEWER, unit_id=province.province.id)
    login(client, viewer.username, password)

    def ratio_on(day: str) -> dict[str, Any]:
        feed = read_json(client.get("/api/exchange/feed", params={
            "unit": "20", "as_of": day}).content)
        return next(k for k in feed["kpis"] if k["indicator_code"] == "CQS.HS_TRUC_TUYEN")

    assert (ratio_on("31/03/2025")["target_value"], ratio_on("31/03/2025")["target_version"]
            ) == (80.0, 1)
    assert ratio_on("30/09/2025")["target_value"] == 60.0


def test_the_feed_from_the_command_line(province, tmp_path) -> None:
    out = tmp_path / "feed.json"
    result = CliRunner().invoke(app, ["exchange", "feed", "--unit", "20", "--as-of",
                                      "30/09/2025", "-o", str(out)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    feed = read_json(out.read_bytes())
    assert len(feed["kpis"]) == 2 and len(feed["tasks"]) == 2


# ---------------------------------------------------------------- central tasks


def _central_list(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["DANH MỤC NHIỆM VỤ TRUNG ƯƠNG GIAO NĂM 2025"])
    sheet.append([])
    sheet.append(["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp",
                  "Thời hạn hoàn thành", "Sản phẩm", "Văn bản giao"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.slow
def test_central_tasks_are_imported_through_the_tasks_service(client, make_user, province,
                                                               db_url, tmp_path) -> None:
    good = _central_list(tmp_path / "nhiem-vu-tw.xlsx", [
        [1, "Kết nối cơ sở dữ liệu dân cư", "Xã Đồng Đăng", "", "Quý II/2025",
         "Dữ liệu được kết nối", "Nghị quyết số 03/NQ-CP ngày 09/01/2025"],
        [2, "Triển khai nền tảng học tập số", "06002", "Xã Đồng Đăng", "Thường xuyên",
         "Nền tảng vận hành", "Công văn 7146/VPCP-KSTT ngày 15/10/2024"]])
    office, password = make_user(Role.STANDING_OFFICE, unit_id=province.province.id)
    login(client, office.username, password)
    page = client.get("/exchange")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    headers = {"X-CSRF-Token": token}
    content = good.read_bytes()
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    checked = client.post("/api/exchange/central-tasks", headers=headers,
                          files={"file": ("nhiem-vu-tw.xlsx", content, media)})
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] and len(checked.json()["created"]) == 2
    stored = client.post("/api/exchange/central-tasks?dry_run=false", headers=headers,
                         files={"file": ("nhiem-vu-tw.xlsx", content, media)})
    assert stored.status_code == 200 and len(stored.json()["created"]) == 2, stored.text
    again = client.post("/api/exchange/central-tasks?dry_run=false", headers=headers,
                        files={"file": ("nhiem-vu-tw.xlsx", content, media)})
    assert again.json()["created"] == [] and len(again.json()["unchanged"]) == 2
    session = new_session(db_url)
    try:
        tasks = {t.title: t for t in session.scalars(select(Task).where(
            Task.origin == "central"))}
        first = tasks["Kết nối cơ sở dữ liệu dân cư"]
        assert (first.due_date, first.assigned_doc_number, first.assigned_doc_date) == (
            dt.date(2025, 6, 30), "03/NQ-CP", dt.date(2025, 1, 9))
        assert tasks["Triển khai nền tảng học tập số"].due_date == dt.date(2025, 12, 31)
    finally:
        session.close()
    bad = _central_list(tmp_path / "sai.xlsx", [
        [1, "Nhiệm vụ A", "Sở Không Có", "", "cuối năm", "", ""]])
    refused = client.post("/api/exchange/central-tasks", headers=headers, files={
        "file": ("sai.xlsx", bad.read_bytes(), media)})
    assert refused.status_code == 422
    issues = " ".join(refused.json()["issues"])
    assert "dòng 4, cột 'Cơ quan chủ trì'" in issues and "'Sở Không Có'" in issues
    assert "dòng 4, cột 'Thời hạn hoàn thành'" in issues and "'cuối năm'" in issues
    viewer, password = make_user(Role.FOCAL_OFFICER, unit_id=province.commune_b.id)
    client.cookies.clear()
    login(client, viewer.username, password)
    token = client.get("/exchange").text.split('name="csrf_token" value="')[1].split('"')[0]
    denied = client.post("/api/exchange/central-tasks?dry_run=false",
                         headers={"X-CSRF-Token": token},
                         files={"file": ("nhiem-vu-tw.xlsx", content, media)})
    assert denied.status_code == 403
