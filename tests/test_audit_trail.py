"""The audit trail: sign-ins, sign-outs and permission changes are recorded; the search
page and API find them; nobody can change or delete an event through the application, and
on PostgreSQL not even with plain SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from chiso.accounts.models import Role
from chiso.audit.models import AuditEvent, AuditImmutable
from chiso.audit.service import record_event
from chiso.db import get_engine, new_session
from chiso.text.clock import to_vn
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import csrf_of, make_units
from tests.conftest import login, submit


def audit_rows(page: str) -> list[str]:
    """The trail's rows as a person reads them, one string each."""
    import lxml.html

    body = lxml.html.fromstring(page).xpath('//table[@id="audit"]/tbody/tr')
    return [" ".join(row.text_content().split()) for row in body
            if "Không có mục nào" not in row.text_content()]


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    reset_all_windows()


def _one_event(db_url: str) -> int:
    db = new_session(db_url)
    event = record_event(db, action="value.update", object_type="data_value", object_id=7,
                         before={"value": 70.0}, after={"value": 76.6})
    db.commit()
    db.close()
    return event.id


def test_orm_refuses_to_change_or_delete_events(db_url) -> None:
    event_id = _one_event(db_url)
    db = new_session(db_url)
    event = db.get(AuditEvent, event_id)
    assert event is not None
    event.after = {"value": 99.0}
    with pytest.raises(AuditImmutable):
        db.flush()
    db.rollback()
    db.delete(db.get(AuditEvent, event_id))
    with pytest.raises(AuditImmutable):
        db.flush()
    db.rollback()
    for statement in (update(AuditEvent).values(note="edited"), delete(AuditEvent)):
        with pytest.raises(AuditImmutable):
            db.execute(statement)
        db.rollback()
    db.close()
    db = new_session(db_url)
    kept = db.get(AuditEvent, event_id)
    assert kept is not None and kept.after == {"value": 76.6} and kept.note == ""
    db.close()


def test_postgresql_trigger_refuses_plain_sql(db_url, is_postgres) -> None:
    if not is_postgres:
        pytest.skip("the database-level guard is PostgreSQL's; SQLite has the ORM guard")
    event_id = _one_event(db_url)
    for sql in ("UPDATE audit_event SET note = 'edited'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), get_engine(db_url).begin() as conn:
            conn.execute(text(sql))
    with get_engine(db_url).connect() as conn:
        note = conn.execute(text("SELECT note FROM audit_event WHERE id = :i"),
                            {"i": event_id}).scalar()
    assert note == ""


def test_sign_in_out_and_permission_changes_are_recorded(app, admin_client, make_user,
                                                         session, db_url) -> None:
    from fastapi.testclient import TestClient

    units = make_units(session)
    user, password = make_user(Role.VIEWER, unit_id=units.commune_a.id)
    with TestClient(app) as client:
        submit(client, "/login", {"username": user.username, "password": "wrong"})
        login(client, user.username, password)
        client.post("/logout", data={"csrf_token": csrf_of(client)})
    token = csrf_of(admin_client)
    admin_client.post(f"/admin/users/{user.id}/role", data={
        "csrf_token": token, "role": "focal_officer", "unit_code": "05986"})
    db = new_session(db_url)
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.object_id == str(user.id))
                             .order_by(AuditEvent.id)))
    db.close()
    assert [e.action for e in events] == [
        "user.create", "login.failed", "login", "logout", "user.set_role"]
    change = events[-1]
    assert change.actor_label == "admin" and change.unit_id == units.commune_b.id
    assert change.before and change.after and change.before != change.after


def test_search_api_filters_by_user_action_object_unit_and_dates(admin_client, make_user,
                                                                 session, db_url) -> None:
    units = make_units(session)
    db = new_session(db_url)
    record_event(db, action="value.update", object_type="data_value", object_id=1,
                 unit_id=units.commune_a.id, after={"value": 1})
    record_event(db, action="value.update", object_type="data_value", object_id=2,
                 unit_id=units.commune_b.id, after={"value": 2})
    record_event(db, action="task.create", object_type="task", object_id=3)
    db.commit()
    db.close()

    def found(**params: object) -> list[str]:
        answer = admin_client.get("/api/audit", params=params)
        assert answer.status_code == 200, answer.text
        return [f"{e['action']}:{e['object_id']}" for e in answer.json()["events"]]

    assert found(action="value.") == ["value.update:2", "value.update:1"]
    assert found(unit_id=units.commune_a.id) == ["value.update:1"]
    assert found(object_type="task") == ["task.create:3"]
    assert found(object_type="data_value", object_id="2") == ["value.update:2"]
    assert "login:1" in found(actor="admin")
    today = to_vn(dt.datetime.now(dt.UTC)).date()  # days are Vietnam's
    assert len(found(date_from=today.strftime("%d/%m/%Y"), action="value.")) == 2
    assert found(date_to=(today - dt.timedelta(days=1)).isoformat()) == []
    bad = admin_client.get("/api/audit", params={"date_from": "31/02/2025"})
    assert bad.status_code == 422 and "không phải ngày hợp lệ" in bad.text
    page = admin_client.get("/audit", params={"action": "value.", "unit_id": "", "lang": "vi"})
    assert page.status_code == 200 and len(audit_rows(page.text)) == 2
    assert all(row.startswith(tuple("0123")) and "Sửa số liệu" in row
               for row in audit_rows(page.text))


def test_page_shows_only_the_changed_fields_in_the_readers_formats(admin_client,
                                                                   db_url) -> None:
    db = new_session(db_url)
    record_event(db, action="dti.criterion.update", object_type="dti_criterion", object_id=2,
                 before={"code": "TCS", "self_score": None, "deadline": "2025-12-31",
                         "max_points": 100.0},
                 after={"code": "TCS", "self_score": 70.5, "deadline": "2026-01-05",
                        "max_points": 100.0})
    db.commit()
    db.close()
    page = admin_client.get("/audit", params={"action": "dti.", "lang": "vi"}).text
    [row] = audit_rows(page)
    assert "Sửa tiêu chí DTI" in row and "Điểm tự đánh giá: – → 70,5" in row
    assert "Hạn: 31/12/2025 → 05/01/2026" in row
    assert "Mã:" not in row and "Điểm tối đa" not in row and "None" not in row
    [english] = audit_rows(admin_client.get("/audit", params={"action": "dti.",
                                                               "lang": "en"}).text)
    assert "Self score: – → 70.5" in english and "Deadline: 2025-12-31 → 2026-01-05" in english


def test_a_full_page_links_to_the_older_entries(admin_client, db_url) -> None:
    db = new_session(db_url)
    for n in range(3):
        record_event(db, action="task.create", object_type="task", object_id=n)
    db.commit()
    db.close()
    first = admin_client.get("/audit", params={"action": "task.", "limit": 2, "lang": "vi"}).text
    assert len(audit_rows(first)) == 2 and "Mục 1–2" in first
    assert 'href="?action=task.&amp;limit=2&amp;lang=vi&amp;offset=2">Các mục cũ hơn' in first
    last = admin_client.get("/audit", params={"action": "task.", "limit": 2, "offset": 2}).text
    assert len(audit_rows(last)) == 1 and "offset=4" not in last and "Mục 3–3" in last
    assert 'offset=0">Các mục mới hơn' in last


def test_a_mistyped_search_is_explained_above_the_form(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/audit", params={"unit_id": "abc", "date_from": "31/02/2026",
                                              "lang": "vi"})
    assert page.status_code == 422
    assert "Mã số đơn vị phải là số, nhận &#39;abc&#39;" in page.text
    assert "Từ ngày: &#39;31/02/2026&#39; không phải ngày hợp lệ" in page.text
    assert "from: &#39;31/02/2026&#39; is not a valid date" in page.text
    assert '<option value="abc" selected>abc</option>' in page.text  # kept as typed
    assert 'value="31/02/2026"' in page.text and "string_pattern" not in page.text
    api = admin_client.get("/api/audit", params={"unit_id": "12a"})
    assert api.status_code == 422 and "unit id must be a number" in api.json()["detail"]
