"""The records API and unit page over HTTP, with permissions, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import browser_login, login
from records_support import (
    august_records,
    feed_access,
    make_world,
    record,
    write_csv,
)
from records_support import (
    post_batch as post,
)
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.records import service


@pytest.fixture
def world(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    units = make_world(session, tmp_path)
    return {k: (u.id, u.code) for k, u in units.items()}



def test_anonymous_gets_401_and_the_page_redirects(client, world):
    assert client.get("/api/records/batches").status_code == 401
    assert client.post("/api/records/batches", json={"records": []}).status_code == 401
    page = client.get("/records/units/20", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_post_batch_then_read_indicators(admin_client, world):
    response = post(admin_client, august_records())
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows_read"], body["rows_stored"], body["months"]) == (6, 6, [202508])

    figures = admin_client.get("/api/records/units/20/indicators?year=2025").json()
    online = [v for v in figures["values"] if v["indicator_code"] == "CQS.HS_TRUC_TUYEN"]
    assert [(v["period"], v["numerator"], v["denominator"], v["value"]) for v in online] == [
        ("202508", 3.0, 6.0, 50.0)]

    batches = admin_client.get("/api/records/batches").json()
    assert [(b["source"], b["status"], b["rows_stored"]) for b in batches] == [
        ("api", "committed", 6)]
    one = admin_client.get(f"/api/records/batches/{batches[0]['id']}").json()
    assert one["months"] == [202508]
    # Instants with their offset: SQLite gives them back naive, read by a client as local.
    assert all(dt.datetime.fromisoformat(one[key]).tzinfo is not None
               for key in ("started_at", "finished_at")), one
    assert admin_client.get("/api/records/batches/999").status_code == 404

    missing = admin_client.get("/api/records/units/06300/procedures-without-online?year=2025")
    assert [p["code"] for p in missing.json()] == ["P2"]


def test_a_bad_record_is_refused_with_its_row_and_nothing_stored(admin_client, world):
    records = august_records()
    records[3]["fee_due"] = "-5"
    response = post(admin_client, records)
    assert response.status_code == 422
    body = response.json()
    errors = body["issues"]
    assert [(e["row"], e["column"], e["rule"]) for e in errors] == [(4, "fee_due", "amount")]
    assert "dòng 4, cột 'fee_due'" in errors[0]["message_vi"]
    assert "row 4, column 'fee_due'" in errors[0]["message_en"]
    assert body["status"] == 422 and "nothing from this file was stored" in body["message_en"]
    assert admin_client.get("/api/records/batches").json() == []


def test_focal_officer_may_post_only_for_their_unit(client, make_user, world):
    user, password = make_user(Role.FOCAL_OFFICER, unit_id=world["06300"][0])
    login(client, user.username, password)
    theirs = [r for r in august_records() if r["unit_code"] == "06300"]
    others = [r for r in august_records() if r["unit_code"] == "06200"]
    assert post(client, others).status_code == 403
    response = post(client, theirs)
    assert response.status_code == 201, response.text
    assert client.get("/records/units/06200?year=2025").status_code == 403
    assert client.get("/records/units/06300?year=2025").status_code == 200


def test_a_feed_system_posts_with_an_api_token(app, make_user, world, db_url):
    from fastapi.testclient import TestClient

    from chiso.accounts.access import Action
    from chiso.accounts.models import User
    from chiso.accounts.service import create_api_token
    from chiso.db import new_session

    user, _password = make_user(Role.STANDING_OFFICE, unit_id=world["20"][0])
    with new_session(db_url) as db:
        secret, _row = create_api_token(db, access=Access.system(db, "test"),
                                        user=db.get(User, user.id), name="Một cửa tỉnh",
                                        actions=[Action.READ, Action.CAPTURE])
        db.commit()
    with TestClient(app) as system:
        headers = {"Authorization": f"Bearer {secret}"}
        response = system.post("/api/records/batches", json={"records": august_records()},
                               headers=headers)
        assert response.status_code == 201, response.text
        assert system.get("/api/records/batches", headers=headers).json()[0]["source"] == "api"


def test_unit_page_shows_indicators_targets_and_procedures(admin_client, world, session,
                                                           tmp_path):
    from chiso.indicators.models import Indicator
    from chiso.plans.models import Plan, Target

    service.ingest_file(session, write_csv(tmp_path / "aug.csv", august_records()),
                        access=feed_access(session))
    plan = Plan(code="72-KH/BCĐ", title="Kế hoạch chuyển đổi số", year_from=2025,
                year_to=2025)
    session.add(plan)
    session.flush()
    indicator = session.query(Indicator).filter_by(code="CQS.HS_TRUC_TUYEN").one()
    import datetime as dt

    session.add(Target(plan_id=plan.id, indicator_id=indicator.id, unit_id=world["20"][0],
                       year=2025, target_date=dt.date(2025, 12, 31), value=80.0))
    session.commit()
    page = admin_client.get("/records/units/20?year=2025")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Hồ sơ một cửa" in html and "Tỉnh Lạng Sơn" in html
    assert "50,0%" in html  # online dossiers 3/6 in the latest month
    assert "Mục tiêu 2025" in html and "80%" in html
    assert "Tất cả" not in html
    assert "Mọi dịch vụ công trực tuyến đã cung cấp đều phát sinh hồ sơ trực tuyến" in html
    commune = admin_client.get("/records/units/06300?year=2025&lang=en").text
    assert "Online procedures with no online dossier" in commune
    assert "Đăng ký kết hôn" in commune


@pytest.mark.browser
def test_unit_page_in_the_browser(live_server, page, make_user, world, session, tmp_path):
    rows = august_records() + [
        record(f"S{m}{i}", "P1" if i % 3 else "P2", "06200" if i % 2 else "06300",
               f"2025-{m:02d}-{(i % 27) + 1:02d} 09:00", "truc_tuyen" if i < 3 + m else
               "truc_tiep", digitised="1" if i % 2 else "0", fee="10000" if i % 4 == 0 else "0",
               paid="1" if i % 8 == 0 else "0", status="da_tra_ket_qua",
               due=f"2025-{m:02d}-28 17:00", finished=f"2025-{m:02d}-28 12:00",
               e_result="1" if i % 3 == 0 else "0")
        for m in range(1, 8) for i in range(12)]
    service.ingest_file(session, write_csv(tmp_path / "year.csv", rows),
                        access=feed_access(session))
    session.commit()
    user, password = make_user(Role.ADMIN)
    browser_login(page, live_server, user.username, password)
    page.goto(f"{live_server}/records/units/20?year=2025")
    page.locator(".rec-chart svg").first.wait_for()
    assert page.locator(".rec-card").count() == 7
    assert page.locator("nav.mainnav a", has_text="Hồ sơ một cửa").count() == 1
    page.screenshot(path="/tmp/records-unit-page.png", full_page=True)


def test_an_empty_batch_stores_nothing_and_says_so(admin_client, world):
    response = post(admin_client, [])
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows_read"], body["rows_stored"], body["months"]) == (0, 0, [])
    assert admin_client.get("/api/records/units/20/indicators?year=2025").json()["values"] == []
