"""Scoring through the API and the CLI: self scores need their evidence, appraisal needs
APPROVE, rankings use the appraised score where there is one, the framework loads all or
nothing, progress stays inside the period."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.audit.models import AuditEvent
from chiso.cli.main import app
from chiso.db import new_session
from chiso.indicators.problems import InputRejected
from chiso.scoring.frameworks import EXAMPLE, load_scoring_framework
from chiso.scoring.models import ScoreEntry
from chiso.units.models import OrgUnit
from tests.conftest import login
from tests.scoring_support import FRAMEWORK, build

BASE = f"/api/scoring/{FRAMEWORK}/2025/units"
PDF = b"%PDF-1.4\n% ke hoach chuyen doi so\n"


@pytest.fixture
def world(db_url):  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    built = build(session)
    session.close()
    return built


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/scoring")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(
        r'"csrf_token"[^>]*content="([^"]+)"', page.text)
    assert match, page.text[:400]
    return match.group(1)


def _as(client, make_user, role: Role, unit) -> dict[str, str]:  # type: ignore[no-untyped-def]
    user, password = make_user(role, unit_id=unit.id)
    client.cookies.clear()
    login(client, user.username, password)
    return {"X-CSRF-Token": _csrf(client)}


def _score(client, headers, unit: str, criterion: str, answer: str, *,  # type: ignore[no-untyped-def]
           kind: str = "self", evidence: bool = True):
    data = {"criterion": criterion, "answer": answer, "kind": kind}
    files = None
    if evidence:
        data.update(evidence_number="12/KH-SKHCN", evidence_date="15/02/2025",
                    evidence_summary="Kế hoạch chuyển đổi số năm 2025")
        files = {"file": ("ke-hoach-12.pdf", PDF, "application/pdf")}
    return client.post(f"{BASE}/{unit}/scores", data=data, files=files, headers=headers)


def test_a_self_score_needs_its_evidence_and_counts_once_given(client, make_user, world
                                                              ) -> None:
    officer = _as(client, make_user, Role.FOCAL_OFFICER, world.science)
    bare = _score(client, officer, "20.SKHCN", "1.1", "có", evidence=False)
    assert bare.status_code == 422, bare.text
    assert "số hiệu, ngày và trích yếu" in bare.json()["message_vi"]
    given = _score(client, officer, "20.SKHCN", "1.1", "có")
    assert given.status_code == 201, given.text
    body = given.json()
    assert (body["points"], body["self_total"]) == (40.0, 40.0)
    [first] = [c for c in body["criteria"] if c["code"] == "1.1"]
    assert first["evidence"]["number"] == "12/KH-SKHCN"
    assert first["evidence"]["date"] == "2025-02-15"
    group = next(c for c in body["criteria"] if c["code"] == "1")
    assert (group["self_points"], group["max_points"]) == (40.0, 100.0)
    none = _score(client, officer, "20.SKHCN", "7.1", "Không cập nhật", evidence=False)
    assert none.status_code == 201 and none.json()["self_total"] == 40.0  # 0 needs no proof
    sha = given.json()["evidence_sha256"]
    download = client.get(f"/scoring/evidence/{sha}")
    assert download.status_code == 200 and download.content == PDF
    other = _score(client, officer, "20.SNV", "1.1", "có")
    assert other.status_code == 403
    appraise = _score(client, officer, "20.SKHCN", "1.1", "không", kind="appraised",
                      evidence=False)
    assert appraise.status_code == 403


@pytest.mark.slow
def test_the_ranking_uses_the_appraised_score_and_shares_ranks(client, make_user, world,
                                                              db_url) -> None:
    for unit, answers in ((world.science, [("1.1", "có"), ("6.1", "85%")]),
                          (world.home, [("1.1", "có"), ("6.1", "65%")]),
                          (world.finance, [("1.1", "có"), ("6.1", "61%")])):
        officer = _as(client, make_user, Role.FOCAL_OFFICER, unit)
        for criterion, answer in answers:
            assert _score(client, officer, unit.code, criterion, answer).status_code == 201
    office = _as(client, make_user, Role.STANDING_OFFICE, world.province)
    appraised = _score(client, office, "20.SKHCN", "6.1", "62%", kind="appraised",
                       evidence=False)
    assert appraised.status_code == 201, appraised.text
    assert _score(client, office, "20.SKHCN", "1.1", "có", kind="appraised",
                  evidence=False).status_code == 201
    ranking = client.get(f"/api/scoring/{FRAMEWORK}/2025/ranking",
                         params={"group": "departments"}).json()
    assert [(r["unit_code"], r["rank"], r["score"], r["appraised"]) for r in ranking] == [
        ("20.SKHCN", 1, 110.0, True), ("20.SNV", 1, 110.0, False),
        ("20.STC", 1, 110.0, False)]
    communes = client.get(f"/api/scoring/{FRAMEWORK}/2025/ranking",
                          params={"group": "communes"}).json()
    assert [(r["unit_name"], r["rank"]) for r in communes] == [
        ("Xã Hữu Lũng", None), ("Xã Đồng Đăng", None)]
    session = new_session(db_url)
    try:
        assert len(session.scalars(select(ScoreEntry)).all()) == 8  # nothing overwritten
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"scoring.self", "scoring.appraised"} <= actions
    finally:
        session.close()
    shown = CliRunner().invoke(app, ["scoring", "rank", FRAMEWORK, "2025"],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Sở Khoa học và Công nghệ" in shown.output and "(thẩm định)" in shown.output


@pytest.mark.slow
def test_progress_is_reported_per_month_inside_the_period(client, make_user, world) -> None:
    officer = _as(client, make_user, Role.FOCAL_OFFICER, world.dong_dang)
    for month, percent in (("202503", 30), ("Tháng 6/2025", 60)):
        answer = client.post(f"{BASE}/06001/progress", headers=officer, json={
            "criterion": "6.2", "month": month, "percent": percent})
        assert answer.status_code == 201, answer.text
    outside = client.post(f"{BASE}/06001/progress", headers=officer, json={
        "criterion": "6.2", "month": "202601", "percent": 10})
    assert outside.status_code == 422 and "Tháng 1/2026" in outside.json()["message_vi"]
    card = client.get(f"{BASE}/06001").json()
    progress = next(c for c in card["criteria"] if c["code"] == "6.2")["progress"]
    assert [(p["period"], p["percent"]) for p in progress] == [("202503", 30.0),
                                                               ("202506", 60.0)]


def test_a_framework_that_does_not_add_up_is_refused_whole(session, world, tmp_path: Path
                                                           ) -> None:
    access = Access.system(session, "test")
    again = load_scoring_framework(session, EXAMPLE, access=access)
    assert not again.created and again.changed == []
    text = EXAMPLE.read_text(encoding="utf-8").replace("max_points: 40", "max_points: 45", 1)
    text = text.replace("method: yes_no\n        max_points: 50", "method: maybe\n"
                        "        max_points: 50", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputRejected) as refused:
        load_scoring_framework(session, bad, access=access)
    message = str(refused.value)
    assert "1.005" in message or "1005" in message
    assert "'maybe'" in message and "(2.1)" in message


def test_the_ranking_lists_the_departments_that_exist_at_the_end_of_the_period(
        client, make_user, world, db_url) -> None:  # type: ignore[no-untyped-def]
    """Sở TT&TT ended on 28/02/2025 and Sở NN&MT began on 01/03/2025: the 2025 ranking
    lists the new department, not the dissolved one as 'chưa chấm'; the 2024 ranking the
    other way round; a department scored for a period stays listed with its score."""
    session = new_session(db_url)
    session.add_all([
        OrgUnit(code="20.STTTT", name="Sở Thông tin và Truyền thông", kind="so_ban_nganh",
                parent_id=world.province.id, valid_to=dt.date(2025, 2, 28)),
        OrgUnit(code="20.SNNMT", name="Sở Nông nghiệp và Môi trường", kind="so_ban_nganh",
                parent_id=world.province.id, valid_from=dt.date(2025, 3, 1))])
    session.commit()
    session.close()
    office = _as(client, make_user, Role.STANDING_OFFICE, world.province)

    def ranked(period: str) -> list[tuple[str, int | None]]:
        answer = client.get(f"/api/scoring/{FRAMEWORK}/{period}/ranking",
                            params={"group": "departments"})
        assert answer.status_code == 200, answer.text
        return [(r["unit_code"], r["rank"]) for r in answer.json()]

    now = [("20.SKHCN", None), ("20.SNNMT", None), ("20.SNV", None), ("20.STC", None)]
    assert ranked("2025") == now
    assert ranked("2024") == [("20.SKHCN", None), ("20.SNV", None), ("20.STTTT", None),
                              ("20.STC", None)]
    scored = client.post(f"/api/scoring/{FRAMEWORK}/2025Q1/units/20.STTTT/scores",
                         data={"criterion": "7.1", "answer": "Không cập nhật",
                               "kind": "appraised"}, headers=office)
    assert scored.status_code == 201, scored.text
    assert ranked("2025") == now
    assert ranked("2025Q1")[0] == ("20.STTTT", 1)
