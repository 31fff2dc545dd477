"""The same statuses through the service, the JSON API and `chiso status`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from chiso.accounts.models import Role
from chiso.analytics import service
from chiso.cli.main import app as cli_app
from tests.analytics_world import build_world
from tests.conftest import login

DOSSIERS = "CQS.SO_HS"
HS = "CQS.HS_TRUC_TUYEN"
INCIDENTS = "CQS.SU_CO"
SUBSCRIBERS = "XHS.THUE_BAO"


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", "2025-07-02")
    reset_settings_cache()
    world = build_world(session)
    start = {"baseline_value": 0.0, "baseline_date": dt.date(2025, 1, 1)}
    world.target(DOSSIERS, 100.0, **start)  # actual 120: achieved
    world.target(HS, 100.0, **start)  # 48 %: on track
    world.target(INCIDENTS, 50.0, comparator="<=", baseline_value=100.0,
                 baseline_date=dt.date(2025, 1, 1))  # 90: off track
    world.target(SUBSCRIBERS, 100.0, **start)  # no data
    world.save([("20", DOSSIERS, "2025", None, None, 120), ("20", INCIDENTS, "2025", None,
                                                             None, 90),
                ("06102", HS, "202503", 48, 100, None)])
    return world


def test_api_returns_the_same_statuses_as_the_service(world, session, admin_client):
    response = admin_client.get("/api/status", params={"unit": "20", "year": 2025})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = service.target_statuses(session, unit_code="20", year=2025)
    assert [(t["indicator_code"], t["status"]) for t in body["targets"]] == [
        (row.indicator_code, str(row.status)) for row in expected]
    assert {t["indicator_code"]: t["status"] for t in body["targets"]} == {
        DOSSIERS: "achieved", HS: "on_track", INCIDENTS: "off_track", SUBSCRIBERS: "no_data"}
    assert body["counts"] == {"achieved": 1, "on_track": 1, "at_risk": 0, "off_track": 1,
                              "no_data": 1}
    assert body["as_of"] == "2025-07-02"


def test_api_as_of_changes_the_expected_value(world, admin_client):
    body = admin_client.get("/api/status", params={"unit": "20", "year": 2025,
                                                   "as_of": "01/04/2025"}).json()
    hs = next(t for t in body["targets"] if t["indicator_code"] == HS)
    assert hs["expected"] == pytest.approx(100 * 90 / 364)
    assert (hs["actual"], hs["status"]) == (48.0, "on_track")


def test_series_and_breakdown_api(world, admin_client):
    series = admin_client.get("/api/series", params={
        "unit": "20", "indicator": HS, "year_from": 2025, "year_to": 2025,
        "period_type": "Q"}).json()["series"]
    assert [s["value"] for s in series] == [48.0, None, None, None]
    rows = admin_client.get("/api/breakdown", params={
        "unit": "20", "indicator": HS, "period": "2025Q1"}).json()["rows"]
    # Today's communes; the old commune's March figure shows under its successor.
    assert [(r["unit_code"], r["value"]) for r in rows] == [("06001", 48.0), ("06002", None)]
    bad = admin_client.get("/api/breakdown", params={"unit": "20", "indicator": HS,
                                                     "period": "2025X"})
    assert bad.status_code == 422


@pytest.mark.parametrize(("path", "params"), [
    ("/api/status", {"unit": "20", "year": 0}),
    ("/api/status", {"unit": "20", "year": 2025, "as_of": "31/02/2025"}),
    ("/api/series", {"unit": "20", "indicator": HS, "year_from": 2025, "year_to": 2024}),
    ("/api/breakdown", {"unit": "20", "indicator": HS, "period": "0000"}),
])
def test_api_rejects_bad_years_dates_and_periods(world, admin_client, path, params):
    response = admin_client.get(path, params=params)
    assert response.status_code == 422, response.text


def test_api_requires_sign_in_and_read_on_the_unit(world, client, make_user):
    assert client.get("/api/status", params={"unit": "20", "year": 2025}).status_code == 401
    user, password = make_user(Role.FOCAL_OFFICER, unit_id=world.units["06002"])
    login(client, user.username, password)
    denied = client.get("/api/status", params={"unit": "20", "year": 2025})
    assert denied.status_code == 403
    assert client.get("/api/status", params={"unit": "06002", "year": 2025}).json()[
        "targets"] == []


def test_chiso_status_shows_the_statuses_and_counts(world):
    result = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("Chính quyền số", "Xã hội số", "Chỉ tiêu CQS.SO_HS", "Đã đạt",
                 "Đúng tiến độ", "Chậm tiến độ", "Chưa có số liệu", "120,0",
                 "Đã đạt: 1", "Có nguy cơ chậm: 0"):
        assert text in result.output, result.output
    assert "Lạng Sơn: chỉ tiêu năm 2025" in result.output  # the unit's name, not its code
    assert "đơn vị 20" not in result.output
    english = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025",
                                           "--lang", "en"], env={"COLUMNS": "200"})
    assert "On track" in english.output and "Expected on path" in english.output, \
        english.output
    assert "Lạng Sơn: targets for 2025" in english.output  # no English name: the Vietnamese


def test_chiso_status_names_an_unknown_unit_and_a_bad_date(world):
    result = CliRunner().invoke(cli_app, ["status", "--unit", "99999", "--year", "2025"])
    assert result.exit_code == 2
    assert "99999" in result.output
    bad_date = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--as-of", "32/13/2025"])
    assert bad_date.exit_code == 2
    assert "32/13/2025" in bad_date.output


def _status_output(unit: str = "20") -> str:
    result = CliRunner().invoke(cli_app, ["status", "--unit", unit, "--year", "2025"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_chiso_status_prints_its_stored_answer_until_the_data_changes(world, tmp_path):
    """The second run prints the answer the first stored (SQLite and PostgreSQL); a saved
    value or a new target makes the next run compute again."""
    first = _status_output()
    stored = sorted((tmp_path / "data" / "cache" / "status").glob("*.json"))
    assert len(stored) == 1
    assert _status_output() == first
    # The run reads the stored file: an edit to it shows (nothing else would print this).
    mark = "Tên lấy từ câu trả lời đã lưu"
    _edit_stored(mark)
    assert mark in _status_output()
    # A value saved (the value change log moves): computed again, with the new figure.
    world.save([("06102", HS, "202504", 70, 100, None)])
    fresh = _status_output()
    assert mark not in fresh
    assert fresh != first and "59,0%" in fresh, fresh  # (48 + 70) ÷ (100 + 100)
    # A target added, even another unit's (the structure moves): computed again.
    _edit_stored(mark)
    world.target(SUBSCRIBERS, 50.0, unit="06102", baseline_value=0.0,
                 baseline_date=dt.date(2025, 1, 1))
    assert mark not in _status_output()


def test_a_command_that_changed_the_data_leaves_the_next_status_ready(world, tmp_path):
    """`chiso import` of a changed figure computes today's stored answer again before it
    ends, so the `chiso status` after it prints the new figure without loading the
    database layer; a command that changed nothing computes nothing."""
    _status_output()  # computes and stores today's answer
    # The earlier test's question is for 2025 on CHISO_TODAY 2025-07-02: today's.
    [stored] = (tmp_path / "data" / "cache" / "status").glob("*.json")
    figure = tmp_path / "one.csv"
    figure.write_text(f"unit_code,indicator_code,period,numerator,denominator\n"
                      f"06102,{HS},202504,70,100\n", encoding="utf-8")
    imported = _command_in_a_process(["import", str(figure)])
    assert "59,0%" not in stored.read_text(encoding="utf-8")
    printed, loaded = status_in_a_process()
    assert loaded == [], imported  # printed from the stored answer
    assert "59,0%" in printed, printed  # (48 + 70) ÷ (100 + 100)
    before = stored.stat().st_mtime_ns
    _command_in_a_process(["import", str(figure)])  # the same file again: nothing changes
    assert stored.stat().st_mtime_ns == before


def _command_in_a_process(args: list[str]) -> str:
    """`chiso …` in a process of its own, through `main` as the installed command runs."""
    script = textwrap.dedent(f"""
        import sys
        from chiso.cli.main import main
        sys.argv = ["chiso", *{args!r}]
        try:
            main()
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _edit_stored(name: str) -> None:
    """Rename the first target in every stored answer (only a run reading it prints this)."""
    from chiso.settings import get_settings

    for path in (get_settings().data_dir / "cache" / "status").glob("*.json"):
        body = json.loads(path.read_text(encoding="utf-8"))
        body["rows"][0]["indicator_name_vi"] = name
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def test_chiso_status_from_a_stored_answer_loads_neither_the_database_layer_nor_polars(
        world):
    """Its stamp is read with sqlite3 on SQLite, with psycopg alone on PostgreSQL."""
    _status_output()  # computes and stores
    printed, loaded = status_in_a_process()
    assert "Đã đạt: 1" in printed, printed
    assert loaded == []


def status_in_a_process() -> tuple[str, list[str]]:
    """`chiso status --unit 20 --year 2025` in a process of its own: what it printed, and
    which of the database layer, Polars and the tables it loaded to print it."""
    script = textwrap.dedent("""
        import json, sys
        from chiso.cli.main import main
        sys.argv = ["chiso", "status", "--unit", "20", "--year", "2025"]
        try:
            main()
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
        print(json.dumps([m for m in ("sqlalchemy", "polars", "chiso.db.models")
                          if m in sys.modules]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    *printed, loaded = done.stdout.strip().splitlines()
    return "\n".join(printed), json.loads(loaded)
