"""Plans that implement several documents, and targets revised mid-year: the history is
kept, the report for Q1 reads the old value and the one for Q3 the new, through the API,
the CLI, the plan file and the status analytics computes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.analytics.service import target_statuses
from chiso.audit.models import AuditEvent
from chiso.cli.main import app
from chiso.indicators.models import Indicator
from chiso.plans.models import Target, TargetVersion
from chiso.plans.service import load_plan
from tests.conftest import login
from tests.plans_support import prepared

PARENT = """\
format: chiso-plan/1
plan:
  code: 01-CTr/TU
  document_kind: CTr
  title: Chương trình hành động của Tỉnh ủy thực hiện Nghị quyết 57-NQ/TW
  issued_on: 20/02/2025
  year_from: 2025
  year_to: 2030
  scope_unit: "20"
  parents:
    - code: 57-NQ/TW
      title: Nghị quyết về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và CĐS
      issued_on: 22/12/2024
targets: []
"""

CHILD = """\
format: chiso-plan/1
plan:
  code: 15/KH-UBND
  document_kind: KH
  title: Kế hoạch chuyển đổi số năm 2025
  issued_on: 10/03/2025
  year_from: 2025
  scope_unit: "20"
  parents:
    - 01-CTr/TU
    - {code: 03/NQ-CP, issued_on: 09/01/2025, article: Phụ lục I}
targets:
  - indicator: KTS.TY_TRONG_GRDP
    value: 3
    note: Tỷ trọng kinh tế số trong GRDP đạt 3%.
{revisions}"""

REVISION = """\
revisions:
  - indicator: KTS.TY_TRONG_GRDP
    value: 1
    effective_from: 15/06/2025
    basis: 123/BCĐTW-VP
    basis_date: 10/06/2025
    note: Điều chỉnh theo đề nghị của Ban Chỉ đạo Trung ương
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _chain(session, tmp_path: Path, *, with_revision: bool = False) -> int:  # type: ignore[no-untyped-def]
    access = Access.system(session, "test")
    load_plan(session, _write(tmp_path, "parent.yaml", PARENT), access=access)
    child = CHILD.replace("{revisions}", REVISION if with_revision else "")
    load_plan(session, _write(tmp_path, "child.yaml", child), access=access)
    session.commit()
    target = session.scalar(select(Target).join(Indicator).where(
        Indicator.code == "KTS.TY_TRONG_GRDP"))
    assert target is not None
    return target.id


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/plans")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


@pytest.fixture
def office(client, session, make_user):  # type: ignore[no-untyped-def]
    units = prepared(session)
    user, password = make_user(Role.STANDING_OFFICE, unit_id=units.lang_son.id)
    login(client, user.username, password)
    return {"X-CSRF-Token": _csrf(client)}


def test_a_target_revised_in_june_is_old_in_q1_and_new_in_q3(client, session, office,
                                                            tmp_path) -> None:
    target_id = _chain(session, tmp_path)
    revised = client.post(f"/api/targets/{target_id}/revisions", headers=office, json={
        "value": "1", "effective_from": "15/06/2025", "basis_code": "123/BCĐTW-VP",
        "basis_date": "10/06/2025", "note": "Theo đề nghị của Ban Chỉ đạo Trung ương"})
    assert revised.status_code == 201, revised.text
    assert [(v["version"], v["value"], v["effective_from"]) for v in
            revised.json()["versions"]] == [(1, 3.0, None), (2, 1.0, "2025-06-15")]
    q1 = client.get("/api/targets/in-force", params={"on": "31/03/2025", "unit": "20"}).json()
    q3 = client.get("/api/targets/in-force", params={"on": "30/09/2025", "unit": "20"}).json()
    assert [(r["value"], r["revised"]) for r in q1] == [(3.0, False)]
    assert [(r["value"], r["revised"], r["effective_from"], r["basis_code"]) for r in q3] == [
        (1.0, True, "2025-06-15", "123/BCĐTW-VP")]
    in_q2 = client.get("/api/target-revisions", params={"period": "Quý II/2025"}).json()
    assert [r["sentence_vi"] for r in in_q2] == [
        "Tỷ trọng kinh tế số trong GRDP: chỉ tiêu điều chỉnh từ 3 xuống 1 từ ngày 15/06/2025 "
        "(123/BCĐTW-VP ngày 10/06/2025)"]
    assert client.get("/api/target-revisions", params={"period": "Quý I/2025"}).json() == []
    session.expire_all()
    [march] = target_statuses(session, unit_code="20", year=2025, as_of=dt.date(2025, 3, 31))
    [september] = target_statuses(session, unit_code="20", year=2025,
                                  as_of=dt.date(2025, 9, 30))
    assert (march.target_value, september.target_value) == (3.0, 1.0)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "target.revise"))
    assert event is not None and event.before["value"] == 3.0 and event.after["value"] == 1.0


def test_a_revision_needs_its_document_and_a_later_date_and_manage(client, session, office,
                                                                   make_user, tmp_path
                                                                   ) -> None:
    target_id = _chain(session, tmp_path, with_revision=True)
    url = f"/api/targets/{target_id}/revisions"
    no_basis = client.post(url, headers=office, json={
        "value": "2", "effective_from": "01/09/2025", "basis_code": " "})
    assert no_basis.status_code == 422 and "số hiệu văn bản" in no_basis.json()["message_vi"]
    earlier = client.post(url, headers=office, json={
        "value": "2", "effective_from": "01/05/2025", "basis_code": "45/UBND"})
    assert earlier.status_code == 422 and "15/06/2025" in earlier.json()["message_vi"]
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    denied = client.post(url, headers={"X-CSRF-Token": _csrf(client)}, json={
        "value": "2", "effective_from": "01/09/2025", "basis_code": "45/UBND"})
    assert denied.status_code == 403
    assert len(session.scalars(select(TargetVersion)).all()) == 2


def test_the_plan_file_keeps_its_revisions_and_reloading_undoes_nothing(session, tmp_path
                                                                         ) -> None:
    prepared(session)
    target_id = _chain(session, tmp_path, with_revision=True)
    target = session.get(Target, target_id)
    assert target is not None and target.value == 1.0
    again = load_plan(session, tmp_path / "child.yaml", access=Access.system(session, "test"))
    assert not again.changed, again
    session.commit()
    session.expire_all()
    assert session.get(Target, target_id).value == 1.0  # type: ignore[union-attr]
    assert [v.value for v in session.scalars(select(TargetVersion).order_by(
        TargetVersion.version))] == [3.0, 1.0]


def test_a_plan_implements_several_documents(client, session, office, tmp_path) -> None:
    _chain(session, tmp_path)
    child = client.get("/api/plans/15/KH-UBND").json()
    assert [(p["code"], p["loaded"]) for p in child["parents"]] == [
        ("01-CTr/TU", True), ("03/NQ-CP", False)]
    assert child["parent"] == "01-CTr/TU; 03/NQ-CP"
    parent = client.get("/api/plans/01-CTr/TU").json()
    assert [p["code"] for p in parent["parents"]] == ["57-NQ/TW"]
    page = client.get(f"/plans/{parent['id']}")
    assert "Văn bản triển khai" in page.text and "15/KH-UBND" in page.text
    assert "22/12/2024" in page.text


@pytest.mark.slow
def test_revise_and_history_on_the_command_line(session, tmp_path) -> None:
    prepared(session)
    target_id = _chain(session, tmp_path)
    runner = CliRunner()
    revised = runner.invoke(app, ["plan", "revise", str(target_id), "--value", "1",
                                  "--from", "15/06/2025", "--basis", "123/BCĐTW-VP",
                                  "--note", "Theo đề nghị của BCĐ TW"],
                            env={"COLUMNS": "160"})
    assert revised.exit_code == 0, revised.output
    history = runner.invoke(app, ["plan", "history", str(target_id)], env={"COLUMNS": "160"})
    assert history.exit_code == 0, history.output
    assert "15/06/2025" in history.output and "123/BCĐTW-VP" in history.output
    assert "theo kế hoạch" in history.output
    march = runner.invoke(app, ["plan", "in-force", "--on", "31/03/2025", "--unit", "20"],
                          env={"COLUMNS": "160"})
    assert ">= 3" in march.output and ">= 1" not in march.output
    july = runner.invoke(app, ["plan", "in-force", "--on", "01/07/2025", "--unit", "20"],
                         env={"COLUMNS": "160"})
    assert ">= 1" in july.output and "15/06/2025" in july.output
    refused = runner.invoke(app, ["plan", "revise", str(target_id), "--value", "2",
                                  "--from", "01/06/2025", "--basis", "9/UBND"])
    assert refused.exit_code == 1 and "15/06/2025" in refused.output
