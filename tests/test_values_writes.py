"""The one write path for values: a required Access on every write (a person's, with an API
token's scope, or a named system job), refused before boot, one audit event per write;
values for periods that have not begun are refused (planned figures by setting); dated
values land in the period of their data set's calendar (NĐ 09/2019 or standard)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select
from values_support import build_world

from chiso import boot
from chiso.accounts.access import Access, Action, PermissionDenied
from chiso.accounts.models import Role, User
from chiso.accounts.service import create_api_token
from chiso.audit.models import AuditEvent
from chiso.collection.models import DataSet, DataSetIndicator
from chiso.db import new_session
from chiso.settings import reset_settings_cache
from chiso.values.importer import import_values
from chiso.values.models import DataValue
from chiso.values.service import ValueRejected, delete_value, save_value, upsert_values
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(db_url):  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    built = build_world(session)
    session.commit()
    session.close()
    return built


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    """Pin today's date (CHISO_TODAY) for one test."""
    def pin(day: str) -> None:
        monkeypatch.setenv("CHISO_TODAY", day)
        reset_settings_cache()
    yield pin
    reset_settings_cache()


def _values(db_url: str) -> list[tuple[str, str, float | None]]:
    session = new_session(db_url)
    try:
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(DataValue.period, DataValue.source, DataValue.value)
            .order_by(DataValue.period))]
    finally:
        session.close()


# ------------------------------------------------------------------ refused before boot

SCRIPT = textwrap.dedent("""
    import sys
    from chiso.accounts.access import Access
    from chiso.boot import NotBooted
    from chiso.db import new_session
    from chiso.values import service

    assert "chiso.db.models" not in sys.modules  # the model registry was never imported
    session = new_session()
    try:
        service.save_value(session, unit_id={unit}, indicator_id={indicator}, period="2025",
                           value=99, access=Access.system(session, "script"))
        session.commit()
    except NotBooted as exc:
        print("REFUSED", exc)
        sys.exit(3)
    print("WRITTEN")
""")


def test_a_script_that_writes_without_booting_is_refused(world, db_url) -> None:
    """A program that imports the values service and writes without `chiso.boot.boot()`
    would skip the approval lock: it is refused and nothing is stored."""
    script = SCRIPT.format(unit=world.commune_a.id, indicator=world.count.id)
    env = {**os.environ, "CHISO_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "REFUSED" in done.stdout and "boot()" in done.stdout
    assert _values(db_url) == []


@pytest.mark.parametrize("path", ["upsert", "delete"])
def test_the_bulk_and_delete_paths_are_refused_before_boot(
        world, session, monkeypatch, path: str) -> None:
    """The other write paths check too (the script above covers save_value): in a process
    that has not booted, upsert_values (every import) and delete_value write nothing."""
    system = Access.system(session, "script")
    saved = save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                       period="2025", value=3, access=system)
    session.commit()
    monkeypatch.setattr(boot, "_booted", False)
    with pytest.raises(boot.NotBooted):
        if path == "upsert":
            upsert_values(session, [{"unit_id": world.commune_b.id, "period": "2025",
                                     "indicator_id": world.count.id, "value": 4}],
                          source="import", access=system)
        else:
            delete_value(session, saved.id, access=system)
    session.rollback()
    assert [(v.unit_id, v.value, v.deleted) for v in session.scalars(select(DataValue))] == [
        (world.commune_a.id, 3, False)]


# ------------------------------------------------------------------ access, scope, audit


def test_every_write_needs_capture_on_its_unit(world, session, make_user) -> None:
    user, _password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id,
                                include_subunits=False)
    officer = Access(session, session.get(User, user.id))
    save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
               period="2025", value=3, access=officer)
    with pytest.raises(PermissionDenied) as refused:
        upsert_values(session, [{"unit_id": world.commune_b.id, "indicator_id": world.count.id,
                                 "period": "2025", "value": 4}], source="import",
                      access=officer)
    assert "Xã Hữu Lũng" in str(refused.value) and "capture" in str(refused.value)
    assert session.scalar(select(func.count()).select_from(DataValue)) == 1


def test_a_system_job_writes_one_audit_event_under_its_name(world, session) -> None:
    rows = [{"unit_id": u.id, "indicator_id": world.count.id, "period": "2025", "value": v}
            for u, v in ((world.commune_a, 1), (world.commune_b, 2))]
    upsert_values(session, rows, source="records", access=Access.system(session, "records-feed"))
    events = session.execute(select(AuditEvent.action, AuditEvent.actor_label)).all()
    assert [tuple(e) for e in events] == [("values.upsert", "system:records-feed")]


def test_a_read_only_token_cannot_save_and_a_scoped_one_only_in_its_unit(
        client, world, make_user, db_url) -> None:
    user, _password = make_user(Role.STANDING_OFFICE, unit_id=world.province.id)
    session = new_session(db_url)
    owner = session.get(User, user.id)
    reader, _row = create_api_token(session, access=Access.system(session, "test"),
                                    user=owner, name="đọc", actions=[Action.READ])
    feed, _row = create_api_token(session, access=Access.system(session, "test"),
                                  user=owner, name="xã A",
                                  actions=[Action.READ, Action.CAPTURE],
                                  unit_ids=[world.commune_a.id])
    session.commit()
    session.close()
    body = {"unit": "06001", "indicator": "CQS.SO_DVCTT", "period": "2025", "value": 5}
    refused = client.post("/api/values", json=body,
                          headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403, refused.text
    saved = client.post("/api/values", json=body, headers={"Authorization": f"Bearer {feed}"})
    assert saved.status_code == 200, saved.text
    other = client.post("/api/values", json={**body, "unit": "06002"},
                        headers={"Authorization": f"Bearer {feed}"})
    assert other.status_code == 403, other.text
    assert [v for _p, _s, v in _values(db_url)] == [5.0]


# ------------------------------------------------------------------ periods not begun


def test_a_value_for_a_period_that_has_not_begun_is_refused(
        client, world, make_user, today, db_url) -> None:
    today("2026-03-01")
    user, password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id)
    login(client, user.username, password)
    page = client.get("/values/import")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    body = {"unit": "06001", "indicator": "CQS.SO_DVCTT", "value": 5}
    future = client.post("/api/values", json={**body, "period": "Quý II/2026"},
                         headers={"X-CSRF-Token": token})
    assert future.status_code == 422, future.text
    answer = future.json()
    assert answer["issues"][0]["rule"] == "period_not_begun"
    assert "Quý II/2026 chưa bắt đầu (bắt đầu ngày 01/04/2026)" in answer["message_vi"]
    assert "Q2 2026 has not begun (it starts on 01/04/2026)" in answer["message_en"]
    current = client.post("/api/values", json={**body, "period": "Quý I/2026"},
                          headers={"X-CSRF-Token": token})
    assert current.status_code == 200, current.text  # a period under way takes figures
    assert _values(db_url) == [("2026Q1", "manual", 5.0)]


def test_planned_figures_pass_only_with_a_listed_source(world, db_url, session, today,
                                                        monkeypatch, tmp_path) -> None:
    today("2026-03-01")
    path = tmp_path / "ke-hoach.csv"
    path.write_text("Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Giá trị,Nguồn\n"
                    "06001,CQS.SO_DVCTT,2027,40,Kế hoạch\n"
                    "06002,CQS.SO_DVCTT,2026Q4,12,\n", encoding="utf-8")
    refused = import_values(session, path, access=Access.system(session, "test"))
    assert [(e.row, e.rule) for e in refused.errors] == [(2, "period_not_begun"),
                                                       (3, "period_not_begun")]
    assert "Năm 2027 chưa bắt đầu" in refused.errors[0].text()
    monkeypatch.setenv("CHISO_FUTURE_VALUE_SOURCES", "kế hoạch, plan")
    reset_settings_cache()
    partly = import_values(session, path, access=Access.system(session, "test"))
    assert [(e.row, e.rule) for e in partly.errors] == [(3, "period_not_begun")]
    with pytest.raises(ValueRejected) as bulk:
        upsert_values(session, [{"unit_id": world.commune_a.id, "indicator_id": world.count.id,
                                 "period": "2026Q4", "value": 1}], source="demo",
                      access=Access.system(session, "test"))
    assert bulk.value.issues[0]["rule"] == "period_not_begun"
    upsert_values(session, [{"unit_id": world.commune_a.id, "indicator_id": world.count.id,
                             "period": "2026Q4", "value": 1}], source="Plan",
                  access=Access.system(session, "test"))
    session.commit()
    assert _values(db_url) == [("2026Q4", "Plan", 1.0)]


# ------------------------------------------------------------------ calendars


def _on_calendar(session, world, calendar: str) -> None:  # type: ignore[no-untyped-def]
    data_set = DataSet(code="CCHC", name_vi="Báo cáo CCHC", period_type="M",
                       calendar=calendar, due_days=5)
    session.add(data_set)
    session.flush()
    session.add(DataSetIndicator(data_set_id=data_set.id, indicator_id=world.count.id))
    session.commit()


@pytest.mark.parametrize(("calendar", "expected"), [("nd09", ["202512", "202601", "202601"]),
                                                    ("standard", ["202512", "202512"])])
def test_dated_values_land_in_the_period_of_their_data_sets_calendar(
        world, db_url, session, today, tmp_path, calendar: str, expected: list[str]) -> None:
    """Under Nghị định 09/2019 a month runs from the 15th to the 14th and the year from
    15/12: a figure dated 15/12/2025 belongs to January 2026 — a period that has begun on
    20/12/2025 under that calendar, and not yet under the standard one."""
    today("2025-12-20")
    _on_calendar(session, world, calendar)
    path = tmp_path / "dated.csv"
    path.write_text("Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Giá trị\n"
                    "06001,CQS.SO_DVCTT,14/12/2025,1\n"
                    "06002,CQS.SO_DVCTT,15/12/2025,2\n", encoding="utf-8")
    result = import_values(session, path, access=Access.system(session, "test"))
    assert result.ok, [e.text() for e in result.errors]
    single = save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
                        period=dt.date(2025, 12, 31), value=3,
                        access=Access.system(session, "test"))
    assert single.period == ("202601" if calendar == "nd09" else "202512")
    session.commit()
    if calendar == "standard":
        expected = ["202512", "202512", "202512"]
    assert sorted(p for p, _s, _v in _values(db_url)) == expected


def test_a_january_figure_typed_in_december_is_refused_on_the_standard_calendar(
        world, session, today) -> None:
    today("2025-12-20")
    _on_calendar(session, world, "standard")
    with pytest.raises(ValueRejected) as refused:
        save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
                   period="Tháng 1/2026", value=1, access=Access.system(session, "test"))
    assert "Tháng 1/2026 chưa bắt đầu (bắt đầu ngày 01/01/2026)" in refused.value.message_vi
    assert isinstance(refused.value, ValueRejected) and refused.value.status == 422
